"""The uinput broker: virtual input devices for agentd alone.

``/dev/uinput`` lets whoever can open it type and tap into every app. Handing it to the
seat's user (udev's ``uaccess``) hands it to every program that user runs, so the image
keeps it root's (mode 0600) and runs this small system service instead
(``agentd-uinput.socket``, ``/run/agentd-uinput.sock``). A client asks for a device in
one JSON line; the broker checks who is asking and, only for agentd, creates the device
on ``/dev/uinput`` and passes its file descriptor back (``SCM_RIGHTS``). agentd then
writes events to it; the device lives as long as agentd holds it.

Who counts as agentd (``agentd.policy.identity``, the checks agentctl gets): the peer's
pid from ``SO_PEERCRED``, read through a pidfd; not in a sandbox; run by this broker's
own Python; its verified program is agentd's installed path (``/usr/bin/agentd``), with
no code preloaded. A program of the same user can still ptrace agentd and take its
devices (docs/consent.md says so); no other program is handed one.

Requests: ``{"device": "touchscreen", "width": W, "height": H}`` or
``{"device": "keyboard"}``; replies: ``{"ok": true}`` with the fd, or ``{"error": why}``.

The identity service (``agentd.policy.identity``): in its systemd unit agentd runs in a
user namespace of its own and cannot read its callers' ``/proc/PID/exe``. It sends
``{"identify": true}`` with a pidfd of the caller (``SCM_RIGHTS``); the broker, root and
outside that namespace, reads the process with the same code agentd uses and answers
``{"identity": {...}}`` (``ProcessIdentity``'s fields), for agentd alone and only about
processes of agentd's own uid. Likewise ``{"opened": "/dev/input/eventN"}``: whether a
process other than agentd (the compositor) has that node open yet (``{"opened": bool}``).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import socket
import struct
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from agentd.adapters.input import encode
from agentd.errors import AgentError, Unavailable
from agentd.policy.identity import identify, identify_pidfd, interpreter, to_reply

log = logging.getLogger(__name__)

SOCKET = Path("/run/agentd-uinput.sock")  # agentd-uinput.socket
AGENTD = "/usr/bin/agentd"
MAX_REQUEST = 4096
MAX_SIDE = 10_000
TIMEOUT_S = 10.0
EVENT = struct.Struct("llHHi")  # struct input_event: timeval, type, code, value
SD_LISTEN_FDS_START = 3
EVENT_NODE = re.compile(r"/dev/input/event[0-9]{1,4}")


class BrokeredDevice:
    """A uinput device the broker made: the same ``write``/``close`` as evdev's UInput."""

    def __init__(self, fd: int, name: str) -> None:
        self.fd, self.name = fd, name

    def write(self, type_: int, code: int, value: int) -> None:
        os.write(self.fd, EVENT.pack(0, 0, type_, code, value))

    def syn(self) -> None:
        self.write(encode.EV_SYN, encode.SYN_REPORT, 0)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)  # the last holder: the kernel removes the device
            self.fd = -1


def request_device(kind: str, size: tuple[int, int] | None = None,
                   path: Path = SOCKET) -> BrokeredDevice:
    """Ask the broker for a device (agentd's side)."""
    request: dict[str, Any] = {"device": kind}
    if size is not None:
        request["width"], request["height"] = size
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(TIMEOUT_S)
            conn.connect(str(path))
            conn.sendall(json.dumps(request).encode() + b"\n")
            data, fds, _, _ = socket.recv_fds(conn, MAX_REQUEST, 1)
    except OSError as exc:
        raise Unavailable(f"the uinput broker at {path} did not answer ({exc}); is "
                          "agentd-uinput.socket enabled?") from None
    try:
        reply = json.loads(data.decode(errors="replace") or "{}")
    except ValueError:
        reply = {"error": "an unreadable reply"}
    if not reply.get("ok") or len(fds) != 1:
        for fd in fds:
            os.close(fd)
        raise AgentError(f"the uinput broker refused the {kind}: "
                         f"{reply.get('error', 'no device in its reply')}")
    return BrokeredDevice(fds[0], kind)


