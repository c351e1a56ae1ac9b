"""agentctl: ask agentd for things and look after its tasks, over D-Bus."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import sys
import textwrap
from collections.abc import Callable
from typing import Any

from agentd import __version__
from agentd.bus.names import AGENT_IFACE, AGENT_PATH, TASK_IFACE, task_path
from agentd.bus.variants import from_variant
from agentd.cli import model as model_cli
from agentd.cli.client import AgentClient, ClientError
from agentd.config import load_settings
from agentd.errors import AgentError
from agentd.events import (
    ModelLoaded,
    ModelLoading,
    Planned,
    ProgressEvent,
    Question,
    StepChanged,
    TaskView,
    Thinking,
    UnderstandingStarted,
    decode,
)
from agentd.model.store import ModelStore

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_NO_DAEMON = 0, 1, 2, 3
SAFETY_POLL_S = 5.0

DESCRIPTION = """\
Ask agentd, the on-device agent, to do things, and look after its tasks.

agentd understands requests such as "set a timer for ten minutes", "turn off wifi
and turn on bluetooth" or "what time is it". Steps that send data off the phone
(SMS, calls), act on the screen (taps, typing, keys) or cannot be undone wait for
your confirmation: agentctl asks y/N at the terminal, or you answer later with
`agentctl confirm ID` / `agentctl deny ID` in a terminal, or on agentd's
notification. When a name fits several contacts, agentd asks which one (`agentctl
choose ID N`) and never guesses. No other program can say yes for you.
"""

SUMMARY = "ask agentd, the on-device agent, to do things, and look after its tasks"

EPILOG = """\
examples:
  agentctl ask what time is it
  agentctl ask --dry-run --json "turn off wifi, then turn on bluetooth"
  agentctl ask --dry-run --json --batch requests.txt
  agentctl ask --audio request.wav --speak
  agentctl listen
  agentctl tasks
  agentctl confirm 12
  agentctl grants revoke sms.send
  agentctl log --verify
  agentctl doctor
  agentctl model install ~/Downloads/qwen2.5-1.5b-instruct-q4_k_m.gguf --use

