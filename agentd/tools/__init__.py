"""Tools: one declaration each (``catalogue``), implementations in ``builtin``."""
