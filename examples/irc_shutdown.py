"""Graceful bot shutdown: QUIT with a message, irc_shutdown, and a kernel that ends by itself.

Posting ``shutdown`` (with a quit message) to the component:

1. sends ``QUIT :message`` at once (lines still waiting for flood control are dropped);
2. waits for the server to close the link (``irc_error``, ``irc_disconnected``), or 5 s;
3. sends ``irc_shutdown`` to every registered session, removes the plugins, and lets go of
   the sessions: registering kept them alive (POE's refcounts), now nothing does;
4. ends its own session. Nothing is left to do, so ``kernel.run()`` returns.

Two sessions are registered with poebot's component: the bot itself, which asks for the
shutdown once it is in ``#poe``, and a "logbook" standing for any other part of a program
that only cares about ``irc_shutdown`` (it stops the IRC server then). Each prints what it
gets and when it stops (``_stop``). The server reports the quit as other users see it.
"""

from __future__ import annotations

from typing import Any

import irc_server
from poe.irc import IRC
from poe.kernel import Kernel
from poe.session import Context, Session

CHANNEL = "#poe"


def server_event(event: str, *args: str) -> None:
    if event == "quit":  # what the other users of #poe would see
        print(f"[server] {args[0]} quits ({args[1]})")


kernel = Kernel()
server = irc_server.start(kernel, on_event=server_event)
bot = IRC(kernel, nick="poebot", port=server.port, flood=None)


# -- the bot's session ------------------------------------------------------------------------
def bot_start(ctx: Context) -> None:
    events = ("001", "366", "error", "disconnected", "shutdown")
    ctx.kernel.post(bot.session_id, "register", *events)
    bot.yield_("connect")


def in_channel(ctx: Context, *args: Any) -> None:
    print(f"bot: in {CHANNEL}; shutting down")
    bot.yield_("shutdown", "Goodbye, cruel world")


Session.create(
    kernel,
    inline_states={
        "_start": bot_start,
        "_stop": lambda ctx: print("bot: session stops"),
        "irc_001": lambda ctx, *args: bot.yield_("join", CHANNEL),
        "irc_366": in_channel,
        "irc_error": lambda ctx, text, msg: print(f"bot: irc_error: {text}"),
        "irc_disconnected": lambda ctx, server, msg: print(f"bot: irc_disconnected from {server}"),
        "irc_shutdown": lambda ctx, component_id, msg: print("bot: irc_shutdown"),
    },
)


# -- the logbook: another part of the program -------------------------------------------------
def logbook_shutdown(ctx: Context, component_id: int, msg: None) -> None:
    print(f"logbook: irc_shutdown; component still connected? {bot.connected}")
    server.shutdown()


Session.create(
    kernel,
    inline_states={
        "_start": lambda ctx: ctx.kernel.post(bot.session_id, "register", "shutdown"),
        "_stop": lambda ctx: print("logbook: session stops"),
        "irc_shutdown": logbook_shutdown,
    },
)

kernel.run()
print("kernel.run() returned: no session is left")
