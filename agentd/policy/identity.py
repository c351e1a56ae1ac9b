"""Who is on the other end of a bus connection: a program identity agentd can stand on.

The bus daemon tells agentd the pid and uid behind a connection
(``GetConnectionCredentials``). From the pid, read through a pidfd so the pid cannot be
recycled for another process while it is read, this module works out:

- the executable (``/proc/PID/exe``, which the process cannot fake);
- whether the process runs in a sandbox: Flatpak (``/.flatpak-info`` in its root, or an
  ``app-flatpak-*`` cgroup) or snap (a ``snap.*`` cgroup, or an executable under
  ``/snap``), and then its app id;
- the *program*: what grants are bound to. A native executable is itself. A script run by
  an interpreter is the script, but only when the command line cannot run other code
  first: the script must be the first argument after a few harmless interpreter flags, and
  the environment must not preload code (``PYTHONPATH``, ``LD_PRELOAD``, ...). Anything
  else — ``python3 '-cimport evil' /usr/bin/agentctl`` — has no verified program: it can
  ask, but holds no grants and is never taken for agentctl;
- whether it has a controlling terminal.

What this cannot stop (and ``docs/consent.md`` says why): a process of the same user
outside a sandbox can ptrace agentctl or type into a terminal it runs; uid separation or
a sandbox is the boundary, this module only makes sure nothing else is *mistaken* for the
user.
"""

from __future__ import annotations

import configparser
import contextlib
import os
import re
import select
import sys
from dataclasses import dataclass
from pathlib import Path

INTERPRETERS = ("python", "perl", "ruby", "node", "bash", "sh", "dash", "zsh")
# Interpreter flags that change no code that runs (shebang lines use some of them).
SAFE_FLAGS = {"-s", "-I", "-E", "-B", "-u", "-O", "-OO", "-S", "-P", "-e", "-eu", "-ue"}
# Environment variables that make an interpreter or the loader run other code first.
CODE_ENV = ("PYTHONPATH", "PYTHONHOME", "PYTHONINSPECT", "PYTHONSTARTUP", "PYTHONUSERBASE",
            "LD_PRELOAD", "LD_LIBRARY_PATH", "LD_AUDIT", "BASH_ENV", "ENV", "PERL5LIB",
            "PERL5OPT", "RUBYLIB", "RUBYOPT", "NODE_OPTIONS", "NODE_PATH")
MAX_APP_ID = 255
FLATPAK_CGROUP = re.compile(r"app-flatpak-([A-Za-z0-9_.-]+?)-\d+\.scope")
SNAP_CGROUP = re.compile(r"/snap\.([A-Za-z0-9-]+)\.")


@dataclass(frozen=True)
class ProcessIdentity:
    pid: int = -1
    exe: str = ""
    # What grants are bound to: "/usr/bin/foo", "/usr/bin/agentctl" (a verified script),
    # "flatpak:org.example.App", "snap:name"; "" when it cannot be verified.
    program: str = ""
    sandbox: str = ""  # "flatpak", "snap" or ""
    app_id: str = ""
    tty: bool = False
    problem: str = ""  # why ``program`` is empty or the process is not what it seems
    start_time: int = 0  # clock ticks after boot; with the pid, names one process

    @property
    def sandboxed(self) -> bool:
        return bool(self.sandbox)


def identify(pid: int) -> ProcessIdentity:
    """Everything above about ``pid``; a dead or unreadable process has an empty identity."""
    if pid <= 0:
        return ProcessIdentity(problem="the bus did not say which process this is")
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return ProcessIdentity(pid, problem=f"process {pid} is gone")
    except OSError:  # no pidfds here (old kernel, a seccomp filter): re-check the pid
        return _read_rechecked(pid)
    try:
        identity = _read(pid)
        # The pidfd pins the process: if it is still running, every file read above
        # belonged to it, not to a process that got its pid afterwards.
        readable, _, _ = select.select([pidfd], [], [], 0)
        if readable:
            return ProcessIdentity(pid, problem=f"process {pid} exited while agentd looked")
        return identity
    finally:
        os.close(pidfd)


def _read_rechecked(pid: int) -> ProcessIdentity:
    """Without a pidfd: the same process before and after (pid and start time)."""
    identity = _read(pid)
    if identity.start_time == 0 or _start_time(pid) != identity.start_time:
        return ProcessIdentity(pid, problem=f"process {pid} changed while agentd looked")
    return identity


