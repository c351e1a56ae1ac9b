#!/usr/bin/python3
"""The in-image scenarios of `make vm-test`, run inside the booted phone image.

agentd-vm-test.service runs this as root once the phone user's Phosh session is up;
every scenario talks to agentd the way a user does, through `agentctl` run as the phone
user in that session. Each result goes to the console (``/dev/kmsg`` with ``--kmsg``)
as one line the host reads (qemu/vm-test.sh)::

    agentd-vm: PASS screenshot 2.1s 720x1440, 14 colours
    agentd-vm: FAIL app-open 60.0s the Counter window did not show up
    agentd-vm: FIGURE agentd_ready_s=23.4
    agentd-vm: RESULT passed=7 failed=1 skipped=0

The exit status is 0 only if every scenario that ran passed.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pty
import pwd
import re
import select
import signal
import sqlite3
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

sys.path.insert(0, "/usr/lib/agentd/python")  # Pillow, from agentd's package

SCREEN = (720, 1440)  # the phone-shaped virtio-gpu mode of /usr/share/phosh/phoc.ini


class Failed(Exception):
    pass


class Skipped(Exception):
    pass


class Phone:
    """Runs commands as the phone user inside the user's session."""

    def __init__(self, user: str, kmsg: bool) -> None:
        entry = pwd.getpwnam(user)
        self.user = user
        self.uid = entry.pw_uid
        self.home = Path(entry.pw_dir)
        self.runtime = Path(f"/run/user/{self.uid}")
        self.env = {"HOME": str(self.home), "USER": user, "LANG": "C.UTF-8",
                    "PATH": "/usr/local/bin:/usr/bin:/bin",
                    "XDG_RUNTIME_DIR": str(self.runtime),
                    "DBUS_SESSION_BUS_ADDRESS": f"unix:path={self.runtime}/bus",
                    "WAYLAND_DISPLAY": ""}
        in_container = Path("/run/systemd/container").exists()  # console is enough there
        self.kmsg = open("/dev/kmsg", "w") if kmsg and not in_container else None  # noqa: SIM115
        self.counts = {"passed": 0, "failed": 0, "skipped": 0}
        self.session = False

    def emit(self, line: str) -> None:
        print(f"agentd-vm: {line}", flush=True)
        if self.kmsg is not None:
            self.kmsg.write(f"agentd-vm: {line}\n")
            self.kmsg.flush()

    def start_session_bus(self) -> None:
        """--session (qemu/chroot-test.sh): no systemd here, so the phone user's bus is a
        dbus-daemon of our own, and agentd starts by its D-Bus activation file."""
        self.runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chown(self.runtime, self.uid, self.uid)
        subprocess.run(self.argv("dbus-daemon", "--session", "--fork",
                                 f"--address=unix:path={self.runtime}/bus"), check=True)
        self.session = True

    def agentd_env(self, **variables: str) -> None:
        """Restart agentd with these AGENTD_* settings in its environment."""
        pairs = [f"{k}={v}" for k, v in variables.items()]
        if self.session:
            self.run("dbus-update-activation-environment", *pairs)
            self.run("pkill", "-x", "-f", "/usr/bin/python3 -s /usr/bin/agentd")
            time.sleep(1)
        else:
            self.run("systemctl", "--user", "set-environment", *pairs)
            self.run("systemctl", "--user", "restart", "agentd.service")

    def diagnose(self) -> None:
        """The session's logs on the console, for a failure nobody can log in to see."""
        for argv in (["systemctl", "--no-pager", "status", "phosh.service"],
                     ["journalctl", "-b", "--no-pager", "-n", "40", "-u", "phosh.service"],
                     ["journalctl", "-b", "--no-pager", "-n", "40", f"_UID={self.uid}"]):
            out = subprocess.run(argv, capture_output=True, text=True, check=False).stdout
            for line in out.splitlines()[-40:]:
                self.emit(f"LOG {line}")

    def diagnose_input(self) -> None:
        """What the kernel and the compositor saw of agentd's virtual devices."""
        devices = Path("/proc/bus/input/devices").read_text().split("\n\n")
        for block in devices:
            if "agentd" in block:
                for line in block.splitlines():
                    self.emit(f"LOG input: {line}")
        phoc = subprocess.run(["pidof", "phoc"], capture_output=True, text=True).stdout.split()
        for pid in phoc:
            opened = sorted(os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()
                            if os.readlink(fd).startswith("/dev/input/"))
            self.emit(f"LOG phoc {pid} has open: {' '.join(opened) or 'no input device'}")
        log = subprocess.run(["journalctl", "-b", "--no-pager", "-n", "30",
                              f"_UID={self.uid}"], capture_output=True, text=True).stdout
        for line in log.splitlines()[-30:]:
            self.emit(f"LOG {line}")

    def argv(self, *argv: str) -> list[str]:
        return ["runuser", "-u", self.user, "--", "env", *(f"{k}={v}" for k, v in
                                                          self.env.items()), *argv]

    def run(self, *argv: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.argv(*argv), capture_output=True, text=True,
                              timeout=timeout, check=False)

    def ask(self, *args: str, timeout: float = 300) -> dict[str, Any]:
        result = self.run("agentctl", "ask", "--json", *args, timeout=timeout)
        try:
            task: dict[str, Any] = json.loads(result.stdout)
        except json.JSONDecodeError:
            raise Failed(f"agentctl ask {args!r}: exit {result.returncode}: "
                         f"{result.stdout[-300:]} {result.stderr[-300:]}") from None
        return task

    def ask_and_allow(self, request: str, timeout: float = 120) -> dict[str, Any]:
        """Ask at a terminal and answer "y" to agentd's question, as the user would (a
        step that changes things, input.* included, is allowed only by the user: agentctl
        at a terminal or agentd's notification). Returns the task as `agentctl task`."""
        master, slave = pty.openpty()

        def controlling_terminal() -> None:
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        proc = subprocess.Popen(self.argv("agentctl", "ask", request), stdin=slave,
                                stdout=slave, stderr=slave, start_new_session=True,
                                preexec_fn=controlling_terminal)
        os.close(slave)
        seen, answered, deadline = b"", False, time.monotonic() + timeout
        while time.monotonic() < deadline and proc.poll() is None:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    seen += os.read(master, 4096)
                except OSError:
                    break
            if not answered and b"[y/N" in seen:
                os.write(master, b"y\n")
                answered = True
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        os.close(master)
        if not answered:
            raise Failed(f"agentctl did not ask: {seen.decode(errors='replace')[-300:]}")
        tasks = json.loads(self.run("agentctl", "--json", "tasks").stdout or "[]")
        mine = [t for t in tasks if t.get("request") == request]
        if not mine:
            raise Failed(f"no task for {request!r}: {seen.decode(errors='replace')[-300:]}")
        return mine[-1]  # type: ignore[no-any-return]

    def scenario(self, name: str, body: Callable[[Phone], str]) -> None:
        start = time.monotonic()
        try:
            detail = body(self)
        except Skipped as exc:
            self.counts["skipped"] += 1
            self.emit(f"SKIP {name} {exc}")
            return
        except (Failed, subprocess.TimeoutExpired, OSError) as exc:
            self.counts["failed"] += 1
            self.emit(f"FAIL {name} {time.monotonic() - start:.1f}s {exc}")
            return
        self.counts["passed"] += 1
        self.emit(f"PASS {name} {time.monotonic() - start:.1f}s {detail}")


