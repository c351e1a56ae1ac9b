"""agent.history: what agentd did, read back from the journal."""

from __future__ import annotations

import datetime as dt
import re

from agentd.errors import InvalidArguments
from agentd.records import Caller
from agentd.tools.context import ToolContext
from agentd.tools.registry import ArgValue, ToolResult

MAX_ITEMS = 20


def parse_since(since: str, now: dt.datetime) -> dt.datetime:
    """"today", "yesterday", "HH:MM", "YYYY-MM-DD", "2h"/"3 hours"; default: last 24 h."""
    text = since.strip().casefold()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if not text:
        return now - dt.timedelta(days=1)
    if text in ("today", "this morning"):
        return midnight
    if text == "yesterday":
        return midnight - dt.timedelta(days=1)
    if m := re.fullmatch(r"(\d{1,2}):(\d{2})", text):
        return midnight.replace(hour=int(m[1]) % 24, minute=int(m[2]) % 60)
    if m := re.fullmatch(r"(\d+)\s*(h|hours?|m|min|minutes?|d|days?)", text):
        unit = {"h": "hours", "m": "minutes", "d": "days"}[m[2][0]]
        return now - dt.timedelta(**{unit: int(m[1])})
    try:
        return dt.datetime.fromisoformat(text).astimezone()
    except ValueError:
        raise InvalidArguments(f"agent.history: cannot read since={since!r}; use today, "
                               "yesterday, HH:MM, YYYY-MM-DD or a number of hours") from None


async def tell_history(ctx: ToolContext, args: dict[str, ArgValue]) -> ToolResult:
    """Answer from the audit log: every step that ran or was refused, in order."""
    now = dt.datetime.now().astimezone()
    since = parse_since(str(args.get("since", "")), now)
    caller = ctx.task.caller
    entries = [e for e in ctx.audit.entries(since.timestamp(), limit=10_000)
               if e.record.get("tool") != "agent.history"
               and (caller.agentctl or _same_caller(e.record.get("caller"), caller))]
    if not entries:
        return ToolResult("I haven't done anything in that time.",
                          {"steps": [], "provenance": ""})
    lines = []
    for entry in entries[-MAX_ITEMS:]:
        clock = dt.datetime.fromtimestamp(entry.time).astimezone().strftime("%H:%M")
        record = entry.record
        outcome = "" if record.get("outcome") == "done" else f" ({record.get('outcome')})"
        lines.append(f"{clock} {record.get('summary') or record.get('tool')}{outcome}")
    more = len(entries) - MAX_ITEMS
    text = f"{len(entries)} action(s): " + "; ".join(lines) + "."
    if more > 0:
        text += f" ({more} older not shown)"
    # What earlier tasks read is as untrusted here as it was there: the taint goes on.
    read = sorted({source for e in entries for source in e.record.get("taint") or []})
    provenance = "earlier tasks" + (f", which read {'; '.join(read)}" if read else "")
    return ToolResult(text, {"steps": [e.to_json() for e in entries],
                             "provenance": provenance})


def _same_caller(recorded: object, caller: Caller) -> bool:
    """A program sees its own history only: same verified program, or same connection."""
    if not isinstance(recorded, dict):
        return False
    if caller.program:
        return bool(recorded.get("program") == caller.program)
    return bool(caller.bus_name) and recorded.get("bus_name") == caller.bus_name
