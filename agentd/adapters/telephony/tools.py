"""sms.send and call.dial over the selected telephony backend.

``to`` is a number or a contact's name. A name is resolved through the contacts before
the step is confirmed (its ``prepare``): the question and the audit log show the
contact and the number, and the handler uses exactly that number (``ctx.bound``). The
result's text names the contact only, so a number from the address book never reaches
a model's prompt. With no address book to read, the step is asked about as said and
then refused (after the modem check, as before contacts existed); a number nobody
confirmed is never dialled. A name several contacts share is a "which one?" question
(``Prepared.choices``): the user picks the contact, never agentd.
"""

from __future__ import annotations

from agentd.adapters.base import AdapterRegistry
from agentd.adapters.contacts import CONTACTS_CAPABILITY
from agentd.adapters.contacts.tools import resolve_recipients
from agentd.adapters.telephony import (
    TELEPHONY_CAPABILITY,
    Telephony,
    is_phone_number,
    phone_number,
)
from agentd.errors import Unavailable
from agentd.tools.context import ToolContext
from agentd.tools.registry import (
    ArgValue,
    Choice,
    Prepared,
    ToolPreparer,
    ToolRegistry,
    ToolResult,
)


def install_telephony_tools(tools: ToolRegistry, adapters: AdapterRegistry) -> None:
    async def backend() -> Telephony:
        return await adapters.select(TELEPHONY_CAPABILITY)

    async def recipient(ctx: ToolContext, args: dict[str, ArgValue]) -> tuple[str, str]:
        """The number to use (the one confirmed), and how the result names it."""
        if "to" in ctx.bound:
            return str(ctx.bound["to"]), str(ctx.bound["contact"])
        to = str(args["to"])
        if not is_phone_number(to):  # no address book could be read before the question
            _, reasons = await adapters.usable(CONTACTS_CAPABILITY)
            raise Unavailable(f"“{to}” is not a phone number, and no address book could be "
                              f"read to find it ({'; '.join(reasons)}); say the number")
        number = phone_number(to)
        return number, number

    async def send_sms(ctx: ToolContext, args: dict[str, ArgValue]) -> ToolResult:
        telephony = await backend()  # first: "no modem" before "not a number"
        number, who = await recipient(ctx, args)
        sms = await telephony.send_sms(number, str(args["text"]))
        return ToolResult(f"Sent the text message to {who}.", {"sms": sms, "to": number})

    async def dial(ctx: ToolContext, args: dict[str, ArgValue]) -> ToolResult:
        telephony = await backend()
        number, who = await recipient(ctx, args)
        call = await telephony.dial(number)
        return ToolResult(f"Calling {who}.", {"call": call, "to": number})

    def resolving(tool: str) -> ToolPreparer:
        spec = tools.spec(tool)

        async def prepare(args: dict[str, ArgValue]) -> Prepared | None:
            if is_phone_number(str(args["to"])):
                return None
            try:
                found = await resolve_recipients(adapters, str(args["to"]))
            except Unavailable:  # no address book here: asked as said, refused when run
                return None
            choices = tuple(
                Choice(f"{r.name} ({phone_number(r.number)})",
                       spec.describe({**args, "to": f"{r.name} ({phone_number(r.number)})"}),
                       {"to": phone_number(r.number), "contact": r.name}) for r in found)
            if len(choices) == 1:
                return Prepared(choices[0].summary, choices[0].bound)
            return Prepared(spec.describe({**args, "to": f"which “{args['to']}”"}),
                            choices=choices)

        return prepare

    tools.implement("sms.send", send_sms, prepare=resolving("sms.send"))
    tools.implement("call.dial", dial, prepare=resolving("call.dial"))
