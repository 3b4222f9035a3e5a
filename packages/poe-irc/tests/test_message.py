"""Sans-I/O pieces: parsing, formatting, the filter, splitting, flood control, event naming."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from poe.filter import DecodeError, RecordTooLarge
from poe.irc import FloodControl, IRCFilter, Message, ParseError, parse, split_text, text_budget
from poe.irc.events import MIN_PARAMS, ctcp_quote, translate
from poe.irc.message import decode


def _is_channel(target: str) -> bool:
    return target[:1] in "#&"


# -- parse / format ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("PING :irc.test", Message("PING", ("irc.test",))),
        (":srv 001 bot :Welcome to IRC", Message("001", ("bot", "Welcome to IRC"), "srv")),
        (
            ":n!u@h PRIVMSG #c :hello  world ",
            Message("PRIVMSG", ("#c", "hello  world "), "n!u@h"),
        ),
        (":n!u@h privmsg #c ::-)", Message("PRIVMSG", ("#c", ":-)"), "n!u@h")),
        (":n!u@h PRIVMSG #c :", Message("PRIVMSG", ("#c", ""), "n!u@h")),
        ("  :s   MODE  #c  +o   bob  ", Message("MODE", ("#c", "+o", "bob"), "s")),
        (":n JOIN #a\r\n", Message("JOIN", ("#a",), "n")),
    ],
)
def test_parse(line: str, expected: Message) -> None:
    assert parse(line) == expected


def test_parse_tags_unescaped() -> None:
    msg = parse(r"@time=2026-11-27T01:02:03.456Z;msgid=a\:b\sc\\d;+draft/x :n!u@h TAGMSG #c")
    assert msg.tags == {"time": "2026-11-27T01:02:03.456Z", "msgid": "a;b c\\d", "+draft/x": None}
    assert msg.command == "TAGMSG"
    assert msg.nick == "n"
    assert msg.mask.host == "h"


@pytest.mark.parametrize(
    "line",
    ["", "   ", ":prefix-only", "@a=b", "@a=b :src", "\r\n", "\x00\x01", "PRIV-MSG x", "12 x"],
)
def test_parse_refuses_lines_without_a_command(line: str) -> None:
    with pytest.raises(ParseError):
        parse(line)


def test_line_formats_the_trailing_parameter_only_when_needed() -> None:
    assert Message("NICK", ("bob",)).line() == "NICK bob"
    assert Message("PRIVMSG", ("#c", "two words")).line() == "PRIVMSG #c :two words"
    assert Message("PRIVMSG", ("#c", ":colon")).line() == "PRIVMSG #c ::colon"
    assert Message("PRIVMSG", ("#c", "")).line() == "PRIVMSG #c :"
    tagged = Message("TAGMSG", ("#c",), "n!u@h", {"a": "x y;z", "b": None})
    assert tagged.line() == r"@a=x\sy\:z;b :n!u@h TAGMSG #c"


@pytest.mark.parametrize(
    "msg",
    [
        Message("PRIVMSG", ("#c", "evil\r\nQUIT")),
        Message("PRIVMSG", ("#c\n", "x")),
        Message("PRIVMSG", ("two words", "x")),
        Message("PRIVMSG", (":x", "y")),
        Message("PRIV MSG", ()),
        Message("NICK", ("a\0b",)),
    ],
)
def test_line_refuses_what_cannot_be_one_line(msg: Message) -> None:
    with pytest.raises(ValueError, match=r"IRC|parameter"):
        msg.line()


_word = st.text(st.characters(codec="utf-8", exclude_characters=" \r\n\0:"), min_size=1)
_trailing = st.text(st.characters(codec="utf-8", exclude_characters="\r\n\0"))


@given(
    command=st.from_regex(r"\A[A-Z]{1,10}\Z|\A[0-9]{3}\Z"),
    middle=st.lists(_word, max_size=5),
    trailing=_trailing,
    source=st.none() | _word,
    tags=st.dictionaries(
        st.from_regex(r"\A\+?[a-z][a-z0-9/.-]{0,8}\Z"), st.none() | _trailing, max_size=3
    ),
)
def test_parse_inverts_line(
    command: str, middle: list[str], trailing: str, source: str | None, tags: dict[str, str | None]
) -> None:
    msg = Message(command, (*middle, trailing), source, tags)
    again = parse(msg.line())
    assert again == msg
    assert again.tags == {k: (v or None) for k, v in tags.items()}


def test_decode_is_lenient() -> None:
    assert decode("été".encode()) == "été"
    assert decode("été".encode("latin-1")) == "été"
    assert decode(b"\x93quoted\x94") == "\u201cquoted\u201d"  # CP1252 smart quotes
    assert decode(b"\x81\xff") == "\x81\xff"
    assert decode(bytes(range(256)))  # never raises


# -- the filter -------------------------------------------------------------------------------

_STREAM = (
    b"@time=2026-01-01T00:00:00Z :n!u@h PRIVMSG #c :hello\r\n"
    b":srv 001 bot :Welcome\n"
    b"\r\n"
    b"PING :x\r"
    b":n!u@h NOTICE bot :caf\xe9\r\n"
    b":n!u@h PRIVMSG #c :\xc3\xa9t\xc3\xa9 \xf0\x9f\x90\x8d\r\n"
)
_EXPECTED = [
    Message("PRIVMSG", ("#c", "hello"), "n!u@h", {"time": "2026-01-01T00:00:00Z"}),
    Message("001", ("bot", "Welcome"), "srv"),
    Message("PING", ("x",)),
    Message("NOTICE", ("bot", "café"), "n!u@h"),
    Message("PRIVMSG", ("#c", "été 🐍"), "n!u@h"),
]


def test_filter_reads_messages_with_any_terminator_and_charset() -> None:
    assert IRCFilter().get([_STREAM]) == _EXPECTED


@given(st.lists(st.integers(min_value=1, max_value=len(_STREAM)), max_size=40))
def test_filter_any_chunking_gives_the_same_messages(cuts: list[int]) -> None:
    points = sorted({0, len(_STREAM), *cuts})
    chunks = [_STREAM[a:b] for a, b in itertools.pairwise(points)]
    filt = IRCFilter()
    got: list[Message] = []
    for chunk in chunks:
        got.extend(filt.get([chunk]))
    assert got == _EXPECTED


def test_filter_one_byte_at_a_time() -> None:
    filt = IRCFilter()
    got = [m for i in range(len(_STREAM)) for m in filt.get([_STREAM[i : i + 1]])]
    assert got == _EXPECTED


def test_filter_refuses_a_bad_line_and_goes_on() -> None:
    filt = IRCFilter()
    filt.get_one_start([b":only-a-prefix\r\nPING :ok\r\n"])
    with pytest.raises(DecodeError, match="not an IRC message"):
        filt.get_one()
    assert filt.get_one() == [Message("PING", ("ok",))]


def test_filter_refuses_a_nul_and_goes_on() -> None:
    filt = IRCFilter()
    filt.get_one_start([b":n!u@h PRIVMSG #c :a\x00b\r\nPING :ok\r\n"])
    with pytest.raises(DecodeError, match="NUL inside an IRC line"):
        filt.get_one()
    assert filt.get_one() == [Message("PING", ("ok",))]


def test_filter_refuses_an_overlong_line_and_goes_on() -> None:
    filt = IRCFilter(max_length=100)
    filt.get_one_start([b"PRIVMSG #c :" + b"x" * 200 + b"\r\nPING :ok\r\n"])
    with pytest.raises(RecordTooLarge):
        filt.get_one()
    assert filt.get([]) == [Message("PING", ("ok",))]


def test_filter_takes_a_large_read_of_complete_lines() -> None:
    """A burst arrives 64 KiB (or more) at a time: only an unfinished line is limited."""
    chunk = b"".join(b":n!u@h PRIVMSG #c :line %d\r\n" % i for i in range(10_000))
    assert len(chunk) > 64 * 1024
    got = IRCFilter(max_length=600).get([chunk])
    assert [m.params[1] for m in got] == [f"line {i}" for i in range(10_000)]


def test_filter_puts_messages_and_lines() -> None:
    filt = IRCFilter()
    assert filt.put([Message("PRIVMSG", ("#c", "été")), "PONG :x"]) == [
        "PRIVMSG #c été\r\n".encode(),
        b"PONG :x\r\n",
    ]
    with pytest.raises(ValueError, match="CR, LF and NUL"):
        filt.put(["PRIVMSG #c :a\r\nQUIT"])
    assert filt.clone().get([b"PING :y\r\n"]) == [Message("PING", ("y",))]


# -- splitting --------------------------------------------------------------------------------


def test_text_budget_leaves_room_for_what_the_server_adds() -> None:
    assert text_budget("PRIVMSG", "#c", "bot", "bot!u@h") == 512 - len(":bot!u@h PRIVMSG #c :\r\n")
    assert text_budget("PRIVMSG", "#c", "bot") < text_budget("PRIVMSG", "#c", "bot", "bot!u@h")


@given(st.text(st.characters(codec="utf-8")), st.integers(min_value=4, max_value=60))
def test_split_text_fits_and_never_breaks_a_code_point(text: str, limit: int) -> None:
    pieces = split_text(text, limit)
    for piece in pieces:
        assert 0 < len(piece.encode()) <= limit
        assert "\r" not in piece
        assert "\n" not in piece
    squeezed = "".join(text.split())
    assert "".join("".join(pieces).split()) == squeezed  # only spaces and line breaks are cut


def test_split_text_prefers_spaces() -> None:
    assert split_text("aaaa bbbb cccc", 10) == ["aaaa bbbb", "cccc"]
    assert split_text("line one\nline two\r\n\r\nthree", 100) == ["line one", "line two", "three"]
    with pytest.raises(ValueError, match="at least 4"):
        split_text("x", 3)


# -- flood control ----------------------------------------------------------------------------


def test_flood_control_is_pocos_penalty_clock() -> None:
    flood = FloodControl()
    now = 100.0
    sent = 0
    while flood.wait(now) == 0:
        flood.spend(now, 118)  # 2 + 118/120 ~ 3 s per line
        sent += 1
    assert sent == 4  # 0, 3, 6, 9 seconds ahead: the fifth would be 12 > 10
    assert flood.wait(now) == pytest.approx(4 * (2 + 118 / 120) - 10)
    later = now + flood.wait(now)
    assert flood.wait(later) == 0
    flood.reset()
    assert flood.wait(now) == 0
    with pytest.raises(ValueError, match="positive"):
        FloodControl(bytes_per_second=0)


# -- events -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "events"),
    [
        (":n!u@h PRIVMSG #c :hi", [("irc_public", ("n!u@h", ["#c"], "hi"))]),
        (":n!u@h PRIVMSG bot :hi", [("irc_msg", ("n!u@h", ["bot"], "hi"))]),
        (":n!u@h NOTICE bot :hi", [("irc_notice", ("n!u@h", ["bot"], "hi"))]),
        (":srv NOTICE * :Looking up", [("irc_snotice", ("Looking up", "*", "srv"))]),
        (
            ":n!u@h PRIVMSG bot :\x01VERSION\x01",
            [("irc_ctcp_version", ("n!u@h", ["bot"], ""))],
        ),
        (
            ":n!u@h PRIVMSG #c :\x01ACTION waves\x01",
            [("irc_ctcp_action", ("n!u@h", ["#c"], "waves"))],
        ),
        (
            ":n!u@h NOTICE bot :\x01PING 123\x01",
            [("irc_ctcpreply_ping", ("n!u@h", ["bot"], "123"))],
        ),
        (":n!u@h JOIN #c", [("irc_join", ("n!u@h", "#c"))]),
        (":n!u@h JOIN #c acct :Real Name", [("irc_join", ("n!u@h", "#c"))]),
        (":n!u@h PART #c", [("irc_part", ("n!u@h", "#c", ""))]),
        (":n!u@h PART #c :bye", [("irc_part", ("n!u@h", "#c", "bye"))]),
        (":n!u@h QUIT :gone", [("irc_quit", ("n!u@h", "gone"))]),
        (":n!u@h NICK m", [("irc_nick", ("n!u@h", "m"))]),
        (":n!u@h KICK #c bob :out", [("irc_kick", ("n!u@h", "#c", "bob", "out"))]),
        (":n!u@h MODE #c +ov a b", [("irc_mode", ("n!u@h", "#c", "+ov", "a", "b"))]),
        (":n!u@h TOPIC #c :new", [("irc_topic", ("n!u@h", "#c", "new"))]),
        (":n!u@h INVITE bot #c", [("irc_invite", ("n!u@h", "#c"))]),
        ("PING :tok", [("irc_ping", ("tok",))]),
        ("ERROR :Closing link", [("irc_error", ("Closing link",))]),
        (":srv 001 bot :Welcome", [("irc_001", ("srv", "Welcome", ["Welcome"]))]),
        (
            ":srv 353 bot = #c :@a b",
            [("irc_353", ("srv", "= #c :@a b", ["=", "#c", "@a b"]))],
        ),
        (":n!u@h AWAY :lunch", [("irc_away", ("n!u@h", "lunch"))]),
        (":n!u@h KICK #c bob", [("irc_kick", ("n!u@h", "#c", "bob", ""))]),  # padded
        (":n!u@h QUIT", [("irc_quit", ("n!u@h", ""))]),
        (":n!u@h TOPIC #c", [("irc_topic", ("n!u@h", "#c", ""))]),
        ("PING", [("irc_ping", ("",))]),
        (":srv 433", [("irc_433", ("srv", "", []))]),
        (":n!u@h FROB", [("irc_frob", ("n!u@h",))]),  # unknown: nothing is refused
    ],
)
def test_translate(line: str, events: list[tuple[str, tuple[object, ...]]]) -> None:
    assert translate(parse(line), _is_channel) == events


@pytest.mark.parametrize(
    "line",
    [
        ":n!u@h KICK #c",  # names nobody: there is no one to remove from the channel
        ":n!u@h PRIVMSG",
        ":n!u@h PRIVMSG #c",
        ":n!u@h NOTICE #c",
        ":n!u@h JOIN",
        ":n!u@h MODE #c",
        ":n!u@h INVITE bot",
        ":srv CAP *",
        ":n!u@h CHGHOST user",
    ],
)
def test_translate_short_lines_are_malformed(line: str) -> None:
    msg = parse(line)
    [(event, (why,))] = translate(msg, _is_channel)
    assert event == "irc_malformed"
    assert why.startswith(f"{msg.command} needs {MIN_PARAMS[msg.command]} parameter(s), got ")
    assert line in why


#: The arguments (before the message) each event is documented with, at least.
_DOCUMENTED = {
    **dict.fromkeys(("irc_public", "irc_msg", "irc_notice", "irc_snotice"), 3),
    "irc_join": 2,
    "irc_part": 3,
    "irc_quit": 2,
    "irc_nick": 2,
    "irc_kick": 4,
    "irc_mode": 3,
    "irc_topic": 3,
    "irc_invite": 2,
    "irc_ping": 1,
    "irc_error": 1,
    "irc_malformed": 1,
}


def _documented(event: str, command: str) -> int:
    if event.startswith(("irc_ctcp_", "irc_ctcpreply_")):
        return 3
    if event[4:].isdigit():
        return 3  # server, text, [parameters]
    if event in _DOCUMENTED:
        return _DOCUMENTED[event]
    return 1 + MIN_PARAMS.get(command, 0)  # irc_<command>: who, parameters...


_PARAM = st.one_of(
    st.sampled_from(["#c", "bot", "n!u@h", "+o", "*", "\x01VERSION\x01", "\x01", "LS"]),
    st.text(
        st.characters(min_codepoint=33, max_codepoint=0x2FF, exclude_characters=":"), min_size=1
    ),
)


@given(
    command=st.sampled_from([*sorted(MIN_PARAMS), "FROB", "001", "353", "366", "433"]),
    params=st.lists(_PARAM, max_size=6),
    trailing=st.none()
    | st.sampled_from(["", "\x01ACTION waves\x01", "\x01PING 1\x01 hi"])
    | st.text(st.characters(min_codepoint=32, max_codepoint=0x2FF)),
    source=st.sampled_from([None, "n!u@h", "srv", "n"]),
)
def test_translate_gives_every_documented_argument(
    command: str, params: list[str], trailing: str | None, source: str | None
) -> None:
    msg = Message(command, (*params, *(() if trailing is None else (trailing,))), source)
    events = translate(parse(msg.line()), _is_channel)
    assert events
    short = len(msg.params) < MIN_PARAMS.get(command, 0)
    assert (events[0][0] == "irc_malformed") == short
    for event, args in events:
        assert len(args) >= _documented(event, command), (event, args)


def test_translate_mixed_ctcp_and_text() -> None:
    events = translate(parse(":n!u@h PRIVMSG #c :hi \x01ACTION waves\x01"), _is_channel)
    assert events == [
        ("irc_public", ("n!u@h", ["#c"], "hi ")),
        ("irc_ctcp_action", ("n!u@h", ["#c"], "waves")),
    ]


def test_ctcp_quote() -> None:
    assert ctcp_quote("version") == "\x01VERSION\x01"
    assert ctcp_quote("action", "waves") == "\x01ACTION waves\x01"
