"""Writing IRC plugins: hooks, Eat, plugin_add / plugin_del, timers, and a plugin by name.

A plugin is any object with methods named after what it wants to see:
``irc_<event>(self, irc, *args)`` for events from the server, ``cmd_<command>(self, irc,
*args)`` for commands on their way out. Each hook returns an :class:`~poe.irc.Eat` saying
who else gets the event: ``None``/``Eat.NONE`` everyone, ``Eat.CLIENT`` not the sessions (a
command: not sent), ``Eat.PLUGIN`` not the later plugins, ``Eat.ALL`` nobody.

poebot is a bare component with three plugins of ours and one bundled one:

* ``Shush`` (``cmd_privmsg``): eats any outgoing message with a banned word and sends it
  again censored. Commands go through the hooks too, so the censored copy passes.
* ``Counter`` (``irc_public``): counts each user's lines and answers ``!count``; that line
  is eaten from the sessions (later plugins still see it).
* ``Reminder`` (``irc_public``): ``!remind SECONDS TEXT``; plugins have no session, so it
  sets its timer with ``irc.delay``, which runs it in the component's session.
* ``CTCP``, loaded by name with :func:`~poe.irc.plugin.load_plugin` (the ``poe.irc.plugins``
  entry points: where third-party plugins are found too), answers ``VERSION``.

The bot's session adds the plugins once registered (so it hears ``irc_plugin_add``), shows
the public lines that reach it, and ``!say TEXT`` says TEXT; ``!unshush`` removes Shush with
``plugin_del``; the shutdown at the end removes the others. alice plays a script and
prints what she hears.
"""

from __future__ import annotations

from typing import Any

import irc_server
from poe.irc import IRC, Eat, Message
from poe.irc.plugin import load_plugin
from poe.kernel import Kernel
from poe.session import Context, Session

CHANNEL = "#poe"


class Shush:
    def __init__(self, banned: str) -> None:
        self.banned = banned

    def cmd_privmsg(self, irc: IRC, target: str, text: str) -> Eat | None:
        if self.banned not in text:
            return None
        irc.yield_("privmsg", target, text.replace(self.banned, "*" * len(self.banned)))
        return Eat.ALL  # not sent, and no later plugin sees it


class Counter:
    def __init__(self) -> None:
        self.lines: dict[str, int] = {}

    def irc_public(self, irc: IRC, who: str, where: list[str], text: str, msg: Message) -> Eat:
        nick = who.split("!")[0]
        self.lines[nick] = self.lines.get(nick, 0) + 1
        if text != "!count":
            return Eat.NONE
        irc.yield_("privmsg", where[0], f"{nick} has said {self.lines[nick]} lines")
        return Eat.CLIENT  # later plugins still see it; sessions do not


class Reminder:
    def irc_public(self, irc: IRC, who: str, where: list[str], text: str, msg: Message) -> Eat:
        command, _, rest = text.partition(" ")
        seconds, _, what = rest.partition(" ")
        if command != "!remind" or not what:
            return Eat.NONE
        nick = who.split("!")[0]
        irc.delay(float(seconds), irc.yield_, "privmsg", where[0], f"{nick}: {what}")
        return Eat.ALL


kernel = Kernel()
server = irc_server.start(kernel)
bot = IRC(kernel, nick="poebot", port=server.port, flood=None)


def bot_registered(ctx: Context, irc: IRC, msg: None) -> None:
    ctcp_class = load_plugin("CTCP")  # the class published under that name
    irc.plugin_add("CTCP", ctcp_class(version="poebot 1.0 (poe.irc)"))
    irc.plugin_add("Shush", Shush("darn"))
    irc.plugin_add("Counter", Counter())
    irc.plugin_add("Reminder", Reminder())
    irc.yield_("connect")


def bot_public(ctx: Context, who: str, where: list[str], text: str, msg: Message) -> None:
    print(f"    (poebot's session gets: {text})")
    if text.startswith("!say "):
        bot.yield_("privmsg", where[0], text[5:])
    elif text == "!unshush":
        bot.plugin_del("Shush")


def plugin_removed(ctx: Context, name: str, plugin: Any, msg: None) -> None:
    print(f"plugin removed: {name}")
    if not bot.shutting_down:  # shutdown removes every plugin too
        bot.yield_("privmsg", CHANNEL, f"{name} is gone: say what you like")


alice = IRC(kernel, nick="alice", port=server.port, flood=None)
Session.create(
    kernel,
    inline_states={
        "_start": lambda ctx: ctx.kernel.post(bot.session_id, "register", "all"),
        "irc_registered": bot_registered,
        "irc_plugin_add": lambda ctx, name, plugin, msg: print(f"plugin added: {name}"),
        "irc_plugin_del": plugin_removed,
        "irc_001": lambda ctx, *args: bot.yield_("join", CHANNEL),
        "irc_366": lambda ctx, *args: alice.yield_("connect"),  # in #poe: alice may come
        "irc_public": bot_public,
        "_default": lambda ctx, event, args: None,  # the other events
    },
)

SCRIPT = [
    "!say hello",
    "!say this darn example",
    "!remind 0.2 stretch your legs",
    "/ctcp poebot VERSION",  # as an IRC client's command
    "!unshush",
    "!say this darn example",
    "!count",
]


def say_next(*args: Any) -> None:
    if not SCRIPT:
        alice.yield_("shutdown")
        bot.yield_("shutdown")
        server.shutdown()
        return
    line = SCRIPT.pop(0)
    print(f"<alice> {line}")
    if line.startswith("/ctcp "):
        _, target, request = line.split()
        alice.yield_("ctcp", target, request)
    else:
        alice.yield_("privmsg", CHANNEL, line)


def alice_heard(ctx: Context, who: str, where: list[str], text: str, msg: Message) -> None:
    print(f"<{msg.nick}> {text}")
    say_next()


def alice_got_version(ctx: Context, who: str, where: list[str], text: str, msg: Message) -> None:
    print(f"-{msg.nick}- VERSION reply: {text}")
    say_next()


Session.create(
    kernel,
    inline_states={
        "_start": lambda ctx: ctx.kernel.post(
            alice.session_id, "register", "001", "366", "public", "ctcpreply_version"
        ),
        "irc_001": lambda ctx, *args: alice.yield_("join", CHANNEL),
        "irc_366": say_next,
        "irc_public": alice_heard,
        "irc_ctcpreply_version": alice_got_version,
    },
)

kernel.run()
