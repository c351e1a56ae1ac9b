"""A GTK 3 app for the accessibility tests: a label, buttons, an entry, and N list rows.

Usage: a11y_app.py MARKER [ROWS] — run with the system Python (python3-gi,
gir1.2-gtk-3.0). GTK 3 exports its widgets on the AT-SPI bus through the atk-bridge.
Pressing "Press me" sets the status label to "Pressed 1 time(s)" and appends a line to
MARKER; every change of the entry's text is written to MARKER as "entry: TEXT". A button
"Hidden button" exists but is never shown. Prints "ready" once the window is mapped.
"""

import sys

import gi

gi.require_version("Gtk", "3.0")
from gi.repository import GLib, Gtk  # noqa: E402

marker = sys.argv[1]
rows = int(sys.argv[2]) if len(sys.argv) > 2 else 20
presses = 0


def record(line: str) -> None:
    with open(marker, "a", encoding="utf-8") as f:
        f.write(line + "\n")


window = Gtk.Window(title="Agentd Test App")
window.set_default_size(1280, 720)
window.connect("destroy", Gtk.main_quit)
box = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=4)
window.add(box)

status = Gtk.Label(label="Nothing pressed yet")
box.pack_start(status, False, False, 0)

buttons = Gtk.Box(spacing=4)
box.pack_start(buttons, False, False, 0)
press = Gtk.Button(label="Press me")
buttons.pack_start(press, False, False, 0)
cancel = Gtk.Button(label="Cancel")
buttons.pack_start(cancel, False, False, 0)
hidden = Gtk.Button(label="Hidden button")
buttons.pack_start(hidden, False, False, 0)


def on_press(_: Gtk.Button) -> None:
    global presses
    presses += 1
    status.set_text(f"Pressed {presses} time(s)")
    record("pressed")


press.connect("clicked", on_press)
cancel.connect("clicked", lambda _: record("cancelled"))

entry = Gtk.Entry()
entry.set_placeholder_text("Message")
entry.get_accessible().set_name("Message")
entry.connect("changed", lambda e: record(f"entry: {e.get_text()}"))
box.pack_start(entry, False, False, 0)

# A realistic amount of content: a scrolled list of rows, each a label and a switch.
scroller = Gtk.ScrolledWindow()
scroller.set_vexpand(True)
listbox = Gtk.ListBox()
scroller.add(listbox)
box.pack_start(scroller, True, True, 0)
for i in range(1, rows + 1):
    row = Gtk.Box(spacing=8)
    row.pack_start(Gtk.Label(label=f"Setting number {i}"), False, False, 0)
    row.pack_end(Gtk.Switch(), False, False, 0)
    listbox.add(row)


def on_map(*_: object) -> None:
    entry.grab_focus()
    GLib.timeout_add(500, lambda: print("ready", flush=True) and False)


window.connect("map", on_map)
window.show_all()
hidden.hide()
Gtk.main()
