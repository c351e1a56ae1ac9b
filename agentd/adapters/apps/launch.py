"""Backends "gio" and "exec": start desktop apps, with GLib's launcher or by hand.

Both read the same desktop entries (``entries.py``) again on every call, so apps
installed while agentd runs are found. ``gio launch`` handles D-Bus activation, startup
notification and the rest of the spec; "exec" runs the ``Exec`` line itself (field codes
dropped), in its own session so the app outlives agentd.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from agentd.adapters.apps import CAPABILITY
from agentd.adapters.apps.entries import (
    DesktopApp,
    application_dirs,
    command_line,
    discover,
    find_app,
)
from agentd.adapters.base import Availability
from agentd.errors import AgentError, Unavailable

GIO_TIMEOUT_S = 15


class _DesktopEntries:
    capability = CAPABILITY
    test = False

    def __init__(self, env: Mapping[str, str] = os.environ) -> None:
        self.env = dict(env)

    def installed(self) -> list[DesktopApp]:
        return sorted((a for a in discover(self.env) if a.visible),
                      key=lambda a: a.name.casefold())

    def find(self, name: str) -> DesktopApp:
        return find_app(discover(self.env), name)

    def _count(self) -> str:
        return f"{len(self.installed())} app(s) in {len(_existing(self.env))} folder(s)"


def _existing(env: Mapping[str, str]) -> list[Path]:
    return [d for d in application_dirs(env) if d.is_dir()]


class GioLauncher(_DesktopEntries):
    name = "gio"

    async def availability(self) -> Availability:
        gio = shutil.which("gio", path=self.env.get("PATH"))
        if gio is None:
            return Availability.no("gio is not installed (Debian: libglib2.0-bin)")
        return Availability.yes(f"gio launch ({gio}); {self._count()}")

    def launch(self, app: DesktopApp) -> None:
        gio = shutil.which("gio", path=self.env.get("PATH"))
        if gio is None:
            raise Unavailable("gio is not installed (Debian: libglib2.0-bin)")
        # stderr to a file, not a pipe: the app inherits it and would hold a pipe open.
        with tempfile.TemporaryFile() as errors:
            done = subprocess.run([gio, "launch", str(app.path)], stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=errors, env=self.env,
                                  timeout=GIO_TIMEOUT_S, check=False)
            errors.seek(0)
            message = errors.read().decode(errors="replace").strip()
        if done.returncode != 0:
            raise AgentError(f"could not start {app.name}: {message or 'gio launch failed'}")


class ExecLauncher(_DesktopEntries):
    name = "exec"

    async def availability(self) -> Availability:
        return Availability.yes(f"runs the Exec line itself; {self._count()}")

    def launch(self, app: DesktopApp) -> None:
        argv = command_line(app.exec, app)
        if not argv or shutil.which(argv[0], path=self.env.get("PATH")) is None:
            raise Unavailable(f"{app.name} cannot start: {argv[0] if argv else 'no command'} "
                              "is not installed")
        try:
            subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env=self.env,
                             cwd=self.env.get("HOME") or "/", start_new_session=True)
        except OSError as exc:
            raise AgentError(f"could not start {app.name}: {exc}") from None


class SystemdRunLauncher(_DesktopEntries):
    """Start the app as its own transient user service, spawned by the user manager.

    Under systemd, agentd runs hardened (seccomp, no new privileges, no namespaces), and
    a child process inherits all of it, which breaks apps such as browsers whose
    sandboxes need namespaces or setuid helpers. ``systemd-run --user`` asks the user
    manager to start the app instead, so it gets a clean, unrestricted unit of its own.
    Chosen first whenever agentd itself runs as a systemd unit.
    """

    name = "systemd-run"

    async def availability(self) -> Availability:
        if not self.env.get("INVOCATION_ID"):
            return Availability.no("agentd is not running as a systemd unit")
        if shutil.which("systemd-run", path=self.env.get("PATH")) is None:
            return Availability.no("systemd-run is not installed")
        return Availability.yes(f"apps start as their own user units; {self._count()}")

    def launch(self, app: DesktopApp) -> None:
        argv = command_line(app.exec, app)
        if not argv:
            raise Unavailable(f"{app.name} has no command to start")
        unit = "app-agentd-" + "".join(c if c.isalnum() else "_" for c in app.path.stem)
        done = subprocess.run(
            ["systemd-run", "--user", "--collect", "--quiet", "--no-block",
             f"--unit={unit}-{os.getpid()}-{int.from_bytes(os.urandom(3), 'big')}",
             f"--working-directory={self.env.get('HOME') or '/'}", "--", *argv],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            env=self.env, timeout=GIO_TIMEOUT_S, check=False)
        if done.returncode != 0:
            message = done.stderr.decode(errors="replace").strip()
            raise AgentError(f"could not start {app.name}: {message or 'systemd-run failed'}")
