"""The user's folders (xdg-user-dirs) and the one check every path goes through.

``~/.config/user-dirs.dirs`` holds lines such as ``XDG_DOCUMENTS_DIR="$HOME/Documents"``
(shell syntax, but only ``$HOME/...`` or absolute paths are allowed: the same rules as
``xdg-user-dir``). A folder set to ``$HOME`` itself is disabled, so the whole home never
becomes a "folder". Missing entries fall back to ``~/Documents`` etc.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

from agentd.errors import InvalidRequest, NotFound, PermissionDenied

# The catalogue's folder names and their xdg-user-dirs keys and usual defaults.
XDG_KEYS = {"documents": ("DOCUMENTS", "Documents"), "downloads": ("DOWNLOAD", "Downloads"),
            "pictures": ("PICTURES", "Pictures"), "music": ("MUSIC", "Music"),
            "videos": ("VIDEOS", "Videos"), "desktop": ("DESKTOP", "Desktop")}
FindByName = Callable[[str], list[Path]]
_LINE = re.compile(r'^\s*XDG_([A-Z]+)_DIR\s*=\s*"((?:[^"\\]|\\.)*)"\s*$')


def read_user_dirs(home: Path, config_home: Path) -> dict[str, Path]:
    """Folder name → path, as ``xdg-user-dir`` would answer (disabled folders left out)."""
    configured: dict[str, str] = {}
    try:
        text = (config_home / "user-dirs.dirs").read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError, UnicodeDecodeError):
        text = ""
    for line in text.splitlines():
        match = _LINE.match(line)
        if match:
            configured[match.group(1)] = re.sub(r"\\(.)", r"\1", match.group(2))
    folders: dict[str, Path] = {}
    for folder, (key, default) in XDG_KEYS.items():
        value = configured.get(key)
        if value is None:
            path = home / default
        elif value.startswith("$HOME"):
            path = home / value[len("$HOME"):].lstrip("/")
        elif value.startswith("/"):
            path = Path(value)
        else:
            continue  # not a form xdg-user-dirs accepts
        if os.path.normpath(path) != os.path.normpath(home):
            folders[folder] = path
    return folders


class Folders:
    """The allowed roots, resolved, and the path checks built on them."""

    def __init__(self, folders: dict[str, Path]) -> None:
        self.paths = folders
        self.roots = {name: Path(os.path.realpath(p)) for name, p in folders.items()}

    def folder_of(self, real: Path) -> str | None:
        """Which folder holds the (resolved) path, or None."""
        best: tuple[int, str] | None = None
        for name, root in self.roots.items():
            if real == root or real.is_relative_to(root):
                depth = len(root.parts)
                if best is None or depth > best[0]:
                    best = (depth, name)
        return best[1] if best else None

    def check(self, path: Path) -> tuple[Path, str]:
        """``path`` made absolute (its parents resolved) if it lies inside a folder.

        The last component is kept as it is, so a symlink is moved as a link; but a
        symlink that points outside the folders is refused, like ``..`` and absolute
        paths elsewhere.
        """
        lexical = Path(os.path.normpath(path))
        parent = Path(os.path.realpath(lexical.parent))
        candidate = parent / lexical.name
        folder = self.folder_of(parent) if lexical.name not in ("", ".", "..") else None
        if folder is None or candidate in self.roots.values():
            raise PermissionDenied(
                f"{path} is outside your folders; agentd only touches files in "
                f"{', '.join(sorted(self.roots))}")
        if candidate.is_symlink() and self.folder_of(Path(os.path.realpath(candidate))) is None:
            raise PermissionDenied(f"{path} is a link to somewhere outside your folders")
        if not os.path.lexists(candidate):
            raise NotFound(f"there is no file {path}")
        return candidate, folder

    def resolve(self, text: str, home: Path, find_by_name: FindByName) -> tuple[Path, str]:
        """A user's path (bare name, ~/..., relative to home, absolute) checked."""
        if "\0" in text or not text.strip():
            raise InvalidRequest("give a file name or a path")
        if "/" not in text:
            return self._unique_by_name(text, find_by_name)
        path = Path(text).expanduser() if text.startswith("~/") else Path(text)
        if not path.is_absolute():
            path = home / path
        return self.check(path)

    def _unique_by_name(self, name: str, find_by_name: FindByName) -> tuple[Path, str]:
        matches = find_by_name(name)
        if not matches:
            raise NotFound(f"there is no file named {name} in your folders")
        if len(matches) > 1:
            listed = ", ".join(str(m) for m in matches[:5])
            raise InvalidRequest(f"{len(matches)} files are named {name} ({listed}); "
                                 "say which one with its folder")
        return self.check(matches[0])
