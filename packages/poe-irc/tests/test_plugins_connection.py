"""Connector, AutoJoin and NickReclaim against a real ngIRCd, several components in one kernel.

Each test is a :class:`Scenario`: a list of steps, each a condition and an action. One session
registered with every component records their events; a step's action runs as soon as its
condition holds (checked on every event and every 20 ms), then the next step waits. A scenario
that does not finish within its timeout fails with the step it was stuck at, instead of hanging.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import socket
import time
from typing import TYPE_CHECKING, Any

import pytest

from poe.errors import InvalidArgument
from poe.irc import IRC
from poe.irc.plugins import CTCP, AutoJoin, Connector, NickReclaim
from poe.session import Context, Session
from poe.tcp import Backoff

if TYPE_CHECKING:
    from collections.abc import Callable

    from ircd import NgIRCd
    from poe.kernel import Kernel

#: Seconds a scenario may take before it fails.
TIMEOUT = 15.0
TICK = 0.02


class Scenario:
    """Run ``steps`` against components; every component is shut down at the end.

    Args:
        kernel: the test's kernel.
        bots: the components by name; the scenario session registers with each for all events.
        timeout: seconds before the scenario fails.
    """

    def __init__(self, kernel: Kernel, bots: dict[str, IRC], timeout: float = TIMEOUT) -> None:
        self.kernel = kernel
        self.bots = bots
        self.timeout = timeout
        #: every event each component sent: (monotonic time, name, args)
        self.events: dict[str, list[tuple[float, str, tuple[Any, ...]]]] = {n: [] for n in bots}
        self.steps: list[tuple[str, Callable[[], bool], tuple[Callable[[], object], ...]]] = []
        self.current = 0
        self.marks: dict[str, int] = {}
        self.finished = False
        self.timed_out = False
        self._by_session = {irc.session_id: name for name, irc in bots.items()}

    def step(
        self, what: str, condition: Callable[[], bool], *actions: Callable[[], object]
    ) -> None:
        """Add a step: when ``condition()`` holds, run the ``actions``, in order."""
        self.steps.append((what, condition, actions))

    # -- conditions -----------------------------------------------------------------------

    def since(self, bot: str) -> list[tuple[str, tuple[Any, ...]]]:
        """The events ``bot`` sent since the current step began."""
        return [(n, a) for _, n, a in self.events[bot][self.marks.get(bot, 0) :]]

    def saw(self, bot: str, event: str, test: Callable[..., bool] | None = None) -> int:
        """How many ``event``s (whose args pass ``test``) ``bot`` sent in the current step."""
        return sum(1 for n, a in self.since(bot) if n == event and (test is None or test(*a)))

    def all(self, bot: str, event: str) -> list[tuple[Any, ...]]:
        """The args of every ``event`` ``bot`` ever sent."""
        return [a for _, n, a in self.events[bot] if n == event]

    def times(self, bot: str, event: str) -> list[float]:
        """When ``bot`` sent each ``event``."""
        return [t for t, n, _ in self.events[bot] if n == event]

    # -- running --------------------------------------------------------------------------

    def run(self) -> None:
        """Run the kernel until the scenario ends; fail with the stuck step on timeout."""
        Session.create(
            self.kernel,
            inline_states={
                "_start": self._start,
                "_default": self._event,
                "tick": self._tick,
                "timeout": self._timeout,
                "hard_stop": lambda ctx: ctx.kernel.stop(),
            },
        )
        self.kernel.run()
        if self.timed_out:
            what = self.steps[self.current][0] if self.current < len(self.steps) else "shutdown"
            recent = {n: [e[1] for e in evs[-12:]] for n, evs in self.events.items()}
            pytest.fail(f"scenario stuck at step {self.current} ({what}); recent: {recent}")
        assert self.finished

    def _start(self, ctx: Context) -> None:
        for irc in self.bots.values():
            ctx.kernel.post(irc.session_id, "register", "all")
        ctx.kernel.delay_set("timeout", self.timeout)
        ctx.kernel.delay("tick", TICK)

    def _event(self, ctx: Context, event: str, args: tuple[Any, ...]) -> None:
        name = self._by_session.get(getattr(ctx.sender, "ID", -1))
        if name is not None:
            self.events[name].append((time.monotonic(), event, args))
        self._advance(ctx)

    def _tick(self, ctx: Context) -> None:
        self._advance(ctx)
        if not self.finished and not self.timed_out:
            ctx.kernel.delay("tick", TICK)

    def _advance(self, ctx: Context) -> None:
        while not self.finished and not self.timed_out and self.current < len(self.steps):
            _, condition, actions = self.steps[self.current]
            if not condition():
                return
            self.current += 1
            self.marks = {n: len(evs) for n, evs in self.events.items()}
            for action in actions:
                action()
        if self.current >= len(self.steps) and not self.finished and not self.timed_out:
            self.finished = True
            self._end(ctx)

    def _end(self, ctx: Context) -> None:
        ctx.kernel.alarm_remove_all()
        ctx.kernel.delay("tick")
        for irc in self.bots.values():
            irc.yield_("shutdown", "bye")

    def _timeout(self, ctx: Context) -> None:
        self.timed_out = True
        self._end(ctx)
        ctx.kernel.delay_set("hard_stop", 5.0)  # a component that will not go: stop anyway


def bot(kernel: Kernel, server: NgIRCd, nick: str, **options: Any) -> IRC:
    """A component for ``server`` with no flood control (ngIRCd's penalties are off)."""
    return IRC(kernel, nick=nick, server=server.host, port=server.port, flood=None, **options)


def nick_of(who: object) -> str:
    return str(who).split("!", 1)[0]


def joined(nick: str, channel: str) -> Callable[..., bool]:
    """A test for ``irc_join`` events: ``nick`` joined ``channel``."""
    return lambda who, chan, *rest: nick_of(who) == nick and chan.lower() == channel.lower()


def always() -> bool:
    return True


# -- Connector -----------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["stop", "kill"])
def test_bot_survives_a_server_restart(kernel: Kernel, ngircd: NgIRCd, how: str) -> None:
    """The server goes away (SIGTERM: ERROR then close; SIGKILL: the socket just ends)."""
    connector = Connector(delay=5.0, backoff=Backoff(initial=0.1, maximum=0.4, jitter=0.1))
    alice = bot(
        kernel,
        ngircd,
        "alice",
        plugins={"Connector": connector, "AutoJoin": AutoJoin(["#poe"])},
    )
    bob = bot(kernel, ngircd, "bob")
    s = Scenario(kernel, {"alice": alice, "bob": bob})
    stopped_at: list[float] = []
    attempts: list[int] = []
    s.step("connect", always, lambda: alice.yield_("connect"), lambda: bob.yield_("connect"))
    s.step(
        "alice joined #poe, bob registered",
        lambda: (
            s.saw("alice", "irc_join", joined("alice", "#poe")) > 0
            and bool(s.all("bob", "irc_001"))
        ),
        lambda: stopped_at.append(time.monotonic()),
        getattr(ngircd, how),
    )
    # The server is gone: every attempt is refused, each one after a longer wait.
    s.step(
        "alice retries with backoff",
        lambda: s.saw("alice", "irc_socketerr") >= 3 and s.saw("bob", "irc_disconnected") > 0,
        ngircd.start,
    )
    s.step(
        "alice is back in #poe",
        lambda: s.saw("alice", "irc_join", joined("alice", "#poe")) > 0,
        lambda: bob.yield_("connect"),
    )
    s.step("bob is back", lambda: s.saw("bob", "irc_001") > 0, lambda: bob.yield_("join", "#poe"))
    s.step(
        "bob joined",
        lambda: s.saw("bob", "irc_join", joined("bob", "#poe")) > 0,
        lambda: bob.yield_("privmsg", "#poe", "welcome back, alice"),
    )
    s.step(
        "alice hears bob",
        lambda: (
            s.saw("alice", "irc_public", lambda w, t, text, m: text == "welcome back, alice") > 0
        ),
        lambda: attempts.append(connector.backoff.attempts),
    )
    s.run()

    assert len(s.all("alice", "irc_001")) == 2
    assert attempts == [0]  # reset by the second 001
    # Delays 0.1, 0.2, 0.4, 0.4 (+-10 %): the attempts spread out instead of hammering.
    errors = [t for t in s.times("alice", "irc_socketerr") if t > stopped_at[0]]
    gaps = [b - a for a, b in itertools.pairwise(errors)]
    assert gaps[0] > 0.15, gaps
    assert gaps[1] > 0.3, gaps


def test_lag_is_measured_and_a_silent_server_is_dropped(kernel: Kernel, ngircd: NgIRCd) -> None:
    connector = Connector(delay=0.2, backoff=Backoff(initial=0.1, maximum=0.2))
    alice = bot(kernel, ngircd, "alice", plugins={"Connector": connector})
    s = Scenario(kernel, {"alice": alice})
    assert ngircd.proc is not None
    pid = ngircd.proc.pid

    def freeze() -> None:
        os.kill(pid, signal.SIGSTOP)

    def thaw() -> None:
        os.kill(pid, signal.SIGCONT)

    s.step("connect", always, lambda: alice.yield_("connect"))
    s.step("lag measured", lambda: connector.lag() is not None, freeze)
    # The server still holds the TCP connection but answers nothing: two checks later the
    # Connector gives up on it (the server never closed anything).
    s.step("dead link dropped", lambda: s.saw("alice", "irc_disconnected") > 0, thaw)
    s.step("back", lambda: s.saw("alice", "irc_001") > 0)
    try:
        s.run()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)
    lag = connector.lag()
    assert lag is not None
    assert 0 <= lag < 1.0


