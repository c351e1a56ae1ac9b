"""The files capability: the user's XDG folders, and nothing outside them."""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from agentd.adapters.base import Capability

CAPABILITY = "files"

# Document types beyond text/*: by MIME type, then by extension for what mimetypes lacks.
DOCUMENT_TYPES = ("application/pdf", "application/msword", "application/rtf",
                  "application/epub+zip", "application/vnd.ms-excel",
                  "application/vnd.ms-powerpoint", "application/vnd.oasis.opendocument",
                  "application/vnd.openxmlformats-officedocument")
DOCUMENT_EXTENSIONS = (".md", ".odt", ".ods", ".odp", ".docx", ".xlsx", ".pptx", ".epub")


def kind_of(path: Path) -> str:
    """image, document, audio, video or "" (other), from the file name."""
    mime, _ = mimetypes.guess_type(path.name, strict=False)
    if mime:
        major = mime.split("/", 1)[0]
        if major in ("image", "audio", "video"):
            return major
        if major == "text" or mime.startswith(DOCUMENT_TYPES):
            return "document"
    if path.suffix.lower() in DOCUMENT_EXTENSIONS:
        return "document"
    return ""


@dataclass(frozen=True)
class FileEntry:
    """A file in one of the user's folders."""

    path: Path
    folder: str  # documents, downloads, ...
    kind: str
    size: int
    modified: float
    is_dir: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"path": str(self.path), "name": self.path.name, "folder": self.folder,
                "kind": self.kind, "size": self.size, "modified": self.modified,
                "is_dir": self.is_dir}


class Files(Protocol):
    """Find, list, move and trash files in the user's folders; refuse everything else."""

    name: str

    def find(self, query: str, kind: str | None, limit: int) -> list[FileEntry]:
        """Files whose names hold every word of ``query`` (and of ``kind``), newest first."""
        ...

    def list_folder(self, folder: str) -> tuple[Path, list[FileEntry]]:
        """The folder's path and its visible entries."""
        ...

    def move(self, path: str, folder: str) -> Path:
        """Move ``path`` (a name, or a path inside the folders) into ``folder``; new path."""
        ...

    def trash(self, path: str) -> Path:
        """Move ``path`` to the trash (never unlink); the path it has in the trash."""
        ...


# The typed handle tools select backends with (``AdapterRegistry.select``).
FILES_CAPABILITY = Capability[Files](CAPABILITY)
