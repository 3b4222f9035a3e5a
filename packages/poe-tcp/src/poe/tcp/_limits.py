"""The limits TCPServer's connections and TCPClient share: default sizes, timeout checks.

POE bounds nothing: a peer that never reads makes the output buffer grow without end, and a
graceful close waits for ever for it to read. Both components bound every connection by the
same defaults, so a client and a server behave alike (issue #11):

* output watermarks (:data:`DEFAULT_HIGH_MARK` / :data:`DEFAULT_LOW_MARK`): the connection's
  input is paused while its output is above the high mark, resumed at the low mark;
* a hard cap (:data:`DEFAULT_MAX_OUTPUT`): past it the output is dropped and the connection
  closed with a ``("write", errno.ENOBUFS, ...)`` error (an ircd's "SendQ exceeded");
* :data:`DEFAULT_SHUTDOWN_TIMEOUT`: how long a graceful close waits for the output to drain.
"""

from __future__ import annotations

from typing import Final

from poe.errors import InvalidArgument

__all__ = [
    "DEFAULT_HIGH_MARK",
    "DEFAULT_LOW_MARK",
    "DEFAULT_MAX_OUTPUT",
    "DEFAULT_SHUTDOWN_TIMEOUT",
    "check_seconds",
    "sweep_period",
]

#: Default output watermarks of a connection: input pauses above the high one.
DEFAULT_HIGH_MARK: Final = 512 * 1024
DEFAULT_LOW_MARK: Final = 128 * 1024
#: Default hard cap of a connection's queued output ("SendQ exceeded").
DEFAULT_MAX_OUTPUT: Final = 16 * 1024 * 1024
#: Default time a graceful close may wait for the peer to take the queued output.
DEFAULT_SHUTDOWN_TIMEOUT: Final = 30.0

#: A timeout is checked every quarter of its length, within these bounds (seconds): late by at
#: most a quarter, and never a timer per record.
SWEEP_MIN: Final = 0.01
SWEEP_MAX: Final = 1.0


def check_seconds(value: object, name: str) -> float | None:
    """``value`` as seconds (a positive number) or None.

    Raises:
        InvalidArgument: anything else (a bool, a string, zero or less).
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        msg = f"{name} must be a positive number of seconds or None, not {value!r}"
        raise InvalidArgument(msg)
    return float(value)


def sweep_period(timeouts: list[float]) -> float:
    """A quarter of the shortest timeout, within ``SWEEP_MIN ... SWEEP_MAX``."""
    return min(max(min(timeouts) / 4, SWEEP_MIN), SWEEP_MAX)
