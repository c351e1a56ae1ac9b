"""Spoken judgment: exact / abstained / wrong for requests said aloud.

    .venv/bin/python bench/voice_judgment.py [--whisper DIR] [--no-bias] [--show]

Each request of ``eval/spoken_en.yaml`` is said by espeak-ng in two voices (en-us at 160
words a minute, en-gb at 190), heard by agentd's recogniser (Whisper base through
faster-whisper, with or without the template prompt bias), and planned by the template
tier as the daemon plans an ``AskAudio`` request (``TemplateTier.understand_heard``:
a transcript that matches nothing is repaired by one word, and then its steps ask).
Outcomes as ``bench/judgment.py``: a wrong action (any plan but the expected one, or any
action for an out-of-scope request) is the worst; an honest "I can't do that yet"
counts as abstained.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from judgment import Case, Outcome, Score, _step, load_cases  # noqa: E402

from agentd.config import Settings  # noqa: E402
from agentd.tools.catalogue import CATALOGUE  # noqa: E402
from agentd.tools.registry import ToolRegistry  # noqa: E402
from agentd.understanding.templates import TemplateTier  # noqa: E402
from agentd.voice.audio import decode  # noqa: E402
from agentd.voice.recognizer import create_recognizer  # noqa: E402
from agentd.voice.service import VoiceInput, clean_text  # noqa: E402
from agentd.voice.speech import synthesize_wav  # noqa: E402

SPOKEN_SET = ROOT / "eval" / "spoken_en.yaml"
VOICES = (("en-us", 160), ("en-gb", 190))


def default_whisper() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "agentd" / "test-data" / "agentd" / "models" / "whisper" / "whisper-base"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--whisper", type=Path, default=default_whisper(),
                        help="Whisper base for faster-whisper (agentctl model install-whisper)")
    parser.add_argument("--no-bias", action="store_true", help="no template prompt")
    parser.add_argument("--no-repair", action="store_true",
                        help="plain templates (no one-word repair of the transcript)")
    parser.add_argument("--show", action="store_true", help="print every transcript")
    args = parser.parse_args()
    cases = load_cases(SPOKEN_SET)
    settings = Settings(voice_model=str(args.whisper), voice_bias=not args.no_bias)
    recognizer = create_recognizer(settings)
    prompt = VoiceInput(settings)._prompt  # the prompt AskAudio uses
    registry = ToolRegistry(CATALOGUE)
    templates = TemplateTier(registry, "en")
    score = Score("templates, spoken" + (" (no bias)" if args.no_bias else "")
                  + (" (no repair)" if args.no_repair else ""))
    repaired = 0
    with tempfile.TemporaryDirectory():
        for voice, speed in VOICES:
            for case in cases:
                audio = decode(synthesize_wav(case.say, voice, speed), 30.0)
                heard = clean_text(recognizer.transcribe(audio, prompt).text)
                plan = templates.understand(heard) if args.no_repair \
                    else templates.understand_heard(heard)
                repaired += bool(plan.understood_as)
                outcome = Outcome(Case(case.say, case.expected),
                                  tuple(_step(s.tool, s.args) for s in plan.steps),
                                  plan.reply, plan.tier, 0.0)
                score.outcomes.append(outcome)
                if args.show or outcome.verdict != "exact":
                    print(f"  {outcome.verdict:9} [{voice}] {case.say!r} -> heard {heard!r}",
                          file=sys.stderr)
    recognizer.close()
    in_scope = [o for o in score.outcomes if o.case.expected is not None]
    print(json.dumps({**score.summary(), "repaired_and_asked": repaired,
                      "in_scope_exact": f"{sum(o.verdict == 'exact' for o in in_scope)}"
                                        f"/{len(in_scope)}"}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
