"""Adapters: the phone's capabilities (screen, input, notifications, files, telephony...).

Each capability gets a Protocol and named backends (the system adapters issue). This
package holds, so far, only the named *test* backends, enabled explicitly by the
``test_fixture`` setting and never chosen on their own.
"""
