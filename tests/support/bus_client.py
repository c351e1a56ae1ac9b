"""A plain D-Bus client for the attack tests: not agentctl, not the notification server.

Usage: bus_client.py ADDRESS COMMAND [ARG...]; prints one JSON object and exits.

  ask-and-confirm TEXT    Ask, wait for the question, then Confirm (or AllowAlways) it
  answer PATH MEMBER      call Task1.MEMBER on someone else's task
  call MEMBER [SIG ARGS]  call an Agent1 method (ARGS as JSON list)
  get PATH                read a task's properties
  grant-always TEXT       Ask, then AllowAlways on its own question

The same script runs inside a bubblewrap sandbox (as a Flatpak app) and as a spoofed
``python3 '-c…' agentctl`` process.
"""

import asyncio
import json
import sys
from typing import Any

from dbus_fast import Message, MessageType
from dbus_fast.aio import MessageBus

AGENT, PATH, IFACE, TASK = "io.agentd.Agent1", "/io/agentd/Agent1", "io.agentd.Agent1", \
    "io.agentd.Task1"


def _result(reply: Message | None) -> dict[str, Any]:
    assert reply is not None
    if reply.message_type is MessageType.ERROR:
        return {"error": reply.error_name, "message": reply.body[0] if reply.body else ""}
    return {"error": "", "body": json.loads(json.dumps(reply.body, default=repr))}


async def main(address: str, command: str, *args: str) -> dict[str, Any]:
    bus = await MessageBus(bus_address=address).connect()
    questions: asyncio.Queue[Message] = asyncio.Queue()

    def on_message(msg: Message) -> None:
        if msg.message_type is MessageType.SIGNAL and msg.member == "ConfirmationRequested":
            questions.put_nowait(msg)

    bus.add_message_handler(on_message)
    if command in ("ask-and-confirm", "grant-always"):
        reply = await bus.call(Message(destination=AGENT, path=PATH, interface=IFACE,
                                       member="Ask", signature="sa{sv}", body=[args[0], {}]))
        asked = _result(reply)
        if asked["error"]:
            return {"ask": asked}
        task = asked["body"][0]
        question = await asyncio.wait_for(questions.get(), 20)
        member = "AllowAlways" if command == "grant-always" else "Confirm"
        answer = _result(await bus.call(Message(destination=AGENT, path=question.path,
                                                interface=TASK, member=member)))
        return {"task": task, "question": question.body[0], "answer": answer}
    if command == "answer":
        return _result(await bus.call(Message(destination=AGENT, path=args[0], interface=TASK,
                                              member=args[1])))
    if command == "call":
        signature = args[1] if len(args) > 1 else ""
        body = json.loads(args[2]) if len(args) > 2 else []
        return _result(await bus.call(Message(destination=AGENT, path=PATH, interface=IFACE,
                                              member=args[0], signature=signature, body=body)))
    if command == "get":
        return _result(await bus.call(Message(
            destination=AGENT, path=args[0], interface="org.freedesktop.DBus.Properties",
            member="GetAll", signature="s", body=[TASK])))
    raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(*sys.argv[1:]))), flush=True)
