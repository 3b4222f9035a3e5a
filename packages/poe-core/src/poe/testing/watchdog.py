"""A time limit for a test's scenario, enforced inside the kernel.

A test that runs a kernel until its sessions are done hangs when a scenario goes wrong (a reply
never comes, a connection never closes). :class:`Watchdog` turns that hang into a failure: it
stops the kernel after a number of seconds unless the scenario called :meth:`Watchdog.done`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from poe.session import Context, Session

if TYPE_CHECKING:
    from poe.kernel import Kernel

__all__ = ["WATCHDOG", "Watchdog"]

WATCHDOG = 10.0
"""Seconds a :class:`Watchdog` gives its scenario by default."""


class Watchdog:
    """Stops the kernel if the scenario has not called :meth:`done` within ``seconds``.

    The watchdog is a session of its own, armed when it starts; :meth:`done` disarms it, so the
    kernel can end by itself once the scenario's sessions are gone.
    """

    def __init__(self, kernel: Kernel, seconds: float = WATCHDOG) -> None:
        self.kernel = kernel
        self.fired = False
        self.session = Session.create(
            kernel,
            inline_states={
                "_start": lambda ctx: ctx.kernel.delay("fire", seconds),
                "fire": self._fire,
                "done": lambda ctx: ctx.kernel.delay("fire"),
            },
        )

    def _fire(self, ctx: Context) -> None:
        self.fired = True
        ctx.kernel.stop()

    def done(self) -> None:
        """Disarm the watchdog (safe to call more than once, and after it fired)."""
        if self.session.alive:
            self.kernel.post(self.session, "done")

    def run(self) -> None:
        """Run the kernel; fail (AssertionError) if the watchdog had to stop it."""
        self.kernel.run()
        assert not self.fired, "the scenario did not finish in time"
