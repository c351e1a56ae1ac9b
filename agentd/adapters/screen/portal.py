"""Backend "portal": ``org.freedesktop.portal.Screenshot`` of xdg-desktop-portal.

The portal answers a call with a Request object and later emits ``Response(u, a{sv})``
on it. The Request's path is known in advance
(``/org/freedesktop/portal/desktop/request/SENDER/TOKEN``), so agentd subscribes to it
before calling, as the spec asks. ``interactive=false``: no dialog. The result is a
``file://`` URI of a PNG the portal wrote (xdg-desktop-portal-wlr: grim to
``/tmp/out.png``); agentd reads it, deletes it and saves its own copy. xdg-desktop-portal
1.16 offers Screenshot only where some backend also implements ``Access`` (-gtk, -gnome,
-phosh): -wlr alone is not enough.
"""

from __future__ import annotations

import asyncio
import secrets
import urllib.parse
import urllib.request
from pathlib import Path

from dbus_fast import BusType, Message, MessageType, Variant
from dbus_fast.aio import MessageBus

from agentd.adapters.base import Availability
from agentd.adapters.dbuscalls import CHECK_TIMEOUT_S, DBUS, call, connect
from agentd.adapters.screen import CAPABILITY
from agentd.bus.names import PROPERTIES_IFACE
from agentd.errors import AgentError, Unavailable

PORTAL = "org.freedesktop.portal.Desktop"
PORTAL_PATH = "/org/freedesktop/portal/desktop"
SCREENSHOT = "org.freedesktop.portal.Screenshot"
REQUEST = "org.freedesktop.portal.Request"
CAPTURE_TIMEOUT_S = 30.0
RESPONSES = {1: "the user cancelled it", 2: "the portal failed"}


class PortalScreen:
    name = "portal"
    capability = CAPABILITY
    test = False

    async def availability(self) -> Availability:
        try:
            bus = await connect(BusType.SESSION)
        except Unavailable as exc:
            return Availability.no(str(exc))
        try:
            version = await call(bus, PORTAL, PORTAL_PATH, PROPERTIES_IFACE,
                                 "Get", "ss", [SCREENSHOT, "version"], timeout=CHECK_TIMEOUT_S)
        except AgentError as exc:
            return Availability.no(f"no xdg-desktop-portal Screenshot on the session bus "
                                   f"({exc}); Debian: xdg-desktop-portal and a backend "
                                   "(xdg-desktop-portal-wlr, -gnome, -phosh)")
        finally:
            bus.disconnect()
        return Availability.yes(f"xdg-desktop-portal Screenshot version {version[0].value}")

    def capture_png(self) -> bytes:
        """Called in a worker thread: a loop and a connection of its own."""
        return asyncio.run(self._capture())

    async def _capture(self) -> bytes:
        bus = await connect(BusType.SESSION)
        try:
            uri = await self._screenshot(bus)
        finally:
            bus.disconnect()
        parsed = urllib.parse.urlparse(uri)
        if parsed.scheme != "file":
            raise AgentError(f"the portal answered with {uri!r}, not a file")
        path = Path(urllib.request.url2pathname(parsed.path))
        try:
            png = path.read_bytes()
        except OSError as exc:
            raise AgentError(f"cannot read the portal's screenshot {path}: {exc}") from None
        path.unlink(missing_ok=True)  # handed over: agentd saves its own copy
        return png

    async def _screenshot(self, bus: MessageBus) -> str:
        token = f"agentd_{secrets.token_hex(8)}"
        sender = (bus.unique_name or "").lstrip(":").replace(".", "_")
        request = f"{PORTAL_PATH}/request/{sender}/{token}"
        response: asyncio.Future[tuple[int, dict[str, Variant]]] = \
            asyncio.get_running_loop().create_future()

        def on_message(msg: Message) -> None:
            if (msg.message_type is MessageType.SIGNAL and msg.path == request
                    and msg.member == "Response" and not response.done()):
                response.set_result((int(msg.body[0]), dict(msg.body[1])))

        bus.add_message_handler(on_message)
        await call(bus, *DBUS, "AddMatch", "s",
                   [f"type='signal',interface='{REQUEST}',member='Response',path='{request}'"],
                   timeout=CHECK_TIMEOUT_S)
        options = {"handle_token": Variant("s", token), "interactive": Variant("b", False),
                   "modal": Variant("b", False)}
        await call(bus, PORTAL, PORTAL_PATH, SCREENSHOT, "Screenshot", "sa{sv}",
                   ["", options], timeout=CAPTURE_TIMEOUT_S)
        try:
            code, results = await asyncio.wait_for(response, CAPTURE_TIMEOUT_S)
        except TimeoutError:
            raise AgentError(f"the portal sent no screenshot in {CAPTURE_TIMEOUT_S:.0f} s") \
                from None
        if code != 0:
            raise AgentError(f"no screenshot: {RESPONSES.get(code, f'response {code}')}")
        uri = results.get("uri")
        if uri is None:
            raise AgentError("the portal's response has no uri")
        return str(uri.value)