def test_connector_rotates_through_servers(kernel: Kernel, ngircd: NgIRCd) -> None:
    # The first server refuses connections (nothing listens there); the second is ngIRCd.
    dead = _free_port()
    connector = Connector(
        delay=5.0,
        backoff=Backoff(initial=0.05, maximum=0.1),
        servers=[("127.0.0.1", dead), (ngircd.host, ngircd.port, {"password": None})],
    )
    alice = IRC(kernel, nick="alice", port=dead, flood=None, plugins={"Connector": connector})
    s = Scenario(kernel, {"alice": alice})
    s.step("connect to the dead server", always, lambda: alice.yield_("connect"))
    s.step("registered on the second one", lambda: s.saw("alice", "irc_001") > 0)
    s.run()
    errors = s.all("alice", "irc_socketerr")
    assert len(errors) in (1, 2)  # the first try, and maybe the dead server again
    assert alice.options["port"] == ngircd.port


def test_no_reconnect_after_shutdown(
    kernel: Kernel, ngircd: NgIRCd, caplog: pytest.LogCaptureFixture
) -> None:
    connector = Connector(delay=5.0, backoff=Backoff(initial=0.05, maximum=0.05))
    alice = bot(kernel, ngircd, "alice", plugins={"Connector": connector})
    s = Scenario(kernel, {"alice": alice})
    s.step("connect", always, lambda: alice.yield_("connect"))
    s.step("registered", lambda: s.saw("alice", "irc_001") > 0)
    with caplog.at_level("WARNING", logger="poe.irc"):
        s.run()  # the scenario ends with shutdown, which closes the link: no reconnect follows
    assert "connect after shutdown" not in caplog.text
    assert len(s.all("alice", "irc_connected")) == 1
    assert alice.plugin_list() == []
    assert connector._reconnect_timer is None


