"""Named errors, each with a D-Bus error name and a message a person can act on.

Errors are named by who is at fault: ``InvalidRequest``/``InvalidArguments`` are the
caller's, ``Unavailable``/``ModelUnavailable`` are this machine's, ``Busy`` is
temporary. The D-Bus layer turns every ``AgentError`` into the matching
``io.agentd.Error.*`` reply in one place (``agentd.bus.errors``).
"""

from __future__ import annotations

ERROR_PREFIX = "io.agentd.Error."


class AgentError(Exception):
    """Base of every error agentd reports to a caller."""

    name = "Failed"

    @property
    def dbus_name(self) -> str:
        return ERROR_PREFIX + self.name

    @property
    def message(self) -> str:
        return str(self)


class InvalidRequest(AgentError):
    """The request itself is malformed: empty, too long, binary, wrong types."""

    name = "InvalidRequest"


class InvalidArguments(InvalidRequest):
    """A tool was called with arguments that do not match its declaration."""

    name = "InvalidArguments"


class Ambiguous(InvalidRequest):
    """The request names several things where it needs one (two contacts called Sam)."""


class Busy(AgentError):
    """Too many tasks are in flight; try again when some finish."""

    name = "Busy"


class PermissionDenied(AgentError):
    """The caller may not do this (another user's task, a path outside the allowed folders)."""

    name = "PermissionDenied"


class NotFound(AgentError):
    """A task, timer, app or file the caller named does not exist."""

    name = "NotFound"


class Unavailable(AgentError):
    """The backend a tool needs is missing on this machine."""

    name = "Unavailable"


class ModelUnavailable(AgentError):
    """No usable language model is installed or it failed to load."""

    name = "ModelUnavailable"


class InvalidState(AgentError):
    """The task is not in a state where this makes sense (e.g. confirming a finished task)."""

    name = "InvalidState"


ALL_ERRORS: tuple[type[AgentError], ...] = (
    AgentError,
    InvalidRequest,
    InvalidArguments,
    Busy,
    PermissionDenied,
    NotFound,
    Unavailable,
    ModelUnavailable,
    InvalidState,
)
