"""agentctl as a user and a script use it, against the real daemon."""

from __future__ import annotations

import json
import re
import subprocess
import time

import pytest
from testkit.bus import AGENTCTL, Bus, Daemon
from testkit.helpers import answer_in_terminal, gdbus_ask, run_in_terminal, wait_state

pytestmark = pytest.mark.daemon


def test_ask_prints_progress_and_reply(bus: Bus, daemon: Daemon) -> None:
    out = bus.agentctl("ask", "set", "a", "timer", "for", "ten", "minutes")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "Started a timer for 10 minutes."
    assert "… 1 step(s) planned (templates)" in out.stderr
    assert "→ Start a timer for 10 minutes" in out.stderr


def test_ask_json(bus: Bus, daemon: Daemon) -> None:
    out = bus.agentctl("ask", "--json", "what time is it")
    result = json.loads(out.stdout)
    assert result["state"] == "done"
    assert result["steps"][0]["tool"] == "clock.time"
    assert result["steps"][0]["state"] == "done"
    assert out.stderr == ""  # no progress noise in JSON mode


def test_dry_run_batch_json(bus: Bus, daemon: Daemon) -> None:
    requests = bus.root / "requests.txt"
    requests.write_text("Turn off Wi-Fi, then turn on bluetooth.\n"
                        "\n# comments are skipped\n"
                        "set an alarm for 7:30 pm\n"
                        "what's the meaning of life\n"
                        "text mom I'm running late\n")
    out = bus.agentctl("ask", "--dry-run", "--json", "--batch", str(requests))
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    plans = [(r["request"], [(s["tool"], s["args"]) for s in r["steps"]]) for r in lines]
    assert plans == [
        ("Turn off Wi-Fi, then turn on bluetooth.",
         [("settings.set", {"setting": "wifi", "value": False}),
          ("settings.set", {"setting": "bluetooth", "value": True})]),
        ("set an alarm for 7:30 pm", [("alarm.set", {"time": "19:30"})]),
        ("what's the meaning of life", []),
        ("text mom I'm running late", [("sms.send", {"to": "mom", "text": "I'm running late"})]),
    ]
    assert lines[2]["reply"].startswith("I can't do that yet.")  # (and no model installed)
    assert all(s["state"] == "planned" for r in lines for s in r["steps"])  # nothing ran


def test_batch_reports_rejected_lines_and_goes_on(bus: Bus, daemon: Daemon) -> None:
    requests = bus.root / "requests.txt"
    requests.write_text("x" * 5000 + "\nwhat time is it\n")
    out = bus.agentctl("ask", "--dry-run", "--json", "--batch", str(requests))
    first, second = (json.loads(line) for line in out.stdout.splitlines())
    assert first["error"]["name"] == "io.agentd.Error.InvalidRequest"
    assert first["steps"] == []
    assert second["steps"][0]["tool"] == "clock.time"
    assert out.returncode == 2


def _run_in_pty(bus: Bus, argv: list[str], answer: bytes, prompt: bytes) -> tuple[int, bytes]:
    return run_in_terminal(bus, argv, answer, prompt)


def test_confirmation_prompt_no_denies(bus: Bus, daemon: Daemon) -> None:
    code, seen = _run_in_pty(bus, [AGENTCTL, "ask", "call", "mom"], b"n\n", b"[y/N")
    assert b"Allow: Call mom? [y/N/a (always)]" in seen
    assert b"Not done: you did not allow \xe2\x80\x9cCall mom\xe2\x80\x9d." in seen
    assert code == 1
    listing = json.loads(bus.agentctl("--json", "tasks").stdout)
    assert listing[-1]["steps"][0]["state"] == "denied"


def test_confirmation_prompt_yes_runs_the_step(bus: Bus, daemon: Daemon) -> None:
    code, seen = _run_in_pty(bus, [AGENTCTL, "ask", "call", "mom"], b"y\n", b"[y/N")
    assert b"Could not call mom" in seen  # it ran; no modem here, said honestly
    assert code == 1
    listing = json.loads(bus.agentctl("--json", "tasks").stdout)
    assert listing[-1]["steps"][0]["confirmed"] is True


def test_confirm_from_another_terminal(bus: Bus, daemon: Daemon) -> None:
    asking = subprocess.Popen([AGENTCTL, "ask", "--json", "call", "dad"], env=bus.env,
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    tasks: list[dict[str, object]] = []
    deadline = time.monotonic() + 15
    while not tasks and time.monotonic() < deadline:
        listing = json.loads(bus.agentctl("--json", "tasks").stdout)
        tasks = [t for t in listing if t["state"] == "awaiting-confirmation"]
        time.sleep(0.1)
    assert tasks, "the task never asked for confirmation"
    # Without a terminal (a script, a background job) agentctl cannot say yes for the user.
    refused = bus.agentctl("confirm", str(tasks[0]["id"]))
    assert refused.returncode == 1 and "from a terminal" in refused.stderr, refused.stderr
    assert answer_in_terminal(bus, str(tasks[0]["id"])) == "Confirmed."
    stdout, stderr = asking.communicate(timeout=20)
    assert "agentctl confirm" in stderr  # it told the user how to answer
    result = json.loads(stdout)
    assert result["steps"][0]["confirmed"] is True


def test_tasks_task_tools_status(bus: Bus, daemon: Daemon) -> None:
    bus.agentctl("ask", "what time is it")
    tasks = bus.agentctl("tasks")
    assert "done" in tasks.stdout and "what time is it" in tasks.stdout
    one = bus.agentctl("task", "1")
    assert "1. [done] Tell the time  (read)" in one.stdout
    tools = json.loads(bus.agentctl("--json", "tools").stdout)
    by_name = {t["name"]: t for t in tools}
    assert by_name["sms.send"]["risk"] == "external"
    assert by_name["clock.time"]["available"] is True
    assert by_name["screen.capture"]["available"] is False
    assert by_name["clock.time"]["backend"] == "agentd"
    assert by_name["screen.capture"]["backend"] == ""  # no compositor on the test bus
    listing = bus.agentctl("tools").stdout
    assert re.search(r"^clock\.time +read +agentd +Say the current time", listing, re.M)
    assert by_name["timer.start"]["schema"]["parameters"]["required"] == ["duration_s"]
    status = json.loads(bus.agentctl("status", "--json").stdout)
    assert status["Version"] == "0.1.0" and status["State"] == "ready"


def test_cancel_and_deny_by_id(bus: Bus, daemon: Daemon) -> None:
    path = gdbus_ask(bus, "call mom")
    wait_state(bus, path, "awaiting-confirmation")
    task_id = path.rsplit("/", 1)[1]
    assert bus.agentctl("deny", task_id).returncode == 0
    assert wait_state(bus, path)["state"] == "cancelled"
    again = bus.agentctl("deny", task_id)
    assert again.returncode == 2 and "not awaiting confirmation" in again.stderr
    bad = bus.agentctl("cancel", "twelve")
    assert bad.returncode == 2 and "is not a task id" in bad.stderr


def test_help_reads_like_a_man_page() -> None:
    out = subprocess.run([AGENTCTL, "--help"], capture_output=True, text=True, check=True)
    for word in ("examples:", "exit status:", "ask", "confirm", "--json"):
        assert word in out.stdout
    ask = subprocess.run([AGENTCTL, "ask", "--help"], capture_output=True, text=True, check=True)
    assert "--dry-run" in ask.stdout and "--batch" in ask.stdout
    empty = subprocess.run([AGENTCTL, "ask"], capture_output=True, text=True)
    assert empty.returncode == 2 and "needs a request" in empty.stderr
