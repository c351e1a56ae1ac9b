#!/usr/bin/python3
"""Counter: the in-image scenarios' GTK 3 app (make vm-test).

One window filled by one button, "Tap me"; each press counts. The app records what
happened in $XDG_RUNTIME_DIR/agentd-counter/ (``shown`` once its window is on screen,
``count`` after each press) so the scenarios can check that an app opened by name
showed up and that a tap reached it.
"""

import os
from pathlib import Path

import gi

gi.require_version("Gtk", "3.0")
from gi.repository import Gtk  # noqa: E402

STATE = Path(os.environ.get("XDG_RUNTIME_DIR", "/tmp")) / "agentd-counter"


def main() -> None:
    STATE.mkdir(parents=True, exist_ok=True)
    count = 0
    window = Gtk.Window(title="Counter")
    button = Gtk.Button(label="Tap me")
    window.add(button)

    def pressed(_button: Gtk.Button) -> None:
        nonlocal count
        count += 1
        button.set_label(f"Tapped {count}")
        (STATE / "count").write_text(str(count))

    def shown(_window: Gtk.Window, _event: object) -> bool:
        (STATE / "shown").write_text(str(os.getpid()))
        return False

    button.connect("clicked", pressed)
    window.connect("map-event", shown)
    window.connect("destroy", Gtk.main_quit)
    window.show_all()
    Gtk.main()


if __name__ == "__main__":
    main()