exit status: 0 done, 1 the task failed, was cancelled or denied, 2 usage or bad
request, 3 agentd is not reachable.
"""


def _emit(obj: Any) -> None:
    print(json.dumps(obj, ensure_ascii=False), flush=True)


def _note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _task_json(path: str, props: dict[str, Any]) -> dict[str, Any]:
    return TaskView.from_properties(path, props).to_json()


def _parse_task_id(text: str) -> str:
    if text.startswith("/"):
        return text
    if not text.isdigit():
        raise ClientError(f"{text!r} is not a task id; `agentctl tasks` lists them", "usage")
    return task_path(int(text))


# -- ask -------------------------------------------------------------------------------


async def _prompt(question: str, choices: dict[str, str]) -> str:
    """Ask on the terminal without blocking the event loop (signals keep flowing).

    ``choices`` maps answers ("y", "a") to results; anything else is "" (no).
    """
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[str] = loop.create_future()
    print(question, end=" ", file=sys.stderr, flush=True)

    def on_input() -> None:
        if not answer.done():
            answer.set_result(sys.stdin.readline())

    loop.add_reader(sys.stdin.fileno(), on_input)
    try:
        return choices.get((await answer).strip().lower(), "")
    finally:
        loop.remove_reader(sys.stdin.fileno())


async def _follow(client: AgentClient, path: str, quiet: bool) -> dict[str, Any]:
    """Show a task's progress until it finishes; answer confirmations at the terminal.

    The signals were subscribed to before asking, so every one of them arrives here;
    a slow poll of the task's state is only a safety net.
    """
    task_id = path.rsplit("/", 1)[-1]
    prompt: asyncio.Task[str] | None = None
    while True:
        getter = asyncio.ensure_future(client.next_signal(path))
        waiting = {getter} | ({prompt} if prompt else set())
        done, _ = await asyncio.wait(waiting, timeout=SAFETY_POLL_S,
                                     return_when=asyncio.FIRST_COMPLETED)
        if getter not in done:
            getter.cancel()
        if not done:
            if TaskView.from_properties(path, await client.task(path)).finished:
                break
            continue
        if prompt in done:
            member = prompt.result() or "Deny"
            prompt = None
            try:
                if member.startswith("Choose "):  # "Choose 2": the second choice
                    await client.call(path, TASK_IFACE, "Choose", "u",
                                      [int(member.split()[1]) - 1])
                else:
                    await client.call(path, TASK_IFACE, member)
            except ClientError as exc:
                _note(f"agentctl: {exc}")
        if getter not in done:
            continue
        msg = getter.result()
        body = from_variant(msg.body)
        if msg.member == "Progress" and not quiet:
            _show_progress(decode(body[0], body[1]))
        elif msg.member == "ConfirmationRequested":
            question, detail = body[0], Question.from_wire(body[1])
            if detail.choices:
                prompt = _which(task_id, question, detail)
                continue
            choices = {"y": "Confirm", "yes": "Confirm"}
            if detail.can_grant:
                choices["a"] = "AllowAlways"
            if sys.stdin.isatty():
                keys = "y/N/a (always)" if "a" in choices else "y/N"
                first, *notes = question.split("\n")  # the step, then why and what "a" does
                for note in notes:
                    _note(note)
                prompt = asyncio.ensure_future(_prompt(f"Allow: {first} [{keys}]", choices))
            else:
                _note(f"Needs your confirmation: {question}\n  agentctl confirm {task_id}   "
                      f"or   agentctl deny {task_id}")
        elif msg.member == "Finished":
            break
    if prompt:
        prompt.cancel()
        _note("")
    return await client.task(path)


def _which(task_id: str, question: str, detail: Question) -> asyncio.Task[str] | None:
    """A "which one?" question: its numbered choices, answered with a number (or no)."""
    first, *notes = question.split("\n")  # the step, its numbered choices, why it asks
    for note in notes:
        _note(f"  {note}" if note[:1].isdigit() else note)
    count = len(detail.choices)
    if not sys.stdin.isatty():
        _note(f"Needs your choice: agentctl choose {task_id} N   (1 to {count})   or   "
              f"agentctl deny {task_id}")
        return None
    answers = {str(n): f"Choose {n}" for n in range(1, count + 1)}
    return asyncio.ensure_future(_prompt(f"Which one: {first} [1-{count}/N]", answers))


def _show_progress(event: ProgressEvent | None) -> None:
    match event:
        case Planned(tier=tier, steps=steps):
            _note(f"… {steps} step(s) planned ({tier})")
        case StepChanged(state="running", summary=summary, tool=tool):
            _note(f"→ {summary or tool}")
        case UnderstandingStarted():
            _note("… understanding")
        case ModelLoading(model=model, bytes=size):
            _note(f"… loading the model {model} ({size // 2**20} MB)")
        case ModelLoaded(seconds=seconds):
            _note(f"… model loaded in {seconds:.1f} s")
        case Thinking(prompt_tokens=int(prompt_tokens), tools=tools):
            _note(f"… thinking ({prompt_tokens} prompt tokens, "
                  f"{'?' if tools is None else tools} tools offered)")


async def _ask_one(client: AgentClient, text: str, options: dict[str, Any],
                   args: argparse.Namespace) -> tuple[int, dict[str, Any]]:
    try:
        path = await client.ask(text, options)
    except ClientError as exc:
        if exc.not_running:
            raise
        return EXIT_USAGE, {"request": text, "state": "rejected", "steps": [],
                            "reply": str(exc), "error": {"name": exc.name, "message": str(exc)}}
    props = await _follow(client, path, quiet=args.json or args.batch is not None)
    result = _task_json(path, props)
    return (EXIT_OK if result["state"] == "done" else EXIT_FAILED), result


async def _ask_spoken(client: AgentClient, fd: int, options: dict[str, Any],
                      args: argparse.Namespace) -> int:
    """AskAudio with ``fd``, then follow the task as ask does; the request is what was heard."""
    from agentd.voice import cli as voice_cli

    try:
        path = await voice_cli.ask_audio(client, fd, options)
    finally:
        os.close(fd)
    if not args.json:
        _note(f"heard: {(await client.task(path)).get('Request', '')}")
    result = _task_json(path, await _follow(client, path, quiet=args.json))
    await _report(result, args)
    return EXIT_OK if result["state"] == "done" else EXIT_FAILED


async def _report(result: dict[str, Any], args: argparse.Namespace) -> None:
    """The task as JSON, or its reply (said aloud too with --speak)."""
    if args.json:
        _emit(result)
    else:
        print(result["reply"])
    if args.speak:
        from agentd.voice.speech import speak

        await speak(result["reply"])


async def cmd_listen(client: AgentClient, args: argparse.Namespace) -> int:
    from agentd.voice import cli as voice_cli

    wav, reason = await asyncio.to_thread(
        voice_cli.listen, args.input, args.recorder, args.vad, args.max_seconds,
        args.end_silence, not args.json)
    if not args.json:
        _note(f"… recorded ({reason})")
    await client.watch_tasks()
    options = {"dry_run": True} if args.dry_run else {}
    return await _ask_spoken(client, voice_cli.memory_fd(wav), options, args)


async def cmd_ask(client: AgentClient, args: argparse.Namespace) -> int:
    options = {"dry_run": True} if args.dry_run else {}
    await client.watch_tasks()
    if args.audio:
        from agentd.voice.cli import open_audio

        return await _ask_spoken(client, open_audio(args.audio), options, args)
    if args.batch is not None:
        options["batch"] = True  # unattended: no grant may act for it
        worst = EXIT_OK
        with open(args.batch, encoding="utf-8") if args.batch != "-" else sys.stdin as lines:
            for line in lines:
                text = line.strip()
                if not text or text.startswith("#"):
                    continue
                status, result = await _ask_one(client, text, options, args)
                worst = max(worst, status)
                if args.json:
                    _emit(result)
                else:
                    plan = ", ".join(f"{s['tool']}({json.dumps(s['args'])})"
                                     for s in result["steps"]) or "-"
                    print(f"{text}\n  → {plan}\n  {result['reply']}")
        return worst
    text = " ".join(args.text)
    if not text.strip():
        raise ClientError("say what to ask, e.g. agentctl ask what time is it", "usage")
    status, result = await _ask_one(client, text, options, args)
    await _report(result, args)
    return status


# -- tasks and the rest ------------------------------------------------------------------


def _when(timestamp: float | None) -> str:
    if not timestamp:
        return ""
    when = dt.datetime.fromtimestamp(timestamp)
    fmt = "%H:%M:%S" if when.date() == dt.date.today() else "%Y-%m-%d %H:%M"
    return when.strftime(fmt)


def _listing(args: argparse.Namespace, entries: list[dict[str, Any]], empty: str,
             row: Callable[[dict[str, Any]], str]) -> int:
    """A list command's output: JSON for scripts, else one line per entry (or ``empty``)."""
    if args.json:
        _emit(entries)
        return EXIT_OK
    if not entries:
        print(empty)
    for entry in entries:
        print(row(entry))
    return EXIT_OK


