"""The action grammar: integer ranges, patterns, and 100% valid output from a real model."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from agentd.model.engine import Sampling, generate
from agentd.model.grammar import KIND_RULES, build_grammar, integer_rule, parse_action
from agentd.model.prompt import PromptRenderer
from agentd.model.runtime import Threads, import_llama, load_llama
from agentd.tools.catalogue import CATALOGUE, LEVEL_SETTINGS, TOGGLE_SETTINGS
from agentd.tools.registry import WEEKDAYS, Arg, Kind, Risk, ToolSpec, day, said_day
from agentd.understanding.plan import PlannedStep
from agentd.understanding.planner import FinalReply

pytestmark = pytest.mark.model


def _as_regex(rule: str) -> re.Pattern[str]:
    alts = rule.strip("() ").split(" | ")
    parts = ["".join(tok.strip('"') for tok in alt.split()) for alt in alts]
    return re.compile("|".join(f"(?:{p})" for p in parts))


@pytest.mark.parametrize(("lo", "hi"), [(0, 100), (1, 86400), (0, 10000), (7, 7), (99, 101)])
def test_integer_rule_matches_exactly_the_range(lo: int, hi: int) -> None:
    rx = _as_regex(integer_rule(lo, hi))
    for n in range(0, 100_001):
        assert bool(rx.fullmatch(str(n))) == (lo <= n <= hi), n
    assert not rx.fullmatch("007")


def _gbnf_as_regex(rule: str) -> re.Pattern[str]:
    """A GBNF rule of literals, classes and groups as a Python regex."""
    quoted = re.sub(r'"((?:[^"\\]|\\.)*)"', lambda m: re.escape(m.group(1)), rule)
    return re.compile(quoted.replace(" ", ""))


@pytest.mark.parametrize("kind", sorted(KIND_RULES))
def test_kind_rules_match_exactly_what_the_pattern_does(kind: Kind) -> None:
    """The written-out GBNF of a patterned kind admits exactly the declaration's pattern."""
    arg = next(a for spec in CATALOGUE for a in spec.args if a.kind is kind) \
        if kind is Kind.CLOCK_TIME else day("d", "a day") if kind is Kind.DAY \
        else said_day("d", "a day")
    assert arg.pattern is not None
    rx, pattern = _gbnf_as_regex(KIND_RULES[kind][0]), re.compile(arg.pattern)
    samples = ([f"{h:02d}:{m:02d}" for h in range(0, 30) for m in range(0, 70)] + ["7:30"]
               if kind is Kind.CLOCK_TIME else
               [f"{y}-{m:02d}-{d:02d}" for y in (2026, 999) for m in range(0, 14)
                for d in range(0, 34)] + ["2026-1-01"])
    if kind is Kind.SAID_DAY:  # also "MM-DD" and the words
        samples += [f"{m:02d}-{d:02d}" for m in range(0, 14) for d in range(0, 34)]
        samples += [*WEEKDAYS, "today", "tomorrow", "yesterday", "Friday", "fri", "12-24x"]
    for text in samples:
        assert bool(rx.fullmatch(text)) == bool(pattern.fullmatch(text)), text
        assert len(text) + 2 <= KIND_RULES[kind][1] or not pattern.fullmatch(text)


def test_a_pattern_without_a_kind_rule_is_refused() -> None:
    spec = ToolSpec("x.y", "d", Risk.READ, (Arg("code", (str,), "d", pattern="[0-9]{4}"),))
    with pytest.raises(ValueError, match="no rule for; add one to KIND_RULES"):
        build_grammar([spec])


def test_variants_become_grammar_alternatives() -> None:
    """settings.set's variants (declared once, in the catalogue) are the grammar's
    alternatives: toggles with true/false, levels with a percent, nothing crosswise."""
    spec = next(s for s in CATALOGUE if s.name == "settings.set")
    toggles, levels = spec.arg_variants()
    assert [(a.name, a.types, req) for a, req in toggles] == [
        ("setting", (str,), True), ("value", (bool,), True)]
    assert toggles[0][0].choices == TOGGLE_SETTINGS
    assert levels[0][0].choices == LEVEL_SETTINGS
    assert (levels[1][0].types, levels[1][0].minimum, levels[1][0].maximum) == ((int,), 0, 100)
    rule = next(line for line in build_grammar([spec]).gbnf.splitlines()
                if line.startswith("args-settings-set ::="))
    toggle_shape, level_shape = rule.split(" | \"{\"")
    assert "wifi" in toggle_shape and '"true"' in toggle_shape and "volume" not in toggle_shape
    assert "volume" in level_shape and "[0-9]" in level_shape and "true" not in level_shape


def test_parse_action_rejects_what_the_grammar_forbids() -> None:
    with pytest.raises(ValueError):
        parse_action('{"tool": "rm.rf", "args": {}}', CATALOGUE)
    with pytest.raises(ValueError):
        parse_action('{"tool": "settings.set", "args": {"setting": "wifi", "value": 50}}',
                     CATALOGUE)
    assert parse_action('{"reply": "hi"}', CATALOGUE) == FinalReply("hi")


def _sample(tiny_gguf: Path, grammars: list[tuple[object, int]]) -> list[str]:
    llama_cpp = import_llama()
    llama = load_llama(tiny_gguf, n_ctx=2048, threads=Threads(1, 1))
    renderer = PromptRenderer(llama, str(llama.metadata["tokenizer.chat_template"]))
    prompt = renderer.render("Call a tool.", [("user", "do something")])
    outputs = []
    for action, seed in grammars:
        compiled = llama_cpp.LlamaGrammar.from_string(action.gbnf,  # type: ignore[attr-defined]
                                                      verbose=False)
        text, _ = generate(llama, prompt, compiled, action.max_bytes,  # type: ignore[attr-defined]
                           Sampling(temperature=1.5, top_k=0, top_p=1.0, min_p=0.0,
                                    seed=seed), cache=None)
        outputs.append(text)
    llama.close()
    return outputs


@pytest.mark.slow
def test_random_model_output_always_parses_and_validates(tiny_gguf: Path) -> None:
    """200 samples at a high temperature: every tool (tool calls only), then all tools
    with replies allowed. Each must be strict JSON and pass ToolSpec.validate."""
    plan: list[tuple[object, int]] = []
    for spec in CATALOGUE:
        action = build_grammar([spec], max_string_chars=24, allow_reply=False)
        plan += [(action, seed) for seed in range(6)]
    full = build_grammar(CATALOGUE, max_string_chars=24, reply_chars=24)
    plan += [(full, 1000 + seed) for seed in range(200 - len(plan))]
    outputs = _sample(tiny_gguf, plan)
    tools = set()
    for text in outputs:
        json.loads(text, strict=True)  # no raw control characters
        action = parse_action(text, CATALOGUE)  # validates against the ToolSpec
        if isinstance(action, PlannedStep):
            tools.add(action.tool)
    assert len(outputs) == 200
    assert tools == {s.name for s in CATALOGUE}
