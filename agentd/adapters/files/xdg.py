"""Backend "xdg-folders": the files capability over the user's XDG folders."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path

from agentd.adapters.base import Availability
from agentd.adapters.files import CAPABILITY, FileEntry, kind_of
from agentd.adapters.files.folders import Folders, read_user_dirs
from agentd.adapters.files.trash import move_to_trash
from agentd.errors import NotFound

MAX_DEPTH = 8  # how deep find looks below each folder
MAX_SCANNED = 50_000  # entries find looks at before it stops


class XdgFolders:
    name = "xdg-folders"
    capability = CAPABILITY
    test = False

    def __init__(self, home: Path, config_home: Path, data_home: Path) -> None:
        self.home = home
        self.config_home = config_home
        self.data_home = data_home

    @classmethod
    def from_environment(cls, env: Mapping[str, str] = os.environ) -> XdgFolders:
        home = Path(env.get("HOME") or Path.home())
        return cls(home, Path(env.get("XDG_CONFIG_HOME") or home / ".config"),
                   Path(env.get("XDG_DATA_HOME") or home / ".local" / "share"))

    def folders(self) -> Folders:
        """Read again on every use: the user may move their folders at any time."""
        return Folders(read_user_dirs(self.home, self.config_home))

    async def availability(self) -> Availability:
        folders = self.folders()
        present = [n for n, p in folders.paths.items() if p.is_dir()]
        if not present:
            return Availability.no(f"none of your folders exist under {self.home} "
                                   "(xdg-user-dirs-update creates them)")
        return Availability.yes(f"folders: {', '.join(present)}; trash in "
                                f"{self.data_home / 'Trash'}")

    # -- reading -------------------------------------------------------------------------

    def find(self, query: str, kind: str | None, limit: int) -> list[FileEntry]:
        words = [w for w in query.casefold().split() if w != "*"]
        found = [e for e in self._walk(self.folders())
                 if not e.is_dir and _matches(e.path.name, words)
                 and (kind is None or e.kind == kind)]
        found.sort(key=lambda e: e.modified, reverse=True)
        return found[:limit]

    def list_folder(self, folder: str) -> tuple[Path, list[FileEntry]]:
        folders = self.folders()
        root = folders.paths.get(folder)
        if root is None or not root.is_dir():
            raise NotFound(f"your {folder} folder does not exist"
                           + (f" ({root})" if root else " (disabled in user-dirs.dirs)"))
        entries = [_entry(Path(e.path), folder) for e in os.scandir(root)
                   if not e.name.startswith(".")]
        entries.sort(key=lambda e: (not e.is_dir, e.path.name.casefold()))
        return root, entries

    def _walk(self, folders: Folders, skip_outside_links: bool = True
              ) -> Iterator[FileEntry]:
        scanned = 0
        seen: set[Path] = set()
        for folder, root in folders.roots.items():
            if root in seen or not root.is_dir():
                continue
            seen.add(root)
            for dirpath, dirnames, filenames in os.walk(root):  # never follows links
                depth = len(Path(dirpath).relative_to(root).parts)
                dirnames[:] = [] if depth >= MAX_DEPTH else [
                    d for d in dirnames if not d.startswith(".")]
                for name in filenames:
                    scanned += 1
                    if scanned > MAX_SCANNED:
                        return
                    path = Path(dirpath) / name
                    if name.startswith(".") or (
                            skip_outside_links and path.is_symlink()
                            and folders.folder_of(Path(os.path.realpath(path))) is None):
                        continue
                    yield _entry(path, folder)

    def _by_name(self, name: str) -> list[Path]:
        wanted = name.casefold()
        # Links out of the folders are found too, so that check() refuses them by name.
        return [e.path for e in self._walk(self.folders(), skip_outside_links=False)
                if e.path.name.casefold() == wanted]

    # -- changing ------------------------------------------------------------------------

    def move(self, path: str, folder: str) -> Path:
        folders = self.folders()
        source, _ = folders.resolve(path, self.home, self._by_name)
        if folder not in folders.paths:
            raise NotFound(f"your {folder} folder is disabled in user-dirs.dirs")
        destination_dir = folders.paths[folder]
        destination_dir.mkdir(parents=True, exist_ok=True)
        if Path(os.path.realpath(destination_dir)) == source.parent:
            return source
        target = _free_name(destination_dir, source.name)
        shutil.move(source, target)  # a rename; copies only across file systems
        return target

    def trash(self, path: str) -> Path:
        source, _ = self.folders().resolve(path, self.home, self._by_name)
        return move_to_trash(source, self.data_home)


def _matches(name: str, words: list[str]) -> bool:
    raw = name.casefold()
    spaced = raw.replace("_", " ").replace("-", " ").replace(".", " ")
    return all(w in raw or w in spaced or (len(w) > 3 and w.endswith("s") and w[:-1] in spaced)
               for w in words)  # "cats" finds cat_on_sofa.jpg


def _entry(path: Path, folder: str) -> FileEntry:
    try:
        st = path.stat()
        size, modified, is_dir = st.st_size, st.st_mtime, path.is_dir()
    except OSError:  # a dangling link
        size, modified, is_dir = 0, 0.0, False
    return FileEntry(path, folder, "" if is_dir else kind_of(path), size, modified, is_dir)


def _free_name(directory: Path, name: str) -> Path:
    """``name`` in ``directory``, or "name (2).ext" and so on where that is taken."""
    target = directory / name
    stem, dot, ext = name.rpartition(".") if "." in name[1:] else (name, "", "")
    n = 2
    while os.path.lexists(target):
        target = directory / f"{stem} ({n}){dot}{ext}"
        n += 1
    return target
