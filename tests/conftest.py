"""The test suite's plugins and layers.

Fixtures live in ``tests/testkit/`` and load as plugins (``pytest_plugins``), never
through imports between test files; test modules import its helpers and types
(``from testkit.bus import Bus``). Each test module says which layer it is in with a
module-level ``pytestmark`` (pyproject.toml lists the markers):

- ``unit``: no bus, no services, no model files: the edit loop's fastest layer;
- ``daemon``: the real agentd on a private dbus-daemon, with real clients;
- ``services``: real system services and desktop parts (phoc, mako, NetworkManager,
  PipeWire, ModemManager, AT-SPI, bubblewrap sandboxes...);
- ``model``: real GGUF models through llama.cpp, Whisper;
- ``image``: the .deb, the phone image and QEMU.

``make check`` runs ``unit`` and ``daemon`` without ``slow`` (a few minutes);
``make test`` runs everything, as CI does. A test without exactly one layer fails
collection.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["testkit.bus", "testkit.model", "testkit.desktop", "testkit.voice",
                  "testkit.evolution"]

LAYERS = ("unit", "daemon", "services", "model", "image")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        layers = [m.name for m in item.iter_markers() if m.name in LAYERS]
        if len(layers) != 1:
            raise pytest.UsageError(
                f"{item.nodeid} is in layers {layers or 'none'}: give its module exactly one "
                f"of {', '.join(LAYERS)} (pytestmark = pytest.mark.LAYER; tests/conftest.py)")
