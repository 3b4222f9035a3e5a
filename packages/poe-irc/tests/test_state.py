"""IRCState: a scripted conversation, line by line, and what the tracker knows after each part."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from poe.irc.isupport import ISupport
from poe.irc.message import Message, parse
from poe.irc.state import IRCState, Topic, User

WELCOME = [
    ":srv 001 me :Welcome to the network, me",
    ":srv 005 me PREFIX=(ohv)@%+ CHANTYPES=# CHANMODES=eIbq,k,flj,CFLMPQRSTcgimnprstuz "
    "STATUSMSG=@%+ CASEMAPPING=rfc1459 :are supported by this server",
    ":srv 221 me +iw",
]
JOINED = [
    *WELCOME,
    ":me!~me@my.host JOIN #Chan",
    ":srv 332 me #Chan :Hello world",
    ":srv 333 me #Chan alice!a@a.host 1700000000",
    ":srv 353 me = #Chan :me @+Alice %bob +carol dave [x]",
    ":srv 366 me #Chan :End of /NAMES list.",
    ":srv 324 me #Chan +ntkl secret 25",
    ":srv 329 me #Chan 1600000000",
]


def feed(state: IRCState, *lines: str) -> IRCState:
    for line in lines:
        state.update(parse(line))
    check_invariants(state)
    return state


def joined() -> IRCState:
    return feed(IRCState(), *JOINED)


def check_invariants(state: IRCState) -> None:
    """Every member is a known user; every known user is us or on one of our channels."""
    for channel in state.channels():
        for nick in state.channel_list(channel):
            assert state.nick_info(nick) is not None, (channel, nick)
    for nick in state.nicks():
        assert nick == state.nick or state.nick_channels(nick), nick


# -- registration and joining -----------------------------------------------------------------


def test_welcome_sets_our_nick_and_modes() -> None:
    state = feed(IRCState(), *WELCOME)
    assert state.nick == "me"
    assert state.nicks() == ["me"]
    assert state.user_modes() == "iw"
    assert state.channels() == []
    assert list(state.isupport.prefix) == ["o", "h", "v"]


def test_nick_set_before_welcome_is_replaced_by_001() -> None:
    state = IRCState()
    state.nick = "wanted"
    feed(state, ":srv 001 wanted_ :Welcome")
    assert state.nick == "wanted_"
    assert state.nicks() == ["wanted_"]


def test_join_burst() -> None:
    state = joined()
    assert state.channels() == ["#Chan"]
    assert state.channel_list("#chan") == ["me", "Alice", "bob", "carol", "dave", "[x]"]
    assert state.nick_channel_modes("#CHAN", "alice") == "ov"
    assert state.is_channel_operator("#chan", "ALICE")
    assert state.has_channel_voice("#chan", "Alice")
    assert state.is_channel_halfop("#chan", "Bob")
    assert not state.is_channel_operator("#chan", "bob")
    assert state.nick_channel_modes("#chan", "carol") == "v"
    assert state.nick_channel_modes("#chan", "dave") == ""
    assert state.is_channel_member("#chan", "{X}")  # rfc1459: [ and { are one letter
    assert not state.is_channel_member("#chan", "nobody")
    assert not state.is_channel_member("#other", "alice")
    assert state.channel_modes("#chan") == {"n": None, "t": None, "k": "secret", "l": "25"}
    assert state.channel_topic("#chan") == Topic("Hello world", "alice!a@a.host", 1700000000)
    assert state.channel_creation_time("#chan") == 1600000000
    assert state.nick_channels("alice") == ["#Chan"]
    me = state.nick_info("ME")
    assert me == User("me", "~me", "my.host")
    assert state.nick_long_form("me") == "me!~me@my.host"
    assert state.nick_long_form("alice") is None  # NAMES without userhost-in-names


def test_unknown_channel_queries() -> None:
    state = joined()
    assert state.channel_list("#nope") == []
    assert state.channel_modes("#nope") == {}
    assert state.channel_topic("#nope") is None
    assert state.channel_creation_time("#nope") is None
    assert state.nick_channel_modes("#nope", "alice") == ""
    assert state.nick_info("nobody") is None
    assert state.nick_channels("nobody") == []
    assert not state.is_away("nobody")


def test_others_join_and_their_source_is_learned() -> None:
    state = feed(joined(), ":erin!~e@e.host JOIN #Chan", ":alice!a@a.host PRIVMSG #Chan :hi")
    assert state.channel_list("#chan")[-1] == "erin"
    assert state.nick_channel_modes("#chan", "erin") == ""
    assert state.nick_info("erin") == User("erin", "~e", "e.host")
    alice = state.nick_info("alice")
    assert alice is not None
    assert (alice.nick, alice.user, alice.host) == ("Alice", "a", "a.host")


def test_join_of_a_channel_we_are_not_on_is_ignored() -> None:
    state = feed(joined(), ":erin!e@h JOIN #elsewhere")
    assert state.channels() == ["#Chan"]
    assert state.nick_info("erin") is None


def test_extended_join_and_account_notify() -> None:
    state = feed(
        joined(),
        ":erin!e@e.host JOIN #Chan erin_acct :Erin Real",
        ":frank!f@f.host JOIN #Chan * :Frank",
    )
    assert state.nick_info("erin") == User("erin", "e", "e.host", "Erin Real", "erin_acct")
    frank = state.nick_info("frank")
    assert frank is not None
    assert (frank.realname, frank.account) == ("Frank", None)
    feed(state, ":frank!f@f.host ACCOUNT frank_acct")
    frank = state.nick_info("frank")
    assert frank is not None
    assert frank.account == "frank_acct"
    feed(state, ":frank!f@f.host ACCOUNT *")
    frank = state.nick_info("frank")
    assert frank is not None
    assert frank.account is None


def test_userhost_in_names_and_multi_prefix() -> None:
    state = feed(
        IRCState(),
        *WELCOME,
        ":me!u@h JOIN #c",
        ":srv 353 me @ #c :@me!u@h %+gina!g@g.host @%+hal!hh@hal.host",
        ":srv 366 me #c :End of /NAMES list.",
    )
    assert state.nick_info("gina") == User("gina", "g", "g.host")
    assert state.nick_channel_modes("#c", "gina") == "hv"
    assert state.nick_channel_modes("#c", "hal") == "ohv"
    assert state.nick_long_form("hal") == "hal!hh@hal.host"
    assert state.is_channel_operator("#c", "me")


def test_second_names_reply_replaces_the_member_list() -> None:
    state = feed(
        joined(),
        ":srv 353 me = #Chan :me +Alice",
        ":srv 353 me = #Chan :@carol",  # a reply in two lines
    )
    # Until 366 nobody is dropped.
    assert state.is_channel_member("#chan", "dave")
    feed(state, ":srv 366 me #Chan :End of /NAMES list.")
    assert state.channel_list("#chan") == ["me", "Alice", "carol"]
    assert state.nick_channel_modes("#chan", "alice") == "v"
    assert state.nick_channel_modes("#chan", "carol") == "o"
    assert state.nick_info("dave") is None


def test_join_during_a_names_reply_is_kept() -> None:
    state = feed(
        joined(),
        ":srv 353 me = #Chan :me @+Alice %bob +carol dave [x]",
        ":late!l@h JOIN #Chan",  # after the server built the reply, before its end
        ":srv 366 me #Chan :End of /NAMES list.",
    )
    assert state.is_channel_member("#chan", "late")
    assert state.nick_info("late") is not None


def test_names_for_a_channel_we_are_not_on_is_ignored() -> None:
    state = feed(joined(), ":srv 353 me = #other :x y", ":srv 366 me #other :End")
    assert state.nick_info("x") is None


# -- modes ------------------------------------------------------------------------------------


def test_prefix_mode_changes_with_halfop() -> None:
    state = feed(joined(), ":Alice!a@a.host MODE #Chan +h-v+o carol carol dave")
    assert state.nick_channel_modes("#chan", "carol") == "h"
    assert state.is_channel_halfop("#chan", "carol")
    assert not state.has_channel_voice("#chan", "carol")
    assert state.is_channel_operator("#chan", "dave")
    feed(state, ":Alice!a@a.host MODE #Chan +vh dave dave")
    assert state.nick_channel_modes("#chan", "dave") == "ohv"  # PREFIX order
    feed(state, ":Alice!a@a.host MODE #Chan -o+b alice *!*@bad")
    assert state.nick_channel_modes("#chan", "alice") == "v"
    assert "b" not in state.channel_modes("#chan")  # lists are not tracked
    # Adding a mode twice keeps it once; removing one that is not there is harmless.
    feed(state, ":srv MODE #Chan +v-h Alice Alice")
    assert state.nick_channel_modes("#chan", "alice") == "v"
    # A prefix mode for someone not on the channel changes nothing.
    feed(state, ":srv MODE #Chan +o ghost")
    assert state.nick_info("ghost") is None


def test_channel_mode_changes() -> None:
    state = feed(
        joined(),
        ":Alice!a@a.host MODE #Chan +l-k+m 30 secret",
        ":Alice!a@a.host MODE #Chan +f-t #overflow",
    )
    assert state.channel_modes("#chan") == {"n": None, "l": "30", "m": None, "f": "#overflow"}
    feed(state, ":Alice!a@a.host MODE #Chan -lf")
    assert state.channel_modes("#chan") == {"n": None, "m": None}
    feed(state, ":srv 324 me #Chan +sk newkey")
    assert state.channel_modes("#chan") == {"s": None, "k": "newkey"}
    # The returned dict is a copy.
    state.channel_modes("#chan")["x"] = None
    assert "x" not in state.channel_modes("#chan")


def test_mode_for_a_channel_we_are_not_on_is_ignored() -> None:
    state = feed(joined(), ":srv MODE #elsewhere +m", ":srv MODE someone +i")
    assert state.channel_modes("#elsewhere") == {}
    assert state.user_modes() == "iw"


def test_user_modes() -> None:
    state = feed(joined(), ":me MODE me :+x-w", ":srv MODE ME +Z")
    assert state.user_modes() == "Zix"
    feed(state, ":srv 221 me +r")
    assert state.user_modes() == "r"


# -- topics -----------------------------------------------------------------------------------


def test_topic_changes() -> None:
    state = feed(joined(), "@time=2024-01-01T00:00:00.000Z :Alice!a@a.host TOPIC #Chan :new topic")
    assert state.channel_topic("#chan") == Topic("new topic", "Alice!a@a.host", 1704067200)
    feed(state, ":Alice!a@a.host TOPIC #Chan :")
    assert state.channel_topic("#chan") is None
    feed(state, ":bob!b@h TOPIC #Chan :no time tag")
    assert state.channel_topic("#chan") == Topic("no time tag", "bob!b@h", None)
    feed(state, "@time=garbage :bob!b@h TOPIC #Chan :bad tag")
    assert state.channel_topic("#chan") == Topic("bad tag", "bob!b@h", None)
    feed(state, ":srv 331 me #Chan :No topic is set")
    assert state.channel_topic("#chan") is None
    feed(state, ":srv 333 me #Chan x 1")  # no topic to annotate
    assert state.channel_topic("#chan") is None


# -- nick changes -----------------------------------------------------------------------------


def test_nick_change_of_a_user() -> None:
    state = feed(joined(), ":bob!b@b.host NICK Bobby")
    assert "Bobby" in state.channel_list("#chan")
    assert "bob" not in state.channel_list("#chan")
    assert state.is_channel_halfop("#chan", "BOBBY")
    assert state.nick_info("bob") is None
    bobby = state.nick_info("bobby")
    assert bobby == User("Bobby", "b", "b.host")
    # A change of case only: same user, new spelling.
    feed(state, ":Bobby!b@b.host NICK BOBBY")
    assert state.nick_info("bobby") == User("BOBBY", "b", "b.host")
    assert state.channel_list("#chan").count("BOBBY") == 1


def test_nick_change_of_ourselves() -> None:
    state = feed(joined(), ":me!~me@my.host NICK Me2")
    assert state.nick == "Me2"
    assert state.is_channel_member("#chan", "me2")
    assert not state.is_channel_member("#chan", "me")
    assert state.nick_info("me") is None
    assert state.nick_info("me2") == User("Me2", "~me", "my.host")
    # MODE for our new nick is ours.
    feed(state, ":Me2 MODE Me2 :+R")
    assert "R" in state.user_modes()
    # Being kicked under the new nick removes the channel.
    feed(state, ":Alice!a@a.host KICK #Chan me2 :bye")
    assert state.channels() == []


def test_nick_attribute_renames_our_record() -> None:
    state = joined()
    state.nick = "other"
    assert "other" in state.channel_list("#chan")
    assert "me" not in state.channel_list("#chan")
    assert state.is_channel_member("#chan", "OTHER")
    assert state.nick_info("me") is None


# -- leaving ----------------------------------------------------------------------------------


def test_part_kick_quit_of_others() -> None:
    state = feed(
        joined(),
        ":me!~me@my.host JOIN #two",
        ":srv 353 me = #two :me carol dave",
        ":srv 366 me #two :End",
    )
    assert state.nick_channels("carol") == ["#Chan", "#two"]
    feed(state, ":carol!c@h PART #Chan :bye")
    assert not state.is_channel_member("#chan", "carol")
    assert state.nick_channels("carol") == ["#two"]
    assert state.nick_info("carol") is not None  # still shares #two with us
    feed(state, ":Alice!a@a.host KICK #Chan bob :out")
    assert not state.is_channel_member("#chan", "bob")
    assert state.nick_info("bob") is None  # shared only #Chan
    feed(state, ":dave!d@h QUIT :Quit: gone")
    assert state.nick_info("dave") is None
    assert not state.is_channel_member("#two", "dave")
    assert not state.is_channel_member("#chan", "dave")
    # Alice PARTs, then her (stale) messages change nothing.
    feed(state, ":Alice!a@a.host PART #Chan", ":Alice!a@a.host AWAY :gone")
    assert state.nick_info("alice") is None


def test_our_part_and_kick_drop_the_channel_and_its_users() -> None:
    state = feed(
        joined(),
        ":me!~me@my.host JOIN #two",
        ":srv 353 me = #two :me carol",
        ":srv 366 me #two :End",
    )
    feed(state, ":me!~me@my.host PART #Chan :leaving")
    assert state.channels() == ["#two"]
    assert sorted(state.nicks()) == ["carol", "me"]
    feed(state, ":carol!c@h KICK #two me :out")
    assert state.channels() == []
    assert state.nicks() == ["me"]  # we stay known
    assert state.nick_info("me") is not None


def test_rejoin_starts_a_fresh_record() -> None:
    state = feed(joined(), ":me!~me@my.host JOIN #chan")
    assert state.channels() == ["#chan"]
    assert state.channel_list("#chan") == ["me"]
    assert state.channel_modes("#chan") == {}
    assert state.channel_topic("#chan") is None
    assert state.nick_info("alice") is None


def test_our_quit_is_left_to_reset() -> None:
    state = feed(joined(), ":me!~me@my.host QUIT :bye")
    assert state.channels() == ["#Chan"]
    assert state.is_channel_member("#chan", "me")
    assert state.nick_info("me") is not None
    state.reset()
    assert state.nick is None
    assert state.channels() == []
    assert state.nicks() == []
    assert state.user_modes() == ""
    assert state.isupport.get("PREFIX") is None
    # And it works again after a new welcome.
    feed(state, *JOINED)
    assert state.is_channel_halfop("#chan", "bob")


# -- away and user info -----------------------------------------------------------------------


def test_away_notify_and_replies() -> None:
    state = feed(joined(), ":Alice!a@a.host AWAY :lunch")
    alice = state.nick_info("alice")
    assert alice is not None
    assert (alice.away, alice.away_message) == (True, "lunch")
    assert state.is_away("ALICE")
    feed(state, ":Alice!a@a.host AWAY")
    assert not state.is_away("alice")
    alice = state.nick_info("alice")
    assert alice is not None
    assert alice.away_message is None
    feed(state, ":srv 301 me bob :in a meeting")
    bob = state.nick_info("bob")
    assert bob is not None
    assert (bob.away, bob.away_message) == (True, "in a meeting")
    feed(state, ":srv 301 me stranger :away")  # not on our channels: not tracked
    assert state.nick_info("stranger") is None


def test_our_own_away() -> None:
    state = feed(joined(), ":srv 306 me :You have been marked as being away")
    assert state.is_away("me")
    feed(state, ":srv 305 me :You are no longer marked as being away")
    assert not state.is_away("me")


def test_who_reply() -> None:
    state = feed(
        joined(),
        ":srv 352 me #Chan ~al alice.real.host srv Alice G@ :0 Alice Liddell",
        ":srv 352 me #Chan d d.host srv dave H% :3 Dave",
        ":srv 352 me * s s.host srv stranger H :0 S",
    )
    alice = state.nick_info("alice")
    assert alice == User("Alice", "~al", "alice.real.host", "Alice Liddell", None, True, None)
    assert state.nick_channel_modes("#chan", "alice") == "o"  # no multi-prefix: only @
    dave = state.nick_info("dave")
    assert dave is not None
    assert (dave.realname, dave.away) == ("Dave", False)
    assert state.is_channel_halfop("#chan", "dave")
    assert state.nick_info("stranger") is None
    # 'H' clears an away status learned before.
    feed(state, ":Alice!a@a.host AWAY :brb", ":srv 352 me #Chan a h srv Alice H :0 A")
    assert not state.is_away("alice")


def test_whois_chghost_setname() -> None:
    state = feed(
        joined(),
        ":srv 311 me carol c carol.host * :Carol C",
        ":dave!d@old.host CHGHOST dd new.host",
        ":dave!dd@new.host SETNAME :Dave D",
    )
    assert state.nick_info("carol") == User("carol", "c", "carol.host", "Carol C")
    assert state.nick_info("dave") == User("dave", "dd", "new.host", "Dave D")


# -- case mapping -----------------------------------------------------------------------------


def test_casemapping_decides_what_is_the_same_name() -> None:
    rfc = feed(IRCState(), *JOINED)
    assert rfc.is_channel_member("#chan", "{x}")
    ascii_lines = [line.replace("CASEMAPPING=rfc1459", "CASEMAPPING=ascii") for line in JOINED]
    ascii_ = feed(IRCState(), *ascii_lines)
    assert not ascii_.is_channel_member("#chan", "{x}")
    assert ascii_.is_channel_member("#CHAN", "[X]")


def test_a_new_casemapping_rekeys_everything() -> None:
    state = feed(IRCState(), *JOINED, ":srv 005 me CASEMAPPING=ascii :are supported")
    assert state.is_channel_member("#chan", "[X]")
    assert not state.is_channel_member("#chan", "{x}")
    assert state.nick_info("[x]") is not None
    # A shared ISupport told by someone else is noticed at the next message.
    shared = ISupport()
    state = IRCState(shared)
    feed(state, *JOINED)
    shared.load(["me", "CASEMAPPING=ascii", "are supported"])
    feed(state, ":srv PING :x")
    assert state.nick_info("{x}") is None
    assert state.nick_info("[X]") is not None


# -- robustness -------------------------------------------------------------------------------

MALFORMED = [
    ":srv 001",
    "JOIN",
    "JOIN #Chan",  # no source
    ":x!y@z PART",
    ":x!y@z KICK #Chan",
    "QUIT",
    ":a!b@c NICK",
    "NICK x",
    ":srv MODE #Chan",
    ":srv MODE",
    ":srv 221 me",
    ":srv 324 me #Chan",
    ":srv 329 me #Chan notanumber",
    ":srv 329 me #Chan " + "9" * 5000,
    ":srv 333 me #Chan x " + "9" * 5000,
    "@time=0001-01-01T00:00:00 :x!y@z TOPIC #Chan :t",
    ":x!y@z TOPIC #Chan",
    ": JOIN #Chan",
    ":srv 332 me #Chan",
    ":srv 333 me #Chan",
    ":srv 352 me #Chan a b c",
    ":srv 353 me #Chan",
    ":srv 353 me = #Chan :",
    ":srv 366 me",
    ":srv 301 me",
    ":srv 311 me x",
    "AWAY :x",
    "ACCOUNT",
    ":a!b@c CHGHOST x",
    "SETNAME :x",
    ":srv TOPIC",
    ":srv 005 me",
    ":srv 005",
    ":x!y@z KICK #nope me",
    ":me!~me@my.host PART #nope",
]


@pytest.mark.parametrize("line", MALFORMED)
def test_malformed_messages_change_nothing_much(line: str) -> None:
    state = joined()
    before = (state.channels(), sorted(state.nicks()), state.channel_modes("#chan"))
    feed(state, line)
    assert (state.channels(), sorted(state.nicks()), state.channel_modes("#chan")) == before


_COMMANDS = st.sampled_from(
    [
        "001",
        "005",
        "221",
        "301",
        "305",
        "306",
        "311",
        "324",
        "329",
        "331",
        "332",
        "333",
        "352",
        "353",
        "366",
        "ACCOUNT",
        "AWAY",
        "CHGHOST",
        "JOIN",
        "KICK",
        "MODE",
        "NICK",
        "PART",
        "QUIT",
        "SETNAME",
        "TOPIC",
        "PRIVMSG",
    ]
)
_WORDS = st.sampled_from(
    ["me", "ME", "#Chan", "#chan", "alice", "Bob", "*", "=", "+o", "-v+h", "@"]
)
_PARAM = st.one_of(_WORDS, st.text(max_size=12))
_SOURCE = st.one_of(
    st.none(),
    st.sampled_from(["me!~me@my.host", "Alice!a@a.host", "bob!b@h", "srv", "new!n@h"]),
    st.text(max_size=10),
)


@settings(max_examples=300)
@given(
    st.lists(
        st.builds(
            Message,
            command=_COMMANDS,
            params=st.lists(_PARAM, max_size=8).map(tuple),
            source=_SOURCE,
        ),
        max_size=25,
    )
)
def test_update_never_raises_and_keeps_invariants(messages: list[Message]) -> None:
    state = joined()
    for msg in messages:
        state.update(msg)
        check_invariants(state)