async def cmd_tasks(client: AgentClient, args: argparse.Namespace) -> int:
    (paths,) = await client.call(AGENT_PATH, AGENT_IFACE, "ListTasks")
    tasks = [_task_json(p, await client.task(p)) for p in paths[-args.limit:]]
    return _listing(args, tasks, "No tasks yet. Try: agentctl ask what time is it",
                    lambda t: f"{t['id']:>5}  {_when(t['created']):<16} {t['state']:<21} "
                              f"{textwrap.shorten(t['request'], 50)}")


async def cmd_task(client: AgentClient, args: argparse.Namespace) -> int:
    path = _parse_task_id(args.id)
    task = TaskView.from_properties(path, await client.task(path))
    if args.json:
        _emit(task.to_json())
        return EXIT_OK
    print(f"task {task.id}  {task.state}  ({_when(task.created)}, tier: {task.tier or '-'})")
    print(f"  request: {task.request}")
    caller = task.caller
    print(f"  caller:  {caller.get('exe') or caller.get('bus_name')} (uid {caller.get('uid')}, "
          f"pid {caller.get('pid')})")
    for step in task.steps:
        print(f"  {step['index'] + 1}. [{step['state']}] {step['summary']}  ({step['risk']})")
        if step.get("result"):
            print(f"       {step['result']}")
        if step.get("error"):
            print(f"       error: {step['error']}")
    print(f"  reply:   {task.reply}")
    return EXIT_OK


