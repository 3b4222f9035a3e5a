"""Letting the component track state: the State plugin (POE::Component::IRC::State).

The ``State`` plugin reads every message the server sends, before it becomes an event, and
keeps the channels the bot is on, who is in them with which prefix modes (``@``, ``+``),
the topics and modes, and what is known of each user. So a handler of ``irc_join``,
``irc_mode``, ``irc_topic`` or ``irc_nick`` can ask it questions and get the state *after*
that change. On its own join it also asks the server ``WHO`` (users' real names) and
``MODE`` (the channel's modes), as POE's State does.

poebot joins ``#poe`` (the first one in, so the server makes it operator), then alice comes.
A director session, registered with the bot's component, drives each step when the bot has
seen the previous one, and prints what the bot's State plugin says:

1. poebot is in, and the answers to its ``WHO`` and ``MODE`` are in (``irc_324``);
2. alice joins;  3. poebot asks ``WHO alice``;  4. it gives her ``+o``;
5. she sets the topic;  6. she becomes alicia;  7. she leaves. Then everyone shuts down.
"""

from __future__ import annotations

from typing import Any

import irc_server
from poe.irc import IRC, Message
from poe.irc.plugins import State
from poe.kernel import Kernel
from poe.session import Context, Session

CHANNEL = "#poe"

kernel = Kernel()
server = irc_server.start(kernel)
state = State()
bot = IRC(kernel, nick="poebot", port=server.port, flood=None, plugins={"State": state})
alice = IRC(kernel, nick="alice", ircname="Alice Liddell", port=server.port, flood=None)


def show(*nicks: str) -> None:
    print(f"  channels: {state.channels()}, members: {state.channel_list(CHANNEL)}")
    for nick in nicks:
        info = state.nick_info(nick)
        if info is None:
            print(f"  {nick}: not known")
            continue
        op = "operator" if state.is_channel_operator(CHANNEL, nick) else "not operator"
        print(f"  {nick}: {info.user}@{info.host}, real name {info.realname!r}, {op}")


def start(ctx: Context) -> None:
    events = ("001", "315", "324", "join", "mode", "topic", "nick", "part")
    ctx.kernel.post(bot.session_id, "register", *events)
    ctx.kernel.post(alice.session_id, "register", "001")
    bot.yield_("connect")


def welcome(ctx: Context, *args: Any) -> None:
    component = bot if bot.session_id == ctx.sender.ID else alice  # who sent the event
    component.yield_("join", CHANNEL)


def channel_modes(ctx: Context, *args: Any) -> None:
    print(f"poebot is in {CHANNEL}; its modes: {state.channel_modes(CHANNEL)}")
    show("poebot")
    alice.yield_("connect")


def joined(ctx: Context, who: str, channel: str, msg: Message) -> None:
    if msg.nick == "alice":
        print(f"alice joins {channel}")
        show("alice")
        bot.yield_("who", "alice")  # the JOIN did not say her real name: ask


def end_of_who(ctx: Context, server_name: str, text: str, params: list[str], msg: Message) -> None:
    if params[0] == "alice":  # not the bot's own WHO #poe, sent when it joined
        print("poebot asked WHO alice")
        show("alice")
        bot.yield_("mode", CHANNEL, "+o", "alice")


def mode(ctx: Context, who: str, target: str, modes: str, *args: Any) -> None:
    print(f"{who.split('!')[0]} sets mode {modes} {' '.join(args[:-1])}")
    show("alice")
    alice.yield_("topic", CHANNEL, "Perl Object Environment, in Python")


def topic(ctx: Context, who: str, channel: str, text: str, msg: Message) -> None:
    current = state.channel_topic(CHANNEL)
    assert current is not None
    print(f"{msg.nick} changes the topic; State has {current.text!r}, set by {current.set_by}")
    alice.yield_("nick", "alicia")


def nick(ctx: Context, who: str, new: str, msg: Message) -> None:
    print(f"{msg.nick} is now known as {new}")
    show("alice", "alicia")
    alice.yield_("part", CHANNEL, "off to Wonderland")


def parted(ctx: Context, who: str, channel: str, reason: str, msg: Message) -> None:
    print(f"{msg.nick} leaves {channel} ({reason})")
    show("alicia")
    alice.yield_("shutdown")
    bot.yield_("shutdown")
    server.shutdown()


Session.create(
    kernel,
    inline_states={
        "_start": start,
        "irc_001": welcome,
        "irc_315": end_of_who,
        "irc_324": channel_modes,
        "irc_join": joined,
        "irc_mode": mode,
        "irc_topic": topic,
        "irc_nick": nick,
        "irc_part": parted,
    },
)
kernel.run()
