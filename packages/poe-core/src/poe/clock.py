"""Where the kernel reads time.

The kernel orders its queue by a monotonic clock and converts to wall-clock epochs only at the API
edge (``alarm`` takes an epoch, ``delay`` takes seconds). A clock is injectable so that tests
never sleep: :class:`poe.testing.FakeClock` implements the same protocol.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["Clock", "MonotonicClock"]


class Clock(Protocol):
    """The kernel's source of time."""

    def now(self) -> float:
        """Monotonic seconds; the queue's priority scale."""

    def wall(self) -> float:
        """Wall-clock seconds since the epoch (``time.time()`` scale)."""

    def sleep_time(self, deadline: float) -> float | None:
        """Real seconds the loop should wait for ``deadline`` (``None``: until woken)."""

    def timer_fired(self) -> None:
        """The loop's timer fired; a fake clock may jump forward here."""

    def attach(self, wake: Callable[[], None]) -> None:
        """Register a callback to run when time moves by other means than waiting."""


class MonotonicClock:
    """The real clock: ``time.monotonic`` for ordering, ``time.time`` for epochs."""

    now = staticmethod(time.monotonic)
    wall = staticmethod(time.time)

    def sleep_time(self, deadline: float) -> float | None:
        """Seconds until ``deadline``, never negative."""
        delay = deadline - time.monotonic()
        return delay if delay > 0.0 else 0.0

    def timer_fired(self) -> None:
        """Nothing to do: real time moves by itself."""

    def attach(self, wake: Callable[[], None]) -> None:
        """Nothing to do: real time never jumps."""
