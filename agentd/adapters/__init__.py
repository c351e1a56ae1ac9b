"""Adapters: the phone's capabilities (screen, input, notifications, files, telephony...).

Each capability gets a Protocol and named backends (the system adapters issue). This
package holds the real ones, one package per capability: files, apps, telephony,
notifications, screen, ... (``docs/adapters.md``; ``base.py`` has the registry,
``wiring.py`` the order of preference). The named *test* backends live outside the
product, in ``testing/`` (see ``agentd.testing``).
"""
