"""sms.send and call.dial over the selected telephony backend."""

from __future__ import annotations

from agentd.adapters.base import AdapterRegistry
from agentd.adapters.telephony import TELEPHONY_CAPABILITY, Telephony, phone_number
from agentd.tools.context import ToolContext
from agentd.tools.registry import ArgValue, ToolRegistry, ToolResult


def install_telephony_tools(tools: ToolRegistry, adapters: AdapterRegistry) -> None:
    async def backend() -> Telephony:
        return await adapters.select(TELEPHONY_CAPABILITY)

    async def send_sms(ctx: ToolContext, args: dict[str, ArgValue]) -> ToolResult:
        telephony = await backend()  # first: "no modem" before "not a number"
        number = phone_number(str(args["to"]))
        sms = await telephony.send_sms(number, str(args["text"]))
        return ToolResult(f"Sent the text message to {number}.", {"sms": sms, "to": number})

    async def dial(ctx: ToolContext, args: dict[str, ArgValue]) -> ToolResult:
        telephony = await backend()
        number = phone_number(str(args["to"]))
        call = await telephony.dial(number)
        return ToolResult(f"Calling {number}.", {"call": call, "to": number})

    tools.implement("sms.send", send_sms)
    tools.implement("call.dial", dial)
