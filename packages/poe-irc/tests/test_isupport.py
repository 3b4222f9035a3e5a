"""ISupport: 005 tokens from real servers, defaults, case folding, channel names, MODE parsing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from poe.irc.isupport import CASEMAPPINGS, ISupport, ModeChange
from poe.irc.message import parse

# 005 bursts as the servers send them (the nick is "me"), trimmed to a few lines each.
SOLANUM = [
    ":tantalum.libera.chat 005 me CALLERID=g WHOX ETRACE FNC SAFELIST ELIST=CMNTU KNOCK "
    "MONITOR=100 CHANTYPES=# EXCEPTS INVEX CHANMODES=eIbq,k,flj,CFLMPQRSTcgimnprstuz "
    ":are supported by this server",
    ":tantalum.libera.chat 005 me CHANLIMIT=#:250 PREFIX=(ov)@+ MAXLIST=bqeI:100 MODES=4 "
    "NETWORK=Libera.Chat STATUSMSG=@+ CASEMAPPING=rfc1459 NICKLEN=16 MAXNICKLEN=16 "
    "CHANNELLEN=50 TOPICLEN=390 DEAF=D :are supported by this server",
    ":tantalum.libera.chat 005 me TARGMAX=NAMES:1,LIST:1,KICK:1,WHOIS:1,PRIVMSG:4,NOTICE:4,"
    "ACCEPT:,MONITOR: EXTBAN=$,agjrxz :are supported by this server",
]
INSPIRCD = [
    ":irc.example.com 005 me AWAYLEN=200 CASEMAPPING=ascii CHANLIMIT=#:20 "
    "CHANMODES=IXZbegw,k,BEFHJLWdfjl,ACDKMNOPQRSTUcimnprstuz CHANNELLEN=60 CHANTYPES=# "
    "ELIST=CMNTU EXCEPTS=e :are supported by this server",
    ":irc.example.com 005 me EXTBAN=,ACORTUacjrwz INVEX=I KEYLEN=32 MAXLIST=I:100,X:100,b:100 "
    "MODES=20 NAMESX NETWORK=Example\\x20Net :are supported by this server",
    ":irc.example.com 005 me NICKLEN=30 PREFIX=(qaohv)~&@%+ SAFELIST STATUSMSG=~&@%+ "
    "TOPICLEN=307 UHNAMES USERLEN=10 WHOX :are supported by this server",
]
NGIRCD = [
    ":irc.example.net 005 me RFC2812 IRCD=ngIRCd CHARSET=UTF-8 CASEMAPPING=ascii "
    "PREFIX=(qaohv)~&@%+ CHANTYPES=#&+ CHANMODES=beI,k,l,imMnOPQRstVz CHANLIMIT=#&+:10 "
    ":are supported on this server",
    ":irc.example.net 005 me EXCEPTS=e INVEX=I PENALTY FNC NICKLEN=9 TOPICLEN=490 AWAYLEN=127 "
    "KICKLEN=400 MODES=5 MAXLIST=beI:50 :are supported on this server",
]


def _load(lines: list[str]) -> ISupport:
    isupport = ISupport()
    for line in lines:
        isupport.load(parse(line).params)
    return isupport


def _with(*tokens: str) -> ISupport:
    isupport = ISupport()
    isupport.load(["me", *tokens, "are supported by this server"])
    return isupport


# -- real servers -----------------------------------------------------------------------------


def test_solanum() -> None:
    isupport = _load(SOLANUM)
    assert dict(isupport.prefix) == {"o": "@", "v": "+"}
    assert isupport.chanmodes == ("eIbq", "k", "flj", "CFLMPQRSTcgimnprstuz")
    assert isupport.chantypes == "#"
    assert isupport.statusmsg == "@+"
    assert isupport.network == "Libera.Chat"
    assert isupport.casemapping == "rfc1459"
    assert (isupport.nicklen, isupport.channellen, isupport.topiclen) == (16, 50, 390)
    assert isupport.modes == 4
    assert isupport.get("WHOX") is True
    assert isupport.get("excepts") is True  # names are looked up in any case
    assert isupport.get("ELIST") == "CMNTU"
    assert isupport.get("EXTBAN") == "$,agjrxz"
    assert isupport.get("MONITOR") == "100"  # raw: no int conversion
    assert isupport.targmax["PRIVMSG"] == 4
    assert isupport.targmax["ACCEPT"] is None
    assert dict(isupport.chanlimit) == {"#": 250}
    assert dict(isupport.maxlist) == {"b": 100, "q": 100, "e": 100, "I": 100}
    assert "DEAF" in isupport
    assert "are supported by this server" not in isupport  # the text is not a token
    assert "CAPAB" not in isupport
    assert isupport.get("CAPAB") is None
    assert isupport.get("CAPAB", "no") == "no"


def test_inspircd() -> None:
    isupport = _load(INSPIRCD)
    assert list(isupport.prefix.items()) == [
        ("q", "~"),
        ("a", "&"),
        ("o", "@"),
        ("h", "%"),
        ("v", "+"),
    ]
    assert isupport.chanmodes[0] == "IXZbegw"
    assert isupport.casemapping == "ascii"
    assert isupport.statusmsg == "~&@%+"
    assert isupport.network == "Example Net"  # \x20 decoded
    assert isupport.modes == 20
    assert isupport.nicklen == 30
    assert isupport.get("UHNAMES") is True
    assert isupport.get("NAMESX") is True
    assert isupport.get("EXCEPTS") == "e"


def test_ngircd() -> None:
    isupport = _load(NGIRCD)
    assert isupport.chantypes == "#&+"
    assert isupport.casemapping == "ascii"
    assert dict(isupport.chanlimit) == {"#": 10, "&": 10, "+": 10}
    assert isupport.get("IRCD") == "ngIRCd"
    assert isupport.get("RFC2812") is True
    assert isupport.network is None
    assert isupport.topiclen == 490
    assert isupport.is_channel("+modeless")


def test_defaults() -> None:
    isupport = ISupport()
    assert dict(isupport.prefix) == {"o": "@", "v": "+"}
    assert list(isupport.prefix) == ["o", "v"]
    assert isupport.chanmodes == ("beI", "k", "l", "imnpst")
    assert isupport.chantypes == "#&"
    assert isupport.statusmsg == ""
    assert isupport.casemapping == "rfc1459"
    assert isupport.network is None
    assert (isupport.nicklen, isupport.channellen, isupport.topiclen) == (9, 200, None)
    assert isupport.modes == 3
    assert dict(isupport.targmax) == {}
    assert isupport.get("PREFIX") is None


def test_later_tokens_replace_and_minus_restores_default() -> None:
    isupport = _with("PREFIX=(qov)~@+", "NETWORK=One", "CASEMAPPING=ascii", "MODES=6")
    isupport.load(["me", "NETWORK=Two", "are supported"])
    assert isupport.get("NETWORK") == "Two"
    assert list(isupport.prefix) == ["q", "o", "v"]
    isupport.load(["me", "-PREFIX", "-NETWORK", "-CASEMAPPING", "-MODES", "are supported"])
    assert dict(isupport.prefix) == {"o": "@", "v": "+"}
    assert isupport.network is None
    assert "NETWORK" not in isupport
    assert isupport.casemapping == "rfc1459"
    assert isupport.fold("[A]") == "{a}"
    assert isupport.modes == 3


def test_clear() -> None:
    isupport = _load(INSPIRCD)
    isupport.clear()
    assert isupport.casemapping == "rfc1459"
    assert isupport.get("WHOX") is None
    assert isupport.chanmodes == ("beI", "k", "l", "imnpst")
    assert dict(isupport.prefix) == {"o": "@", "v": "+"}


def test_last_param_without_space_is_a_token() -> None:
    # A server that leaves out the "are supported" text: its last token is not lost.
    isupport = ISupport()
    isupport.load(["me", "CHANTYPES=#", "NETWORK=Net"])
    assert isupport.network == "Net"
    assert isupport.chantypes == "#"


@pytest.mark.parametrize(
    ("tokens", "prefix"),
    [
        (("PREFIX=garbage",), {"o": "@", "v": "+"}),  # FeatureSet raises: default kept
        (("PREFIX=(ov)@",), {"o": "@"}),  # unequal lengths: the pairs that exist
        (("PREFIX=",), {}),  # no prefixes at all
        (("PREFIX",), {}),
        (("PREFIX=(ov)@+", "PREFIX=(("), {"o": "@", "v": "+"}),
    ],
)
def test_malformed_prefix(tokens: tuple[str, ...], prefix: dict[str, str]) -> None:
    assert dict(_with(*tokens).prefix) == prefix


def test_malformed_values_fall_back() -> None:
    isupport = _with(
        "TARGMAX=PRIVMSG",
        "CHANLIMIT=#:x",
        "NICKLEN=abc",
        "TOPICLEN=" + "9" * 5000,  # int() refuses that many digits
        "MODES=",
        "CHANTYPES=",
        "CASEMAPPING=rfc7613",
        "",
        "=",
        "-",
        "=value",
    )
    assert dict(isupport.targmax) == {}
    assert dict(isupport.chanlimit) == {}
    assert isupport.nicklen == 9
    assert isupport.topiclen is None
    assert isupport.modes is None  # MODES without a value: no limit
    assert isupport.chantypes == ""
    assert not isupport.is_channel("#chan")
    assert isupport.casemapping == "rfc1459"
    assert isupport.get("CASEMAPPING") == "rfc7613"


@pytest.mark.parametrize(
    ("token", "chanmodes"),
    [
        ("CHANMODES=b,k", ("b", "k", "", "")),
        ("CHANMODES=b,k,l,imnt,XY", ("b", "k", "l", "imnt")),
        ("CHANMODES=", ("beI", "k", "l", "imnpst")),
    ],
)
def test_chanmodes_shapes(token: str, chanmodes: tuple[str, ...]) -> None:
    assert _with(token).chanmodes == chanmodes


def test_escapes() -> None:
    isupport = _with(r"NETWORK=Caf\xC3\xA9\x20Net\x3D\x5C", r"X=\xFF", r"Y=\x4")
    assert isupport.network == "Café Net=\\"
    assert isupport.get("X") == "\ufffd"
    assert isupport.get("Y") == "\\x4"  # not an escape


# -- folding and channel names ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("casemapping", "name", "folded"),
    [
        ("rfc1459", "Nick[]\\~", "nick{}|^"),
        ("strict-rfc1459", "Nick[]\\~", "nick{}|~"),
        ("ascii", "Nick[]\\~", "nick[]\\~"),
        ("RFC1459", "#Chan[X]", "#chan{x}"),
        ("ascii", "ÉCOLE", "École"),  # only ASCII folds
        ("unknown", "A[", "a{"),
    ],
)
def test_fold(casemapping: str, name: str, folded: str) -> None:
    isupport = _with(f"CASEMAPPING={casemapping}")
    assert isupport.fold(name) == folded


def test_casemappings() -> None:
    assert frozenset({"rfc1459", "strict-rfc1459", "ascii"}) == CASEMAPPINGS


_SWAP_RFC1459 = str.maketrans("[]\\~{}|^", "{}|^[]\\~")


@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E)))
def test_fold_properties(name: str) -> None:
    rfc, strict, ascii_ = (
        _with(f"CASEMAPPING={m}") for m in ("rfc1459", "strict-rfc1459", "ascii")
    )
    for isupport in (rfc, strict, ascii_):
        assert isupport.fold(isupport.fold(name)) == isupport.fold(name)
        assert isupport.fold(name.swapcase()) == isupport.fold(name)
    assert ascii_.fold(name) == name.lower()
    assert rfc.fold(name.translate(_SWAP_RFC1459)) == rfc.fold(name)


@pytest.mark.parametrize(
    ("target", "split", "is_channel"),
    [
        ("#chan", ("", "#chan"), True),
        ("@#chan", ("@", "#chan"), True),
        ("@+#chan", ("@+", "#chan"), True),
        ("nick", ("", "nick"), False),
        ("@nick", ("", "@nick"), False),
        ("@", ("", "@"), False),
        ("", ("", ""), False),
        ("&chan", ("", "&chan"), False),  # Solanum: CHANTYPES=#
        ("%#chan", ("", "%#chan"), False),  # % is not in Solanum's STATUSMSG
    ],
)
def test_statusmsg_solanum(target: str, split: tuple[str, str], is_channel: bool) -> None:
    isupport = _load(SOLANUM)
    assert isupport.split_statusmsg(target) == split
    assert isupport.is_channel(target) is is_channel


def test_statusmsg_symbol_that_is_also_a_chantype() -> None:
    isupport = _with("CHANTYPES=#&", "STATUSMSG=~&@%+")
    assert isupport.split_statusmsg("&chan") == ("", "&chan")
    assert isupport.split_statusmsg("@&chan") == ("@", "&chan")
    assert isupport.split_statusmsg("~&#chan") == ("~", "&#chan")


def test_default_chantypes() -> None:
    isupport = ISupport()
    assert isupport.is_channel("&local")
    assert isupport.is_channel("#chan")
    assert not isupport.is_channel("+chan")
    assert not isupport.is_channel("@#chan")  # no STATUSMSG advertised


def test_split_prefix() -> None:
    isupport = _load(INSPIRCD)
    assert isupport.split_prefix("~&@%+nick") == ("qaohv", "nick")
    assert isupport.split_prefix("+@nick") == ("ov", "nick")
    assert isupport.split_prefix("nick") == ("", "nick")
    assert isupport.split_prefix("@+nick!u@h") == ("ov", "nick!u@h")
    assert isupport.sort_modes("vhxq") == "qhv"


# -- parse_modes ------------------------------------------------------------------------------


def _changes(*triples: tuple[bool, str, str | None]) -> list[ModeChange]:
    return [ModeChange(*triple) for triple in triples]


@pytest.mark.parametrize(
    ("modes", "args", "expected"),
    [
        # type A (lists): an argument both ways, or None for a list query
        ("+b", ["*!*@bad"], [(True, "b", "*!*@bad")]),
        ("-e", ["*!*@ok"], [(False, "e", "*!*@ok")]),
        ("+b", [], [(True, "b", None)]),
        # type B: an argument both ways
        ("+k", ["key"], [(True, "k", "key")]),
        ("-k", ["key"], [(False, "k", "key")]),
        # type C: an argument when set only (Solanum's +f forward, +j throttle)
        ("+l-l", ["10"], [(True, "l", "10"), (False, "l", None)]),
        ("+f-j+j", ["#fwd", "3:5"], [(True, "f", "#fwd"), (False, "j", None), (True, "j", "3:5")]),
        # type D: never
        ("+mn-t", ["x"], [(True, "m", None), (True, "n", None), (False, "t", None)]),
        # prefix modes: always
        ("+o-v", ["a", "b"], [(True, "o", "a"), (False, "v", "b")]),
        # unknown letters take nothing; a missing sign means +; extra arguments are ignored
        ("Zo", ["a", "b"], [(True, "Z", None), (True, "o", "a")]),
        ("+ov", ["a"], [(True, "o", "a"), (True, "v", None)]),
        ("", ["a"], []),
        ("+-", [], []),
        (
            "+ntk-o+lb",
            ["key", "nick", "50", "m"],
            [
                (True, "n", None),
                (True, "t", None),
                (True, "k", "key"),
                (False, "o", "nick"),
                (True, "l", "50"),
                (True, "b", "m"),
            ],
        ),
    ],
)
def test_parse_modes_solanum(
    modes: str, args: list[str], expected: list[tuple[bool, str, str | None]]
) -> None:
    assert _load(SOLANUM).parse_modes(modes, args) == _changes(*expected)


def test_parse_modes_uses_prefix_and_chanmodes() -> None:
    # InspIRCd: q/a/h are prefix modes, w (auto-op list) is type A, F is type C.
    isupport = _load(INSPIRCD)
    assert isupport.parse_modes("+qahw-F", ["a", "b", "c", "o:*!*@x"]) == _changes(
        (True, "q", "a"),
        (True, "a", "b"),
        (True, "h", "c"),
        (True, "w", "o:*!*@x"),
        (False, "F", None),
    )
    # With the defaults q and h are unknown: no argument.
    assert ISupport().parse_modes("+qho", ["a"]) == _changes(
        (True, "q", None), (True, "h", None), (True, "o", "a")
    )


def test_parse_user_modes() -> None:
    isupport = _load(SOLANUM)
    assert isupport.parse_modes("+iwo-x", ["unused"], channel=False) == _changes(
        (True, "i", None), (True, "w", None), (True, "o", None), (False, "x", None)
    )


_MODE_TEXT = st.text(alphabet=st.sampled_from("+-abcdefghijklmnopqrstuvwxyzABZ@# "), max_size=30)
_TOKENS = st.lists(
    st.one_of(
        st.text(max_size=20),
        st.builds("PREFIX=({}){}".format, st.text(max_size=5), st.text(max_size=5)),
        st.builds("CHANMODES={}".format, st.text(alphabet="abklmn,", max_size=12)),
    ),
    max_size=6,
)


@given(tokens=_TOKENS, modes=_MODE_TEXT, args=st.lists(st.text(max_size=5), max_size=8))
def test_parse_modes_never_raises_and_takes_arguments_in_order(
    tokens: list[str], modes: str, args: list[str]
) -> None:
    isupport = ISupport()
    isupport.load(["me", *tokens, "are supported by this server"])
    for channel in (True, False):
        changes = isupport.parse_modes(modes, args, channel=channel)
        letters = [char for char in modes if char not in "+-"]
        assert [change.mode for change in changes] == letters
        taken = [change.arg for change in changes if change.arg is not None]
        assert taken == args[: len(taken)]
        # An argument is None only once they have run out (or for modes that take none).
        wanting = [c for c in changes if c.arg is None and _takes_arg(isupport, c, channel)]
        if wanting:
            assert len(taken) == len(args)
        if not channel:
            assert taken == []


def _takes_arg(isupport: ISupport, change: ModeChange, channel: bool) -> bool:
    if not channel:
        return False
    a, b, c, _ = isupport.chanmodes
    return change.mode in (*isupport.prefix, *a, *b) or (change.adding and change.mode in c)


@given(st.lists(st.text(max_size=30), max_size=8))
def test_load_never_raises(params: list[str]) -> None:
    isupport = ISupport()
    isupport.load(params)
    isupport.fold("Nick")
    isupport.is_channel("#chan")
    assert isinstance(isupport.chanmodes, tuple)
    assert len(isupport.chanmodes) == 4
    assert all(len(mode) == len(symbol) == 1 for mode, symbol in isupport.prefix.items())
    _ = (isupport.targmax, isupport.chanlimit, isupport.maxlist, isupport.modes, isupport.nicklen)
