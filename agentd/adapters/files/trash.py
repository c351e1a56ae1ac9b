"""The freedesktop.org Trash specification (1.0), home trash only.

A trashed file goes to ``$XDG_DATA_HOME/Trash/files/NAME`` and gets
``$XDG_DATA_HOME/Trash/info/NAME.trashinfo`` with its original ``Path=`` (URL-encoded)
and ``DeletionDate=``. The info file is created first with ``O_EXCL``: that reserves the
name atomically, as the spec asks. Nothing is ever unlinked but our own info file when
the move fails.
"""

from __future__ import annotations

import datetime as dt
import errno
import os
from pathlib import Path
from urllib.parse import quote

from agentd.errors import Unavailable

MAX_NAME_TRIES = 1000


def trash_info(original: Path, when: dt.datetime) -> str:
    return (f"[Trash Info]\nPath={quote(str(original), safe='/')}\n"
            f"DeletionDate={when.strftime('%Y-%m-%dT%H:%M:%S')}\n")


def move_to_trash(path: Path, data_home: Path, now: dt.datetime | None = None) -> Path:
    """Trash ``path`` (absolute, already checked); return where it now lies."""
    trash = data_home / "Trash"
    files, info = trash / "files", trash / "info"
    for d in (trash, files, info):
        d.mkdir(mode=0o700, parents=True, exist_ok=True)
    if os.lstat(path).st_dev != os.stat(files).st_dev:
        raise Unavailable(f"{path} is on another file system than your trash ({trash}); "
                          "agentd does not support per-volume trash folders yet")
    when = now or dt.datetime.now()
    stem, suffix = _split(path.name)
    for attempt in range(1, MAX_NAME_TRIES + 1):
        name = path.name if attempt == 1 else f"{stem}.{attempt}{suffix}"
        info_file = info / f"{name}.trashinfo"
        try:
            fd = os.open(info_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(trash_info(path, when))
        target = files / name
        if os.path.lexists(target):  # a stray file without info: leave it, try another name
            info_file.unlink()
            continue
        try:
            os.rename(path, target)
        except OSError as exc:
            info_file.unlink()
            if exc.errno == errno.EXDEV:
                raise Unavailable(f"{path} is on another file system than your trash") from None
            raise
        return target
    raise Unavailable(f"the trash already holds {MAX_NAME_TRIES} files named {path.name}")


def _split(name: str) -> tuple[str, str]:
    if name.startswith(".") or "." not in name:
        return name, ""
    stem, _, ext = name.rpartition(".")
    return stem, "." + ext