async def cmd_answer(client: AgentClient, args: argparse.Namespace) -> int:
    member = {"confirm": "Confirm", "deny": "Deny", "cancel": "Cancel",
              "choose": "Choose"}[args.command]
    if getattr(args, "always", False):
        member = "AllowAlways"
    if member == "Choose":
        if args.choice < 1:
            raise ClientError(f"choices are numbered from 1, not {args.choice}", "usage")
        await client.call(_parse_task_id(args.id), TASK_IFACE, member, "u", [args.choice - 1])
    else:
        await client.call(_parse_task_id(args.id), TASK_IFACE, member)
    if not args.json:
        print({"Confirm": "Confirmed.", "AllowAlways": "Confirmed, and allowed from now on.",
               "Deny": "Denied.", "Cancel": "Cancelled.",
               "Choose": f"Chose {getattr(args, 'choice', 0)}."}[member])
    return EXIT_OK


async def cmd_tools(client: AgentClient, args: argparse.Namespace) -> int:
    (tools,) = await client.call(AGENT_PATH, AGENT_IFACE, "ListTools")
    entries = from_variant(tools)
    for entry in entries:
        entry["schema"] = json.loads(entry["schema"])
    return _listing(args, entries, "No tools.",
                    lambda e: f"{e['name']:<22} {e['risk']:<9} "
                              f"{e.get('backend') or '-':<16} {e['description']}" + (
                        "" if e["available"] else f"  [needs {e['capability']} adapter]"))


async def cmd_status(client: AgentClient, args: argparse.Namespace) -> int:
    props = await client.agent()
    if args.json:
        _emit(props)
    else:
        print(f"agentd {props['Version']}: {props['State']}, {props['ActiveTasks']} active "
              f"task(s), model: {props['Model'] or 'none (templates only)'}")
    return EXIT_OK


async def cmd_grants(client: AgentClient, args: argparse.Namespace) -> int:
    if args.action == "revoke":
        if not args.tool:
            raise ClientError("say which tool: agentctl grants revoke TOOL [--program PATH]",
                              "usage")
        (removed,) = await client.call(AGENT_PATH, AGENT_IFACE, "RevokeGrant", "ss",
                                       [args.tool, args.program])
        if not args.json:
            print(f"Revoked {removed} grant(s) for {args.tool}.")
        return EXIT_OK
    (grants,) = await client.call(AGENT_PATH, AGENT_IFACE, "ListGrants")
    return _listing(args, from_variant(grants),
                    "No grants: every external step asks. Answer 'a' (always) at a prompt "
                    "to add one.",
                    lambda g: f"{g['tool']:<16} {_when(g['created']):<16} {g['caller_exe']}")


