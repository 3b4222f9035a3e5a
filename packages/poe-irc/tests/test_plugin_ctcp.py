"""The CTCP plugin against a real ngIRCd: another bot and a raw client ask, the plugin answers."""

from __future__ import annotations

import email.utils
import threading
import time
from concurrent.futures import Future
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import pytest

from poe.errors import InvalidArgument
from poe.irc import IRC
from poe.irc.plugins import CTCP
from poe.irc.plugins.ctcp import default_version
from poe.session import Context, Session

if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import AbstractContextManager

    from ircd import NgIRCd, RawClient
    from poe.kernel import Kernel

#: Seconds a test's kernel may run before the test fails.
TIMEOUT = 10.0


class Recorder:
    """A session registered with each component for every event; stops everything when told.

    ``when(test, action)`` runs ``action()`` once, the first time ``test()`` holds (checked
    after every event and every 20 ms). :meth:`finish` shuts every component down.
    """

    def __init__(self, kernel: Kernel, bots: dict[str, IRC]) -> None:
        self.bots = bots
        self.events: dict[str, list[tuple[str, tuple[Any, ...]]]] = {n: [] for n in bots}
        self.waits: list[tuple[Callable[[], bool], Callable[[], None]]] = []
        self.finished = False
        self.timed_out = False
        by_id = {irc.session_id: name for name, irc in bots.items()}

        def start(ctx: Context) -> None:
            for irc in bots.values():
                ctx.kernel.post(irc.session_id, "register", "all")
                irc.yield_("connect")
            ctx.kernel.delay_set("timeout", TIMEOUT)
            ctx.kernel.delay("tick", 0.02)

        def default(ctx: Context, event: str, args: tuple[Any, ...]) -> None:
            name = by_id.get(getattr(ctx.sender, "ID", -1))
            if name is not None:
                self.events[name].append((event, args))
            self._check()

        def tick(ctx: Context) -> None:
            self._check()
            if not self.finished:
                ctx.kernel.delay("tick", 0.02)

        def timeout(ctx: Context) -> None:
            self.timed_out = True
            self.finish()

        Session.create(
            kernel,
            inline_states={"_start": start, "_default": default, "tick": tick, "timeout": timeout},
        )

    def when(self, test: Callable[[], bool], action: Callable[[], None]) -> None:
        self.waits.append((test, action))

    def _check(self) -> None:
        for wait in list(self.waits):
            if wait in self.waits and wait[0]():
                self.waits.remove(wait)
                wait[1]()

    def finish(self) -> None:
        if self.finished:
            return
        self.finished = True
        self.waits.clear()
        for irc in self.bots.values():
            irc.yield_("shutdown", "bye")
            # Called from the recorder's own handlers: these are its tick and timeout.
            irc.kernel.alarm_remove_all()

    def args(self, bot: str, event: str) -> list[tuple[Any, ...]]:
        return [a for n, a in self.events[bot] if n == event]

    def names(self, bot: str) -> list[str]:
        return [n for n, _ in self.events[bot]]


def run(kernel: Kernel, rec: Recorder) -> None:
    kernel.run()
    assert not rec.timed_out, f"timed out; events: { {n: rec.names(n)[-10:] for n in rec.events} }"


def bot(kernel: Kernel, server: NgIRCd, nick: str, **options: Any) -> IRC:
    return IRC(kernel, nick=nick, server=server.host, port=server.port, flood=None, **options)


def replies(rec: Recorder, bot_name: str, command: str) -> list[str]:
    """The text of every CTCP reply ``command`` that ``bot_name`` received."""
    return [a[2] for a in rec.args(bot_name, f"irc_ctcpreply_{command}")]


