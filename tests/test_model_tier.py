"""The model tier in the daemon: installed with agentctl, asked over D-Bus, real llama.cpp."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from testkit.bus import Bus, Daemon
from testkit.helpers import gdbus_ask, wait_state
from testkit.model import EmbedderFiles

from agentd.tools.catalogue import CATALOGUE
from agentd.tools.registry import ToolRegistry

pytestmark = pytest.mark.model

TOOLS = {spec.name for spec in CATALOGUE}
MODEL_ENV = {"AGENTD_PLANNER": "model", "AGENTD_MODEL_MAX_STEPS": "2",
             "AGENTD_CONFIRMATION_TIMEOUT_S": "0.5", "AGENTD_CONFIRM_BY_NOTIFICATION": "false",
             "AGENTD_MODEL_CONTEXT": "4096"}


def test_without_a_model_the_templates_still_answer(bus: Bus) -> None:
    Daemon(bus, MODEL_ENV).start()
    task = wait_state(bus, gdbus_ask(bus, "what's the weather like in Paris"))
    assert task["state"] == "done" and task["steps"] == []
    assert task["reply"].startswith("I can't do that yet. (No model to ask: no language model "
                                    "is installed; install one with `agentctl model install")
    assert wait_state(bus, gdbus_ask(bus, "what time is it"))["state"] == "done"


@pytest.mark.slow
def test_installed_model_plans_valid_steps(bus: Bus, tiny_gguf: Path) -> None:
    out = bus.agentctl("model", "install", str(tiny_gguf), "--name", "tiny", "--use")
    assert out.returncode == 0, out.stderr
    Daemon(bus, MODEL_ENV).start()
    assert json.loads(bus.agentctl("--json", "status").stdout)["Model"] == "tiny"
    # No template matches it; the router (by words: no embedder here) finds it in scope.
    out = bus.agentctl("ask", "the timer, cancel it")
    assert "… loading the model" in out.stderr and "… thinking (" in out.stderr
    result = json.loads(bus.agentctl("--json", "tasks").stdout)[-1]
    assert result["tier"] == "model"
    # Random weights plan nonsense, but only ever valid catalogue calls or a reply: each
    # step's arguments pass its declaration, and a task without steps still says why.
    registry = ToolRegistry(CATALOGUE)
    for step in result["steps"]:
        assert registry.spec(step["tool"]).validate(step["args"]) == step["args"]
    assert result["state"] in ("done", "failed", "cancelled")
    assert result["reply"].strip()
    if not result["steps"]:
        assert result["state"] == "done", result


def test_corrupt_model_is_a_clear_error_and_templates_keep_working(bus: Bus,
                                                                 tiny_gguf: Path) -> None:
    assert bus.agentctl("model", "install", str(tiny_gguf), "--name", "tiny",
                        "--use").returncode == 0
    installed = bus.root / "data" / "agentd" / "models" / "tiny.gguf"
    data = installed.read_bytes()
    installed.write_bytes(data[: len(data) // 3])  # truncated behind agentd's back
    Daemon(bus, MODEL_ENV).start()
    # A request the router sends to the model (out-of-scope ones never load it).
    task = wait_state(bus, gdbus_ask(bus, "the timer, cancel it"))
    assert task["state"] == "done"
    assert "No model to ask:" in task["reply"]
    assert "truncated" in task["reply"] or "tensor" in task["reply"], task["reply"]
    assert wait_state(bus, gdbus_ask(bus, "set a timer for 1 minute"))["state"] == "done"


def test_model_use_switches_without_restart(bus: Bus, tiny_gguf: Path) -> None:
    Daemon(bus, MODEL_ENV).start()
    assert json.loads(bus.agentctl("--json", "status").stdout)["Model"] == ""
    shutil.copy(tiny_gguf, bus.root / "other.gguf")
    assert bus.agentctl("model", "install", str(bus.root / "other.gguf"),
                        "--use").returncode == 0
    assert json.loads(bus.agentctl("--json", "status").stdout)["Model"] == "other"


@pytest.mark.slow
def test_router_offers_only_the_routed_tools(bus: Bus, tiny_gguf: Path,
                                             embedder_files: EmbedderFiles) -> None:
    """With the embedder, the router's tools (at most 2) replace ToolRAG's top-k."""
    assert bus.agentctl("model", "install", str(tiny_gguf), "--name", "tiny",
                        "--use").returncode == 0
    out = bus.agentctl("model", "install", str(embedder_files.gguf), "--embedder")
    assert out.returncode == 0, out.stderr
    daemon = Daemon(bus, {**MODEL_ENV, "AGENTD_MODEL_TOOLS": "4"}).start()
    out = bus.agentctl("ask", "the brightness, set it to 80 percent")
    assert "2 tools offered" in out.stderr, out.stderr  # settings.set and settings.get
    assert "no ToolRAG" not in daemon.logs()
    # Far from every template: the model is not even asked.
    out = bus.agentctl("ask", "what's the weather like in paris")
    assert "tools offered" not in out.stderr and out.stdout.startswith("I can't do that yet")
