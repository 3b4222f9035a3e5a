"""Flood control: the penalty clock ircds apply to clients, kept on our side (sans I/O).

IRC servers (ircu, hybrid, ratbox, ngircd, ...) charge each line a penalty in seconds and
stop reading, or disconnect with "Excess Flood", once a client's penalty runs too far ahead
of the clock. :class:`FloodControl` keeps the same account for the lines we send, so a queue
that asks it before each line can never be the one that gets kicked.

The default is POE::Component::IRC's: each line costs ``2 + len/120`` seconds, and lines go
out while the account is at most 10 seconds ahead of now. A fresh connection may burst about
four or five typical lines; then one line every two or three seconds.
"""

from __future__ import annotations

__all__ = ["FloodControl"]


class FloodControl:
    """A token bucket measured in seconds of server-side penalty.

    Args:
        burst: how far (seconds) the penalty may run ahead of now; the bucket's capacity.
        penalty: the fixed cost of a line, in seconds.
        bytes_per_second: the bytes of a line that cost one more second.

    The clock is the caller's (``now`` arguments, any monotonic seconds), so the bucket is
    deterministic and testable.

    Raises:
        ValueError: a negative ``burst`` or ``penalty``, or a ``bytes_per_second`` that is not
            positive.
    """

    __slots__ = ("_ahead", "burst", "bytes_per_second", "penalty")

    def __init__(
        self, *, burst: float = 10.0, penalty: float = 2.0, bytes_per_second: float = 120.0
    ) -> None:
        if burst < 0 or penalty < 0:
            msg = f"burst and penalty must not be negative (burst={burst}, penalty={penalty})"
            raise ValueError(msg)
        if bytes_per_second <= 0:
            msg = f"bytes_per_second must be positive, not {bytes_per_second}"
            raise ValueError(msg)
        self.burst = float(burst)
        self.penalty = float(penalty)
        self.bytes_per_second = float(bytes_per_second)
        self._ahead = float("-inf")  # the time the account is paid up to

    def cost(self, nbytes: int) -> float:
        """The penalty, in seconds, of a line of ``nbytes`` bytes (CR LF included)."""
        return self.penalty + nbytes / self.bytes_per_second

    def wait(self, now: float) -> float:
        """Seconds until the next line may be sent: 0.0 when it may go now."""
        return max(0.0, self._ahead - now - self.burst)

    def spend(self, now: float, nbytes: int) -> None:
        """Charge a line of ``nbytes`` bytes that is being sent at ``now``."""
        self._ahead = max(self._ahead, now) + self.cost(nbytes)

    def reset(self) -> None:
        """Forget every charge (a new connection starts with a full bucket)."""
        self._ahead = float("-inf")