async def cmd_log(client: AgentClient, args: argparse.Namespace) -> int:
    if args.verify:
        intact, message, count = await client.call(AGENT_PATH, AGENT_IFACE, "VerifyLog")
        if args.json:
            _emit({"intact": intact, "message": message, "records": count})
        else:
            print(f"audit log {'intact' if intact else 'DAMAGED'}: {count} record(s) "
                  f"checked; {message}")
        return EXIT_OK if intact else EXIT_FAILED
    (entries,) = await client.call(AGENT_PATH, AGENT_IFACE, "ReadLog", "du",
                                   [args.since, args.limit])
    records = from_variant(entries)
    for record in records:
        for key in ("args", "caller"):
            if key in record:
                record[key] = json.loads(record[key])
    if args.json:
        _emit(records)
        return EXIT_OK
    for r in records:
        consent = f", {r['consent']}" if r.get("consent") else ""
        print(f"{r['seq']:>5} {_when(r['time']):<16} task {r.get('task', '?'):<5} "
              f"[{r.get('outcome')}{consent}] {r.get('summary') or r.get('tool')}")
    return EXIT_OK


async def cmd_doctor(client: AgentClient, args: argparse.Namespace) -> int:
    (rows,) = await client.call(AGENT_PATH, AGENT_IFACE, "Diagnose")
    entries = from_variant(rows)
    if args.json:
        _emit(entries)
        return EXIT_OK
    print(f"{'CAPABILITY':<15} {'BACKEND':<15} {'AVAILABLE':<10} WHY")
    for e in entries:
        mark = "yes" if e["available"] else "no"
        if e.get("selected"):
            mark += " *"
        print(f"{e['capability']:<15} {e['backend'] or '-':<15} {mark:<10} {e['reason']}")
    print("(* = the backend in use)")
    return EXIT_OK


