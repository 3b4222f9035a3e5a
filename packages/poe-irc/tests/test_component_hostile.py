"""The component against a broken or hostile server (issue #11, "safe by default under attack").

A scripted raw server (the ``raw_peer`` fixture) sends what no sane server sends: known commands
without the parameters they need, a PING behind a full send queue. The component carries every
bundled plugin that follows channel traffic, and a session whose handlers have exactly the
documented signatures (no defaults, no ``*args`` where the documentation names the arguments),
so an event with an argument missing would fail in the handler as well as in a plugin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from poe.irc import IRC, FloodControl, parse
from poe.irc.events import MIN_PARAMS
from poe.irc.plugins import CTCP, AutoJoin, BotCommand, Logger, NickReclaim, State
from poe.kernel import Kernel
from poe.session import Session
from poe.testing.watchdog import Watchdog

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from poe.session import Context
    from support import RawPeer, Recorder

    MakeRecorder = Callable[..., Recorder]
    MakePeer = Callable[..., RawPeer]  # (script, kernel=None)

WHO = ":n!u@h"
#: Lines a broken server might send: known commands short of the parameters they need.
MALFORMED = [
    f"{WHO} JOIN",
    f"{WHO} PART",
    f"{WHO} KICK",
    f"{WHO} KICK #c",
    f"{WHO} MODE",
    f"{WHO} MODE #c",
    f"{WHO} TOPIC",
    f"{WHO} NOTICE",
    f"{WHO} NOTICE #c",
    f"{WHO} PRIVMSG",
    f"{WHO} PRIVMSG #c",
    f"{WHO} NICK",
    f"{WHO} INVITE bot",
    f"{WHO} ACCOUNT",
    f"{WHO} CHGHOST newuser",
    f"{WHO} SETNAME",
    f"{WHO} WALLOPS",
    ":raw.test CAP bot",
    ":raw.test PONG",
]
#: Commands of the table with an event of their own (``irc_public``, ``irc_join``, ...).
OWN_EVENT = {"PRIVMSG", "NOTICE", "JOIN", "PART", "QUIT", "NICK", "KICK", "MODE", "TOPIC"}
OWN_EVENT |= {"INVITE", "PING", "ERROR"}
#: The others give irc_<command>(who, *params), with at least this many parameters.
GENERIC = {command: least for command, least in MIN_PARAMS.items() if command not in OWN_EVENT}
#: Lines short of optional parameters only: padded to the documented arguments.
PADDED = [
    f"{WHO} JOIN #c",
    f"{WHO} PART #c",
    f"{WHO} KICK #c n",
    f"{WHO} TOPIC #c",
    f"{WHO} QUIT",
    f"{WHO} AWAY",
    "PING",
    "ERROR",
    ":raw.test 332",
    ":raw.test 333 bot",
    ":raw.test 353",
    ":raw.test 366",
    ":raw.test 433",
    ":raw.test 474",
    ":raw.test 315",
    ":raw.test 324",
]


def documented_session(kernel: Kernel, irc: IRC, seen: list[tuple[str, tuple[Any, ...]]]) -> None:
    """A session registered for everything, with handlers of the documented signatures."""

    def note(ctx: Context, *args: Any) -> None:
        seen.append((ctx.event, args))

    def who_targets_text(ctx: Context, who: str, targets: list[str], text: str, m: Any) -> None:
        note(ctx, who, targets, text, m)

    def numeric(ctx: Context, server: str, text: str, params: list[str], m: Any) -> None:
        note(ctx, server, text, params, m)

    def one(ctx: Context, first: str, m: Any) -> None:
        note(ctx, first, m)

    def two(ctx: Context, who: str, second: str, m: Any) -> None:
        note(ctx, who, second, m)

    def three(ctx: Context, who: str, channel: str, third: str, m: Any) -> None:
        note(ctx, who, channel, third, m)

    def kick(ctx: Context, who: str, channel: str, nick: str, reason: str, m: Any) -> None:
        note(ctx, who, channel, nick, reason, m)

    def mode(ctx: Context, who: str, target: str, modes: str, *rest: Any) -> None:
        note(ctx, who, target, modes, *rest)

    def snotice(ctx: Context, text: str, target: str, server: str, m: Any) -> None:
        note(ctx, text, target, server, m)

    def plugin_error(ctx: Context, message: str, plugin: str, hook: str, m: None) -> None:
        note(ctx, message, plugin, hook, m)

    def at_least(count: int) -> Callable[..., None]:
        # irc_<command>(who, params...): who and GENERIC[command] parameters, then more.
        def handler(ctx: Context, who: str, *rest: Any) -> None:
            assert len(rest) >= count + 1, (ctx.event, rest)  # the parameters, then the message
            note(ctx, who, *rest)

        return handler

    states: dict[str, Callable[..., Any]] = {
        "_start": lambda ctx: ctx.kernel.post(irc.session_id, "register", "all"),
        "irc_public": who_targets_text,
        "irc_msg": who_targets_text,
        "irc_notice": who_targets_text,
        "irc_snotice": snotice,
        "irc_join": two,
        "irc_nick": two,
        "irc_invite": two,
        "irc_quit": two,
        "irc_part": three,
        "irc_topic": three,
        "irc_kick": kick,
        "irc_mode": mode,
        "irc_ping": one,
        "irc_error": one,
        "irc_malformed": one,
        "irc_plugin_error": plugin_error,
    }
    for code in ("001", "005", "315", "324", "332", "333", "353", "366", "433", "474"):
        states[f"irc_{code}"] = numeric
    for command, least in GENERIC.items():
        states[f"irc_{command.lower()}"] = at_least(least)
    Session.create(kernel, inline_states=states)


def all_plugins(logs: Path) -> dict[str, Any]:
    return {
        "State": State(),
        "Logger": Logger(logs, notices=True),
        "AutoJoin": AutoJoin(channels=["#c"]),
        "NickReclaim": NickReclaim(),
        "CTCP": CTCP(),
        "BotCommand": BotCommand({"hello": "says hello"}),
    }


def test_lines_without_their_parameters_are_irc_malformed(
    kernel: Kernel, watchdog: Watchdog, recorder: MakeRecorder, raw_peer: MakePeer, tmp_path: Path
) -> None:
    def script(peer: RawPeer, ctx: Context, line: str) -> None:
        if line.startswith("USER"):
            peer.welcome(ctx, "bot")
        elif line == "JOIN #c":  # AutoJoin's
            peer.send(ctx, ":bot!u@h JOIN #c", ":raw.test 353 bot = #c :@bot n")
            peer.send(ctx, ":raw.test 366 bot #c :End of /NAMES list.")
            peer.send(ctx, *MALFORMED, *PADDED, f"{WHO} PRIVMSG #c :still here")
        elif line.startswith("QUIT"):
            ctx.heap["client"].close()

    peer = raw_peer(script)
    irc = IRC(
        kernel, nick="bot", port=peer.port, flood=None, caps=(), plugins=all_plugins(tmp_path)
    )
    seen: list[tuple[str, tuple[Any, ...]]] = []
    documented_session(kernel, irc, seen)
    rec = recorder(irc)

    peer.run_until_public(rec, watchdog, "still here")

    assert rec.args("irc_plugin_error") == []
    malformed = rec.args("irc_malformed")
    assert [str(msg) for _, msg in malformed] == [str(parse(line)) for line in MALFORMED]
    assert all("parameter(s), got" in why for why, _ in malformed)
    # The padded ones arrive with every documented argument.
    assert (WHO[1:], "#c", "") in [args[:3] for args in rec.args("irc_part")]
    assert (WHO[1:], "#c", "n", "") in [args[:4] for args in rec.args("irc_kick")]
    assert rec.args("irc_topic")[0][:3] == (WHO[1:], "#c", "")
    assert rec.args("irc_quit")[0][:2] == (WHO[1:], "")
    assert rec.args("irc_ping")[0][0] == ""
    assert rec.args("irc_433")[0][:3] == ("raw.test", "", [])
    assert "PONG :" in peer.received
    # The documented session got the same, and the connection went on to the end.
    assert [name for name, _ in seen if name == "irc_malformed"] == ["irc_malformed"] * len(
        MALFORMED
    )
    assert rec.names().count("irc_disconnected") == 1
    assert rec.args("irc_public")[-1][2] == "still here"


def test_pong_jumps_the_flood_queue(
    kernel: Kernel, watchdog: Watchdog, recorder: MakeRecorder, raw_peer: MakePeer
) -> None:
    # Default flood control: after a burst of four or five lines, one line per two seconds;
    # 200 lines would take minutes. Both PINGs come once the queue is full.
    lines = 200

    def script(peer: RawPeer, ctx: Context, line: str) -> None:
        if line.startswith("USER"):
            peer.welcome(ctx, "bot")
        elif line == "PRIVMSG #c :line 0":
            peer.send(ctx, "PING :first", "PING :second")
        elif line == "PONG second":
            peer.send(ctx, f"{WHO} PRIVMSG bot :done")
        elif line.startswith("QUIT"):
            ctx.heap["client"].close()

    peer = raw_peer(script)
    irc = IRC(kernel, nick="bot", port=peer.port, caps=(), flood=FloodControl(), raw=True)
    rec = recorder(irc)

    def welcome(*args: Any) -> None:
        for i in range(lines):
            irc.yield_("privmsg", "#c", f"line {i}")

    rec.reactions["irc_001"] = welcome
    rec.reactions["irc_msg"] = lambda *args: irc.yield_("shutdown")  # flushes the rest
    rec.reactions["irc_shutdown"] = peer.finisher(watchdog)
    watchdog.run()

    sent = [line for line in peer.received if line.startswith(("PRIVMSG", "PONG"))]
    pongs = [i for i, line in enumerate(sent) if line.startswith("PONG")]
    # The PONGs came in the order of the PINGs, and long before the queue was out.
    assert [sent[i] for i in pongs] == ["PONG first", "PONG second"]
    assert pongs[1] < lines // 10
    # Each was on the wire (irc_raw_out) before its PING became irc_ping: sent while the PING
    # was handled, not queued for the next flood-control tick.
    order = [
        (name, args[0])
        for name, args in rec.events
        if (name == "irc_raw_out" and args[0].startswith("PONG")) or name == "irc_ping"
    ]
    assert order == [
        ("irc_raw_out", "PONG first"),
        ("irc_ping", "first"),
        ("irc_raw_out", "PONG second"),
        ("irc_ping", "second"),
    ]
    assert sent.count("PRIVMSG #c :line 199") == 1  # shutdown flushed every queued line


# -- any line at all ---------------------------------------------------------------------------

#: Every command of the table, one it does not know, and the numerics plugins and State read.
COMMANDS = [
    *sorted(MIN_PARAMS),
    "FROB",
    *("001", "005", "221", "301", "305", "306", "311", "315", "324", "329", "331", "332"),
    *("333", "352", "353", "366", "432", "433", "437", "471", "473", "474", "475", "903"),
]
WORDS = st.one_of(
    st.sampled_from(
        [
            *("#c", "#C", "bot", "BOT", "n", "n!u@h", "*", "=", "@", "+o", "-o", "+kl", "-k"),
            *("+b-v", "key", "5", "LS", "ACK", "NAK", "DEL", ",", "#c,bot", "0", "+", "G", "H@"),
            *("@bot", "PREFIX=(ov)@+", "PREFIX=", "CHANTYPES=&", "CASEMAPPING=ascii"),
            "CHANMODES=,,,",
        ]
    ),
    st.text(
        st.characters(min_codepoint=33, max_codepoint=0x2FF, exclude_characters=":"),
        min_size=1,
        max_size=6,
    ),
)
TRAILING = st.one_of(
    st.sampled_from(
        [
            *("", " ", "hi", "!hello", "bot: hello", "bot, help", "\x01ACTION waves\x01"),
            *("\x01\x01", "\x01VERSION\x01", "\x01PING 123\x01", "\x01TIME", "@bot +v n"),
            "1700000000",
        ]
    ),
    st.text(st.characters(min_codepoint=32, max_codepoint=0x2FF), max_size=12),
)
SOURCES = st.sampled_from(["", ":n!u@h ", ":bot!u@h ", ":raw.test ", ":n "])
TAGS = st.sampled_from(
    ["", "@time=2024-01-01T00:00:00Z ", "@time=0001-01-01T00:00:00+14:00 ", "@time=x ", "@a "]
)


@st.composite
def irc_lines(draw: st.DrawFn) -> str:
    """A well-formed line of a known command with 0..5 arbitrary parameters."""
    middle = draw(st.lists(WORDS, max_size=4))
    trailing = draw(st.none() | TRAILING)
    params = " ".join(middle) + ("" if trailing is None else f" :{trailing}")
    return f"{draw(TAGS)}{draw(SOURCES)}{draw(st.sampled_from(COMMANDS))} {params}".rstrip(" ")


@settings(
    max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lines=st.lists(irc_lines(), max_size=25))
def test_any_lines_give_no_plugin_error(
    lines: list[str], poe_loop: str, raw_peer: MakePeer, recorder: MakeRecorder, tmp_path: Path
) -> None:
    kernel = Kernel(loop=poe_loop)
    watchdog = Watchdog(kernel)
    sent: list[bool] = []

    def script(peer: RawPeer, ctx: Context, line: str) -> None:
        if line.startswith("USER"):
            peer.welcome(ctx, "bot")
        elif line == "JOIN #c" and not sent:  # AutoJoin's (an 001 among the lines asks again)
            sent.append(True)
            peer.send(ctx, ":bot!u@h JOIN #c", ":raw.test 366 bot #c :End of /NAMES list.")
            peer.send(ctx, *lines, "PING :the~end")  # "~" is in no generated line
        elif line == "PONG the~end":
            irc.yield_("shutdown")
        elif line.startswith("QUIT"):
            ctx.heap["client"].close()

    peer = raw_peer(script, kernel)
    irc = IRC(
        kernel, nick="bot", port=peer.port, flood=None, caps=(), plugins=all_plugins(tmp_path)
    )
    documented_session(kernel, irc, [])
    rec = recorder(irc)
    rec.reactions["irc_shutdown"] = peer.finisher(watchdog)
    try:
        watchdog.run()
    finally:
        kernel.loop.close()
    assert rec.args("irc_plugin_error") == []
    assert sent == [True]
