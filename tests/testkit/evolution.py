"""The real Evolution Data Server on the test's private session bus: the source registry,
the address book factory and the calendar factory, keeping their data under the test's
XDG folders, and EDS's own D-Bus API for the tests to put contacts and events in.

The factories run with ``--keep-running``: without it each exits when it has had no
client for a few seconds, and a slow test would find it gone.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

import pytest
from dbus_fast.aio import MessageBus
from testkit.bus import Bus, wait_for

from agentd.adapters.calendar import eds as calendar_eds
from agentd.adapters.contacts import eds as contacts_eds
from agentd.adapters.dbuscalls import call
from agentd.adapters.evolution import SOURCES_IFACE, SOURCES_NAME, SOURCES_PATH

LIBEXEC = "/usr/libexec"
# (program, its arguments, the bus name it takes)
PROGRAMS = (
    (f"{LIBEXEC}/evolution-source-registry", (), SOURCES_NAME),
    (f"{LIBEXEC}/evolution-addressbook-factory", ("--keep-running",), contacts_eds.BOOKS_NAME),
    (f"{LIBEXEC}/evolution-calendar-factory", ("--keep-running",),
     calendar_eds.CALENDARS_NAME),
)
TIMEOUT_S = 30.0
T = TypeVar("T")


@pytest.fixture
def evolution(bus: Bus) -> Iterator[None]:
    """EDS on the test's session bus, stopped (SIGTERM) after the test."""
    missing = [program for program, _, _ in PROGRAMS if not os.access(program, os.X_OK)]
    if missing:
        pytest.fail(f"Evolution Data Server is not installed ({', '.join(missing)}; apt "
                    "install evolution-data-server; scripts/debian-deps.sh does it)")
    started = [subprocess.Popen([program, *args], env=bus.env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL) for program, args, _ in PROGRAMS]
    try:
        for _, _, name in PROGRAMS:
            wait_for(lambda name=name: name in bus.busctl("list", "--acquired").stdout,
                     timeout=TIMEOUT_S, interval=0.2)
        yield
    finally:
        stop(started)


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        process.wait(timeout=10)


def on_bus(address: str, work: Callable[[MessageBus], Awaitable[T]]) -> T:
    """Run ``work`` with a connection of its own to the bus at ``address``."""
    async def run() -> T:
        client = await MessageBus(bus_address=address).connect()
        try:
            return await work(client)
        finally:
            client.disconnect()

    return asyncio.run(run())


async def open_object(client: MessageBus, kind: str, uid: str) -> tuple[str, str]:
    """An address book or calendar (``kind``) opened for ``client``: (bus name, path)."""
    factory = {"AddressBook": (contacts_eds.BOOKS_NAME, contacts_eds.FACTORY_PATH,
                               contacts_eds.FACTORY_IFACE, contacts_eds.BOOK_IFACE),
               "Calendar": (calendar_eds.CALENDARS_NAME, calendar_eds.FACTORY_PATH,
                            calendar_eds.FACTORY_IFACE, calendar_eds.CALENDAR_IFACE)}[kind]
    name, path, iface, opened = factory
    object_path, owner = await call(client, name, path, iface, f"Open{kind}", "s", [uid],
                                    timeout=TIMEOUT_S)
    await call(client, owner, object_path, opened, "Open", timeout=TIMEOUT_S)
    return owner, object_path


def create_contacts(address: str, cards: list[str], book: str = "system-address-book") -> None:
    """Add vCards to an address book through EDS's own ``CreateContacts``."""
    async def create(client: MessageBus) -> None:
        owner, path = await open_object(client, "AddressBook", book)
        await call(client, owner, path, contacts_eds.BOOK_IFACE, "CreateContacts", "asu",
                   [cards, 0], timeout=TIMEOUT_S)

    on_bus(address, create)


def create_events(address: str, events: list[str], calendar: str = "system-calendar"
                  ) -> list[str]:
    """Add VEVENTs to a calendar through EDS's own ``CreateObjects``; their UIDs."""
    async def create(client: MessageBus) -> list[str]:
        owner, path = await open_object(client, "Calendar", calendar)
        (uids,) = await call(client, owner, path, calendar_eds.CALENDAR_IFACE,
                             "CreateObjects", "asu", [events, 0], timeout=TIMEOUT_S)
        return [str(uid) for uid in uids]

    return on_bus(address, create)


def modify_events(address: str, events: list[str], mod_type: str = "this",
                  calendar: str = "system-calendar") -> None:
    """Change events through EDS's ``ModifyObjects``: with ``mod_type`` "this" and a
    RECURRENCE-ID, one occurrence of a recurring event, as GNOME Calendar moves one."""
    async def modify(client: MessageBus) -> None:
        owner, path = await open_object(client, "Calendar", calendar)
        await call(client, owner, path, calendar_eds.CALENDAR_IFACE, "ModifyObjects", "assu",
                   [events, mod_type, 0], timeout=TIMEOUT_S)

    on_bus(address, modify)


def events_in(address: str, calendar: str = "system-calendar", query: str = "#t") -> list[str]:
    """The VEVENTs of a calendar that match an EDS query, through ``GetObjectList``."""
    async def read(client: MessageBus) -> list[str]:
        owner, path = await open_object(client, "Calendar", calendar)
        (objects,) = await call(client, owner, path, calendar_eds.CALENDAR_IFACE,
                                "GetObjectList", "s", [query], timeout=TIMEOUT_S)
        return [str(text) for text in objects]

    return on_bus(address, read)


def create_source(address: str, uid: str, key_file: str) -> None:
    """A new data source (an address book, a calendar) through the registry's
    ``CreateSources``, as GNOME Calendar makes one."""
    async def create(client: MessageBus) -> None:
        await call(client, SOURCES_NAME, SOURCES_PATH, SOURCES_IFACE, "CreateSources",
                   "a{ss}", [{uid: key_file}], timeout=TIMEOUT_S)

    on_bus(address, create)