def wait(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise Failed(f"{what} (waited {timeout:.0f} s)")


def done(task: dict[str, Any], tool: str) -> dict[str, Any]:
    if task.get("state") != "done":
        raise Failed(f"task {task.get('state')}: {task.get('reply')} {task.get('steps')}")
    tools = [step.get("tool") for step in task.get("steps", [])]
    if tools != [tool]:
        raise Failed(f"planned {tools}, expected [{tool}]")
    return task


# -- scenarios ----------------------------------------------------------------------------

def agentd_ready(phone: Phone) -> str:
    wait(lambda: (phone.runtime / "bus").exists(), 240, "the phone user's session bus")
    try:
        display = wait(lambda: next((line.split("=", 1)[1] for line in phone.run(
            "systemctl", "--user", "show-environment").stdout.splitlines()
            if line.startswith("WAYLAND_DISPLAY=")), ""), 240,
            "the Phosh session (no WAYLAND_DISPLAY in the user manager)")
    except Failed:
        phone.diagnose()
        raise
    phone.env["WAYLAND_DISPLAY"] = display
    wait(lambda: phone.run("agentctl", "status", "--json", timeout=60).returncode == 0, 240,
         "agentctl status")
    show = phone.run("systemctl", "--user", "show", "agentd.service",
                     "-p", "ActiveEnterTimestampMonotonic", "-p", "MainPID").stdout
    props = dict(line.split("=", 1) for line in show.split())
    ready_s = int(props["ActiveEnterTimestampMonotonic"]) / 1e6
    pid = int(props["MainPID"])
    if not pid:
        raise Failed("agentd.service has no main process: it was not started by systemd")
    # The unit's sandbox is in effect: a user namespace of its own (PrivateUsers=yes), in
    # which the callers' /proc/PID/exe is closed to agentd and identities come from
    # agentd-uinput.service (the approvals below stand on them).
    if os.readlink(f"/proc/{pid}/ns/user") == os.readlink("/proc/self/ns/user"):
        raise Failed("agentd runs in the host's user namespace: its unit's PrivateUsers=yes "
                     "is not in effect")
    analyzed = phone.run("systemd-analyze", "--user", "security", "--no-pager",
                         "agentd.service").stdout
    exposure = re.search(r"Overall exposure level for agentd.service: ([0-9.]+)", analyzed)
    if exposure:
        phone.emit(f"FIGURE agentd_exposure={exposure[1]}")
    phone.emit(f"FIGURE agentd_ready_s={ready_s:.1f}")
    time.sleep(5)  # let the start settle, then measure agentd at rest
    ticks = os.sysconf("SC_CLK_TCK")

    def cpu() -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks

    before, t0 = cpu(), time.monotonic()
    time.sleep(10)
    idle_cpu = (cpu() - before) / (time.monotonic() - t0) * 100
    rss = next(int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text()
               .splitlines() if line.startswith("VmRSS:"))
    phone.emit(f"FIGURE agentd_idle_rss_mb={rss / 1024:.1f}")
    phone.emit(f"FIGURE agentd_idle_cpu_percent={idle_cpu:.2f}")
    return f"agentd active {ready_s:.1f} s after boot (systemd user unit, pid {pid})"


def screenshot(phone: Phone) -> str:
    from PIL import Image

    doctor = json.loads(phone.run("agentctl", "doctor", "--json").stdout or "[]")
    selected = [row.get("backend") for row in doctor
                if row.get("capability") == "screen" and row.get("selected")]
    if selected != ["grim"]:
        raise Failed(f"the screen backend in use is {selected}, not grim (the Phosh screen)")
    task = done(phone.ask("take a screenshot"), "screen.capture")
    found = re.search(r"(/\S.*?\.png)", task["reply"])
    path = found[1] if found else ""
    if not path.startswith(str(phone.home)):
        raise Failed(f"no screenshot path in the reply: {task['reply']}")
    with Image.open(path) as image:
        size = image.size
        colours = image.convert("RGB").getcolors(maxcolors=1 << 16)
    if size != SCREEN:
        raise Failed(f"screenshot is {size}, the screen is {SCREEN}")
    count = len(colours) if colours is not None else 1 << 16
    if count < 16:  # Phosh's screen: anti-aliased text, icons, a wallpaper
        raise Failed(f"the screenshot is nearly blank ({count} colours)")
    return f"{size[0]}x{size[1]}, {count} colours, {path}"


def app_open(phone: Phone) -> str:
    shown = phone.runtime / "agentd-counter" / "shown"
    task = done(phone.ask("open the counter app"), "apps.open")
    wait(shown.exists, 90, "the Counter window did not show up")
    return f"{task['reply']} (window mapped by pid {shown.read_text()})"


def uinput_tap(phone: Phone) -> str:
    count = phone.runtime / "agentd-counter" / "count"
    if not (phone.runtime / "agentd-counter" / "shown").exists():
        raise Skipped("the Counter app is not on screen (app-open failed)")
    if phone.run("test", "-w", "/dev/uinput").returncode == 0:
        raise Failed("the phone user can write /dev/uinput: every program of theirs could "
                     "inject input (it must stay root's; agentd gets devices from "
                     "agentd-uinput.service)")
    before = int(count.read_text()) if count.exists() else 0
    x, y = SCREEN[0] // 2, SCREEN[1] // 2
    task = done(phone.ask_and_allow(f"tap at x {x} y {y}"), "input.tap")
    if not task["steps"][0].get("confirmed"):
        raise Failed("the tap ran without the user's yes")
    try:
        wait(lambda: count.exists() and int(count.read_text()) > before, 30,
             "the Counter app did not count the tap")
    except Failed:
        phone.diagnose_input()
        raise
    return f"tap at ({x}, {y}) counted: {before} -> {count.read_text()}"


def notification(phone: Phone) -> str:
    sent = phone.run("notify-send", "--app-name=Messenger", "Lunch at noon?",
                     "Meet at the usual place")
    if sent.returncode != 0:
        raise Failed(f"notify-send failed: {sent.stderr}")

    def read() -> str:
        task = done(phone.ask("read my notifications"), "notifications.list")
        return task["reply"] if "Lunch at noon?" in task["reply"] else ""

    return wait(read, 30, "the notification was not read back")  # type: ignore[no-any-return]


# The user's finger on Phosh's banner: press the button named Allow through AT-SPI, with
# agentd's own AT-SPI code from the package (as makoctl invoke does for mako on the host).
PRESS_ALLOW = """
import asyncio, sys
sys.path.insert(0, "/usr/lib/agentd/python")
from dbus_fast.aio import MessageBus
from agentd.adapters.accessibility.atspi import AtspiAccessibility

async def main():
    bus = await MessageBus().connect()
    access = AtspiAccessibility()
    await access.start(bus)
    print(await access.activate("Allow"))

asyncio.run(main())
"""


def notification_allow(phone: Phone) -> str:
    """agentd asks through Phosh's notification server; the user presses Allow there."""
    request = "text 555 0100 on my way"
    asker = subprocess.Popen(phone.argv("agentctl", "ask", "--json", request),
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        def waiting() -> dict[str, Any] | None:
            tasks = json.loads(phone.run("agentctl", "--json", "tasks").stdout or "[]")
            return next((t for t in tasks if t.get("request") == request
                         and t.get("state") == "awaiting-confirmation"), None)

        task = wait(waiting, 60, "the text message never asked for confirmation")
        pressed: list[str] = []

        def press() -> bool:
            out = phone.run("python3", "-c", PRESS_ALLOW, timeout=60)
            pressed.append((out.stdout + out.stderr).strip()[-300:])
            return out.returncode == 0

        wait(press, 60, "no Allow button on screen (Phosh's banner, read over AT-SPI): "
             + (pressed[-1] if pressed else ""))
        stdout, stderr = asker.communicate(timeout=60)
    finally:
        if asker.poll() is None:
            asker.kill()
            asker.wait()
    result = json.loads(stdout or "{}")
    steps = result.get("steps", [])
    if not steps or not steps[0].get("confirmed"):
        raise Failed(f"task {task['id']} ran without the Allow: {result} {stderr[-300:]}")
    log = json.loads(phone.run("agentctl", "--json", "log", "--limit", "20").stdout or "[]")
    record = next((r for r in reversed(log) if r.get("task") == task["id"]), {})
    approved = record.get("approved_by") or {}
    if isinstance(approved, str):
        approved = json.loads(approved)
    if approved.get("channel") != "notification":
        raise Failed(f"the audit log does not say the notification approved it: {record}")
    return (f"Allow pressed on Phosh's banner ({pressed[-1][:60]}); task {task['id']} "
            f"confirmed by {approved.get('program')} (pid {approved.get('pid')})")


def files(phone: Phone) -> str:
    for folder in ("Documents", "Downloads"):
        phone.run("mkdir", "-p", str(phone.home / folder))
    phone.run("sh", "-c", f"echo quarterly > {phone.home}/Downloads/vm-report.txt")
    done(phone.ask("move vm-report.txt to documents"), "files.move")
    moved = phone.home / "Documents" / "vm-report.txt"
    if not moved.exists() or (phone.home / "Downloads" / "vm-report.txt").exists():
        raise Failed("vm-report.txt is not in Documents")
    done(phone.ask("trash the file vm-report.txt"), "files.trash")
    trash = phone.home / ".local" / "share" / "Trash"
    if moved.exists() or not (trash / "files" / "vm-report.txt").exists():
        raise Failed("vm-report.txt is not in the trash")
    info = (trash / "info" / "vm-report.txt.trashinfo").read_text()
    if f"Path={moved}" not in info:
        raise Failed(f"trashinfo does not name the original path: {info}")
    return "moved to Documents, then trashed with its .trashinfo"


ANNA = ("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Anna Berg\r\nN:Berg;Anna;;;\r\n"
        "NICKNAME:Annie\r\nTEL;TYPE=HOME:+15550199\r\nTEL;TYPE=CELL:+15550123\r\n"
        "END:VCARD\r\n")


def add_anna(phone: Phone) -> None:
    """Anna in the phone user's vCard folder (as khard or vdirsyncer keep contacts)."""
    folder = phone.home / ".local" / "share" / "contacts" / "personal"
    phone.run("mkdir", "-p", str(folder))
    vcf = folder / "anna.vcf"
    vcf.write_text(ANNA, encoding="utf-8")
    entry = pwd.getpwnam(phone.user)
    os.chown(vcf, entry.pw_uid, entry.pw_gid)


def contact_text(phone: Phone) -> str:
    """A contact in the phone user's vCard folder resolves for "text ...": the question
    names the contact and the mobile number, and the allowed step fails with the named
    telephony error (the VM has no modem)."""
    add_anna(phone)
    task = phone.ask_and_allow("text annie I'm on my way")
    (step,) = task.get("steps") or [{}]
    if step.get("tool") != "sms.send" or "Anna Berg (+15550123)" not in step.get("summary", ""):
        raise Failed(f"the question did not name Anna's mobile number: {step}")
    if not step.get("confirmed") or step.get("state") != "failed":
        raise Failed(f"expected a confirmed step that fails without a modem: {step}")
    if "io.agentd.Error.Unavailable" not in step.get("error", ""):
        raise Failed(f"not the named telephony error: {step.get('error')}")
    return f"asked “{step['summary']}”; then {step['error'][:80]}"


DENTIST = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//agentd vm-test//EN\r\n"
           "BEGIN:VEVENT\r\nUID:dentist@vm-test\r\nDTSTAMP:20260101T000000Z\r\n"
           "DTSTART:{day}T150000\r\nDTEND:{day}T160000\r\nSUMMARY:Dentist\r\n"
           "END:VEVENT\r\nEND:VCALENDAR\r\n")


def messages(phone: Phone) -> str:
    """"what did annie text me" reads an SMS from Chatty's history: the image's Chatty
    (as Phosh starts it, in daemon mode) makes its database, the SMS goes in with
    Chatty's own statements (the VM has no modem to receive one), and agentd names the
    sender from the contacts while Chatty keeps running."""
    add_anna(phone)
    db = phone.home / ".purple" / "chatty" / "db" / "chatty-history.db"
    chatty = subprocess.Popen(phone.argv("chatty", "--daemon", "-n"),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)

    def made() -> bool:  # Chatty's schema is in, its transaction over
        if not db.exists() or db.with_name(db.name + "-journal").exists():
            return False
        with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as history:
            return bool(history.execute("PRAGMA user_version").fetchone()[0])

    try:
        wait(made, 180, "Chatty did not make its history database")
        said = "Running 10 minutes late, sorry"
        wrote = phone.run("python3", "/usr/share/agentd-image/chatty_sms.py", str(db),
                          "+15550123", said)
        if wrote.returncode != 0:
            raise Failed(f"the SMS did not go into Chatty's history: {wrote.stderr[-300:]}")
        task = done(phone.ask("what did annie text me"), "messages.list")
        listed = task["steps"][0].get("result", "")
        if not listed.startswith("1 text message from Anna Berg") or said not in listed:
            raise Failed(f"Anna's SMS not read: {listed!r}")
        if chatty.poll() is not None:
            raise Failed(f"Chatty exited ({chatty.returncode}) while agentd read its history")
        return f"read: {listed[:120]}"
    finally:
        os.killpg(chatty.pid, signal.SIGKILL)
        chatty.wait(timeout=10)


def calendar_today(phone: Phone) -> str:
    """"what's on my calendar today" lists an event the phone's calendar folder holds (as
    vdirsyncer or khal write it) and one agentd added for "add lunch ... today"."""
    folder = phone.home / ".local" / "share" / "calendars" / "personal"
    phone.run("mkdir", "-p", str(folder))
    ics = folder / "dentist.ics"
    ics.write_text(DENTIST.format(day=time.strftime("%Y%m%d")), encoding="utf-8")
    entry = pwd.getpwnam(phone.user)
    os.chown(ics, entry.pw_uid, entry.pw_gid)
    done(phone.ask("add lunch with anna today at 1 pm"), "calendar.add")
    task = done(phone.ask("what's on my calendar today"), "calendar.list")
    listed = task["steps"][0].get("result", "")
    if "Dentist" not in listed or "lunch with anna" not in listed.lower():
        raise Failed(f"today's events not listed: {listed!r}")
    return f"listed: {listed[:120]}"


def media_pause(phone: Phone) -> str:
    """"pause" pauses a playing MPRIS player: mpv with Debian's mpv-mpris, playing a
    sound on a loop with no audio device, and the player's own PlaybackStatus says so."""
    wav = "/tmp/agentd-vm-song.wav"
    made = phone.run("espeak-ng", "-w", wav, "la la la la la la la la la la")
    if made.returncode != 0:
        raise Failed(f"espeak-ng: {made.stderr}")
    player = subprocess.Popen(phone.argv("mpv", "--no-video", "--ao=null", "--loop-file=inf",
                                         "--no-terminal", "--title=vm-song", wav))
    try:
        def status() -> str:
            out = phone.run("busctl", "--user", "get-property", "org.mpris.MediaPlayer2.mpv",
                            "/org/mpris/MediaPlayer2", "org.mpris.MediaPlayer2.Player",
                            "PlaybackStatus").stdout.strip()
            return out.split()[-1].strip('"') if out else ""

        wait(lambda: status() == "Playing", 60, "mpv did not play over MPRIS")
        done(phone.ask("pause the music"), "media.control")
        wait(lambda: status() == "Paused", 15, "the player did not pause")
        done(phone.ask("resume"), "media.control")
        wait(lambda: status() == "Playing", 15, "the player did not resume")
        return "mpv: Playing → Paused (pause the music) → Playing (resume)"
    finally:
        player.kill()
        player.wait(timeout=10)


def location(phone: Phone) -> str:
    """"where am I" through the image's GeoClue, agentd authorised by its section of
    geoclue.conf and Phosh as the location agent: with location services off (GNOME's
    default) the named "turned off" error; after "turn on location", GeoClue lets agentd
    ask and, with no GPS, Wi-Fi or network in the VM, the named "no position yet" error
    once location_timeout_s has passed. Never a made-up place."""
    phone.run("gsettings", "set", "org.gnome.system.location", "enabled", "false")
    errors = []
    for request in ("where am i", "turn on location", "where am i"):
        task = phone.ask(request, timeout=120)
        (step,) = task.get("steps") or [{}]
        if request == "turn on location":
            done(task, "settings.set")
            continue
        if step.get("tool") != "location.get" or step.get("state") != "failed":
            raise Failed(f"{request!r}: expected a failed location.get: {step}")
        errors.append(step.get("error", ""))
    if "io.agentd.Error.Unavailable: location services are turned off" not in errors[0]:
        raise Failed(f"location off: not the named error: {errors[0]}")
    if "io.agentd.Error.Unavailable: no position yet" not in errors[1]:
        raise Failed(f"location on, no fix: not the named error: {errors[1]}")
    return f"off: {errors[0][:60]}…; on: {errors[1][:60]}…"


def model_tier(phone: Phone) -> str:
    models = json.loads(phone.run("agentctl", "model", "list", "--json").stdout or "[]")
    if not models:
        raise Skipped("no model in this image (make image MODEL=path.gguf)")
    # Under TCG (emulated AVX2) llama.cpp runs ~100x slower than on the host: one planning
    # step, two tools offered and short replies, so the random test model is done in a
    # minute or two instead of seven.
    phone.agentd_env(AGENTD_MODEL_MAX_STEPS="1", AGENTD_MODEL_TOOLS="2",
                     AGENTD_MODEL_REPLY_CHARS="40")
    started = time.monotonic()
    task = phone.ask("--dry-run", SLOW_REQUEST, timeout=900)
    if time.monotonic() - started > 60 and not phone.session:  # where did the time go?
        log = phone.run("journalctl", "--user", "-u", "agentd.service", "--no-pager",
                        "-o", "short-monotonic", "-n", "25").stdout
        for line in log.splitlines():
            phone.emit(f"LOG {line}")
    if task.get("tier") != "model":
        raise Failed(f"tier {task.get('tier')!r}, state {task.get('state')}: {task.get('reply')}")
    return f"planned by the model: {[s.get('tool') for s in task.get('steps', [])]}"


def voice(phone: Phone) -> str:
    wait(lambda: (phone.runtime / "bus").exists(), 120, "the phone user's session bus")
    whisper = phone.home / ".local" / "share" / "agentd" / "models" / "whisper"
    if not whisper.is_dir():
        raise Skipped("Whisper is not installed in this image (make image WHISPER=DIR)")
    wav = "/tmp/vm-voice.wav"
    made = phone.run("espeak-ng", "-v", "en-us", "-s", "150", "-w", wav, "what time is it")
    if made.returncode != 0:
        raise Failed(f"espeak-ng: {made.stderr}")
    task = done(phone.ask("--audio", wav, timeout=600), "clock.time")
    return f"heard {task['request']!r}: {task['reply']}"


def uinput_device(phone: Phone) -> str:
    """tests/vm/check_uinput.py as root: the devices agentd makes, read back by the kernel."""
    result = subprocess.run(["/usr/bin/python3", "-s", "/usr/share/agentd-image/check_uinput.py"],
                            capture_output=True, text=True, timeout=120, check=False,
                            env={"PYTHONPATH": "/usr/lib/agentd/python", "PATH": "/usr/bin:/bin"})
    lines = [line for line in result.stdout.splitlines() if line.startswith(("PASS", "FAIL"))]
    if result.returncode != 0 or not lines:
        raise Failed("; ".join(line for line in lines if line.startswith("FAIL"))
                     or result.stderr[-500:])
    return f"{len(lines)} checks passed"


FINAL = {"done", "failed", "cancelled", "interrupted", "rejected"}
SLOW_REQUEST = "please rearrange the zorblax gizmos"  # no template: the model tier thinks


def crash_recovery(phone: Phone) -> str:
    """Kill agentd (SIGKILL) while the model tier is thinking; systemd restarts it."""
    if not json.loads(phone.run("agentctl", "model", "list", "--json").stdout or "[]"):
        raise Skipped("no model in this image to keep a task busy (make image MODEL=...)")
    asker = subprocess.Popen(phone.argv("agentctl", "ask", "--json", SLOW_REQUEST),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def busy() -> dict[str, Any] | None:
        tasks = json.loads(phone.run("agentctl", "tasks", "--json").stdout or "[]")
        task = next((t for t in tasks if t.get("request") == SLOW_REQUEST), None)
        if task is not None and task.get("state") in FINAL:
            raise Failed(f"the task finished ({task.get('state')}) before it could be killed")
        return task

    try:
        task = wait(busy, 120, "the model-tier task did not start")
    finally:
        pid = phone.run("systemctl", "--user", "show", "-p", "MainPID", "--value",
                        "agentd.service").stdout.strip()
        phone.run("systemctl", "--user", "kill", "--signal=KILL", "agentd.service")
        asker.kill()
        asker.wait()

    def restarted() -> str:
        new = phone.run("systemctl", "--user", "show", "-p", "MainPID", "--value",
                        "agentd.service").stdout.strip()
        return new if new not in ("", "0", pid) else ""

    new_pid = wait(restarted, 60, "systemd did not restart agentd")
    after = json.loads(phone.run("agentctl", "task", str(task["id"]), "--json").stdout)
    if after.get("state") != "interrupted":
        raise Failed(f"task {task['id']} is {after.get('state')!r} after the restart")
    return (f"killed agentd (pid {pid}) in state {task.get('state')!r}; systemd restarted "
            f"it (pid {new_pid}); task {task['id']} is interrupted")


SCENARIOS: list[tuple[str, Callable[[Phone], str]]] = [
    ("agentd-ready", agentd_ready),
    ("screenshot", screenshot),
    ("app-open", app_open),
    ("uinput-tap", uinput_tap),
    ("notification", notification),
    ("notification-allow", notification_allow),
    ("files", files),
    ("contact-text", contact_text),
    ("messages", messages),
    ("calendar-today", calendar_today),
    ("media-pause", media_pause),
    ("location", location),
    ("crash-recovery", crash_recovery),  # before model-tier: a cold prompt cache is slower
    ("model-tier", model_tier),
    ("voice", voice),
    ("uinput-device", uinput_device),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--user", default="phone", help="the phone user (default: phone)")
    parser.add_argument("--kmsg", action="store_true", help="also write to /dev/kmsg")
    parser.add_argument("--only", nargs="*", help="run only these scenarios")
    parser.add_argument("--session", action="store_true",
                        help="start the user's session bus here (no systemd: a chroot)")
    args = parser.parse_args()
    only, skip = args.only, []
    # qemu/vm-test.sh: agentd.vm_only=NAME,... and agentd.vm_skip=NAME,... on the kernel
    # command line (in a container: on init's command line)
    for word in (Path("/proc/cmdline").read_text().split()
                 + Path("/proc/1/cmdline").read_bytes().decode().split("\0")):
        if word.startswith("agentd.vm_only=") and only is None:
            only = word.split("=", 1)[1].split(",")
        elif word.startswith("agentd.vm_skip="):
            skip = word.split("=", 1)[1].split(",")
    phone = Phone(args.user, args.kmsg)
    if args.session:
        phone.start_session_bus()
    phone.emit("START")
    for name, body in SCENARIOS:
        if name in skip:
            phone.counts["skipped"] += 1
            phone.emit(f"SKIP {name} skipped by agentd.vm_skip")
        elif not only or name in only:
            phone.scenario(name, body)
    c = phone.counts
    phone.emit(f"RESULT passed={c['passed']} failed={c['failed']} skipped={c['skipped']}")
    return 0 if c["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
