"""agentd: the daemon. Owns io.agentd.Agent1 on the session bus.

Start-up order matters: open and recover the journal (unfinished tasks become
``interrupted``), export every object, and only then take the bus name, so a caller
activated by D-Bus never sees a half-exported daemon.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from dbus_fast import BusType, MessageType, RequestNameReply
from dbus_fast.aio import MessageBus
from dbus_fast.constants import NameFlag
from dbus_fast.errors import AuthError

from agentd import __version__
from agentd.adapters.wiring import build_adapters, install_adapter_tools
from agentd.bus import notifications
from agentd.bus.connection import tolerate_full_socket
from agentd.bus.names import BUS_NAME
from agentd.bus.service import AgentService
from agentd.config import Settings, load_settings
from agentd.errors import AgentError, InvalidRequest, Unavailable
from agentd.log import setup_logging
from agentd.policy import identity
from agentd.policy.consent import OwnInput, PolicyEngine
from agentd.policy.notify import NotificationConfirmations
from agentd.records import StepState, TaskRecord
from agentd.store.audit import AuditLog, StepAudit
from agentd.store.database import StorageError
from agentd.store.grants import GrantStore
from agentd.store.journal import Journal
from agentd.store.timers import TimerRecord, TimerStore
from agentd.tasks.retention import Retention
from agentd.tasks.runner import TaskRunner, Understanding
from agentd.tasks.steps import StepExecutor
from agentd.testing import load_test_backends
from agentd.tools.builtin import install_builtin_tools
from agentd.tools.builtin.scheduler import Scheduler
from agentd.tools.catalogue import CATALOGUE
from agentd.tools.registry import ToolRegistry
from agentd.understanding.planner import StepPlanner
from agentd.understanding.templates import TemplateTier
from agentd.voice.recognizer import backend as recognizer_backend
from agentd.voice.service import VoiceInput
from agentd.voice.speech import speak

log = logging.getLogger("agentd")


async def connect_session_bus() -> MessageBus:
    try:
        bus = await MessageBus(bus_type=BusType.SESSION, negotiate_unix_fd=True).connect()
        return tolerate_full_socket(bus)
    except (OSError, AuthError, ValueError) as exc:
        raise Unavailable(f"cannot connect to the D-Bus session bus ({exc}); run agentd in "
                          "a user session, or under `dbus-run-session`") from None


async def announce_timer(bus: MessageBus, service: AgentService, timer: TimerRecord,
                         late_s: float) -> None:
    """A D-Bus signal for programs, and a desktop notification where a server runs."""
    await service.timer_fired(timer, late_s)
    title = "Timer done" if timer.kind == "timer" else "Alarm"
    body = timer.label or ""
    if late_s >= 60:
        body = f"{body} (agentd was not running when it was due; {late_s / 60:.0f} min late)"
    reply = await bus.call(notifications.notify(title, body.strip(), icon="alarm-symbolic"))
    if reply is None or reply.message_type is MessageType.ERROR:
        detail = reply.error_name if reply else "no reply"
        log.info("no desktop notification for %s %d (%s)", timer.kind, timer.id, detail)


async def serve(settings: Settings, stop: asyncio.Event) -> None:
    try:
        identity.configure(settings.identity_source)
    except ValueError as exc:
        raise InvalidRequest(str(exc)) from None
    journal = Journal(settings.state_dir / "journal.sqlite3")
    try:
        audit = AuditLog(journal)
        interrupted = recover(journal, audit)
        registry = ToolRegistry(CATALOGUE)
        install_builtin_tools(registry)
        test_backends = load_test_backends() if settings.test_fixture else None
        fixture = Path(settings.test_fixture)
        adapters = build_adapters(registry, test_backends.backends(fixture)
                                  if test_backends is not None else (),
                                  calendar_default=settings.calendar_default,
                                  location_timeout_s=settings.location_timeout_s)
        install_adapter_tools(registry, adapters)
        if test_backends is not None:
            test_backends.install(registry, fixture)
        grants = GrantStore(journal, registry)
        retention = Retention(settings, journal, audit, registry)
        try:
            retention.run_once()
        except StorageError as exc:  # a full disk: serve anyway, retention tries again
            log.warning("retention could not run: %s", exc.message)
        planner = choose_planner(settings)
        tier = TemplateTier(registry, settings.language)
        understanding = Understanding(tier.understand, planner, settings.model_max_steps,
                                      heard=tier.understand_heard)
        bus = await connect_session_bus()
        await adapters.start(bus)
        scheduler = Scheduler(TimerStore(journal),
                              lambda t, late: announce_timer(bus, service, t, late))
        own_input = OwnInput()  # agentd's own taps and keys never count as the user's Allow
        channels = [NotificationConfirmations(bus, own_input)] \
            if settings.confirm_by_notification else []

        def make_runner(events: AgentService) -> TaskRunner:
            executor = StepExecutor(journal, registry, scheduler, PolicyEngine(grants, registry),
                                    audit, events, channels, settings.confirmation_timeout_s,
                                    own_input)
            return TaskRunner(settings, journal, registry, understanding, executor, events)

        voice, on_finished = voice_input(settings)
        service = AgentService(
            bus, journal, registry, grants, audit, adapters, make_runner,
            exported_limit=settings.exported_tasks,
            max_audio_reads=settings.max_audio_reads_per_caller,
            model_name=lambda: getattr(planner, "model_name", ""),
            state="ready (test backends)" if settings.test_fixture else "ready",
            voice=voice, on_finished=on_finished)
        runner = service.runner
        service.export()
        reply = await bus.request_name(BUS_NAME, NameFlag.DO_NOT_QUEUE)
        if reply not in (RequestNameReply.PRIMARY_OWNER, RequestNameReply.ALREADY_OWNER):
            raise Unavailable(f"another program already owns {BUS_NAME} on this bus "
                              "(is agentd running already? `agentctl status` tells)")
        scheduler.start()
        pruning = asyncio.create_task(retention.run(), name="retention")
        log.info("agentd %s ready on %s (journal %s, %d task(s) interrupted)", __version__,
                 BUS_NAME, journal.path, len(interrupted))
        disconnected = asyncio.ensure_future(bus.wait_for_disconnect())  # type: ignore[no-untyped-call]
        stopped = asyncio.ensure_future(stop.wait())
        await asyncio.wait({disconnected, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if disconnected.done():
            log.warning("lost the D-Bus connection (%r); exiting", disconnected.exception())
        else:
            disconnected.cancel()
        pruning.cancel()
        await runner.shutdown()
        if voice is not None:
            voice.close()
        await scheduler.stop()
        await adapters.stop()
        if planner is not None:
            planner.close()
        bus.disconnect()
    finally:
        journal.close()


def voice_input(settings: Settings) -> tuple[VoiceInput | None,
                                              list[Callable[[TaskRecord], None]]]:
    """AskAudio's recogniser (loaded on first use) and, if configured, the hook that says
    spoken requests' replies aloud."""
    if settings.voice_recognizer == "none":
        return None, []
    reason = recognizer_backend(settings).unavailable(settings)
    if reason is not None:
        log.info("AskAudio will fail until this is fixed: %s", reason)
    if not settings.voice_speak_replies:
        return VoiceInput(settings), []

    def say_reply(task: TaskRecord) -> None:
        if task.options.get("spoken") and task.reply:
            spoken = asyncio.ensure_future(speak(task.reply, settings.voice_tts_voice))
            _background.add(spoken)
            spoken.add_done_callback(_background.discard)
    return VoiceInput(settings), [say_reply]


