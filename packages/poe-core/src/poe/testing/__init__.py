"""Test doubles and helpers for programs and components built on poe.

* :class:`FakeClock`: time that moves only when told to, or jumps to the next timer as soon as
  nothing else is ready (``autojump``), so timer tests never sleep.
* :func:`run_until_idle`: run a kernel until its queue and timers are empty.
* :func:`leaks`: what a kernel still holds after a run (POE's ``finalize`` checks).
* :func:`when`: act from inside the kernel once a condition holds (a peer thread is done...).
* :mod:`poe.testing.filters` (``check_filter``), :mod:`poe.testing.tls` (real test
  certificates) and :mod:`poe.testing.pty` (a program on a real pty) for component authors.

The pytest plugin (:mod:`poe.testing.plugin`, registered as the ``poe`` entry point) builds
fixtures on these.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from poe.session import Session

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from poe.kernel import Kernel
    from poe.session import Context

__all__ = ["FakeClock", "leaks", "run_until_idle", "when"]


class FakeClock:
    """A :class:`poe.clock.Clock` whose time moves only by :meth:`advance` or by jumping.

    Args:
        start: the initial wall-clock epoch (monotonic time starts at 0).
        autojump: ``None`` for manual time; a number of real seconds after which, if nothing
            else happened, time jumps to the next due timer. ``0.0`` (the default) jumps at once,
            so a program with only timers runs in no real time at all. Tests that mix timers
            with real sockets use a small positive threshold so I/O gets a chance first.
    """

    def __init__(self, start: float = 1_000_000_000.0, *, autojump: float | None = 0.0) -> None:
        self._mono = 0.0
        self._offset = start
        self._autojump = autojump
        self._target: float | None = None
        self._wakers: list[Callable[[], None]] = []

    def now(self) -> float:
        """Fake monotonic seconds."""
        return self._mono

    def wall(self) -> float:
        """Fake epoch seconds; moves with :meth:`now`."""
        return self._mono + self._offset

    def sleep_time(self, deadline: float) -> float | None:
        """Zero if due; otherwise the autojump threshold (or None: wait to be advanced)."""
        if deadline <= self._mono:
            self._target = None
            return 0.0
        if self._autojump is None:
            self._target = None
            return None
        self._target = deadline
        return self._autojump

    def timer_fired(self) -> None:
        """The loop waited the autojump threshold: jump to the pending deadline."""
        if self._target is not None and self._target > self._mono:
            self._mono = self._target
        self._target = None

    def attach(self, wake: Callable[[], None]) -> None:
        """Remember a kernel to wake when :meth:`advance` moves time."""
        self._wakers.append(wake)

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds`` and wake attached kernels.

        Raises:
            ValueError: ``seconds`` is negative (monotonic time never goes back).
        """
        if seconds < 0:
            msg = "a monotonic clock cannot go back"
            raise ValueError(msg)
        self._mono += seconds
        for wake in self._wakers:
            wake()


def run_until_idle(kernel: Kernel, max_timeslices: int = 1_000_000) -> int:
    """Run timeslices while the kernel has queued events or timers; return how many ran.

    Sessions held only by fds, aliases or refcounts stay alive; use ``kernel.run()`` to run to
    the end instead.

    Raises:
        RuntimeError: ``max_timeslices`` were run and work remains (a runaway loop).
    """
    count = 0
    while kernel.get_event_count() and kernel.run_one_timeslice():
        count += 1
        if count >= max_timeslices:
            msg = f"still busy after {max_timeslices} timeslices"
            raise RuntimeError(msg)
    return count


def leaks(kernel: Kernel) -> list[str]:
    """What ``kernel`` still holds: sessions, aliases, timers, events, watched fds, signals.

    An empty list after ``run()`` returned means every resource of every session was released
    (POE's ``finalize`` leak check).
    """
    found = []
    state = kernel._debug_state()
    for key, value in state.items():
        if value:
            found.append(f"leaked {key}: {value!r}")
    return found


def when(
    kernel: Kernel,
    condition: Callable[[], object],
    action: Callable[[Context], Any],
    *,
    after: float = 0.0,
    interval: float = 0.005,
) -> Session:
    """Run ``action(ctx)`` in a small session of its own once ``condition()`` is true.

    The condition is polled every ``interval`` seconds from a timer, so it may read state that
    another thread sets (a peer thread finished, a flag of a ``threading.Event``...); the
    action then runs in the kernel's thread. ``after`` delays the action by that many seconds
    once the condition holds: never something to assert on, only the time a wrong program
    gets to show it is wrong (accept a connection it should hold back, say).

    Returns:
        The polling session (it ends once the action ran).
    """

    def tick(ctx: Context) -> None:
        if condition():
            ctx.kernel.delay("act", after)
        else:
            ctx.kernel.delay("tick", interval)

    return Session.create(
        kernel,
        inline_states={"_start": tick, "tick": tick, "act": lambda ctx: action(ctx)},
    )
