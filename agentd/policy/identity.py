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

Where the facts come from (``identify``'s ``source``, the ``identity_source`` setting):
agentd reads ``/proc/PID`` itself; but in its systemd unit it runs in a user namespace of
its own (``PrivateUsers=yes``), and from there the kernel refuses ``/proc/PID/exe``,
``environ``, ``root`` and ``cwd`` of every process outside it, even of the same uid. Then
agentd passes a pidfd of the caller to ``agentd-uinput.service`` (root, outside the
sandbox, ``/run/agentd-uinput.sock``), which reads the same files with this same module
(``identify_pidfd``) and answers, for agentd alone and only about processes of agentd's
own uid. If neither works the caller has no verified identity (fail closed), never a
weaker one.

What this cannot stop (and ``docs/consent.md`` says why): a process of the same user
outside a sandbox can ptrace agentctl or type into a terminal it runs; uid separation or
a sandbox is the boundary, this module only makes sure nothing else is *mistaken* for the
user.
"""

from __future__ import annotations

import configparser
import contextlib
import dataclasses
import json
import logging
import os
import re
import select
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

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
# The identity service: agentd-uinput.service answers {"identify": true} with a pidfd.
# A root-owned directory, so no program of the user can put its own socket there.
SERVICE = Path("/run/agentd-uinput.sock")
SERVICE_TIMEOUT_S = 10.0  # socket activation starts a Python process (seconds under TCG)
MAX_REPLY = 65536
SOURCES = ("auto", "proc", "service")
_source = "auto"


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


class _Closed(Exception):
    """/proc/PID/exe refused (EACCES/EPERM): agentd cannot look at this process itself."""


def configure(source: str) -> None:
    """Where ``identify`` gets its facts by default (the ``identity_source`` setting):
    "auto" (``/proc``, the identity service where ``/proc`` is closed to agentd), "proc"
    or "service"."""
    global _source
    if source not in SOURCES:
        raise ValueError(f"identity_source {source!r}: one of {', '.join(SOURCES)}")
    _source = source


def identify(pid: int, source: str | None = None) -> ProcessIdentity:
    """Everything above about ``pid``; a dead or unreadable process has an empty identity."""
    if pid <= 0:
        return ProcessIdentity(problem="the bus did not say which process this is")
    source = source or _source
    if source == "service":
        return _ask_service(pid)
    try:
        return _identify_proc(pid)
    except _Closed as exc:
        if source == "proc":
            return ProcessIdentity(pid, problem=f"cannot read process {pid} ({exc})")
        return _ask_service(pid, f"/proc/{pid}/exe: {exc}")


def _identify_proc(pid: int) -> ProcessIdentity:
    """Read from ``/proc`` here; ``_Closed`` when this process may not look at ``pid``."""
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
        if _exited(pidfd):
            return ProcessIdentity(pid, problem=f"process {pid} exited while agentd looked")
        return identity
    finally:
        os.close(pidfd)


def _exited(pidfd: int) -> bool:
    readable, _, _ = select.select([pidfd], [], [], 0)
    return bool(readable)


# -- the identity service: agentd's side ---------------------------------------------------


def _ask_service(pid: int, why: str = "identity_source = service") -> ProcessIdentity:
    """The service's answer about ``pid``, or an empty identity that says why not."""
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return ProcessIdentity(pid, problem=f"process {pid} is gone")
    except OSError as exc:
        return _unverified(pid, why, f"no pidfd for it ({exc.strerror})")
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(SERVICE_TIMEOUT_S)
            conn.connect(str(SERVICE))
            socket.send_fds(conn, [b'{"identify": true}\n'], [pidfd])
            data = b""
            while len(data) < MAX_REPLY and (chunk := conn.recv(MAX_REPLY)):
                data += chunk
    except OSError as exc:
        return _unverified(pid, why, f"the identity service at {SERVICE} did not answer "
                           f"({exc}); is agentd-uinput.socket enabled?")
    finally:
        os.close(pidfd)
    try:
        reply = json.loads(data.decode(errors="replace"))
    except ValueError:
        reply = None
    if not isinstance(reply, dict) or "identity" not in reply:
        error = reply.get("error") if isinstance(reply, dict) else None
        return _unverified(pid, why, f"the identity service at {SERVICE} refused: "
                           f"{str(error or 'an unreadable reply')[:200]}")
    try:
        return _from_reply(pid, reply["identity"])
    except (TypeError, ValueError) as exc:
        return _unverified(pid, why, f"the identity service at {SERVICE} gave an "
                           f"unreadable answer ({exc})")


def _unverified(pid: int, why: str, what: str) -> ProcessIdentity:
    log.warning("cannot verify who process %d is: agentd cannot read its /proc (%s) and %s; "
                "it gets no verified identity (no grants, never agentctl)", pid, why, what)
    return ProcessIdentity(pid, problem=f"cannot verify process {pid}: {what}")


def _from_reply(pid: int, fields: Any) -> ProcessIdentity:
    """A ProcessIdentity from the service's JSON, every field of its own type."""
    if not isinstance(fields, dict):
        raise TypeError("not an object")
    values: dict[str, Any] = {}
    for field in dataclasses.fields(ProcessIdentity):
        value = fields.get(field.name, field.default)
        if type(value) is not type(field.default):
            raise TypeError(f"{field.name} is not a {type(field.default).__name__}")
        values[field.name] = value
    if values["sandbox"] not in ("", "flatpak", "snap"):
        raise ValueError(f"unknown sandbox {values['sandbox']!r}")
    values["pid"] = pid  # the pid as agentd (and its bus) number it
    return ProcessIdentity(**values)


# -- the identity service: the service's side (root, outside agentd's sandbox) -------------


def pid_of_pidfd(fd: int) -> int:
    """The pid a pidfd refers to (in this process's pid namespace); -1 if it is gone,
    ``ValueError`` if ``fd`` is no pidfd."""
    if os.readlink(f"/proc/self/fd/{fd}") != "anon_inode:[pidfd]":
        raise ValueError("not a pidfd")
    for line in Path(f"/proc/self/fdinfo/{fd}").read_text().splitlines():
        if line.startswith("Pid:"):
            return int(line.split()[1])
    raise ValueError("no Pid in the pidfd's fdinfo (kernel older than 5.3?)")


def _uids(pid: int) -> set[int]:
    """Real, effective, saved and filesystem uid of ``pid``."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return {int(u) for u in line.split()[1:]}
    raise OSError(f"no Uid in /proc/{pid}/status")


def identify_pidfd(pidfd: int, uid: int) -> ProcessIdentity:
    """What ``identify`` reads, about the process of ``pidfd``, but only if all its uids
    are ``uid`` (the asker's own): the answer tells the asker no more than it could read
    itself without a sandbox. Read from ``/proc`` (never through the service)."""
    try:
        pid = pid_of_pidfd(pidfd)
    except (OSError, ValueError) as exc:
        return ProcessIdentity(problem=f"no process: {exc}")
    if pid <= 0:
        return ProcessIdentity(problem="the process is gone")
    try:
        if _uids(pid) != {uid}:
            return ProcessIdentity(pid, problem=f"process {pid} is not of uid {uid}")
        identity = _read(pid)
        if _uids(pid) != {uid}:  # it exec'd a setuid program meanwhile
            return ProcessIdentity(pid, problem=f"process {pid} is not of uid {uid}")
    except _Closed as exc:
        return ProcessIdentity(pid, problem=f"cannot read process {pid} ({exc})")
    except OSError:
        return ProcessIdentity(pid, problem=f"process {pid} is gone")
    if _exited(pidfd):
        return ProcessIdentity(pid, problem=f"process {pid} exited while it was read")
    return identity


def to_reply(identity: ProcessIdentity) -> dict[str, Any]:
    return {"identity": dataclasses.asdict(identity)}


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
    except PermissionError as exc:  # another user namespace, or another uid
        raise _Closed(exc.strerror) from None
    except OSError as exc:
        return ProcessIdentity(pid, problem=f"cannot read process {pid} ({exc.strerror})")
    try:
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