_background: set[asyncio.Future[None]] = set()


def choose_planner(settings: Settings) -> StepPlanner | None:
    """Tier 2 as configured. Test planners only with the test backends, never silently."""
    if settings.planner == "none":
        return None
    if settings.planner == "model":
        from agentd.model.tier import model_tier  # imports llama.cpp only when configured

        return model_tier(settings, CATALOGUE)
    if settings.planner.startswith("test-"):
        if not settings.test_fixture:
            raise InvalidRequest(f"planner {settings.planner} is a test backend; it runs only "
                                 "with the test_fixture setting (agentd's own tests)")
        planners = load_test_backends().planners
        if settings.planner in planners:
            return planners[settings.planner]()
    raise InvalidRequest(f"unknown planner {settings.planner!r}; use model or none "
                         "(test planners: test-obedient)")


def recover(journal: Journal, audit: AuditLog) -> list[int]:
    """Mark unfinished tasks interrupted; audit every step that may have run."""
    interrupted = journal.recover()
    for task_id in interrupted:
        task = journal.load_task(task_id)
        if task is None:
            continue
        for step in task.steps:
            if step.state is StepState.UNKNOWN:
                audit.append(StepAudit(
                    task_id, step.index, step.tool, step.args, step.risk.value, step.summary,
                    outcome="unknown", result=step.error,
                    consent="confirmed" if step.confirmed else "",
                    policy="found running after a crash; not re-run", tier=task.tier,
                    request=task.request))
    return interrupted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="agentd",
        description="On-device agent runtime: serves io.agentd.Agent1 on the D-Bus session "
                    "bus. Usually started by systemd (agentd.service) or D-Bus activation.",
        epilog="Settings are read from /etc/agentd/agentd.toml, /etc/agentd/agentd.toml.d/, "
               "~/.config/agentd/agentd.toml and AGENTD_* environment variables.")
    parser.add_argument("--version", action="version", version=f"agentd {__version__}")
    parser.add_argument("--debug", action="store_true", help="log debug messages and tracebacks")
    parser.add_argument("--state-dir", type=Path, help="journal directory (overrides settings)")
    parser.add_argument("--print-config", action="store_true",
                        help="print the effective settings with their descriptions and exit")
    args = parser.parse_args(argv)
    overrides: dict[str, object] = {}
    if args.state_dir:
        overrides["state_dir"] = args.state_dir
    if args.debug:
        overrides["log_level"] = "debug"
    try:
        settings = load_settings(overrides)
    except AgentError as exc:
        print(f"agentd: {exc.message}", file=sys.stderr)
        return 2
    if args.print_config:
        descriptions = Settings.describe()
        for field in dataclasses.fields(settings):
            print(f"# {descriptions[field.name]}\n{field.name} = "
                  f"{getattr(settings, field.name)!r}")
        return 0
    setup_logging(settings.log_level)
    return asyncio.run(_run(settings, debug=args.debug))


async def _run(settings: Settings, debug: bool) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await serve(settings, stop)
    except AgentError as exc:
        log.error("%s", exc.message, exc_info=debug)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