def opened_elsewhere(node: str, path: Path = SOCKET) -> bool:
    """Whether another process (the compositor) has ``node`` open, as the broker sees it;
    False when it cannot say (agentd then waits its timeout out, as before)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(TIMEOUT_S)
            conn.connect(str(path))
            conn.sendall(json.dumps({"opened": node}).encode() + b"\n")
            data = conn.recv(MAX_REQUEST)
        reply = json.loads(data.decode(errors="replace") or "{}")
    except (OSError, ValueError) as exc:
        log.debug("the uinput broker cannot say whether %s is open: %s", node, exc)
        return False
    return isinstance(reply, dict) and reply.get("opened") is True


# -- the broker (root) ------------------------------------------------------------------


def is_agentd(pid: int, agentd_paths: Iterable[str]) -> str:
    """Why ``pid`` is not agentd, or ""."""
    who = identify(pid, source="proc")  # never through the service: that is this broker
    if who.sandboxed:
        return f"a sandboxed app ({who.program or who.sandbox}) is not agentd"
    if not who.program:
        return f"cannot tell which program pid {pid} is: {who.problem}"
    if who.program not in set(agentd_paths):
        return f"{who.program} is not agentd"
    if os.path.realpath(who.exe) != interpreter():
        return f"agentd's path run by {who.exe}, not by {interpreter()}"
    return ""


def create(request: dict[str, Any], devnode: str) -> Any:
    """The device asked for, made with python-evdev on ``devnode``."""
    from evdev import UInput, UInputError

    from agentd.adapters.input.uinput import KEYBOARD_NAME, TOUCH_NAME, touch_capabilities

    kind = request.get("device")
    try:
        if kind == "keyboard":
            return UInput(events={encode.EV_KEY: encode.keyboard_keys()}, name=KEYBOARD_NAME,
                          devnode=devnode)
        if kind == "touchscreen":
            width, height = request.get("width"), request.get("height")
            if not (isinstance(width, int) and isinstance(height, int)
                    and 0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
                raise ValueError(f"a touchscreen needs width and height 1-{MAX_SIDE}")
            return UInput(events=touch_capabilities((width, height)), name=TOUCH_NAME,
                          devnode=devnode, input_props=[encode.INPUT_PROP_DIRECT])
    except (OSError, UInputError) as exc:
        raise ValueError(f"cannot create the {kind} on {devnode}: {exc}") from None
    raise ValueError(f"unknown device {str(kind)[:40]!r}: touchscreen or keyboard")


def serve_one(conn: socket.socket, devnode: str, agentd_paths: Iterable[str]) -> None:
    conn.settimeout(TIMEOUT_S)
    pid, uid, _ = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                                      struct.calcsize("3i")))
    # Read first: a refusal then reaches a waiting reader.
    data, fds, _, _ = socket.recv_fds(conn, MAX_REQUEST, 1)
    try:
        serve_request(conn, pid, uid, data, fds, devnode, agentd_paths)
    finally:
        for fd in fds:
            os.close(fd)


def serve_request(conn: socket.socket, pid: int, uid: int, data: bytes, fds: list[int],
                  devnode: str, agentd_paths: Iterable[str]) -> None:
    why = is_agentd(pid, agentd_paths)
    if why:
        log.warning("refused pid %d (uid %d): %s", pid, uid, why)
        conn.sendall(json.dumps({"error": why}).encode())
        return
    try:
        request = json.loads(data.decode(errors="replace") or "{}")
        if not isinstance(request, dict):
            raise ValueError("the request is not a JSON object")
        if request.get("identify") is True:
            if len(fds) != 1:
                raise ValueError("an identify request carries one pidfd")
            conn.sendall(json.dumps(to_reply(identify_pidfd(fds[0], uid))).encode())
            return
        if "opened" in request:
            node = request["opened"]
            if not (isinstance(node, str) and EVENT_NODE.fullmatch(node)):
                raise ValueError("opened: only /dev/input/eventN")
            from agentd.adapters.input.uinput import opened_elsewhere as opened_here

            conn.sendall(json.dumps({"opened": opened_here(node, also_not=pid)}).encode())
            return
        device = create(request, devnode)
    except ValueError as exc:
        conn.sendall(json.dumps({"error": str(exc)}).encode())
        return
    try:
        socket.send_fds(conn, [json.dumps({"ok": True}).encode()], [device.fd])
        log.info("gave agentd (pid %d, uid %d) a %s", pid, uid, request.get("device"))
    finally:
        os.close(device.fd)  # not UInput.close(): that would destroy agentd's device


def listening_socket(path: Path | None) -> socket.socket:
    """systemd's socket (socket activation), or one bound here (the tests)."""
    if path is None:
        if os.environ.get("LISTEN_PID") != str(os.getpid()) or \
                os.environ.get("LISTEN_FDS") != "1":
            raise SystemExit("agentd-uinput-broker: start it through agentd-uinput.socket, "
                             "or give --socket PATH")
        return socket.socket(fileno=SD_LISTEN_FDS_START)
    path.unlink(missing_ok=True)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    os.chmod(path, 0o666)  # anyone may ask; only agentd is given a device
    server.listen(8)
    return server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="agentd-uinput-broker", description=__doc__.split(
        "\n\n")[0])
    parser.add_argument("--socket", type=Path, help="listen here (default: systemd's)")
    parser.add_argument("--devnode", default="/dev/uinput")
    parser.add_argument("--agentd", action="append", default=None,
                        help=f"agentd's installed path (default {AGENTD}); repeatable")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    server = listening_socket(args.socket)
    agentd_paths = args.agentd or [AGENTD]
    while True:
        conn, _ = server.accept()
        with conn:
            try:
                serve_one(conn, args.devnode, agentd_paths)
            except OSError as exc:
                log.warning("a client went away: %s", exc)


if __name__ == "__main__":
    sys.exit(main())
