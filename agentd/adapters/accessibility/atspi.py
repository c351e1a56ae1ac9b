"""Backend "atspi": AT-SPI2 over D-Bus with dbus-fast (no libatspi, no pyatspi).

The session bus's ``org.a11y.Bus`` (at-spi-bus-launcher) gives the address of the
accessibility bus; there the registry's root lists one object per registered app, and
each app's tree is read with ``tree.read_app`` (bounded: nodes, depth, per-call and
per-app timeouts). GTK 3 registers through the atk-bridge, GTK 4 and Qt natively.

The window the user looks at is the one in state ACTIVE. Where none is (a compositor
that gave no app the keyboard focus), the last registered app with a showing window
that is not the shell's (phosh, squeekboard...) is taken, and the result says so.
"""

from __future__ import annotations

import asyncio
import difflib
import logging
from dataclasses import dataclass

from dbus_fast import Message, MessageType
from dbus_fast.aio import MessageBus
from dbus_fast.errors import AuthError

from agentd.adapters.accessibility import CAPABILITY, ScreenContent, Widget
from agentd.adapters.accessibility.tree import (
    ACCESSIBLE,
    ACTION,
    EDITABLE_TEXT,
    STATE_ACTIVE,
    STATE_ENABLED,
    STATE_FOCUSED,
    STATE_SENSITIVE,
    TEXT,
    AppTree,
    CallFailed,
    Node,
    call,
    get_property,
    read_app,
)
from agentd.adapters.base import Availability
from agentd.errors import AgentError, NotFound, Unavailable

log = logging.getLogger(__name__)

A11Y_BUS = "org.a11y.Bus"
A11Y_BUS_PATH = "/org/a11y/bus"
REGISTRY = ("org.a11y.atspi.Registry", "/org/a11y/atspi/accessible/root")
CONNECT_TIMEOUT_S = 3.0
MAX_APPS = 50
MAX_SCREEN_CHARS = 6000  # of text handed to the model
WINDOW_ROLES = {"frame", "window", "dialog", "alert", "file chooser"}
SHELL_APPS = {"phosh", "squeekboard", "phoc", "gnome-shell", "plasmashell", "mutter-x11-frames"}
# Roles whose name is their content; others are shown with their role ("Send (push button)").
PLAIN_ROLES = {"label", "static", "heading", "paragraph", "caption", "text", "entry",
               "password text", "document text", "section", "panel", "filler"}
PREFERRED_ACTIONS = ("click", "press", "activate", "toggle", "jump", "open", "select")
# "Send button", "Wi-Fi switch": a trailing role word narrows the search.
ROLE_WORDS = {
    "button": {"push button", "toggle button", "radio button", "button"},
    "switch": {"toggle button", "switch", "check box"},
    "toggle": {"toggle button", "switch", "check box"},
    "checkbox": {"check box"},
    "link": {"link"},
    "tab": {"page tab"},
    "menu": {"menu", "menu item", "push button"},
    "item": {"menu item", "list item", "table cell", "tree item"},
    "field": {"text", "entry", "password text"},
}


@dataclass
class _Screen:
    apps: list[AppTree]
    window: Node | None  # the window the user looks at
    app: AppTree | None
    active: bool


def normalise(name: str) -> str:
    return " ".join(name.replace("_", "").casefold().split()).rstrip(".…: ")


