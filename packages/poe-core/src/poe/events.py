"""Names POE reserves for its own events and signals, and the signal classes.

Port of the ``EN_*`` constants of POE::Kernel and of POE::Resource::Signals' type table
(POE 1.370).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Final

__all__ = [
    "CHILD",
    "DEFAULT",
    "PARENT",
    "RESERVED_EVENTS",
    "START",
    "STOP",
    "DieInfo",
    "SignalClass",
    "signal_class",
]

START: Final = "_start"
STOP: Final = "_stop"
PARENT: Final = "_parent"
CHILD: Final = "_child"
DEFAULT: Final = "_default"
SIGNAL: Final = "_signal"

#: Event names a user program should not post itself.
RESERVED_EVENTS: Final = frozenset({START, STOP, PARENT, CHILD, SIGNAL})


class SignalClass(enum.Enum):
    """How a signal affects the sessions it touches."""

    #: Information only; never stops a session.
    BENIGN = "benign"
    #: Stops every touched session unless one of them calls ``sig_handled()``.
    TERMINAL = "terminal"
    #: Stops every touched session, handled or not.
    NONMASKABLE = "nonmaskable"


_TERMINAL: Final = frozenset({"QUIT", "INT", "KILL", "TERM", "HUP", "IDLE", "DIE"})
_NONMASKABLE: Final = frozenset({"ZOMBIE", "UIDESTROY"})


def signal_class(name: str) -> SignalClass:
    """Classify a signal by name, as POE 1.370's code does (``KILL`` is terminal there too)."""
    if name in _TERMINAL:
        return SignalClass.TERMINAL
    if name in _NONMASKABLE:
        return SignalClass.NONMASKABLE
    return SignalClass.BENIGN


@dataclass(frozen=True, slots=True)
class DieInfo:
    """What a ``DIE`` signal carries (POE's exception hash, ``ARG1`` of the DIE handler).

    Attributes:
        error: the exception the handler raised.
        error_str: ``"ExceptionType: message"`` (POE's ``error_str``).
        dest_session: the session whose handler raised.
        event: the event it was handling.
        source_session: the sender of that event.
        from_state: the event that was being handled when that event was created.
        file: where the exception was raised.
        line: the line there.
    """

    error: BaseException
    error_str: str
    dest_session: Any
    event: str
    source_session: Any
    from_state: str | None
    file: str | None
    line: int | None