@pytest.mark.parametrize("eat", [True, False])
def test_ctcp_requests_from_another_bot_are_answered(
    kernel: Kernel, ngircd: NgIRCd, eat: bool
) -> None:
    ctcp = CTCP(version="testbot 1.0", userinfo=None, source="https://example.invalid/bot", eat=eat)
    alice = bot(kernel, ngircd, "alice", plugins={"CTCP": ctcp})
    bob = bot(kernel, ngircd, "bob")
    rec = Recorder(kernel, {"alice": alice, "bob": bob})

    def ask() -> None:
        for request in ("VERSION", "PING 1234567890 42", "TIME", "CLIENTINFO", "USERINFO"):
            bob.yield_("ctcp", "alice", request)
        bob.yield_("ctcp", "alice", "SOURCE")  # the last: its answer ends the test

    rec.when(lambda: bool(rec.args("alice", "irc_001") and rec.args("bob", "irc_001")), ask)
    rec.when(lambda: bool(rec.args("bob", "irc_ctcpreply_source")), rec.finish)
    run(kernel, rec)

    assert replies(rec, "bob", "version") == ["testbot 1.0"]
    assert replies(rec, "bob", "ping") == ["1234567890 42"]
    assert replies(rec, "bob", "source") == ["https://example.invalid/bot"]
    assert replies(rec, "bob", "userinfo") == []  # userinfo=None: not answered
    assert replies(rec, "bob", "clientinfo") == ["ACTION CLIENTINFO PING SOURCE TIME VERSION"]
    (stamp,) = replies(rec, "bob", "time")
    when = email.utils.parsedate_to_datetime(stamp)
    assert when.tzinfo is not None
    assert abs((datetime.now(timezone.utc) - when).total_seconds()) < 60
    # The answers come from alice, in NOTICEs to bob.
    (who, targets, _text, _msg) = rec.args("bob", "irc_ctcpreply_version")[0]
    assert who.startswith("alice!")
    assert targets == ["bob"]

    seen = set(rec.names("alice"))
    answered = {"irc_ctcp_version", "irc_ctcp_ping", "irc_ctcp_time", "irc_ctcp_clientinfo"}
    answered.add("irc_ctcp_source")
    if eat:
        assert not answered & seen
    else:
        assert answered <= seen
    assert "irc_ctcp_userinfo" in seen  # not answered, so never eaten


def test_ctcp_answers_a_raw_client_on_the_wire(
    kernel: Kernel,
    ngircd: NgIRCd,
    raw_client: Callable[..., AbstractContextManager[RawClient]],
) -> None:
    alice = bot(kernel, ngircd, "alice", plugins={"CTCP": CTCP(userinfo="a test bot")})
    rec = Recorder(kernel, {"alice": alice})
    result: Future[list[str]] = Future()

    def ask() -> None:
        with raw_client(ngircd) as client:
            client.register("asker")
            for request in ("PING 99", "VERSION", "USERINFO", "CLIENTINFO", "TIME"):
                client.send(f"PRIVMSG alice :\x01{request}\x01")
            notices = [client.expect("NOTICE") for _ in range(5)]
            result.set_result([m.params[1] for m in notices])

    def spawn() -> None:
        def guarded() -> None:
            try:
                ask()
            except BaseException as exc:  # noqa: BLE001 - handed to the test through the future
                result.set_exception(exc)

        threading.Thread(target=guarded, daemon=True).start()

    rec.when(lambda: bool(rec.args("alice", "irc_001")), spawn)
    rec.when(result.done, rec.finish)
    started = time.monotonic()
    run(kernel, rec)
    texts = result.result(timeout=0)
    assert time.monotonic() - started < TIMEOUT
    assert texts[:4] == [
        "\x01PING 99\x01",
        f"\x01VERSION {default_version()}\x01",
        "\x01USERINFO a test bot\x01",
        "\x01CLIENTINFO ACTION CLIENTINFO PING TIME USERINFO VERSION\x01",
    ]
    assert texts[4].startswith("\x01TIME ")
    assert default_version().startswith("poe-irc 0.")


def test_ctcp_rejects_bad_options() -> None:
    with pytest.raises(InvalidArgument):
        CTCP(version=3)  # type: ignore[arg-type]