def test_connector_reconnects_after_a_plain_quit(kernel: Kernel, ngircd: NgIRCd) -> None:
    connector = Connector(delay=5.0, backoff=Backoff(initial=0.05, maximum=0.05))
    alice = bot(kernel, ngircd, "alice", plugins={"Connector": connector})
    s = Scenario(kernel, {"alice": alice})
    s.step("connect", always, lambda: alice.yield_("connect"))
    s.step("registered", lambda: s.saw("alice", "irc_001") > 0, lambda: alice.yield_("quit"))
    s.step("back after quit (as PoCo)", lambda: s.saw("alice", "irc_001") > 0)
    s.run()
    assert len(s.all("alice", "irc_001")) == 2


def test_connector_rejects_bad_options() -> None:
    with pytest.raises(InvalidArgument):
        Connector(delay=0)
    with pytest.raises(InvalidArgument):
        Connector(reconnect=10, backoff=Backoff())
    with pytest.raises(InvalidArgument):
        Connector(servers=[("host",)])  # type: ignore[list-item]


# -- AutoJoin ------------------------------------------------------------------------------------


@pytest.mark.parametrize("rejoin", [True, False])
def test_autojoin_after_a_kick(kernel: Kernel, ngircd: NgIRCd, rejoin: bool) -> None:
    autojoin = AutoJoin(["#kick"], rejoin_on_kick=rejoin, rejoin_delay=0.2)
    alice = bot(kernel, ngircd, "alice", plugins={"AutoJoin": autojoin})
    op = bot(kernel, ngircd, "op")
    s = Scenario(kernel, {"alice": alice, "op": op})
    kicked_at: list[float] = []
    s.step("op connects", always, lambda: op.yield_("connect"))
    s.step(
        "op creates #kick", lambda: s.saw("op", "irc_001") > 0, lambda: op.yield_("join", "#kick")
    )
    s.step(
        "alice connects",
        lambda: s.saw("op", "irc_join", joined("op", "#kick")) > 0,
        lambda: alice.yield_("connect"),
    )
    s.step(
        "alice autojoined",
        lambda: s.saw("op", "irc_join", joined("alice", "#kick")) > 0,
        lambda: kicked_at.append(time.monotonic()),
        lambda: op.yield_("kick", "#kick", "alice", "out"),
    )
    if rejoin:
        s.step(
            "alice rejoined",
            lambda: s.saw("op", "irc_join", joined("alice", "#kick")) > 0,
        )
    else:
        s.step("alice kicked", lambda: s.saw("alice", "irc_kick") > 0)
        # Give a wrong rejoin every chance to show up before the scenario ends.
        s.step("nothing more", lambda: time.monotonic() - kicked_at[0] > 0.5)
    s.run()

    alice_joins = [t for t, n, a in s.events["op"] if n == "irc_join" and nick_of(a[0]) == "alice"]
    if rejoin:
        assert len(alice_joins) == 2
        assert alice_joins[1] - kicked_at[0] >= 0.19  # rejoin_delay
        assert autojoin.channels == {"#kick": None}
    else:
        assert len(alice_joins) == 1
        assert autojoin.channels == {}


