"""POE's TRACE_* and ASSERT_* switches, read once from the environment.

POE compiles these as constants overridable with ``POE_<NAME>`` environment variables; the port
reads the same variables once, at import, and logs through :mod:`logging` (logger ``"poe"``) so
applications route trace output like any other log. ``TRACE_DEFAULT`` / ``ASSERT_DEFAULT`` set the
default of every switch in their family, as in POE.
"""

from __future__ import annotations

import logging
import os
from typing import Final

__all__ = [
    "ASSERT_USAGE",
    "CATCH_EXCEPTIONS",
    "TRACE_CALLER",
    "TRACE_EVENTS",
    "TRACE_FILES",
    "TRACE_REFCNT",
    "TRACE_SESSIONS",
    "TRACE_SIGNALS",
    "log",
]

log: Final = logging.getLogger("poe")

_TRUE: Final = frozenset({"1", "yes", "on", "true"})


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(f"POE_{name}")
    if raw is None:
        return default
    return raw.strip().strip("'\"").lower() in _TRUE


TRACE_DEFAULT: Final = _flag("TRACE_DEFAULT", False)
TRACE_EVENTS: Final = _flag("TRACE_EVENTS", TRACE_DEFAULT)
TRACE_FILES: Final = _flag("TRACE_FILES", TRACE_DEFAULT)
TRACE_REFCNT: Final = _flag("TRACE_REFCNT", TRACE_DEFAULT)
TRACE_SESSIONS: Final = _flag("TRACE_SESSIONS", TRACE_DEFAULT)
TRACE_SIGNALS: Final = _flag("TRACE_SIGNALS", TRACE_DEFAULT)
#: Record the file and line that created each event (costs a frame lookup per event).
TRACE_CALLER: Final = _flag("TRACE_CALLER", False)

ASSERT_DEFAULT: Final = _flag("ASSERT_DEFAULT", False)
#: Check arguments strictly: reserved event names, calls outside a session.
ASSERT_USAGE: Final = _flag("ASSERT_USAGE", ASSERT_DEFAULT)
#: Warn about events nobody handles (the session option ``default`` per session).
ASSERT_STATES: Final = _flag("ASSERT_STATES", ASSERT_DEFAULT)

#: Turn handler exceptions into DIE signals (POE's default). Off: they end ``run()`` at once.
CATCH_EXCEPTIONS: Final = _flag("CATCH_EXCEPTIONS", True)
