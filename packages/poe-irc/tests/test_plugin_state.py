"""The State plugin on a real server: what a session sees is already tracked."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from poe.irc import IRC, Message
from poe.irc.plugins import State
from poe.testing.watchdog import Watchdog

if TYPE_CHECKING:
    from collections.abc import Callable

    from ircd import InspIRCd, IRCServer, NgIRCd
    from poe.kernel import Kernel
    from support import Recorder

    MakeRecorder = Callable[..., Recorder]


def _irc(kernel: Kernel, server: IRCServer, nick: str, **options: Any) -> IRC:
    return IRC(kernel, nick=nick, server=server.host, port=server.port, flood=None, **options)


def test_state_follows_a_channel(kernel: Kernel, ngircd: NgIRCd, recorder: MakeRecorder) -> None:
    watchdog = Watchdog(kernel)
    state = State()
    alice = _irc(kernel, ngircd, "alice", plugins={"State": state})
    bob = _irc(kernel, ngircd, "bob")
    a = recorder(alice)
    b = recorder(bob, connect=False)  # bob connects once alice has settled
    snapshots: dict[str, Any] = {}
    a.reactions["irc_001"] = lambda *args: alice.yield_("join", "#st")

    @a.on("irc_chan_sync")  # the answers to the WHO and MODE the plugin asked on our JOIN
    def chan_sync(channel: str, msg: None) -> None:
        snapshots["synced"] = (channel, state.is_channel_synced("#ST"))
        snapshots["alone"] = (state.channels(), state.channel_list("#st"))
        snapshots["me"] = state.nick_info("alice")
        bob.yield_("connect")

    b.reactions["irc_001"] = lambda *args: bob.yield_("join", "#ST")  # case-insensitive

    @a.on("irc_join")
    def joined(who: str, channel: str, msg: Message) -> None:
        if msg.nick == "bob":
            snapshots["bob_joined"] = state.channel_list("#st")
            alice.yield_("mode", "#st", "+v", "bob")

    @a.on("irc_mode")
    def mode(who: str, target: str, *rest: Any) -> None:
        if target == "#st" and rest[0] == "+v":
            snapshots["voiced"] = (
                state.has_channel_voice("#st", "BOB"),
                state.nick_channel_modes("#st", "bob"),
                state.is_channel_operator("#st", "alice"),
            )
            alice.yield_("topic", "#st", "tracking state")

    @a.on("irc_topic")
    def topic(who: str, channel: str, text: str, msg: Message) -> None:
        found = state.channel_topic("#st")
        assert found is not None
        snapshots["topic"] = (found.text, found.set_by)
        bob.yield_("nick", "bobby")

    @a.on("irc_nick")
    def nick(who: str, new: str, msg: Message) -> None:
        snapshots["renamed"] = (sorted(state.channel_list("#st")), state.nick_info("bob"))
        info = state.nick_info("bobby")
        assert info is not None
        snapshots["bobby"] = (info.nick, info.user, info.host)
        bob.yield_("part", "#st")

    @a.on("irc_part")
    def part(who: str, channel: str, reason: str, msg: Message) -> None:
        snapshots["parted"] = (state.channel_list("#st"), state.nick_info("bobby"), state.nicks())
        alice.yield_("shutdown")
        bob.yield_("shutdown")

    a.reactions["irc_shutdown"] = lambda *args: watchdog.done()
    watchdog.run()

    assert snapshots["synced"] == ("#st", True)
    assert snapshots["alone"] == (["#st"], ["alice"])
    me = snapshots["me"]
    assert me.user == "~alice"
    assert me.realname == "alice"  # from the WHO reply
    assert sorted(snapshots["bob_joined"]) == ["alice", "bob"]
    assert snapshots["voiced"] == (True, "v", True)
    assert snapshots["topic"][0] == "tracking state"
    assert snapshots["topic"][1].startswith("alice!")  # the TOPIC's source
    assert snapshots["renamed"] == (["alice", "bobby"], None)
    assert snapshots["bobby"] == ("bobby", "~bob", "127.0.0.1")
    assert snapshots["parted"] == (["alice"], None, ["alice"])
    assert state.channels() == []  # reset when the connection ended


def test_state_tracks_away_notify_on_inspircd(
    kernel: Kernel, inspircd: InspIRCd, recorder: MakeRecorder
) -> None:
    watchdog = Watchdog(kernel, 20)
    state = State()
    alice = _irc(kernel, inspircd, "alice", plugins={"State": state})
    bob = _irc(kernel, inspircd, "bob")
    a = recorder(alice)
    b = recorder(bob)
    seen: list[tuple[bool, str | None]] = []
    # Bob goes away once alice has both seen him join and had the answer to her own WHO
    # (which would otherwise overwrite what AWAY said: WHO knows "away", not why).
    ready = {"who": False, "bob": False}

    def check_both(what: str) -> None:
        ready[what] = True
        if all(ready.values()):
            bob.yield_("away", "gone fishing")

    @a.on("irc_join")
    def on_join(who: str, channel: str, msg: Message) -> None:
        if msg.nick == "bob":
            check_both("bob")

    a.reactions["irc_315"] = lambda *args: check_both("who")

    a.reactions["irc_001"] = lambda *args: alice.yield_("join", "#away")
    b.reactions["irc_001"] = lambda *args: bob.yield_("join", "#away")

    @a.on("irc_away")
    def away(who: str, *rest: Any) -> None:
        info = state.nick_info("bob")
        assert info is not None
        seen.append((state.is_away("bob"), info.away_message))
        if len(seen) == 1:
            bob.yield_("away")  # back
        else:
            alice.yield_("shutdown")
            bob.yield_("shutdown")

    a.reactions["irc_shutdown"] = lambda *args: watchdog.done()
    watchdog.run()
    assert seen == [(True, "gone fishing"), (False, None)]