def test_autojoin_follows_joins_parts_and_keys(kernel: Kernel, ngircd: NgIRCd) -> None:
    autojoin = AutoJoin({"#a": None, "#c": ""})
    alice = bot(kernel, ngircd, "alice", plugins={"AutoJoin": autojoin})
    op = bot(kernel, ngircd, "op")
    s = Scenario(kernel, {"alice": alice, "op": op})
    s.step("op connects", always, lambda: op.yield_("connect"))
    s.step("op creates #b", lambda: s.saw("op", "irc_001") > 0, lambda: op.yield_("join", "#b"))
    s.step(
        "op sets a key on #b",
        lambda: s.saw("op", "irc_join", joined("op", "#b")) > 0,
        lambda: op.yield_("mode", "#b", "+k", "first"),
    )
    s.step("alice connects", lambda: s.saw("op", "irc_mode") > 0, lambda: alice.yield_("connect"))
    s.step(
        "alice in #a and #c; joins #b with its key",
        lambda: s.saw("alice", "irc_join", joined("alice", "#c")) > 0,
        lambda: alice.yield_("join", "#b", "first"),
    )
    s.step(
        "alice in #b; parts #a; op changes the key",
        lambda: s.saw("alice", "irc_join", joined("alice", "#b")) > 0,
        lambda: alice.yield_("part", "#a"),  # the command: forgotten at once
        lambda: alice.yield_("quote", "PART #c"),  # behind its back: forgotten on irc_part
        lambda: op.yield_("mode", "#b", "-k+lo", "first", "10", "alice"),
        lambda: op.yield_("mode", "#b", "+k", "second"),
    )
    s.step(
        "alice saw the new key",
        lambda: autojoin.channels == {"#b": "second"},
        lambda: alice.yield_("connect"),  # reconnect at once: drops the connection first
    )
    s.step(
        "alice back in #b with the new key",
        lambda: s.saw("alice", "irc_join", joined("alice", "#b")) > 0,
    )
    s.run()

    assert len(s.all("alice", "irc_001")) == 2
    rejoined = [a[1] for a in s.all("alice", "irc_join") if nick_of(a[0]) == "alice"]
    assert rejoined == ["#a", "#c", "#b", "#b"]  # #a and #c not joined again
    assert "irc_475" not in [n for _, n, _ in s.events["alice"]]


