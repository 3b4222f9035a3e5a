"""Helpers for the component tests: a recording session, a conversation with a raw user, and
a scripted raw server.

Loaded by ``conftest.py`` (pytest's importlib mode keeps test modules from importing siblings)
and offered as the ``recorder`` fixture; test modules import it for types only.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, TypeVar

from poe.filter import LineFilter, StreamFilter
from poe.session import Context, Session
from poe.tcp import TCPServer

if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import AbstractContextManager

    from ircd import IRCServer, RawClient
    from poe.irc import IRC
    from poe.kernel import Kernel
    from poe.testing.watchdog import Watchdog

T = TypeVar("T")
TIMEOUT = 10.0
CHANNEL = "#test"


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


def converse(
    kernel: Kernel,
    raw_client: Callable[..., AbstractContextManager[RawClient]],
    server: IRCServer,
    start: Callable[[], None],
    stop: Callable[[], None],
    script: Callable[[RawClient], T],
    *,
    bot: str = "bot",
    setup: Callable[[RawClient], object] | None = None,
    until: Callable[[], bool] | None = None,
) -> T:
    """Run ``script(user)`` (in a thread) once the user is in ``#test`` and the bot has joined.

    ``user`` is a :class:`ircd.RawClient` registered as ``user``, the channel's operator.

    ``setup(user)`` runs after the user created the channel, before the bot comes.
    ``start()`` (connect the bot) runs in the kernel once the user has created the channel;
    ``stop()`` (shut the bot down) once the script has ended and ``until()`` (if given) holds.
    A watchdog stops the kernel after ``TIMEOUT`` seconds and fails the test.
    """
    ready = threading.Event()
    result: Future[T] = Future()

    def user_side() -> None:
        try:
            with raw_client(server) as user:
                user.register("user")
                user.send(f"JOIN {CHANNEL}")
                user.expect("366")
                if setup is not None:
                    setup(user)
                ready.set()
                user.expect(lambda m: m.command == "JOIN" and m.nick == bot)
                result.set_result(script(user))
        except BaseException as exc:  # noqa: BLE001 - handed to the test through the future
            result.set_exception(exc)

    deadline = time.monotonic() + TIMEOUT
    state = {"started": False, "fired": False}

    def poll(ctx: Context) -> None:
        if ready.is_set() and not state["started"]:
            state["started"] = True
            start()
        if result.done() and (result.exception() is not None or until is None or until()):
            stop()
        elif time.monotonic() > deadline:
            state["fired"] = True
            ctx.kernel.stop()
        else:
            ctx.kernel.delay("poll", 0.01)

    threading.Thread(target=user_side, daemon=True).start()
    Session.create(
        kernel, inline_states={"_start": lambda ctx: ctx.kernel.yield_("poll"), "poll": poll}
    )
    kernel.run()
    assert not state["fired"], "the conversation did not end in time"
    return result.result(timeout=1.0)


class RawPeer:
    """A one-connection IRC 'server' whose answers are written by ``script(peer, ctx, line)``."""

    def __init__(self, kernel: Kernel, script: Callable[[RawPeer, Context, str], None]) -> None:
        self.received: list[str] = []
        self._script = script
        self.server = TCPServer(
            kernel,
            address="127.0.0.1",
            port=0,
            client_input=self._input,
            client_input_filter=LineFilter(),
            client_output_filter=StreamFilter(),
        )

    @property
    def port(self) -> int:
        port = self.server.port
        assert port is not None
        return port

    def _input(self, ctx: Context, line: str) -> None:
        self.received.append(line)
        self._script(self, ctx, line)

    @staticmethod
    def send(ctx: Context, *lines: str | bytes) -> None:
        for line in lines:
            data = line if isinstance(line, bytes) else line.encode()
            ctx.heap["client"].put(data + b"\r\n")

    def finisher(self, watchdog: Watchdog) -> Callable[..., None]:
        """A reaction that stops this server and disarms ``watchdog``."""

        def finish(*args: Any) -> None:
            self.server.shutdown()
            watchdog.done()

        return finish

    def run_until_public(self, rec: Recorder, watchdog: Watchdog, text: str) -> None:
        """Run the kernel until ``rec``'s client hears ``text`` in a channel, then shut down.

        The script sends ``text`` after the lines under test: when it arrives, the client
        took every one of them and is still working.
        """

        def public(who: str, where: list[str], said: str, msg: Any) -> None:
            if said == text:
                rec.irc.yield_("shutdown")

        rec.reactions["irc_public"] = public
        rec.reactions["irc_shutdown"] = self.finisher(watchdog)
        watchdog.run()

    def welcome(self, ctx: Context, nick: str) -> None:
        self.send(
            ctx,
            f":raw.test 001 {nick} :Welcome {nick}!u@127.0.0.1",
            f":raw.test 005 {nick} CHANTYPES=# PREFIX=(ov)@+ CASEMAPPING=ascii :are supported",
        )
