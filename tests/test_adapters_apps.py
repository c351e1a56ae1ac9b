"""The apps adapter: .desktop files in temporary XDG data folders, through the real daemon.

Each test app's Exec line writes a marker file, so "opened" means a process really ran.
"""

from __future__ import annotations

import json
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from testkit.bus import Bus, Daemon, wait_for
from testkit.helpers import agentctl_ask as ask

from agentd.adapters.apps.entries import command_line, discover, find_app
from agentd.adapters.apps.launch import ExecLauncher
from agentd.errors import NotFound

pytestmark = pytest.mark.daemon


def desktop_file(folder: Path, file_id: str, name: str, marker: Path | None = None,
                 **keys: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    command = f'sh -c "echo {name} >> {marker}" %U' if marker else "true"
    lines = ["[Desktop Entry]", "Type=Application", f"Name={name}", f"Exec={command}",
             *(f"{k}={v}" for k, v in keys.items())]
    (folder / file_id).write_text("\n".join(lines) + "\n[Desktop Action new]\nName=New\n")


def make_apps(root: Path, data_home: Path) -> tuple[dict[str, str], Path]:
    """User apps in XDG_DATA_HOME, "system" apps in a private XDG_DATA_DIRS folder."""
    marker = root / "opened.txt"
    user, system = data_home / "applications", root / "sysdata" / "applications"
    desktop_file(system, "org.gnome.Snapshot.desktop", "Snapshot", marker,
                 GenericName="Take Pictures", Keywords="Camera;Photo;Video;",
                 Categories="GNOME;GTK;AudioVideo;")
    desktop_file(system, "org.gnome.Calculator.desktop", "Calculator", marker,
                 Keywords="calculation;arithmetic;", Categories="Utility;")
    desktop_file(system, "org.example.Old.desktop", "Oldapp", marker)
    desktop_file(system, "kde-only.desktop", "Kalc", marker, OnlyShowIn="KDE;")
    desktop_file(system, "helper.desktop", "Url Helper", marker, NoDisplay="true")
    desktop_file(system, "missing.desktop", "Missing", marker, TryExec="no-such-program")
    desktop_file(user, "org.example.Old.desktop", "Oldapp", Hidden="true")  # user hides it
    desktop_file(user / "games", "chess.desktop", "Chess", marker, Categories="Game;")
    env = {"XDG_DATA_HOME": str(data_home), "XDG_DATA_DIRS": str(root / "sysdata"),
           "XDG_CURRENT_DESKTOP": "Phosh:GNOME", "HOME": str(root)}
    return env, marker


@pytest.fixture
def apps_daemon(bus: Bus) -> Iterator[tuple[Daemon, Path]]:
    env, marker = make_apps(bus.root, Path(bus.env["XDG_DATA_HOME"]))
    bus.env.update(env)
    daemon = Daemon(bus).start()
    yield daemon, marker
    daemon.kill(signal.SIGTERM)


def test_open_by_keyword_launches_the_app(bus: Bus, apps_daemon: tuple[Daemon, Path]) -> None:
    _, marker = apps_daemon
    assert shutil.which("gio"), "gio is missing: apt install libglib2.0-bin"
    task = ask(bus, "open the camera")
    assert task["state"] == "done", task
    assert task["reply"] == "Opened Snapshot."
    wait_for(lambda: marker.exists() and marker.read_text() == "Snapshot\n", timeout=10)
    task = ask(bus, "start the calculator")
    assert task["reply"] == "Opened Calculator."
    wait_for(lambda: marker.read_text() == "Snapshot\nCalculator\n", timeout=10)


def test_unknown_app_names_the_closest(bus: Bus, apps_daemon: tuple[Daemon, Path]) -> None:
    task = ask(bus, "open the calculater app")
    assert task["state"] == "failed"
    (step,) = task["steps"]  # type: ignore[misc]
    assert step["error"] == ("io.agentd.Error.NotFound: no installed app is called "
                             "'calculater'; did you mean Calculator?")
    assert not apps_daemon[1].exists()


def test_list_honours_hidden_nodisplay_onlyshowin(bus: Bus,
                                                  apps_daemon: tuple[Daemon, Path]) -> None:
    task = ask(bus, "list my apps")
    assert task["reply"] == "3 app(s): Calculator, Chess, Snapshot."
    out = bus.agentctl("doctor", "--json")
    rows = {(r["capability"], r["backend"]): r for r in json.loads(out.stdout)}
    assert rows[("apps", "gio")]["selected"] and rows[("apps", "gio")]["available"]
    assert rows[("apps", "exec")]["available"] and not rows[("apps", "exec")]["selected"]
    assert "3 app(s) in 2 folder(s)" in rows[("apps", "gio")]["reason"]


def test_matching_rules(tmp_path: Path) -> None:
    env, _ = make_apps(tmp_path, tmp_path / "data")
    apps = discover(env)
    assert sorted(a.id for a in apps) == ["games-chess.desktop", "helper.desktop",
                                          "org.gnome.Calculator.desktop",
                                          "org.gnome.Snapshot.desktop"]
    assert find_app(apps, "CAMERA").name == "Snapshot"  # keyword, any case
    assert find_app(apps, "take pictures").name == "Snapshot"  # generic name
    assert find_app(apps, "game").name == "Chess"  # category
    assert find_app(apps, "calculator app").name == "Calculator"
    assert find_app(apps, "url helper").name == "Url Helper"  # NoDisplay: exact name only
    with pytest.raises(NotFound, match="did you mean Snapshot"):
        find_app(apps, "snapshop")
    with pytest.raises(NotFound):
        find_app(apps, "url")  # a word of a NoDisplay app's name is not enough


def test_exec_backend_strips_field_codes_and_detaches(tmp_path: Path) -> None:
    env, marker = make_apps(tmp_path, tmp_path / "data")
    launcher = ExecLauncher({**env, "PATH": "/usr/bin:/bin"})
    chess = launcher.find("chess")
    assert command_line(chess.exec, chess) == ["sh", "-c", f"echo Chess >> {marker}"]
    launcher.launch(chess)
    wait_for(lambda: marker.exists() and marker.read_text() == "Chess\n", timeout=10)


def test_systemd_run_launcher_is_used_only_under_systemd(tmp_path: Path) -> None:
    """Under systemd apps start as their own user units, outside agentd's sandbox."""
    import asyncio

    from agentd.adapters.apps.launch import SystemdRunLauncher

    outside = asyncio.run(SystemdRunLauncher({"PATH": "/usr/bin:/bin"}).availability())
    assert not outside.ok and "not running as a systemd unit" in outside.reason
    env = {"PATH": str(tmp_path), "INVOCATION_ID": "0123"}
    inside = asyncio.run(SystemdRunLauncher(env).availability())
    assert not inside.ok and "systemd-run is not installed" in inside.reason
    (tmp_path / "systemd-run").write_text("#!/bin/sh\n")
    (tmp_path / "systemd-run").chmod(0o755)
    assert asyncio.run(SystemdRunLauncher(env).availability()).ok
