"""Logger: log files and their lines, from a real ngIRCd conversation and from fed events.

The conversation: a component with the Logger joins ``#test``; ``user`` (the channel's
operator) and ``carol`` are blocking :class:`ircd.RawClient` s in a thread that talk, act, set
the topic and modes, change nicks, part, get kicked and quit, each step awaited by ``user``,
and a final private round trip with the bot makes sure the bot has seen everything. Without
a server, events are fed to an unconnected component (``irc.send_event``) to check the
server-time tag, file names, dates, permissions and options.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

from poe.errors import InvalidArgument
from poe.irc import IRC
from poe.irc.formatting import strip_color, strip_formatting
from poe.irc.message import Message
from poe.irc.plugins.logger import Logger
from poe.session import Context, Session

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from ircd import NgIRCd, RawClient
    from poe.kernel import Kernel

T = TypeVar("T")
TIMEOUT = 10.0
CHANNEL = "#test"
STAMP = re.compile(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] ")
USERHOST = re.compile(r"\([^() ]+@[^() ]+\)")


def logged(path: Path) -> list[str]:
    """The lines of a log without their timestamps, user@host shown as ``(*)``.

    The user's own QUIT (when the script ends) races with the bot's shutdown: it is left out.
    """
    lines = path.read_text(encoding="utf-8").splitlines()
    for line in lines:
        assert line.startswith("***") or STAMP.match(line), line
    lines = [USERHOST.sub("(*)", STAMP.sub("", line)) for line in lines]
    return [line for line in lines if not line.startswith("<-- user (*) quits")]


BEGINS = ["***", "*** LOGGING BEGINS", "***"]


def test_a_conversation_is_logged(
    kernel: Kernel,
    ngircd: NgIRCd,
    raw_client: Any,
    converse: Any,
    tmp_path: Path,
) -> None:
    logs = tmp_path / "logs"
    irc = IRC(kernel, nick="bot", port=ngircd.port, flood=None)
    irc.plugin_add("Logger", Logger(logs, notices=True, strip_color=True, strip_formatting=True))

    def bot_default(ctx: Context, event: str, args: tuple[Any, ...]) -> None:
        if event == "irc_001":
            irc.yield_("join", CHANNEL)
        elif event == "irc_public" and args[2] == "say something":
            irc.yield_("privmsg", CHANNEL, "I \x02speak\x02")
            irc.yield_("ctcp", CHANNEL, "ACTION dances")
        elif event == "irc_msg" and args[2] == "sync":
            irc.yield_("privmsg", "user", "synced")
            irc.yield_("ctcp", "user", "ACTION waves back")

    Session.create(
        kernel,
        inline_states={
            "_start": lambda ctx: ctx.kernel.post(irc.session_id, "register", "all"),
            "_default": bot_default,
        },
    )

    def sees(user: RawClient, command: str, nick: str) -> None:
        user.expect(lambda m: m.command == command and m.nick == nick)

    def script(user: RawClient) -> None:
        user.send(f"PRIVMSG {CHANNEL} :hello \x0304,01red\x03 \x02bold\x02 \x1funder\x1f")
        user.send(f"PRIVMSG {CHANNEL} :\x01ACTION waves\x01")
        user.send(f"TOPIC {CHANNEL} :a new topic")
        user.send(f"MODE {CHANNEL} +v bot")
        user.send(f"MODE {CHANNEL} +ml 10")
        user.send(f"MODE {CHANNEL} +b bad!*@*")
        sees(user, "MODE", "user")
        with raw_client(ngircd) as carol:
            carol.register("carol")
            carol.send(f"JOIN {CHANNEL}")
            sees(user, "JOIN", "carol")
            carol.send("NICK carol2")
            sees(user, "NICK", "carol")
            carol.send(f"PART {CHANNEL} :gone")
            sees(user, "PART", "carol2")
            carol.send(f"JOIN {CHANNEL}")
            sees(user, "JOIN", "carol2")
            user.send(f"KICK {CHANNEL} carol2 :out")
            sees(user, "KICK", "user")
            carol.send(f"JOIN {CHANNEL}")
            sees(user, "JOIN", "carol2")
            carol.send("QUIT :later")
            sees(user, "QUIT", "carol2")
        user.send(f"PRIVMSG {CHANNEL} :say something")
        sees(user, "PRIVMSG", "bot")
        user.send(f"NOTICE {CHANNEL} :a notice")
        user.send("PRIVMSG bot :sync")
        user.expect(lambda m: m.nick == "bot" and "waves back" in m.params[-1])

    converse(ngircd, lambda: irc.yield_("connect"), lambda: irc.yield_("shutdown"), script)
    assert sorted(p.name for p in logs.iterdir()) == ["#test.log", "user.log"]
    assert logged(logs / "#test.log") == [
        *BEGINS,
        "--> bot (*) joins #test",
        "<user> hello red bold under",
        "* user waves",
        "--- user changes the topic to: a new topic",
        "--- user gives voice to bot",
        "--- user enables channel moderation",
        "--- user sets channel user limit to 10",
        "--- user sets ban on bad!*@*",
        "--> carol (*) joins #test",
        "--- carol is now known as carol2",
        "<-- carol2 (*) leaves #test (gone)",
        "--> carol2 (*) joins #test",
        "<-- user kicks carol2 from #test (out)",
        "--> carol2 (*) joins #test",
        '<-- carol2 (*) quits ("later")',  # ngIRCd quotes the reason
        "<user> say something",
        "<bot> I speak",
        "* bot dances",
        "-user- a notice",
    ]
    assert logged(logs / "user.log") == [
        *BEGINS,
        "<user> sync",
        "<bot> synced",
        "* bot waves back",
    ]
    mode = stat.S_IMODE((logs / "#test.log").stat().st_mode)
    assert mode == 0o600


def test_the_topic_is_logged_on_join(
    kernel: Kernel, ngircd: NgIRCd, converse: Any, tmp_path: Path
) -> None:
    irc = IRC(kernel, nick="bot", port=ngircd.port, flood=None)
    irc.plugin_add("Logger", Logger(tmp_path))
    topics: list[str] = []  # the 333s the bot got: on joining, then for its TOPIC query
    Session.create(
        kernel,
        inline_states={
            "_start": lambda ctx: ctx.kernel.post(irc.session_id, "register", "001", "366", "333"),
            "irc_001": lambda ctx, *args: irc.yield_("join", CHANNEL),
            "irc_366": lambda ctx, *args: irc.yield_("topic", CHANNEL),
            "irc_333": lambda ctx, *args: topics.append(args[0]),
            "irc_registered": lambda ctx, *args: None,
        },
    )

    def topic_first(user: RawClient) -> None:
        user.send(f"TOPIC {CHANNEL} :the topic")
        user.expect("TOPIC")

    converse(
        ngircd,
        lambda: irc.yield_("connect"),
        lambda: irc.yield_("shutdown"),
        lambda user: user.send(f"PRIVMSG {CHANNEL} :hi"),
        setup=topic_first,
        until=lambda: len(topics) == 2,
    )
    lines = logged(tmp_path / "#test.log")
    assert lines[:5] == [*BEGINS, "--> bot (*) joins #test", "--- Topic for #test is: the topic"]
    assert re.fullmatch(
        r"--- Topic for #test was set by user at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d", lines[5]
    )
    # Asking for the topic later shows it again (332, 333), but only the join logs it.
    assert lines[6:] == ["<user> hi"]
    assert len(topics) == 2


# -- without a server: events fed to an unconnected component ------------------------------------


@pytest.fixture
def offline(kernel: Kernel) -> Iterator[IRC]:
    """An unconnected component named ``bot``; shut down (and the kernel run) after the test."""
    irc = IRC(kernel, nick="bot", flood=None)
    yield irc
    irc.yield_("shutdown")
    kernel.run()


def public(irc: IRC, text: str, *, channel: str = CHANNEL, **tags: str) -> None:
    msg = Message("PRIVMSG", (channel, text), "user!u@example.test", tags)
    irc.send_event("irc_public", msg.source, [channel], text, msg)


def test_server_time_is_the_timestamp(offline: IRC, tmp_path: Path) -> None:
    offline.plugin_add("Logger", Logger(tmp_path))
    public(offline, "from the past", time="2021-05-06T07:08:09.123Z")
    public(offline, "bad time", time="yesterday")
    local = dt.datetime(2021, 5, 6, 7, 8, 9, 123000, tzinfo=dt.timezone.utc).astimezone()
    lines = (tmp_path / "#test.log").read_text(encoding="utf-8").splitlines()
    assert lines[3] == f"[{local:%Y-%m-%d %H:%M:%S}] <user> from the past"
    now = dt.datetime.now()
    stamp = dt.datetime.strptime(lines[4][1:20], "%Y-%m-%d %H:%M:%S")
    assert abs((now - stamp).total_seconds()) < 5
    assert lines[4].endswith("] <user> bad time")


def test_file_names_are_folded_and_safe(offline: IRC, tmp_path: Path) -> None:
    offline.plugin_add("Logger", Logger(tmp_path))
    public(offline, "one", channel="#Poe[Dev]")
    public(offline, "two", channel="#poe{dev}")  # the same channel under rfc1459 case mapping
    public(offline, "three", channel="#a/../b")
    public(offline, "four", channel="#%")
    msg = Message("PRIVMSG", ("bot", "hi"), ".hidden!u@h")
    offline.send_event("irc_msg", msg.source, ["bot"], "hi", msg)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "#%25.log",
        "#a%2F..%2Fb.log",
        "#poe{dev}.log",
        "%2Ehidden.log",
    ]
    assert [line[22:] for line in (tmp_path / "#poe{dev}.log").read_text().splitlines()[3:]] == [
        "<user> one",
        "<user> two",
    ]


def test_sort_by_date_and_permissions(offline: IRC, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    offline.plugin_add("Logger", Logger(logs, sort_by_date=True, restricted=False))
    public(offline, "old", time="2020-01-02T12:00:00Z")
    public(offline, "older", time="2019-12-31T12:00:00Z")
    day = dt.datetime(2020, 1, 2, 12, tzinfo=dt.timezone.utc).astimezone()
    folder = logs / CHANNEL
    assert sorted(p.name for p in folder.iterdir()) == [
        "2019-12-31.log",
        f"{day:%Y-%m-%d}.log",
    ]
    assert (folder / f"{day:%Y-%m-%d}.log").read_text().splitlines() == [
        *BEGINS,
        f"[{day:%H:%M:%S}] <user> old",
    ]
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o755 & ~umask
    assert stat.S_IMODE((folder / "2019-12-31.log").stat().st_mode) == 0o644 & ~umask


def test_restricted_directories(offline: IRC, tmp_path: Path) -> None:
    logs = tmp_path / "restricted"
    offline.plugin_add("Logger", Logger(logs, sort_by_date=True))
    public(offline, "x")
    assert stat.S_IMODE(logs.stat().st_mode) == 0o700
    assert stat.S_IMODE((logs / CHANNEL).stat().st_mode) == 0o700
    (log_file,) = (logs / CHANNEL).iterdir()
    assert stat.S_IMODE(log_file.stat().st_mode) == 0o600


def test_own_messages_and_options(offline: IRC, tmp_path: Path) -> None:
    offline.plugin_add(
        "Logger",
        Logger(
            tmp_path,
            private=False,
            formats={"privmsg": lambda nick, text: f"{nick} said {text!r}", "action": None},
        ),
    )
    offline.call("privmsg", [CHANNEL, "#other"], "two\nlines \x02kept\x02")
    offline.call("privmsg", "someone", "private: not logged")
    offline.call("ctcp", CHANNEL, "ACTION not logged either")
    offline.call("ctcp", CHANNEL, "VERSION")
    offline.call("notice", CHANNEL, "notices are off")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["#other.log", "#test.log"]
    lines = [line[22:] for line in (tmp_path / "#test.log").read_text().splitlines()[3:]]
    assert lines == ["bot said 'two'", "bot said 'lines \\x02kept\\x02'"]


def test_bad_options() -> None:
    with pytest.raises(InvalidArgument):
        Logger("")
    with pytest.raises(InvalidArgument):
        Logger("/tmp/x", formats={"nope": lambda: ""})


@pytest.mark.parametrize(
    ("text", "colourless", "plain"),
    [
        ("\x0304red\x03 \x0304,12on blue\x03", "red on blue", "\x0304red\x03 \x0304,12on blue\x03"),
        ("\x03123", "3", "\x03123"),
        ("\x03,5x", ",5x", "\x03,5x"),
        ("\x04FF0000hex\x04", "hex", "\x04FF0000hex\x04"),
        ("\x02b\x02 \x1di\x1d \x1fu\x1f \x1es\x1e \x11m\x11 \x16r\x16", None, "b i u s m r"),
        ("\x0305c\x0f", "c", "\x0305c"),
        ("\x02b\x0f", "\x02b\x0f", "b"),
    ],
)
def test_strip_functions(text: str, colourless: str | None, plain: str) -> None:
    if colourless is not None:
        assert strip_color(text) == colourless
    assert strip_formatting(text) == plain
