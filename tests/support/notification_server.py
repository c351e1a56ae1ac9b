"""A minimal org.freedesktop.Notifications server for the tests, speaking the real protocol.

Usage: notification_server.py LOG ANSWER — records every Notify/CloseNotification call
as a JSON line in LOG; for a notification with actions, acts like a user who, after a
moment, picks ANSWER ("allow", "deny", "always") or closes it ("close") or does nothing
("none"). With "on-signal", it presses Allow on the oldest open question each time it
gets SIGUSR1 (the test decides when the user taps).
"""

import asyncio
import json
import signal
import sys
from typing import Annotated

from dbus_fast.aio import MessageBus
from dbus_fast.annotations import DBusDict, DBusInt32, DBusSignature, DBusStr, DBusUInt32
from dbus_fast.service import ServiceInterface, dbus_method, dbus_signal

NAME = "org.freedesktop.Notifications"


class Server(ServiceInterface):
    def __init__(self, log: str, answer: str) -> None:
        super().__init__(NAME)
        self.log, self.answer, self.next_id = log, answer, 0
        self.open: set[int] = set()

    def _record(self, **entry: object) -> None:
        with open(self.log, "a") as f:
            f.write(json.dumps(entry) + "\n")

    @dbus_method(name="Notify")
    def notify(self, app: DBusStr, replaces: DBusUInt32, icon: DBusStr, summary: DBusStr,
               body: DBusStr, actions: Annotated[list[str], DBusSignature("as")],
               hints: DBusDict, timeout: DBusInt32) -> DBusUInt32:
        self.next_id += 1
        nid = self.next_id
        self._record(call="Notify", id=nid, app=app, summary=summary, body=body,
                     actions=actions, urgency=hints["urgency"].value if "urgency" in hints
                     else None)
        if actions:
            self.open.add(nid)
        if actions and self.answer not in ("none", "on-signal"):
            asyncio.get_running_loop().call_later(0.2, self._act, nid)
        return nid

    def press_allow(self) -> None:
        if self.open:
            nid = min(self.open)
            self._record(call="pressed", id=nid)
            self.action_invoked(nid, "allow")

    def _act(self, nid: int) -> None:
        if self.answer == "close":
            self.closed(nid, 2)
        else:
            self.action_invoked(nid, self.answer)

    @dbus_method(name="CloseNotification")
    def close(self, nid: DBusUInt32) -> None:
        self._record(call="CloseNotification", id=nid)
        self.open.discard(nid)
        self.closed(nid, 3)

    @dbus_method(name="GetCapabilities")
    def capabilities(self) -> Annotated[list[str], DBusSignature("as")]:
        return ["actions", "body"]

    @dbus_method(name="GetServerInformation")
    def info(self) -> Annotated[tuple[str, str, str, str], DBusSignature("ssss")]:
        return ("agentd-test-notifications", "agentd", "1", "1.2")

    @dbus_signal(name="ActionInvoked")
    def action_invoked(self, nid: int, key: str) -> Annotated[tuple[int, str],
                                                             DBusSignature("us")]:
        return (nid, key)

    @dbus_signal(name="NotificationClosed")
    def closed(self, nid: int, reason: int) -> Annotated[tuple[int, int], DBusSignature("uu")]:
        return (nid, reason)


async def main() -> None:
    bus = await MessageBus().connect()
    server = Server(sys.argv[1], sys.argv[2])
    bus.export("/org/freedesktop/Notifications", server)
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, server.press_allow)
    await bus.request_name(NAME)
    print("ready", flush=True)
    await bus.wait_for_disconnect()


if __name__ == "__main__":
    asyncio.run(main())
