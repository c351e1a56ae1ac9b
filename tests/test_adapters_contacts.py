"""Contacts from the user's vCard folder, through the real daemon on a private bus.

The cards are real files in the vdirsyncer/khard layout under the test's
``$XDG_DATA_HOME/contacts``; "call mom" resolves through them and then meets this
machine's telephony as it is (no modem), so the step fails with the telephony error after
the user confirmed the resolved number. The same through the real Evolution Data Server
(source registry and address book factory) on the test's private session bus, its
contacts made with EDS's own ``CreateContacts``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from testkit.bus import AGENTCTL, Bus, Daemon
from testkit.evolution import create_contacts
from testkit.helpers import (
    answer_in_terminal,
    audit,
    fixture_daemon,
    gdbus_ask,
    notification_server,
    raw_call,
    run_in_terminal,
    sent_records,
    wait_state,
)

from agentd.adapters.contacts import eds, with_number

pytestmark = pytest.mark.services

ANNA = """BEGIN:VCARD
VERSION:3.0
UID:anna
FN:Anna Berg
N:Berg;Anna;;;
NICKNAME:Annie,Mom
TEL;TYPE=HOME,VOICE:+49 30 1234567
TEL;TYPE=CELL:+49 170 1234567
END:VCARD
"""
SAMS = """BEGIN:VCARD
VERSION:4.0
UID:sam-1
FN:Sam Smith
TEL;VALUE=uri;TYPE="cell,voice":tel:+1-555-0101
END:VCARD
BEGIN:VCARD
VERSION:4.0
UID:sam-2
FN:Sam Jones
TEL:+1 555 0102
END:VCARD
"""


def address_book(bus: Bus) -> Path:
    """``$XDG_DATA_HOME/contacts/<book>``, as vdirsyncer lays it out, filled."""
    book = bus.root / "data" / "contacts" / "personal"
    book.mkdir(parents=True)
    (book / "anna.vcf").write_text(ANNA)
    (book / "sams.vcf").write_text(SAMS)
    (book / "broken.vcf").write_text("BEGIN:VCARD\nVERSION:3.0\nFN Nobody\n")
    (book / "work" / "dentist.vcf").parent.mkdir()  # another address book; a BOM; no TEL
    (book / "work" / "dentist.vcf").write_text(
        "\ufeffBEGIN:VCARD\r\nVERSION:3.0\r\nFN:Dr. Weiss\r\nNICKNAME:dentist\r\n"
        "EMAIL:weiss@example.org\r\nEND:VCARD\r\n")
    return book


@pytest.fixture
def contacts_daemon(bus: Bus) -> Any:
    address_book(bus)
    daemon = Daemon(bus).start()
    yield daemon
    if daemon.alive():
        daemon.kill(15)


def ask(bus: Bus, text: str) -> dict[str, Any]:
    return wait_state(bus, gdbus_ask(bus, text))


def found(task: dict[str, Any]) -> str:
    (step,) = task["steps"]
    assert step["tool"] == "contacts.find" and step["state"] == "done", step
    return str(step["result"])


def test_find_by_name_nickname_any_case(bus: Bus, contacts_daemon: Daemon) -> None:
    assert found(ask(bus, "who is Anna")) == \
        "Anna Berg: +49 30 1234567, +49 170 1234567 (mobile)."
    assert found(ask(bus, "what's MOM's number")).startswith("Anna Berg: ")
    assert found(ask(bus, "look up anna berg in my contacts")).startswith("Anna Berg: ")
    both = found(ask(bus, "do I have a number for sam"))
    assert "Sam Smith: +1-555-0101" in both and "Sam Jones: +1 555 0102" in both
    # The malformed card was skipped, named in the log, and the daemon still answers.
    assert "skipped" in contacts_daemon.logs() and "broken.vcf" in contacts_daemon.logs()
    assert contacts_daemon.alive()


def test_unknown_name_is_not_found(bus: Bus, contacts_daemon: Daemon) -> None:
    (step,) = ask(bus, "who is Zed")["steps"]
    assert step["error"].startswith("io.agentd.Error.NotFound: no contact called “Zed”")
    assert 'agentctl ask "find Zed"' in step["error"]


def test_call_mom_confirms_the_resolved_mobile_number(bus: Bus,
                                                      contacts_daemon: Daemon) -> None:
    path = gdbus_ask(bus, "call mom")
    waiting = wait_state(bus, path, "awaiting-confirmation")
    (step,) = waiting["steps"]
    assert step["args"] == {"to": "mom"}  # the plan keeps what the user said
    assert step["summary"] == "Call Anna Berg (+491701234567)"  # mobile, not home
    assert answer_in_terminal(bus, path) == "Confirmed."
    (step,) = wait_state(bus, path)["steps"]
    assert step["state"] == "failed" and "no modem" in step["error"], step
    record = audit(bus)[-1]
    assert record["tool"] == "call.dial" and record["summary"] == step["summary"]
    assert record["consent"] == "user"


def test_unknown_names_and_names_without_numbers_fail_before_asking(
        bus: Bus, contacts_daemon: Daemon) -> None:
    task = ask(bus, "text Zed I'm late")
    assert task["state"] == "failed"
    (step,) = task["steps"]
    assert step["error"].startswith("io.agentd.Error.NotFound: no contact called “Zed”")
    assert not step["confirmed"]
    assert audit(bus)[-1]["consent"] == "not asked"
    (step,) = ask(bus, "call the dentist")["steps"]
    assert step["error"] == ("io.agentd.Error.NotFound: Dr. Weiss has no phone number in "
                             "the contacts; say the number")
    assert found(ask(bus, "what's the number for the dentist")) == \
        "Dr. Weiss: no phone number."
    # The full name picks one.
    path = gdbus_ask(bus, "call sam jones")
    (step,) = wait_state(bus, path, "awaiting-confirmation")["steps"]
    assert step["summary"] == "Call Sam Jones (+15550102)"
    assert answer_in_terminal(bus, path, "deny") == "Denied."


@pytest.fixture
def recording_daemon(bus: Bus) -> Iterator[tuple[Daemon, Path]]:
    """agentd whose telephony records what it would send (the test backends), with the
    address book above: names still resolve, and several matches still ask."""
    address_book(bus)
    daemon, sent = fixture_daemon(bus, AGENTD_CONFIRMATION_TIMEOUT_S="20")
    yield daemon, sent
    if daemon.alive():
        daemon.kill(15)


def test_which_one_is_asked_at_the_terminal(
        bus: Bus, recording_daemon: tuple[Daemon, Path]) -> None:
    _, sent = recording_daemon
    code, seen = run_in_terminal(bus, [AGENTCTL, "ask", "--json", "text sam running late"],
                                 b"2\n", b"[1-2/N]")
    shown = seen.decode(errors="replace")
    assert code == 0, shown
    assert "Which one: Send a text message to which “sam”: “running late”? [1-2/N]" in shown
    assert "1. Sam Smith (+15550101)" in shown and "2. Sam Jones (+15550102)" in shown
    result = json.loads([line for line in shown.splitlines() if line.startswith("{")][-1])
    (step,) = result["steps"]
    assert step["state"] == "done" and step["confirmed"], step
    assert step["summary"] == "Send a text message to Sam Jones (+15550102): “running late”"
    (record,) = sent_records(sent)
    assert record["bound"] == {"to": "+15550102", "contact": "Sam Jones"}  # what ran
    assert record["args"]["to"] == "sam"  # the plan keeps what the user said
    entry = audit(bus)[-1]
    assert entry["consent"] == "user chose 2 of 2" and entry["summary"] == step["summary"]
    assert '"channel": "agentctl"' in json.dumps(entry["approved_by"])
    # Saying no (anything but a number offered) runs nothing.
    code, seen = run_in_terminal(bus, [AGENTCTL, "ask", "--json", "call sam"], b"3\n",
                                 b"[1-2/N]")
    replies = [line for line in seen.decode().splitlines() if line.startswith("{")]
    assert replies, seen
    (step,) = json.loads(replies[-1])["steps"]
    assert code == 1 and step["state"] == "denied", seen
    assert len(sent_records(sent)) == 1


def test_which_one_is_only_the_users_and_never_granted_away(
        bus: Bus, recording_daemon: tuple[Daemon, Path]) -> None:
    _, sent = recording_daemon
    # A grant lets gdbus text numbers without asking; it does not choose whom "sam" means.
    path = gdbus_ask(bus, "text 555 0100 hi")
    wait_state(bus, path, "awaiting-confirmation")
    answer_in_terminal(bus, path, "confirm", "--always")
    assert wait_state(bus, path)["state"] == "done"
    path = gdbus_ask(bus, "text sam hi")
    (step,) = wait_state(bus, path, "awaiting-confirmation")["steps"]
    assert step["summary"] == "Send a text message to which “sam”: “hi”"
    # Another program (here the task's own owner, gdbus) cannot choose.
    error, text = raw_call(bus, "Choose", "u", [0], path=path, interface="io.agentd.Task1")
    assert error == "io.agentd.Error.PermissionDenied", text
    # The user's agentctl: a yes/no answer, or a choice not offered, is refused by name.
    task_id = path.rsplit("/", 1)[-1]
    code, seen = run_in_terminal(bus, [AGENTCTL, "confirm", task_id])
    assert code != 0 and b"asks which one of 2" in seen and b"agentctl choose" in seen, seen
    code, seen = run_in_terminal(bus, [AGENTCTL, "choose", task_id, "3"])
    assert code != 0 and b"offers choices 1 to 2, not 3" in seen, seen
    code, seen = run_in_terminal(bus, [AGENTCTL, "choose", task_id, "0"])
    assert code == 2 and b"numbered from 1" in seen, seen
    assert wait_state(bus, path, "awaiting-confirmation")["state"] == "awaiting-confirmation"
    code, seen = run_in_terminal(bus, [AGENTCTL, "choose", task_id, "1"])
    assert code == 0 and seen.strip() == b"Chose 1.", seen
    (step,) = wait_state(bus, path)["steps"]
    assert step["state"] == "done" and step["summary"] == \
        "Send a text message to Sam Smith (+15550101): “hi”"
    assert sent_records(sent)[-1]["bound"]["to"] == "+15550101"
    # A yes/no question takes no choice.
    path = gdbus_ask(bus, "call 555 0100")
    wait_state(bus, path, "awaiting-confirmation")
    code, seen = run_in_terminal(bus, [AGENTCTL, "choose", path.rsplit("/", 1)[-1], "1"])
    assert code != 0 and b"asks yes or no" in seen, seen
    assert answer_in_terminal(bus, path, "deny") == "Denied."


@pytest.mark.parametrize(("action", "state", "bound"), [
    ("choose-1", "done", "+15550102"),
    ("allow", "cancelled", None),  # not offered for a "which one?": ignored, no answer
    ("choose-2", "cancelled", None),  # no third choice
])
def test_which_one_through_the_notification(bus: Bus, action: str, state: str,
                                            bound: str | None) -> None:
    address_book(bus)
    with notification_server(bus, action) as (_, log):
        daemon, sent = fixture_daemon(bus, AGENTD_CONFIRM_BY_NOTIFICATION="true")
        try:
            task = wait_state(bus, gdbus_ask(bus, "call sam"), timeout=20)
        finally:
            daemon.kill(15)
    (question,) = [json.loads(line) for line in log.read_text().splitlines()
                   if json.loads(line).get("call") == "Notify"]
    assert question["actions"] == ["choose-0", "Sam Smith (+15550101)",
                                   "choose-1", "Sam Jones (+15550102)", "deny", "Deny"]
    assert question["body"] == ("Call which “sam”?\n1. Sam Smith (+15550101)\n"
                                "2. Sam Jones (+15550102)")
    assert task["state"] == state, task
    records = sent_records(sent)
    assert [r["bound"]["to"] for r in records] == ([bound] if bound else [])


def test_too_many_matches_is_a_named_error(bus: Bus) -> None:
    book = bus.root / "data" / "contacts" / "personal"
    book.mkdir(parents=True)
    for n in range(6):
        (book / f"alex{n}.vcf").write_text(
            f"BEGIN:VCARD\nVERSION:3.0\nFN:Alex {n}\nTEL:+1555020{n}\nEND:VCARD\n")
    daemon = Daemon(bus).start()
    try:
        (step,) = ask(bus, "call alex")["steps"]
    finally:
        daemon.kill(15)
    assert step["error"].startswith("io.agentd.Error.InvalidRequest: 6 contacts are called "
                                    "“alex”: Alex 0: +15550200; "), step
    assert step["error"].endswith("Say the full name or the number.")


def test_doctor_shows_the_vcard_folder(bus: Bus, contacts_daemon: Daemon) -> None:
    out = bus.agentctl("doctor", "--json")
    assert out.returncode == 0, out.stderr
    rows = {r["backend"]: r for r in json.loads(out.stdout) if r["capability"] == "contacts"}
    assert list(rows) == ["vcard-folder", "eds"]
    assert rows["vcard-folder"]["available"] is True
    assert "4 vCard file(s) in " in rows["vcard-folder"]["reason"]
    assert rows["eds"]["available"] is False  # not on this private bus
    assert "Evolution Data Server is not on the session bus" in rows["eds"]["reason"]


def test_no_address_book(bus: Bus, daemon: Daemon) -> None:
    (step,) = ask(bus, "who is Anna")["steps"]
    assert step["error"].startswith("io.agentd.Error.Unavailable: "), step
    assert "no vCard files" in step["error"] and "Evolution Data Server" in step["error"]
    # A name nothing can resolve: asked about as said, then refused (the modem first).
    path = gdbus_ask(bus, "call mom")
    (step,) = wait_state(bus, path, "awaiting-confirmation")["steps"]
    assert step["summary"] == "Call mom"
    assert answer_in_terminal(bus, path) == "Confirmed."
    (step,) = wait_state(bus, path)["steps"]
    assert step["error"].startswith("io.agentd.Error.Unavailable: ") and \
        "no modem" in step["error"], step


def test_evolution_data_server(bus: Bus, evolution: None, daemon: Daemon,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    cards = [ANNA.replace("\n", "\r\n")] + [card + "END:VCARD\r\n" for card in
                                             SAMS.replace("\n", "\r\n").split(
                                                 "END:VCARD\r\n") if card.strip()]
    create_contacts(bus.address, cards)
    mom = found(ask(bus, "what's mom's number"))
    assert mom.startswith("Anna Berg: ") and "+49 170 1234567 (mobile)" in mom, mom
    sams = found(ask(bus, "who is sam")).rstrip(".").split("; ")
    assert sorted(line.split(":")[0] for line in sams) == ["Sam Jones", "Sam Smith"]
    (step,) = ask(bus, "who is Zed")["steps"]
    assert step["error"].startswith("io.agentd.Error.NotFound: no contact called “Zed”")
    path = gdbus_ask(bus, "call mom")
    (step,) = wait_state(bus, path, "awaiting-confirmation")["steps"]
    assert step["summary"] == "Call Anna Berg (+491701234567)"
    assert answer_in_terminal(bus, path, "deny") == "Denied."
    out = bus.agentctl("doctor", "--json")
    rows = {r["backend"]: r for r in json.loads(out.stdout) if r["capability"] == "contacts"}
    assert rows["eds"]["available"] is True and rows["eds"]["selected"] is True, rows
    assert rows["eds"]["reason"] == "Evolution Data Server: Personal"
    # Who sent a text message: every contact with a number, by Chatty's own query.
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", bus.address)
    everyone = asyncio.run(eds.EdsContacts().with_numbers())
    assert sorted(c.name for c in everyone) == ["Anna Berg", "Sam Jones", "Sam Smith"]
    sender = with_number(everyone, "+491701234567")
    assert sender is not None and sender.name == "Anna Berg"


def test_vcard_parsing() -> None:
    from agentd.adapters.contacts import matching
    from agentd.adapters.contacts.vcard import MalformedVCard, parse_vcards

    (anna,) = parse_vcards(ANNA)
    assert anna.nicknames == ("Annie", "Mom") and anna.number == "+49 170 1234567"
    sams = parse_vcards(SAMS)
    assert [c.name for c in matching(sams, "sam")] == ["Sam Smith", "Sam Jones"]
    assert [c.name for c in matching(sams, "Sam Jones!")] == ["Sam Jones"]
    assert matching([anna], "mom")[0] is anna and matching([anna], "dad") == []
    with pytest.raises(MalformedVCard):
        parse_vcards("BEGIN:VCARD\nFN:x\n")
