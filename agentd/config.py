"""One settings model, every field described, loaded once at start and passed down.

Sources, later ones winning: ``/etc/agentd/agentd.toml``, drop-ins in
``/etc/agentd/agentd.toml.d/*.toml`` (sorted), ``$XDG_CONFIG_HOME/agentd/agentd.toml``,
then environment variables ``AGENTD_<FIELD>`` (upper case).
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentd.errors import InvalidRequest


def _xdg(var: str, fallback: str) -> Path:
    value = os.environ.get(var)
    return Path(value) if value else Path.home() / fallback


def _described(default: Any, description: str) -> Any:
    return field(default=default, metadata={"description": description})


@dataclass(frozen=True)
class Settings:
    """agentd's settings. ``agentd --print-config`` shows the effective values."""

    state_dir: Path = field(
        default_factory=lambda: _xdg("XDG_STATE_HOME", ".local/state") / "agentd",
        metadata={"description": "where the task journal (SQLite) lives"},
    )
    max_active_tasks: int = _described(
        1000, "unfinished tasks in all, queued ones included; past it, Ask fails with Busy")
    workers: int = _described(
        4, "tasks understood and acted on at once; the others wait in the queue (state "
           "queued); a task waiting for the user's answer does not hold a worker")
    max_tasks_per_caller: int = _described(
        64, "unfinished tasks one program (bus connection) may have at once; past it, Ask "
            "fails with Busy naming this limit")
    max_questions_per_caller: int = _described(
        4, "tasks of one program that may wait for the user's answer at once; past it, Ask "
           "fails with Busy naming this limit (one program cannot flood the user)")
    max_audio_reads_per_caller: int = _described(
        1, "AskAudio recordings one program may have agentd read at once")
    max_request_bytes: int = _described(4096, "longest request text accepted, in UTF-8 bytes")
    confirmation_timeout_s: float = _described(
        120.0, "how long a step waits for Confirm before it counts as denied")
    exported_tasks: int = _described(
        200, "finished tasks kept on the bus as objects (unfinished ones always are)")
    retention_days: float = _described(
        30.0, "finished tasks, their steps and audit records older than this are removed "
              "(the audit log keeps a checkpoint that carries their hash); 0 = never")
    retention_tasks: int = _described(
        5000, "at most this many finished tasks are kept (the newest); 0 = no limit")
    private_result_days: float = _described(
        7.0, "step results that quote others' content (screen text, notifications, "
             "messages, file names) are blanked after this many days; 0 = kept as tasks")
    language: str = _described("en", "language of the sentence templates")
    confirm_by_notification: bool = _described(
        True, "also ask through a desktop notification with Allow/Deny actions")
    planner: str = _described(
        "model", "tier 2 when no template matches: model (the installed GGUF model, "
        "through llama.cpp), none, or a test backend (test-obedient, agentd's own tests)")
    models_dir: Path = field(
        default_factory=lambda: _xdg("XDG_DATA_HOME", ".local/share") / "agentd" / "models",
        metadata={"description": "where `agentctl model install` puts models"})
    cache_dir: Path = field(
        default_factory=lambda: _xdg("XDG_CACHE_HOME", ".cache") / "agentd",
        metadata={"description": "rebuildable data: the model tier's saved prompt prefixes"})
    model_context: int = _described(4096, "the model's context size, in tokens")
    model_threads: int = _described(
        0, "threads for decoding; 0 = automatic (cores - 1, at most 4)")
    model_batch_threads: int = _described(
        0, "threads for reading the prompt; 0 = automatic (all cores)")
    model_idle_unload_s: float = _described(
        300.0, "unload the model after this long unused, to give its memory back")
    model_tools: int = _described(6, "tools offered to the model per request (ToolRAG top-k)")
    model_max_steps: int = _described(
        6, "steps the model may take for one request before it must stop")
    model_reply_chars: int = _described(
        400, "longest reply the model may write, in characters (shorter is faster)")
    voice_recognizer: str = _described(
        "whisper", "speech recognition for AskAudio: whisper (faster-whisper) or none")
    voice_model: str = _described(
        "whisper-base", "the Whisper model: a name under models_dir/whisper/ (installed by "
        "`agentctl model install-whisper`) or a folder path")
    voice_threads: int = _described(0, "threads for speech recognition; 0 = automatic")
    voice_max_seconds: float = _described(
        30.0, "longest recording AskAudio accepts, in seconds (longer ones are refused)")
    voice_read_timeout_s: float = _described(
        10.0, "how long AskAudio waits for the caller to finish writing the audio")
    voice_bias: bool = _described(
        True, "bias recognition toward the sentence templates' phrases (initial prompt)")
    voice_speak_replies: bool = _described(
        False, "speak the replies to spoken requests (AskAudio) with espeak-ng")
    voice_tts_voice: str = _described("en", "the espeak-ng voice for spoken replies")
    calendar_default: str = _described(
        "", "the calendar calendar.add writes to: a folder under $XDG_DATA_HOME/calendars, or "
            "an Evolution Data Server calendar's name or UID; empty: the first folder by name "
            "(personal/ is made when there is none), or EDS's default calendar")
    location_timeout_s: float = _described(
        30.0, "how long location.get waits for the phone's first position from GeoClue "
              "(a GPS can take a minute after it starts); then it fails saying so")
    test_fixture: str = _described(
        "", "TESTS ONLY: a JSON file that enables the named test backends (content sources "
        "and a recording telephony backend); never set this on a phone")
    identity_source: str = _described(
        "auto", "where agentd reads who calls it: auto (/proc, or agentd-uinput.service's "
        "identity answer where its sandbox closes /proc), proc or service")
    log_level: str = _described("info", "debug, info, warning or error")

    @classmethod
    def describe(cls) -> dict[str, str]:
        return {f.name: f.metadata["description"] for f in dataclasses.fields(cls)}


