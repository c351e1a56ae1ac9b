"""Installed models: ``$XDG_DATA_HOME/agentd/models/NAME.gguf``, one of them in use.

Installs are atomic: the file is written to a temporary name in the same directory,
fsynced, verified (sha256 when given, always the GGUF header and tensor bounds), and only
then renamed into place; a full disk, a broken download or a bad file leaves nothing
behind. Each model has a sidecar ``NAME.json`` (sha256, source, what the header says);
``current`` names the model in use. The ToolRAG embedder lives in ``embedder/``.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from agentd.errors import InvalidRequest, ModelUnavailable, NotFound
from agentd.model.gguf_file import inspect_gguf

CHUNK = 2**20
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
EMBEDDER_FILE = "all-minilm-l6-v2-q8_0.gguf"
InstallProgress = Callable[[int, int | None], None]


def default_models_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "agentd" / "models"


@dataclass(frozen=True)
class InstalledModel:
    """A model file in the store and what was recorded when it was installed."""

    name: str
    path: Path
    size: int
    sha256: str
    source: str
    gguf: dict[str, Any]
    current: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "path": str(self.path), "size": self.size,
                "sha256": self.sha256, "source": self.source, "current": self.current,
                **{f"gguf_{k}": v for k, v in self.gguf.items()}}


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _open_source(source: str) -> tuple[BinaryIO, int | None]:
    if re.match(r"https?://", source):
        try:
            response = urllib.request.urlopen(source, timeout=60)
        except OSError as exc:
            raise ModelUnavailable(f"could not download {source}: {exc}") from None
        length = response.headers.get("Content-Length")
        return response, int(length) if length and length.isdigit() else None
    if "://" in source:
        raise InvalidRequest(f"{source}: only local paths and http(s) URLs can be installed")
    path = Path(source).expanduser()
    try:
        return path.open("rb"), path.stat().st_size
    except OSError as exc:
        raise NotFound(f"cannot read {path}: {exc.strerror}") from None


class ModelStore:
    """The models directory."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or default_models_dir()

    def path(self, name: str) -> Path:
        return self.root / f"{name}.gguf"

    @property
    def embedder_path(self) -> Path:
        return self.root / "embedder" / EMBEDDER_FILE

    def list(self) -> list[InstalledModel]:
        if not self.root.is_dir():
            return []
        current = self.current_name()
        return [self._entry(p.stem, current) for p in sorted(self.root.glob("*.gguf"))]

    def _entry(self, name: str, current: str | None) -> InstalledModel:
        path = self.path(name)
        try:
            meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            meta = {}
        return InstalledModel(name=name, path=path, size=path.stat().st_size,
                              sha256=meta.get("sha256", ""), source=meta.get("source", ""),
                              gguf=meta.get("gguf", {}), current=name == current)

    def current_name(self) -> str | None:
        try:
            name = (self.root / "current").read_text(encoding="utf-8").strip()
        except OSError:
            return None
        return name if self.path(name).is_file() else None

    def current(self) -> InstalledModel | None:
        name = self.current_name()
        return self._entry(name, name) if name else None

    def use(self, name: str) -> InstalledModel:
        if not self.path(name).is_file():
            known = ", ".join(m.name for m in self.list()) or "none installed"
            raise NotFound(f"no model named {name!r} ({known}); `agentctl model list`")
        _write_atomic(self.root / "current", name.encode() + b"\n")
        return self._entry(name, name)

    def remove(self, name: str) -> None:
        path = self.path(name)
        if not path.is_file():
            raise NotFound(f"no model named {name!r}; `agentctl model list` shows them")
        if self.current_name() == name:
            (self.root / "current").unlink(missing_ok=True)
        path.unlink()
        path.with_suffix(".json").unlink(missing_ok=True)

    def install(self, source: str, *, sha256: str | None = None, name: str | None = None,
                embedder: bool = False,
                progress: InstallProgress | None = None) -> InstalledModel:
        """Copy or download ``source``, verify it, and move it into place atomically."""
        if sha256 is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", sha256):
            raise InvalidRequest(f"--sha256 must be 64 hex digits, got {sha256!r}")
        base = source.rstrip("/").rsplit("/", 1)[-1]
        name = "embedder" if embedder else (name or re.sub(r"\.gguf$", "", base,
                                                           flags=re.IGNORECASE))
        if not NAME.fullmatch(name):
            raise InvalidRequest(f"{name!r} is not a model name: use letters, digits, . _ -")
        target = self.embedder_path if embedder else self.path(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
        try:
            digest = self._copy(source, tmp, progress)
            if sha256 is not None and digest != sha256.lower():
                raise ModelUnavailable(f"{source}: sha256 is {digest}, expected {sha256}; "
                                       "the file is damaged or not the one you meant")
            info = inspect_gguf(tmp)
            os.replace(tmp, target)
            _fsync_dir(target.parent)
        finally:
            tmp.unlink(missing_ok=True)
        meta = {"sha256": digest, "source": source, "installed": int(time.time()),
                "verified_sha256": sha256 is not None, "gguf": info.to_json()}
        _write_atomic(target.with_suffix(".json"), json.dumps(meta, indent=1).encode())
        if embedder:
            return InstalledModel("embedder", target, info.size, digest, source,
                                  info.to_json())
        return self._entry(name, self.current_name())

    def _copy(self, source: str, tmp: Path, progress: InstallProgress | None) -> str:
        reader, total = _open_source(source)
        free = shutil.disk_usage(tmp.parent).free
        if total is not None and total > free:
            reader.close()
            raise ModelUnavailable(f"not enough disk space in {tmp.parent}: {source} needs "
                                   f"{total // 2**20} MB, {free // 2**20} MB are free")
        digest, done = hashlib.sha256(), 0
        try:
            with reader, tmp.open("wb") as out:
                while chunk := reader.read(CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    done += len(chunk)
                    if progress is not None:
                        progress(done, total)
                out.flush()
                os.fsync(out.fileno())
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise ModelUnavailable(f"the disk filled up while installing {source} into "
                                       f"{tmp.parent}; nothing was installed. Free some "
                                       "space and try again") from None
            raise ModelUnavailable(f"could not install {source}: {exc}") from None
        if total is not None and done != total:
            raise ModelUnavailable(f"{source}: got {done} of {total} bytes; the download "
                                   "broke off, nothing was installed")
        return digest.hexdigest()
