"""Logging to IRC: a bot that relays the new lines of a log file to a channel.

After Randal Schwartz's column: a program writes a log, and a bot tells a channel each line
as it is written. The bot's session follows the file with a
:class:`~poe.wheel.FollowTailWheel` (which does not block: it polls the file and emits one
event per new line) and relays each line with ``privmsg``. The bot and the wheel live in the
same session, the way POE programs combine a component with wheels.

The rest is scenery. An application session appends lines to ``app.log`` in a temporary
directory: the first before anyone watches (so it is not relayed: FollowTail starts at the end
of the file), then one more each time the listener has heard the previous one. The listener,
alice, is a plain IRC component in ``#ops`` that prints what she hears. After the last line
everyone shuts down.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import irc_server
from poe.irc import IRC, Message
from poe.kernel import Kernel
from poe.session import Context, Session
from poe.wheel import FollowTailWheel

CHANNEL = "#ops"
LINES = [
    "INFO service started",
    "WARNING disk /var is 91% full",
    "ERROR cannot write /var/spool/report.csv: No space left on device",
]

tmp = tempfile.TemporaryDirectory()
log_path = Path(tmp.name) / "app.log"
log_path.write_text("INFO an old line, written before the bot started\n")

kernel = Kernel()
server = irc_server.start(kernel)
bot = IRC(kernel, nick="logbot", port=server.port, flood=None)
alice = IRC(kernel, nick="alice", port=server.port, flood=None)


# -- the bot: an IRC component and a FollowTail wheel in one session --------------------------
def bot_start(ctx: Context) -> None:
    ctx.kernel.alias_set("logbot")
    ctx.kernel.post(bot.session_id, "register", "001")
    bot.yield_("connect")
    ctx.heap["tail"] = FollowTailWheel(
        ctx.kernel, filename=log_path, poll_interval=0.05, input_event="log_line"
    )


def log_line(ctx: Context, line: str, wheel_id: int) -> None:
    bot.yield_("privmsg", CHANNEL, f"[{log_path.name}] {line}")


def bot_stop(ctx: Context) -> None:
    del ctx.heap["tail"]  # stop polling; the shutdown then lets this session go
    bot.yield_("shutdown", "log closed")


Session.create(
    kernel,
    inline_states={
        "_start": bot_start,
        "irc_001": lambda ctx, *args: bot.yield_("join", CHANNEL),
        "log_line": log_line,
        "stop": bot_stop,
    },
)


# -- the application writing its log, and alice listening ------------------------------------
def write_next() -> None:
    line = LINES.pop(0)
    print(f"app.log gets: {line}")
    with log_path.open("a") as log:
        log.write(line + "\n")


def alice_start(ctx: Context) -> None:
    ctx.kernel.post(alice.session_id, "register", "001", "join", "public")
    ctx.kernel.post(bot.session_id, "register", "join")  # to know when the bot is in


def joined(ctx: Context, who: str, channel: str, msg: Message) -> None:
    if bot.session_id == ctx.sender.ID and msg.nick == "logbot":
        alice.yield_("connect")  # the bot is in: alice can come
    elif alice.session_id == ctx.sender.ID and msg.nick == "alice":
        print(f"* alice joins {channel}")
        write_next()


def heard(ctx: Context, who: str, where: list[str], text: str, msg: Message) -> None:
    print(f"<{msg.nick}> {text}")
    if LINES:
        write_next()
    else:
        alice.yield_("shutdown")
        ctx.kernel.post("logbot", "stop")
        server.shutdown()


Session.create(
    kernel,
    inline_states={
        "_start": alice_start,
        "irc_001": lambda ctx, *args: alice.yield_("join", CHANNEL),
        "irc_join": joined,
        "irc_public": heard,
    },
)
kernel.run()
tmp.cleanup()
print("* everyone has left")