def _start_time(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return -1
    return int(stat[stat.rindex(")") + 2:].split()[19])


def _read(pid: int) -> ProcessIdentity:
    proc = Path(f"/proc/{pid}")
    try:
        exe = os.readlink(proc / "exe")
        argv = (proc / "cmdline").read_bytes().split(b"\0")
        stat = (proc / "stat").read_text()
        cgroup = (proc / "cgroup").read_text()
    except OSError as exc:
        return ProcessIdentity(pid, problem=f"cannot read process {pid} ({exc.strerror})")
    fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "
    tty, start_time = int(fields[4]) != 0, int(fields[19])
    sandbox, app_id = _sandbox(proc, exe, cgroup)
    if sandbox:
        return ProcessIdentity(pid, exe, f"{sandbox}:{app_id}" if app_id else "", sandbox,
                               app_id, tty, "" if app_id else f"a {sandbox} app without an "
                               "app id", start_time)
    program, problem = _program(proc, exe, [a for a in argv if a] or [b""])
    return ProcessIdentity(pid, exe, program, "", "", tty, problem, start_time)


def _sandbox(proc: Path, exe: str, cgroup: str) -> tuple[str, str]:
    """("flatpak"/"snap", app id) or ("", "")."""
    try:
        info = (proc / "root" / ".flatpak-info").read_text(errors="replace")
    except FileNotFoundError:
        info = None
    except OSError:  # cannot look into its root: assume the worst
        return "flatpak", ""
    if info is not None:
        parser = configparser.ConfigParser(interpolation=None)
        with contextlib.suppress(configparser.Error):
            parser.read_string(info)
        return "flatpak", _app_id(parser.get("Application", "name", fallback=""))
    if m := FLATPAK_CGROUP.search(cgroup):
        return "flatpak", _app_id(m[1])
    if m := SNAP_CGROUP.search(cgroup):
        return "snap", _app_id(m[1])
    if exe.startswith("/snap/"):
        return "snap", _app_id(exe.split("/")[2])
    return "", ""


def _app_id(text: str) -> str:
    """An app id as the sandbox states it: plain characters only, capped."""
    return text if len(text) <= MAX_APP_ID and re.fullmatch(r"[A-Za-z0-9_.-]+", text) else ""


def _program(proc: Path, exe: str, argv: list[bytes]) -> tuple[str, str]:
    """(program, problem): the executable, or the script an interpreter runs, verified."""
    if not Path(exe).name.startswith(INTERPRETERS):
        return exe, ""
    args = [a.decode(errors="replace") for a in argv[1:]]
    while args and args[0] in SAFE_FLAGS:
        args.pop(0)
    if not args or args[0].startswith("-"):
        what = args[0][:40] if args else "no script"
        return "", f"{Path(exe).name} runs {what!r}, not a script file"
    try:
        env = (proc / "environ").read_bytes().split(b"\0")
    except OSError:
        return "", "cannot read its environment"
    names = {e.split(b"=", 1)[0].decode(errors="replace") for e in env if b"=" in e}
    preload = sorted(names.intersection(CODE_ENV))
    if preload:
        return "", f"its environment sets {', '.join(preload)}, which can run other code"
    script = args[0]
    if not script.startswith("/"):  # relative to the caller's directory
        try:
            script = os.path.join(os.readlink(proc / "cwd"), script)
        except OSError:
            return "", "cannot resolve its script"
    return os.path.normpath(script), ""


def trusted_agentctl_paths() -> frozenset[str]:
    """Where this agentd's own agentctl is installed: beside agentd, or beside its python."""
    candidates = {Path(sys.argv[0]).absolute().parent / "agentctl",
                  Path(sys.executable).parent / "agentctl", Path("/usr/bin/agentctl")}
    return frozenset(os.path.normpath(p) for p in candidates if p.is_file())


def interpreter() -> str:
    """The python binary agentd runs on; agentctl runs on the same one."""
    return os.path.realpath(sys.executable)


def is_agentctl(identity: ProcessIdentity, paths: frozenset[str] | None = None) -> bool:
    """Whether this process is the user's agentctl: not sandboxed, the verified script is
    one of agentd's own agentctl paths, run by agentd's own python."""
    if identity.sandboxed or not identity.program:
        return False
    wanted = trusted_agentctl_paths() if paths is None else paths
    return identity.program in wanted and os.path.realpath(identity.exe) == interpreter()