def test_autojoin_retries_when_banned_only_if_asked(kernel: Kernel, ngircd: NgIRCd) -> None:
    patient = AutoJoin(["#ban"], retry_on_ban=True, retry_delay=0.1)
    alice = bot(kernel, ngircd, "alice", plugins={"AutoJoin": patient})
    impatient = AutoJoin(["#ban"], retry_delay=0.1)  # but no retry_on_ban
    carol = bot(kernel, ngircd, "carol", plugins={"AutoJoin": impatient})
    op = bot(kernel, ngircd, "op")
    s = Scenario(kernel, {"alice": alice, "carol": carol, "op": op})
    s.step("op connects", always, lambda: op.yield_("connect"))
    s.step("op creates #ban", lambda: s.saw("op", "irc_001") > 0, lambda: op.yield_("join", "#ban"))
    s.step(
        "op bans everyone but itself",
        lambda: s.saw("op", "irc_join", joined("op", "#ban")) > 0,
        lambda: op.yield_("mode", "#ban", "+b", "*!*@*"),
    )
    s.step(
        "alice and carol connect",
        lambda: s.saw("op", "irc_mode") > 0,
        lambda: alice.yield_("connect"),
        lambda: carol.yield_("connect"),
    )
    s.step(
        "alice refused 3 times, carol once",
        lambda: s.saw("alice", "irc_474") >= 3 and s.saw("carol", "irc_474") >= 1,
        lambda: op.yield_("mode", "#ban", "-b", "*!*@*"),
    )
    s.step(
        "alice gets in",
        lambda: s.saw("op", "irc_join", joined("alice", "#ban")) > 0,
    )
    s.run()
    assert len(s.all("carol", "irc_474")) == 1
    assert not [a for a in s.all("op", "irc_join") if nick_of(a[0]) == "carol"]


# -- NickReclaim ---------------------------------------------------------------------------------


def test_nick_collision_then_reclaim_when_the_holder_quits(kernel: Kernel, ngircd: NgIRCd) -> None:
    reclaim = NickReclaim(poll=30.0)  # long: the reclaim must come from the holder's QUIT
    me = bot(kernel, ngircd, "bob", plugins={"NickReclaim": reclaim, "AutoJoin": AutoJoin(["#nr"])})
    holder = bot(kernel, ngircd, "bob")
    s = Scenario(kernel, {"me": me, "holder": holder})
    registered_as: list[str] = []
    s.step("holder connects", always, lambda: holder.yield_("connect"))
    s.step(
        "holder joins #nr",
        lambda: s.saw("holder", "irc_001") > 0,
        lambda: holder.yield_("join", "#nr"),
    )
    s.step(
        "the bot connects",
        lambda: s.saw("holder", "irc_join", joined("bob", "#nr")) > 0,
        lambda: me.yield_("connect"),
    )
    s.step(
        "registered as bob_, shares #nr with the holder",
        lambda: s.saw("me", "irc_join", joined("bob_", "#nr")) > 0,
        lambda: registered_as.append(me.nick_name()),
        lambda: holder.yield_("quit", "take it"),
    )
    s.step("reclaimed", lambda: me.nick_name() == "bob")
    s.run()
    assert registered_as == ["bob_"]
    assert len(s.all("me", "irc_433")) == 1  # the registration one, passed on to sessions
    assert reclaim.wanted == "bob"


def test_nick_reclaim_polls_and_eats_its_own_433(kernel: Kernel, ngircd: NgIRCd) -> None:
    me = bot(kernel, ngircd, "dave", raw=True, plugins={"NickReclaim": NickReclaim(poll=0.1)})
    holder = bot(kernel, ngircd, "dave")
    s = Scenario(kernel, {"me": me, "holder": holder})

    def attempts() -> int:
        return s.saw("me", "irc_raw_out", lambda line, m: line == "NICK dave")

    s.step("holder connects", always, lambda: holder.yield_("connect"))
    s.step("the bot connects", lambda: s.saw("holder", "irc_001") > 0, lambda: me.yield_("connect"))
    s.step("registered as dave_", lambda: s.saw("me", "irc_001") > 0)
    # No shared channel: the holder's nick change is invisible, only polling can notice.
    s.step("three polls", lambda: attempts() >= 3, lambda: holder.yield_("nick", "notdave"))
    s.step("reclaimed", lambda: me.nick_name() == "dave")
    s.run()
    registered = s.times("me", "irc_001")[0]
    late_433 = [t for t in s.times("me", "irc_433") if t > registered]
    assert late_433 == []  # the answers to its own polls were eaten
    assert len(s.all("me", "irc_433")) == 1


