"""agentd: an on-device agent runtime for Linux phones."""

__version__ = "0.1.0"
