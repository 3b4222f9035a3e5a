"""Helpers for the component tests: a session that records what a component sends it.

Loaded by ``conftest.py`` (pytest's importlib mode keeps test modules from importing siblings)
and offered as the ``recorder`` fixture; test modules import it for types only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from poe.session import Context, Session

if TYPE_CHECKING:
    from collections.abc import Callable

    from poe.irc import IRC
    from poe.kernel import Kernel


class Recorder:
    """A session registered for every event of ``irc``, which it connects at once.

    ``reactions[event] = fn`` runs ``fn(*args)`` when ``event`` arrives (after it is recorded).
    """

    def __init__(self, kernel: Kernel, irc: IRC, *, connect: bool = True) -> None:
        self.events: list[tuple[str, tuple[Any, ...]]] = []
        self.reactions: dict[str, Callable[..., Any]] = {}
        self.irc = irc

        def start(ctx: Context) -> None:
            ctx.kernel.post(irc.session_id, "register", "all")
            if connect:
                irc.yield_("connect")

        def default(ctx: Context, event: str, args: tuple[Any, ...]) -> None:
            self.events.append((event, args))
            reaction = self.reactions.get(event)
            if reaction is not None:
                reaction(*args)

        self.session = Session.create(kernel, inline_states={"_start": start, "_default": default})

    def on(self, event: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator: ``@rec.on("irc_001")`` sets the reaction to an event."""

        def register(function: Callable[..., Any]) -> Callable[..., Any]:
            self.reactions[event] = function
            return function

        return register

    def names(self) -> list[str]:
        """The events received, in order."""
        return [name for name, _ in self.events]

    def args(self, event: str) -> list[tuple[Any, ...]]:
        """The arguments of each ``event`` received, in order."""
        return [args for name, args in self.events if name == event]
