"""A GTK 3 window painted one known colour; prints "ready" once it is on screen.

Usage: color_window.py RRGGBB — run with the system Python (python3-gi, gir1.2-gtk-3.0).
"""

import sys

import gi

gi.require_version("Gtk", "3.0")
from gi.repository import GLib, Gtk  # noqa: E402

colour = sys.argv[1]
css = Gtk.CssProvider()
css.load_from_data(f"window {{ background-color: #{colour}; }}".encode())
window = Gtk.Window(title="agentd colour test")
window.get_style_context().add_provider(css, Gtk.STYLE_PROVIDER_PRIORITY_APPLICATION)
window.set_default_size(1280, 720)
window.connect("destroy", Gtk.main_quit)


def on_map(*_: object) -> None:
    # Mapped; give the first frame a moment to reach the compositor.
    GLib.timeout_add(500, lambda: print("ready", flush=True) and False)


window.connect("map", on_map)
window.show_all()
Gtk.main()