def test_nick_reclaim_erroneous_nick_and_wanted_nick_from_cmd_nick(
    kernel: Kernel, ngircd: NgIRCd
) -> None:
    reclaim = NickReclaim(poll=0.1)
    me = bot(kernel, ngircd, "9lives", plugins={"NickReclaim": reclaim})
    s = Scenario(kernel, {"me": me})
    registered_as: list[str] = []
    s.step("connect", always, lambda: me.yield_("connect"))
    # "9lives" is refused (432) during registration and again after it: the plugin registers
    # as "lives" and stops asking for a nick the server never allows.
    s.step(
        "registered as lives",
        lambda: s.saw("me", "irc_001") > 0,
        lambda: registered_as.append(me.nick_name()),
    )
    s.step(
        "gave up on 9lives",
        lambda: s.saw("me", "irc_432") > 0,
        lambda: me.yield_("nick", "erin"),
    )
    s.step("renamed on purpose", lambda: me.nick_name() == "erin")
    s.run()
    assert registered_as == ["lives"]
    assert reclaim.wanted == "erin"
    assert len(s.all("me", "irc_432")) == 2


def test_nick_reclaim_goes_after_a_nick_a_session_asked_for(kernel: Kernel, ngircd: NgIRCd) -> None:
    reclaim = NickReclaim(poll=0.1)
    me = bot(kernel, ngircd, "frank", plugins={"NickReclaim": reclaim})
    holder = bot(kernel, ngircd, "gina")
    s = Scenario(kernel, {"me": me, "holder": holder})
    s.step("connect", always, lambda: me.yield_("connect"), lambda: holder.yield_("connect"))
    s.step(
        "both registered",
        lambda: bool(s.all("me", "irc_001") and s.all("holder", "irc_001")),
        lambda: me.yield_("nick", "gina"),
    )
    # The session sees the refusal of its own command; the plugin keeps asking from then on.
    s.step("refused", lambda: s.saw("me", "irc_433") > 0, lambda: holder.yield_("nick", "gina2"))
    s.step("got it by polling", lambda: me.nick_name() == "gina")
    s.run()
    assert reclaim.wanted == "gina"
    assert len(s.all("me", "irc_433")) == 1


# -- all plugins: malformed events ---------------------------------------------------------------


def test_plugins_never_raise_on_malformed_events(kernel: Kernel) -> None:
    irc = IRC(
        kernel,
        nick="x",
        flood=None,
        plugins={
            "Connector": Connector(),
            "AutoJoin": AutoJoin(["#x"]),
            "NickReclaim": NickReclaim(),
            "CTCP": CTCP(),
        },
    )
    errors: list[tuple[Any, ...]] = []
    shapes: list[tuple[Any, ...]] = [(), (None,), (None, None), (1, 2, 3, 4, 5), ("", [], "", None)]
    events = [
        "irc_join",
        "irc_part",
        "irc_kick",
        "irc_mode",
        "irc_nick",
        "irc_quit",
        "irc_pong",
        "irc_432",
        "irc_433",
        "irc_437",
        "irc_471",
        "irc_474",
        "irc_475",
        "irc_ctcp_version",
        "irc_ctcp_ping",
        "irc_ctcp_time",
        "irc_ctcp_clientinfo",
        "irc_error",
    ]

    def start(ctx: Context) -> None:
        ctx.kernel.post(irc.session_id, "register", "plugin_error")
        ctx.kernel.yield_("fire")

    def fire(ctx: Context) -> None:
        for event in events:
            for args in shapes:
                irc.send_event(event, *args)
        for command in ("join", "part", "nick"):
            for args in shapes:
                irc.pipeline.run("cmd_" + command, irc, args, lambda *e: errors.append(e))
        irc.yield_("shutdown")

    Session.create(
        kernel,
        inline_states={
            "_start": start,
            "fire": fire,
            "irc_plugin_error": lambda ctx, *a: errors.append(a),
            "_default": lambda ctx, *a: None,
        },
    )
    kernel.run()
    assert errors == []


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