COMMANDS = {"ask": cmd_ask, "tasks": cmd_tasks, "task": cmd_task, "confirm": cmd_answer,
            "choose": cmd_answer, "deny": cmd_answer, "cancel": cmd_answer, "tools": cmd_tools,
            "status": cmd_status,
            "grants": cmd_grants, "log": cmd_log, "listen": cmd_listen, "doctor": cmd_doctor}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="agentctl", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"agentctl {__version__}")
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    ask = sub.add_parser("ask", help="ask agentd to do something",
                         description="Send a request, show progress, print the reply.")
    ask.add_argument("text", nargs="*", help="the request, e.g. set a timer for 5 minutes")
    ask.add_argument("--dry-run", action="store_true", help="print the plan, run nothing")
    ask.add_argument("--batch", metavar="FILE",
                     help="read one request per line from FILE (- for stdin)")
    ask.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                     help="print the task as JSON (one object per line with --batch)")
    ask.add_argument("--audio", metavar="FILE.wav",
                     help="send a recording (WAV; - for stdin) instead of text")
    ask.add_argument("--speak", action="store_true", help="also say the reply (espeak-ng)")
    listen = sub.add_parser(
        "listen", help="say a request: record until you stop talking, then ask",
        description="Record from the microphone (PipeWire, PulseAudio or ALSA), stop at "
        "silence (voice-activity detection), show the level as it goes, send the recording "
        "to agentd (AskAudio) and print what it heard and its reply.")
    listen.add_argument("--input", metavar="FILE.wav",
                        help="replay a WAV file instead of the microphone")
    listen.add_argument("--recorder", default="auto",
                        choices=("auto", "pipewire", "pulseaudio", "alsa"))
    listen.add_argument("--vad", default="auto", choices=("auto", "webrtc", "energy"))
    listen.add_argument("--max-seconds", type=float, default=15.0,
                        help="stop recording after this long (default 15)")
    listen.add_argument("--end-silence", type=float, default=0.8,
                        help="seconds of silence that end the request (default 0.8)")
    listen.add_argument("--dry-run", action="store_true", help="print the plan, run nothing")
    listen.add_argument("--speak", action="store_true", help="also say the reply (espeak-ng)")
    tasks = sub.add_parser("tasks", help="list recent tasks")
    tasks.add_argument("--limit", type=int, default=50, help="show at most N (default 50)")
    for name, text in (("task", "show one task and its steps"),
                       ("confirm", "allow the step a task is waiting on"),
                       ("choose", "answer a task's “which one?” question"),
                       ("deny", "refuse the step a task is waiting on"),
                       ("cancel", "cancel an unfinished task")):
        cmd = sub.add_parser(name, help=text, description=text)
        cmd.add_argument("id", help="task id (from `agentctl tasks`) or object path")
        if name == "choose":
            cmd.description = (f"{text}: when a request names something several things "
                               "match (two contacts called Sam), agentd asks which one and "
                               "never guesses. The choice is your yes to that one, so only "
                               "you can make it: agentctl in a terminal, or the "
                               "notification.")
            cmd.add_argument("choice", type=int, help="the number of the choice (from 1)")
        if name == "confirm":
            cmd.description = (f"{text}. Only the user can allow a step: agentd takes it "
                               "from agentctl run in a terminal, or from its notification.")
            cmd.add_argument("--always", action="store_true",
                             help="also let the program that asked run this tool from now on "
                                  "without asking (external tools only; see `agentctl "
                                  "grants`)")
    grants = sub.add_parser("grants", help="list or revoke 'always allow' grants",
                            description="Grants let one program run one external tool "
                            "without asking (never after untrusted content was read). "
                            "They are made by answering 'a' (always) at a prompt.")
    grants.add_argument("action", nargs="?", choices=("list", "revoke"), default="list")
    grants.add_argument("tool", nargs="?", help="the tool, for revoke (e.g. sms.send)")
    grants.add_argument("--program", default="",
                        help="revoke only this program's grant (default: all programs)")
    log = sub.add_parser("log", help="show the audit log of every step agentd ran",
                         description="Every executed or refused step: who asked, what ran, "
                         "arguments, outcome, consent. Each record carries the hash of the "
                         "one before; --verify detects edits and deletions.")
    log.add_argument("--verify", action="store_true", help="check the hash chain")
    log.add_argument("--since", type=float, default=0.0, help="UNIX time to start from")
    log.add_argument("--limit", type=int, default=100, help="newest N records (default 100)")
    model_cli.register(sub)
    sub.add_parser("tools", help="list the tools agentd offers and their risk")
    sub.add_parser("status", help="show whether agentd runs, its version and model")
    sub.add_parser("doctor", help="show which system backends work here, and why not",
                   description="For every capability (files, apps, telephony, ...): its "
                   "backends, whether each is available on this machine, why not, and "
                   "which one agentd uses.")
    for cmd in sub.choices.values():
        if cmd.prog.split()[-1] != "ask":
            cmd.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                             help="print JSON for scripts")
    return parser


async def _main(args: argparse.Namespace) -> int:
    if args.command == "listen" or getattr(args, "audio", None):
        from agentd.voice.cli import connect  # passes file descriptors

        client = await connect()
    else:
        client = await AgentClient.connect()
    try:
        return await COMMANDS[args.command](client, args)
    finally:
        client.close()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "model":  # works on the model store directly: no daemon needed
        try:
            store = ModelStore(load_settings().models_dir)
        except AgentError as exc:
            print(f"agentctl: {exc.message}", file=sys.stderr)
            return EXIT_USAGE
        return model_cli.run(args, store)
    if args.command == "ask" and args.batch is None and not args.text and not args.audio:
        build_parser().error("ask needs a request (or --batch FILE, or --audio FILE.wav)")
    try:
        return asyncio.run(_main(args))
    except ClientError as exc:
        print(f"agentctl: {exc}", file=sys.stderr)
        if exc.not_running:
            return EXIT_NO_DAEMON
        usage = exc.name == "usage" or exc.name.startswith("io.agentd.Error.Invalid")
        return EXIT_USAGE if usage else EXIT_FAILED
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
