"""An IRC bot written with the Bot facade, and a scripted user talking to it.

Three parts share one kernel:

* a small IRC server (``examples/irc_server.py``) on an ephemeral port of 127.0.0.1;
* ``poebot``, a :class:`~poe.irc.bot.Bot`: commands are plain functions whose parameters
  say what arguments they take (``add(ctx, a: int, b: int)``), what a handler returns is the
  reply, and ``@bot.on("join")`` handles an IRC event;
* ``alice``, a plain :class:`~poe.irc.IRC` component driven by a ``director`` session: once
  the bot is in ``#poe`` she joins and says one line after another, each time waiting for
  the bot's answers, and prints the conversation. Then everyone leaves and the program ends.

The bot answers commands addressed to it (``poebot: add 2 40``) or prefixed (``!help``), in the
channel or in private; wrong arguments get a usage line; an exception in a handler gets a
short apology (the traceback goes to the log) and the bot goes on.
"""

from __future__ import annotations

import logging
from typing import Any

import irc_server
from poe.irc import IRC
from poe.irc.bot import Bot, BotContext
from poe.irc.message import Message
from poe.kernel import Kernel
from poe.session import Context, Session

CHANNEL = "#poe"

# What alice says, and how many answers each line gets from the bot.
SCRIPT = [
    (CHANNEL, "!help", 2),
    (CHANNEL, "!echo Hello,   POE!", 1),
    (CHANNEL, "poebot: add 2 40", 1),
    (CHANNEL, "!add two 40", 1),
    (CHANNEL, "!divide 1 0", 1),
    (CHANNEL, "!echo still here", 1),
    ("poebot", "!add 1 2", 1),
    (CHANNEL, "!dance", 1),
]


def make_bot(kernel: Kernel, port: int) -> Bot:
    # No flood control: this server does not throttle, and the example should not wait.
    bot = Bot(kernel, nick="poebot", port=port, channels=[CHANNEL], flood=None)

    @bot.command("echo", help="echo TEXT: say TEXT back")
    def echo(ctx: BotContext, text: str) -> str:
        return text

    @bot.command("add", help="add A B: the sum of two whole numbers", aliases=["plus"])
    def add(ctx: BotContext, a: int, b: int) -> str:
        return f"{a} + {b} = {a + b}"

    @bot.command("divide", help="divide A B: A divided by B")
    def divide(ctx: BotContext, a: float, b: float) -> str:
        return f"{a / b:g}"

    @bot.on("join")
    def greet(ctx: BotContext, who: str, channel: str, msg: Message) -> str | None:
        if ctx.who is None or ctx.who.nick == ctx.irc.nick_name():
            return None  # our own join
        return f"hello {ctx.who.nick}, try !help"

    return bot


class Director:
    """Alice's session: joins when the bot is in, plays SCRIPT, prints what she sees."""

    def __init__(self, kernel: Kernel, server: Any, bot: Bot) -> None:
        self.server = server
        self.bot = bot
        self.alice = IRC(kernel, nick="alice", port=server.port, flood=None)
        self.steps = list(SCRIPT)
        self.waiting = 0
        Session.create(
            kernel,
            inline_states={
                "_start": self.start,
                "irc_366": self.bot_joined,
                "irc_001": self.alice_welcome,
                "irc_join": self.alice_joined,
                "irc_public": self.heard,
                "irc_msg": self.heard,
            },
        )

    def start(self, ctx: Context) -> None:
        ctx.kernel.post(self.bot.irc.session_id, "register", "366")
        ctx.kernel.post(self.alice.session_id, "register", "001", "join", "public", "msg")

    def bot_joined(self, ctx: Context, *args: Any) -> None:
        # The end of the NAMES list (366) the bot gets once in #poe: now alice can come.
        self.alice.yield_("connect")

    def alice_welcome(self, ctx: Context, *args: Any) -> None:
        self.alice.yield_("join", CHANNEL)

    def alice_joined(self, ctx: Context, who: str, channel: str, msg: Message) -> None:
        if msg.nick == "alice":
            print(f"* alice joins {channel}")
            self.waiting = 1  # the bot's greeting

    def heard(self, ctx: Context, who: str, targets: list[str], text: str, msg: Message) -> None:
        private = "" if targets[0] == CHANNEL else " (in private)"
        print(f"<{msg.nick}>{private} {text}")
        self.waiting -= 1
        if self.waiting == 0:
            self.next_line()

    def next_line(self) -> None:
        if not self.steps:
            self.alice.yield_("shutdown", "bye")
            self.bot.shutdown("bye")
            self.server.shutdown()
            return
        target, line, answers = self.steps.pop(0)
        private = "" if target == CHANNEL else " (to poebot)"
        print(f"<alice>{private} {line}")
        self.waiting = answers
        self.alice.yield_("privmsg", target, line)


def main() -> None:
    # The example shows the bot's apology for !divide 1 0; the traceback it logs is left out.
    logging.getLogger("poe.irc").setLevel(logging.CRITICAL)
    kernel = Kernel()
    server = irc_server.start(kernel)
    bot = make_bot(kernel, server.port)
    Director(kernel, server, bot)
    kernel.run()
    print("* everyone has left")


if __name__ == "__main__":
    main()
