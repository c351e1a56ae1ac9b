"""Adapters: the phone's capabilities (screen, input, notifications, files, telephony...).

Each capability gets a Protocol and named backends (the system adapters issue). This
package holds the named *test* backends, enabled explicitly by the ``test_fixture``
setting and never chosen on their own, and, one package per capability, the real ones:
files, apps, telephony, notifications, screen (``docs/adapters.md``; ``base.py`` has the
registry, ``wiring.py`` the order of preference).
"""
