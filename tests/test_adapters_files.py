"""The files adapter: the user's XDG folders in a temporary home, through the real daemon."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest
from testkit.bus import Bus, Daemon

from agentd.adapters.files import kind_of
from agentd.adapters.files.folders import Folders, read_user_dirs
from agentd.adapters.files.xdg import XdgFolders
from agentd.errors import NotFound, PermissionDenied

pytestmark = pytest.mark.daemon

USER_DIRS = """# written by xdg-user-dirs-update
XDG_DESKTOP_DIR="$HOME/Desktop"
XDG_DOWNLOAD_DIR="$HOME/Downloads"
XDG_DOCUMENTS_DIR="$HOME/Dokumente"
XDG_MUSIC_DIR="$HOME"
XDG_PICTURES_DIR="$HOME/Bilder"
XDG_VIDEOS_DIR="$HOME/Videos"
"""


def make_home(root: Path, config_home: Path) -> Path:
    """A home with German-named folders (as user-dirs.dirs says) and a few files."""
    home = root / "home"
    for name in ("Desktop", "Downloads", "Dokumente", "Bilder", "Videos"):
        (home / name).mkdir(parents=True)
    config_home.mkdir(parents=True, exist_ok=True)
    (config_home / "user-dirs.dirs").write_text(USER_DIRS)
    (home / "Downloads" / "report.pdf").write_bytes(b"%PDF-1.4 quarterly")
    (home / "Downloads" / "cat_on_sofa.jpg").write_bytes(b"\xff\xd8")
    (home / "Bilder" / "Cats in Rome.png").write_bytes(b"\x89PNG")
    (home / "Dokumente" / "cats.txt").write_text("not a picture")
    (home / "secret.txt").write_text("outside every folder")
    (home / "Desktop" / "hostname.txt").symlink_to("/etc/hostname")
    return home


@pytest.fixture
def files_daemon(bus: Bus) -> Iterator[Daemon]:
    home = make_home(bus.root, Path(bus.env["XDG_CONFIG_HOME"]))
    bus.env["HOME"] = str(home)  # agentctl and agentd both see the temporary home
    daemon = Daemon(bus).start()
    yield daemon
    daemon.kill(signal.SIGTERM)


def ask(bus: Bus, *words: str) -> dict[str, object]:
    out = bus.agentctl("ask", "--json", " ".join(words))
    return json.loads(out.stdout)  # type: ignore[no-any-return]


# -- through the daemon -------------------------------------------------------------------


def test_move_by_name_into_a_renamed_folder(bus: Bus, files_daemon: Daemon) -> None:
    home = Path(bus.env["HOME"])
    task = ask(bus, "move report.pdf to documents")
    assert task["state"] == "done", task
    assert task["reply"] == "Moved report.pdf to documents."
    assert (home / "Dokumente" / "report.pdf").read_bytes() == b"%PDF-1.4 quarterly"
    assert not (home / "Downloads" / "report.pdf").exists()


def test_move_keeps_both_when_the_name_is_taken(bus: Bus, files_daemon: Daemon) -> None:
    home = Path(bus.env["HOME"])
    (home / "Desktop" / "report.pdf").write_text("older")
    task = ask(bus, f"move {home}/Downloads/report.pdf to desktop")
    assert task["state"] == "done", task
    assert (home / "Desktop" / "report.pdf").read_text() == "older"
    assert (home / "Desktop" / "report (2).pdf").read_bytes().startswith(b"%PDF")


def test_trash_follows_the_trash_spec(bus: Bus, files_daemon: Daemon) -> None:
    home = Path(bus.env["HOME"])
    trash = Path(bus.env["XDG_DATA_HOME"]) / "Trash"
    (home / "Bilder" / "report.pdf").write_text("second one")  # two of them: ambiguous
    task = ask(bus, "delete report.pdf")
    assert task["state"] == "failed"
    assert "2 files are named report.pdf" in task["steps"][0]["error"]
    original = home / "Bilder" / "Cats in Rome.png"
    task = ask(bus, f"trash the file {original}")
    assert task["state"] == "done", task
    assert not original.exists()
    assert (trash / "files" / "Cats in Rome.png").read_bytes() == b"\x89PNG"
    info = (trash / "info" / "Cats in Rome.png.trashinfo").read_text().splitlines()
    assert info[0] == "[Trash Info]"
    assert info[1] == f"Path={home}/Bilder/Cats%20in%20Rome.png"
    assert unquote(info[1].removeprefix("Path=")) == str(original)
    assert info[2].startswith("DeletionDate=20") and len(info[2]) == len("DeletionDate=") + 19
    # The same name again gets a new name in the trash, never overwrites.
    original.write_bytes(b"again")
    assert ask(bus, f"trash the file {original}")["state"] == "done"
    assert (trash / "files" / "Cats in Rome.2.png").read_bytes() == b"again"
    assert (trash / "info" / "Cats in Rome.2.png.trashinfo").exists()


@pytest.mark.parametrize("request_text", [
    "delete ../../etc/passwd",
    "trash the file /etc/hostname",
    "move the file ~/secret.txt to documents",
    "move Downloads/../secret.txt to music",
    "delete hostname.txt",  # a symlink on the desktop that points to /etc/hostname
    "trash the file ~/Desktop/hostname.txt",
    "move the file ~/Downloads to videos",  # a folder itself
])
def test_paths_outside_the_folders_are_refused(bus: Bus, files_daemon: Daemon,
                                               request_text: str) -> None:
    task = ask(bus, request_text)
    assert task["state"] == "failed", task
    (step,) = task["steps"]  # type: ignore[misc]
    assert step["error"].startswith("io.agentd.Error.PermissionDenied: "), step
    home = Path(bus.env["HOME"])
    assert (home / "secret.txt").exists() and Path("/etc/hostname").exists()
    assert (home / "Downloads").is_dir()
    assert not (Path(bus.env["XDG_DATA_HOME"]) / "Trash" / "files").exists() or not any(
        (Path(bus.env["XDG_DATA_HOME"]) / "Trash" / "files").iterdir())


def test_find_by_words_and_kind(bus: Bus, files_daemon: Daemon) -> None:
    task = ask(bus, "find my photos of cats")
    assert task["state"] == "done", task
    (step,) = task["steps"]  # type: ignore[misc]
    assert step["tool"] == "files.find"
    assert sorted(task["reply"].removeprefix("Found 2 image files: ").rstrip(".").split(", ")) \
        == ["Cats in Rome.png", "cat_on_sofa.jpg"]
    task = ask(bus, "search my files for cats")
    assert task["reply"].startswith("Found 3 files: ")
    assert ask(bus, "find videos of the dog")["reply"] == "No video files match “dog”."


def test_list_a_folder_and_a_missing_one(bus: Bus, files_daemon: Daemon) -> None:
    task = ask(bus, "list my downloads")
    assert task["reply"] == "Your downloads folder has 2 item(s): cat_on_sofa.jpg, report.pdf."
    task = ask(bus, "what's in my music folder")  # XDG_MUSIC_DIR="$HOME": disabled
    assert task["state"] == "failed"
    assert "io.agentd.Error.NotFound: your music folder does not exist" in \
        task["steps"][0]["error"]  # type: ignore[index]


def test_doctor_shows_the_files_backend(bus: Bus, files_daemon: Daemon) -> None:
    out = bus.agentctl("doctor", "--json")
    assert out.returncode == 0, out.stderr
    rows = {(r["capability"], r["backend"]): r for r in json.loads(out.stdout)}
    files = rows[("files", "xdg-folders")]
    assert files["available"] and files["selected"]
    assert "documents" in files["reason"] and "music" not in files["reason"]


# -- in-process: the rules themselves ------------------------------------------------------


def test_user_dirs_rules(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "user-dirs.dirs").write_text(
        'XDG_DOCUMENTS_DIR="$HOME/My \\"Docs\\""\nXDG_MUSIC_DIR="relative/not/allowed"\n'
        'XDG_VIDEOS_DIR="/srv/videos"\nXDG_DESKTOP_DIR="$HOME/"\n')
    dirs = read_user_dirs(tmp_path, config)
    assert dirs["documents"] == tmp_path / 'My "Docs"'
    assert dirs["videos"] == Path("/srv/videos")
    assert dirs["downloads"] == tmp_path / "Downloads"  # not configured: the default
    assert "music" not in dirs and "desktop" not in dirs


def test_folder_checks(tmp_path: Path) -> None:
    docs = tmp_path / "Documents"
    docs.mkdir()
    (docs / "a.txt").write_text("a")
    (docs / "inner-link").symlink_to(docs / "a.txt")
    (docs / "dir-link").symlink_to(tmp_path)
    folders = Folders({"documents": docs})
    assert folders.check(docs / "a.txt") == (docs / "a.txt", "documents")
    assert folders.check(docs / "inner-link")[0] == docs / "inner-link"
    for bad in (docs / ".." / "x", docs / "dir-link" / "x", docs, Path("/etc/passwd")):
        with pytest.raises(PermissionDenied):
            folders.check(bad)
    with pytest.raises(NotFound):
        folders.check(docs / "missing.txt")


def test_kinds() -> None:
    assert [kind_of(Path(n)) for n in ("a.JPG", "b.pdf", "c.ogg", "d.mkv", "e.docx",
                                       "f.odt", "g.md", "h.bin")] == \
        ["image", "document", "audio", "video", "document", "document", "document", ""]


def test_trash_never_unlinks(tmp_path: Path) -> None:
    home = make_home(tmp_path, tmp_path / "config")
    backend = XdgFolders(home, tmp_path / "config", tmp_path / "data")
    inode = os.stat(home / "Downloads" / "report.pdf").st_ino
    trashed = backend.trash("report.pdf")
    assert os.stat(trashed).st_ino == inode  # the same file, renamed
