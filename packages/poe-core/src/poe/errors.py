"""Exceptions raised by the kernel where POE returns an error code.

POE reports failures through return values and Perl's ``$!``. The port raises instead; each
exception class carries the POE errno it replaces as ``.errno`` so POE's documentation stays a
usable map (``ESRCH`` -> :class:`SessionNotFound`, and so on).
"""

from __future__ import annotations

import errno as _errno
from typing import ClassVar

__all__ = [
    "AliasInUse",
    "InvalidArgument",
    "NotInSession",
    "NotPermitted",
    "PoeError",
    "SessionNotFound",
    "TimerNotFound",
    "UnhandledEvent",
]


class PoeError(Exception):
    """Base class of every error the kernel raises on purpose."""

    errno: ClassVar[int] = 0


class SessionNotFound(PoeError, LookupError):
    """A destination did not resolve to a live session (POE: ``ESRCH``)."""

    errno = _errno.ESRCH


class TimerNotFound(PoeError, LookupError):
    """An alarm id names no pending timer (POE: ``ESRCH``)."""

    errno = _errno.ESRCH


class AliasInUse(PoeError):
    """The alias already belongs to another session (POE: ``EEXIST``)."""

    errno = _errno.EEXIST


class NotPermitted(PoeError):
    """The resource belongs to another session, or the move is not allowed (POE: ``EPERM``)."""

    errno = _errno.EPERM


class InvalidArgument(PoeError, ValueError):
    """A required argument is missing or malformed (POE: ``EINVAL``)."""

    errno = _errno.EINVAL


class NotInSession(PoeError):
    """A session-relative call was made while no session is active (POE: ``ASSERT_USAGE``)."""

    errno = _errno.ESRCH


class UnhandledEvent(PoeError, LookupError):
    """A state machine got an event it cannot handle in its current state (POE::NFA dies).

    Neither the current state, nor a handler added with ``kernel.state()``, nor the current
    state's ``_default`` handles it. The kernel turns the error into a ``DIE`` signal.
    """

    errno = _errno.ENOSYS
