"""The plainest IRC bot: the bare IRC component, as in POE::Component::IRC's SYNOPSIS.

The bot is one session and one :class:`~poe.irc.IRC` component. In ``_start`` the session
registers for the events it wants (``001``, ``public``) and tells the component to connect.
When the server welcomes it (``irc_001``) it joins ``#poe``; in ``irc_public`` it answers
``!ping`` with ``pong`` and ``rot13 TEXT`` with the text rot13-encoded (the SYNOPSIS's bot).
Everything else said in the channel is ignored.

alice, a scripted user, is another plain IRC component with a session of its own. A session
may register with any component: hers also registers with the bot's component for ``join``,
so she connects once the bot is in ``#poe``. She says one line after another, waits for the
bot's answer each time, and prints the conversation. Then both components shut down, the
server too, and ``kernel.run()`` returns.
"""

from __future__ import annotations

import codecs

import irc_server
from poe.irc import IRC, Message
from poe.kernel import Kernel
from poe.session import Context, Session

CHANNEL = "#poe"

kernel = Kernel()
server = irc_server.start(kernel)  # a small IRC server in the same kernel, on a free port

# -- the bot --------------------------------------------------------------------------------
# flood=None: this server does not throttle, and the example should not wait.
bot = IRC(kernel, nick="poebot", ircname="a simple bot", port=server.port, flood=None)


def bot_start(ctx: Context) -> None:
    ctx.kernel.post(bot.session_id, "register", "001", "public")
    bot.yield_("connect")


def bot_welcome(ctx: Context, server_name: str, text: str, params: list[str], msg: Message) -> None:
    print(f"poebot: connected to {server_name}, joining {CHANNEL}")
    bot.yield_("join", CHANNEL)


def bot_public(ctx: Context, who: str, where: list[str], what: str, msg: Message) -> None:
    nick = who.split("!")[0]
    channel = where[0]
    if what == "!ping":
        bot.yield_("privmsg", channel, "pong")
    elif what.startswith("rot13 "):
        bot.yield_("privmsg", channel, f"{nick}: {codecs.encode(what[6:], 'rot13')}")


Session.create(
    kernel,
    inline_states={
        "_start": bot_start,
        "irc_001": bot_welcome,
        "irc_public": bot_public,
    },
)

# -- alice, a scripted user -------------------------------------------------------------------
alice = IRC(kernel, nick="alice", port=server.port, flood=None)
# What alice says; only the last line of each group gets an answer, so she waits for one.
SCRIPT = [["hello poebot", "!ping"], ["nice weather today", "rot13 Just another POE hacker"]]


def alice_start(ctx: Context) -> None:
    ctx.kernel.post(bot.session_id, "register", "join")  # to know when the bot is in #poe
    ctx.kernel.post(alice.session_id, "register", "001", "join", "public")


def someone_joined(ctx: Context, who: str, channel: str, msg: Message) -> None:
    if bot.session_id == ctx.sender.ID and msg.nick == "poebot":
        alice.yield_("connect")  # the bot is in: alice can come
    elif alice.session_id == ctx.sender.ID and msg.nick == "alice":
        print(f"* alice joins {channel}")
        say_next()


def say_next() -> None:
    if not SCRIPT:
        alice.yield_("shutdown", "bye")
        bot.yield_("shutdown", "bye")
        server.shutdown()
        return
    for line in SCRIPT.pop(0):
        print(f"<alice> {line}")
        alice.yield_("privmsg", CHANNEL, line)


def alice_heard(ctx: Context, who: str, where: list[str], what: str, msg: Message) -> None:
    print(f"<{msg.nick}> {what}")
    say_next()


Session.create(
    kernel,
    inline_states={
        "_start": alice_start,
        "irc_001": lambda ctx, *args: alice.yield_("join", CHANNEL),
        "irc_join": someone_joined,
        "irc_public": alice_heard,
    },
)

kernel.run()
print("* everyone has left")