class AtspiAccessibility:
    name = "atspi"
    capability = CAPABILITY
    test = False

    def __init__(self) -> None:
        self._session: MessageBus | None = None
        self._conn: MessageBus | None = None
        self._address = ""
        self._lock = asyncio.Lock()

    async def start(self, bus: MessageBus) -> None:
        self._session = bus

    async def stop(self) -> None:
        if self._conn is not None:
            self._conn.disconnect()
            self._conn = None

    async def availability(self) -> Availability:
        try:
            apps = await self._app_refs()
        except Unavailable as exc:
            return Availability.no(str(exc))
        if not apps:
            return Availability.no(
                f"no app is registered on the accessibility bus ({self._address}); apps "
                "register when they start after it (GTK 3 through the atk-bridge, GTK 4, Qt)")
        return Availability.yes(f"AT-SPI2 bus {self._address}; {len(apps)} app(s) registered")

    # -- the capability ------------------------------------------------------------------

    async def read_screen(self) -> ScreenContent:
        screen = await self._read()
        if screen.window is None or screen.app is None:
            raise NotFound("no app window is showing on the screen")
        lines, truncated = _lines(screen.window)
        others = tuple(a.name for a in screen.apps
                       if a is not screen.app and _windows(a))
        return ScreenContent(app=screen.app.name, window=screen.window.name,
                             active=screen.active, lines=tuple(lines),
                             truncated=truncated or screen.app.truncated, others=others)

    async def activate(self, target: str) -> Widget:
        screen = await self._read()
        node = _find(screen, target)
        conn = await self._connection()
        if not (node.has(STATE_ENABLED) and node.has(STATE_SENSITIVE)):
            raise AgentError(f"“{node.name}” ({node.role}) is disabled: it cannot be "
                             "activated now")
        try:
            actions = await call(conn, node.ref, ACTION, "GetActions")
            names = [str(a[0]) for a in list(actions[0])[:32]]
            if not names:
                raise AgentError(f"“{node.name}” ({node.role}) has no action to do")
            folded = [n.casefold() for n in names]
            index = next((folded.index(a) for a in PREFERRED_ACTIONS if a in folded), 0)
            (done,) = await call(conn, node.ref, ACTION, "DoAction", "i", [index])
        except CallFailed as exc:
            raise AgentError(f"the app did not activate “{node.name}”: {exc}") from None
        if not done:
            raise AgentError(f"the app refused to {names[index]} “{node.name}”")
        return _widget(node, screen, tuple(names))

    async def insert_text(self, text: str) -> Widget:
        screen = await self._read()
        node = _text_field(screen)
        conn = await self._connection()
        try:
            caret = int(await get_property(conn, node.ref, TEXT, "CaretOffset"))
            count = int(await get_property(conn, node.ref, TEXT, "CharacterCount"))
            position = caret if 0 <= caret <= count else count
            # GTK 3 reads the length in bytes, Qt in characters (and caps it): bytes
            # are right for both.
            (done,) = await call(conn, node.ref, EDITABLE_TEXT, "InsertText", "isi",
                                 [position, text, len(text.encode())])
            if done:
                await call(conn, node.ref, TEXT, "SetCaretOffset", "i",
                           [position + len(text)])
        except CallFailed as exc:
            raise AgentError(f"the app did not take the text: {exc}") from None
        if not done:
            raise AgentError(f"the app refused the text in “{node.name or node.role}”")
        return _widget(node, screen)

    # -- plumbing ------------------------------------------------------------------------

    async def _connection(self) -> MessageBus:
        async with self._lock:
            if self._conn is not None and self._conn.connected:
                return self._conn
            if self._session is None:
                raise Unavailable("not connected to the session bus yet")
            try:
                reply = await asyncio.wait_for(self._session.call(Message(
                    destination=A11Y_BUS, path=A11Y_BUS_PATH, interface=A11Y_BUS,
                    member="GetAddress")), CONNECT_TIMEOUT_S)
            except TimeoutError:
                raise Unavailable(f"{A11Y_BUS} did not answer in {CONNECT_TIMEOUT_S:.0f} s"
                                  ) from None
            if reply is None or reply.message_type is MessageType.ERROR or not reply.body:
                raise Unavailable(
                    f"no accessibility bus: {A11Y_BUS} is not on the session bus "
                    f"({reply.error_name if reply else 'no reply'}); at-spi-bus-launcher "
                    "(Debian: at-spi2-core) provides it")
            self._address = str(reply.body[0])
            try:
                self._conn = await asyncio.wait_for(
                    MessageBus(bus_address=self._address).connect(), CONNECT_TIMEOUT_S)
            except (OSError, AuthError, ValueError, TimeoutError) as exc:
                raise Unavailable(f"cannot connect to the accessibility bus "
                                  f"{self._address}: {exc or 'timed out'}") from None
            return self._conn

    async def _app_refs(self) -> list[tuple[str, str]]:
        conn = await self._connection()
        try:
            (children,) = await call(conn, REGISTRY, ACCESSIBLE, "GetChildren")
        except CallFailed as exc:
            raise Unavailable(f"the AT-SPI registry (at-spi2-registryd) does not answer: "
                              f"{exc}") from None
        return [(str(b), str(p)) for b, p in list(children)[:MAX_APPS]]

    async def _read(self) -> _Screen:
        refs = await self._app_refs()
        conn = await self._connection()
        apps = await asyncio.gather(*(read_app(conn, ref) for ref in refs))
        answering = [a for a in apps if not a.root.error]
        for app in apps:
            if app.root.error:
                log.info("accessibility: app %s skipped: %s", app.root.ref[0], app.root.error)
            elif app.truncated:
                log.info("accessibility: %s read partly (%d objects)", app.name, app.nodes)
        for app in answering:
            for window in _windows(app):
                if window.has(STATE_ACTIVE):
                    return _Screen(answering, window, app, True)
        candidates = [a for a in answering if _windows(a)]
        apps_first = [a for a in candidates if a.name.casefold() not in SHELL_APPS]
        chosen = (apps_first or candidates)[-1] if candidates else None
        return _Screen(answering, _windows(chosen)[0] if chosen else None, chosen, False)


