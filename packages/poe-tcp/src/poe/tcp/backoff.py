"""Exponential backoff with jitter and a cap, for reconnecting clients.

A sans-I/O helper: it computes delays and never sleeps or reads a clock; the caller arms the
timer. Typical use with :class:`~poe.tcp.TCPClient`::

    backoff = Backoff(initial=0.5, maximum=30.0)


    def connect_error(ctx, operation, errnum, errstr):
        ctx.kernel.delay("reconnect", backoff.next())


    def connected(ctx, sock, address, port):
        backoff.reset()

The n-th delay (n counting from 0 since the last :meth:`Backoff.reset`) is
``min(maximum, initial * factor**n)``, then multiplied by a random factor in
``[1 - jitter, 1 + jitter]`` and capped at ``maximum`` again. Jitter spreads the reconnects of
many clients that lost the same server, so they do not all come back at the same instant.
"""

from __future__ import annotations

import random
from typing import Final

from poe.errors import InvalidArgument

__all__ = ["Backoff"]

_SYSTEM_RANDOM: Final = random.Random()


def _number(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        msg = f"Backoff: {name} must be a number, not {value!r}"
        raise InvalidArgument(msg)
    return float(value)


class Backoff:
    """Delays that grow geometrically from ``initial`` to ``maximum``, with optional jitter.

    Args:
        initial: the first delay, in seconds (``>= 0``).
        maximum: the cap, in seconds (``>= initial``); no delay is ever longer.
        factor: the growth per attempt (``>= 1``).
        jitter: the random spread as a fraction of the delay (``0 <= jitter <= 1``); 0 makes
            the delays deterministic.
        rng: the random source for the jitter (e.g. ``random.Random(42)`` for reproducible
            delays); default: a module-wide :class:`random.Random`.

    Raises:
        InvalidArgument: an argument out of its range.
    """

    __slots__ = ("_attempts", "_next_base", "factor", "initial", "jitter", "maximum", "rng")

    def __init__(
        self,
        initial: float = 0.5,
        maximum: float = 30.0,
        factor: float = 2.0,
        jitter: float = 0.1,
        *,
        rng: random.Random | None = None,
    ) -> None:
        self.initial: Final = _number(initial, "initial")
        self.maximum: Final = _number(maximum, "maximum")
        self.factor: Final = _number(factor, "factor")
        self.jitter: Final = _number(jitter, "jitter")
        if not 0 <= self.initial <= self.maximum:
            msg = f"Backoff needs 0 <= initial <= maximum, got {initial!r} and {maximum!r}"
            raise InvalidArgument(msg)
        if not self.factor >= 1:
            msg = f"Backoff: factor must be at least 1, not {factor!r}"
            raise InvalidArgument(msg)
        if not 0 <= self.jitter <= 1:
            msg = f"Backoff: jitter must be between 0 and 1, not {jitter!r}"
            raise InvalidArgument(msg)
        given: object = rng  # checked at run time: callers may not be type-checked
        if given is not None and not isinstance(given, random.Random):
            msg = f"Backoff: rng must be a random.Random, not {given!r}"
            raise InvalidArgument(msg)
        self.rng: Final = rng if rng is not None else _SYSTEM_RANDOM
        self._attempts = 0
        self._next_base = self.initial

    def __repr__(self) -> str:
        return (
            f"Backoff(initial={self.initial}, maximum={self.maximum}, factor={self.factor}, "
            f"jitter={self.jitter}, attempts={self._attempts})"
        )

    @property
    def attempts(self) -> int:
        """How many delays :meth:`next` has given since the last :meth:`reset`."""
        return self._attempts

    def next(self) -> float:
        """The next delay in seconds, and count one more attempt."""
        base = self._next_base
        self._attempts += 1
        # Grown step by step and clamped, so a long outage never overflows a float.
        self._next_base = min(self.maximum, base * self.factor)
        if not self.jitter:
            return base
        return min(self.maximum, base * (1.0 + self.rng.uniform(-self.jitter, self.jitter)))

    def reset(self) -> None:
        """Start again from ``initial`` (after a successful connection)."""
        self._attempts = 0
        self._next_base = self.initial