def _config_files() -> list[Path]:
    etc = Path(os.environ.get("AGENTD_SYSCONFDIR", "/etc/agentd"))
    files = [etc / "agentd.toml"]
    dropins = etc / "agentd.toml.d"
    if dropins.is_dir():
        files += sorted(dropins.glob("*.toml"))
    files.append(_xdg("XDG_CONFIG_HOME", ".config") / "agentd" / "agentd.toml")
    return files


_PARSERS: dict[str, Callable[[Any], Any]] = {
    "Path": Path, "int": int, "float": float, "str": str, "bool": lambda v: _bool(v)}


def _coerce(name: str, kind: Any, value: Any, source: str) -> Any:
    type_name = kind if isinstance(kind, str) else kind.__name__
    try:
        return _PARSERS[type_name](value)
    except (TypeError, ValueError):
        raise InvalidRequest(f"{source}: setting {name!r} must be {type_name}, "
                             f"got {value!r}") from None


def _bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(value)


def load_settings(overrides: dict[str, Any] | None = None) -> Settings:
    """Read every source in order; unknown keys are an error that names the file."""
    fields = {f.name: f for f in dataclasses.fields(Settings)}
    values: dict[str, Any] = {}
    for path in _config_files():
        if not path.is_file():
            continue
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InvalidRequest(f"{path}: not valid TOML: {exc}") from None
        for key, value in data.items():
            if key not in fields:
                raise InvalidRequest(f"{path}: unknown setting {key!r}; known: "
                                     f"{', '.join(fields)}")
            values[key] = _coerce(key, fields[key].type, value, str(path))
    for name, f in fields.items():
        env = os.environ.get(f"AGENTD_{name.upper()}")
        if env is not None:
            values[name] = _coerce(name, f.type, env, f"AGENTD_{name.upper()}")
    values.update(overrides or {})
    return Settings(**values)
