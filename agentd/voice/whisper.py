"""The ``whisper`` backend: faster-whisper (CTranslate2), int8 on the CPU.

Greedy decoding (beam 1), English, no timestamps and no conditioning on earlier text:
commands are short, and this is the fastest setting that keeps them right. The sentence
templates' phrases go in as the initial prompt, which biases the decoder toward them.
"""

from __future__ import annotations

import importlib.util
import os
import time
from pathlib import Path
from typing import Any

from agentd.config import Settings
from agentd.voice.audio import Audio
from agentd.voice.models import MODEL_FILES, whisper_model_dir
from agentd.voice.recognizer import Recognition


def unavailable(settings: Settings) -> str | None:
    for module in ("faster_whisper", "ctranslate2"):
        if importlib.util.find_spec(module) is None:
            return (f"{module} is not installed; install agentd's voice extra "
                    "(pip install 'agentd[voice]')")
    folder = whisper_model_dir(settings)
    missing = [name for name in MODEL_FILES if not (folder / name).is_file()]
    if missing:
        return (f"no Whisper model in {folder} (missing {', '.join(missing)}); run "
                "`agentctl model install-whisper`")
    return None


def threads(settings: Settings) -> int:
    return settings.voice_threads or max(1, min(4, os.cpu_count() or 1))


class WhisperRecognizer:
    name = "whisper"

    def __init__(self, settings: Settings) -> None:
        from faster_whisper import WhisperModel

        self.model_dir: Path = whisper_model_dir(settings)
        self._language = settings.language
        started = time.monotonic()
        self._model: Any = WhisperModel(str(self.model_dir), device="cpu",
                                        compute_type="int8", cpu_threads=threads(settings))
        self.load_seconds = time.monotonic() - started

    def transcribe(self, audio: Audio, prompt: str) -> Recognition:
        started = time.monotonic()
        segments, _ = self._model.transcribe(
            audio.samples, language=self._language, beam_size=1, temperature=0.0,
            initial_prompt=prompt or None, condition_on_previous_text=False,
            without_timestamps=True, vad_filter=False)
        parts = list(segments)
        text = " ".join(s.text.strip() for s in parts).strip()
        no_speech = min((s.no_speech_prob for s in parts), default=1.0)
        logprob = min((s.avg_logprob for s in parts), default=0.0)
        return Recognition(text=text, seconds=time.monotonic() - started,
                           no_speech_probability=no_speech,
                           detail={"avg_logprob": logprob})

    def close(self) -> None:
        self._model = None