def _windows(app: AppTree | None) -> list[Node]:
    if app is None:
        return []
    return [w for w in app.root.children if w.showing and w.role in WINDOW_ROLES]


def _lines(window: Node) -> tuple[list[str], bool]:
    """Visible names and texts in tree order; consecutive repeats dropped."""
    lines: list[str] = []
    used = 0
    for node in window.walk()[1:]:
        if not node.showing:
            continue
        if node.editable:
            line = f"{node.name or 'text field'} ({node.role}): {node.text}"
        elif node.name and node.role not in PLAIN_ROLES:
            line = f"{node.name} ({node.role})"
        else:
            line = node.name or node.text.strip()
        if not line or (lines and lines[-1] == line):
            continue
        if used + len(line) > MAX_SCREEN_CHARS:
            return lines, True
        lines.append(line)
        used += len(line)
    return lines, False


def _showing(screen: _Screen) -> list[tuple[AppTree, Node]]:
    """Showing objects, the looked-at window's first."""
    order = ([screen.app] if screen.app else []) + [a for a in screen.apps
                                                    if a is not screen.app]
    out: list[tuple[AppTree, Node]] = []
    for app in order:
        windows = _windows(app)
        if app is screen.app and screen.window in windows:
            windows.remove(screen.window)
            windows.insert(0, screen.window)
        for window in windows:
            out.extend((app, n) for n in window.walk() if n.showing)
    return out


def _find(screen: _Screen, target: str) -> Node:
    wanted = normalise(target)
    if not wanted:
        raise NotFound("no widget name given")
    showing = _showing(screen)
    matches = [n for _, n in showing if normalise(n.name) == wanted]
    if not matches:
        *rest, last = wanted.split(" ")
        roles = ROLE_WORDS.get(last.removesuffix("s"))
        if roles and rest:
            matches = [n for _, n in showing
                       if normalise(n.name) == " ".join(rest) and n.role in roles]
    for node in matches:
        actionable = _actionable(node)
        if actionable is not None:
            return actionable
    if matches:
        node = matches[0]
        raise AgentError(f"“{node.name}” ({node.role}) is on screen but cannot be "
                         "activated; tap it by its coordinates instead")
    names = {normalise(n.name): n.name for _, n in reversed(showing) if n.name}
    close = [names[c] for c in difflib.get_close_matches(wanted, names, n=5, cutoff=0.5)]
    if not close:
        close = [n.name for _, n in showing if n.name and n.actionable][:8]
        hint = f"; what can be tapped: {', '.join(close)}" if close else ""
    else:
        hint = f"; close names: {', '.join(close)}"
    raise NotFound(f"no widget named “{target}” is on screen{hint}")


def _actionable(node: Node) -> Node | None:
    """The node, or the nearest of two ancestors (a label in a button) with an action."""
    for _ in range(3):
        if node.actionable:
            return node
        if node.parent is None:
            return None
        node = node.parent
    return None


def _text_field(screen: _Screen) -> Node:
    fields = [n for _, n in _showing(screen) if n.editable]
    focused = [n for n in fields if n.has(STATE_FOCUSED)]
    if focused:
        return focused[0]
    if screen.window is not None:
        mine = [n for n in screen.window.walk() if n.showing and n.editable]
        if len(mine) == 1 and not any(n.has(STATE_FOCUSED) for n in screen.window.walk()):
            return mine[0]  # nothing has the focus, and there is one field: that one
    names = ", ".join(n.name or n.role for n in fields[:8])
    raise NotFound("no text field has the focus; tap one first"
                   + (f" (fields on screen: {names})" if names else ""))


def _widget(node: Node, screen: _Screen, actions: tuple[str, ...] = ()) -> Widget:
    app = next((a.name for a, n in _showing(screen) if n is node), "")
    return Widget(app=app, name=node.name, role=node.role, text=node.text, actions=actions,
                  editable=node.editable, focused=node.has(STATE_FOCUSED))
