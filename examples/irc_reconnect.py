"""Graceful bot reconnecting: the Connector and AutoJoin plugins.

``Connector`` reconnects whenever the link is lost (``irc_disconnected``) or a connection
attempt fails (``irc_socketerr``), waiting longer after each failure: a
:class:`~poe.tcp.Backoff`, reset once the server welcomes the bot again. (It also pings the
server every ``delay`` seconds to notice a link that died silently.) ``AutoJoin`` joins its
channels on every welcome, and follows the channels the bot joins and parts, so after a
reconnect the bot is back where it was, not only where it started.

The story, printed by a session registered for the lifecycle events:

1. poebot connects and AutoJoin takes it to ``#poe``; then it joins ``#lobby`` itself;
2. the server goes down: ``irc_error`` (the server's goodbye), ``irc_disconnected``;
3. the Connector's attempts fail (``irc_socketerr``) until the server is started again,
   on the same port. How many attempts that takes depends on timing, so the example only
   says when the first one fails (and starts the server then);
4. poebot reconnects and AutoJoin rejoins both channels;
5. ``shutdown`` quits for good: it removes the plugins, the Connector with them.
"""

from __future__ import annotations

import irc_server
from poe.irc import IRC, Message
from poe.irc.plugins import AutoJoin, Connector
from poe.kernel import Kernel
from poe.session import Context, Session
from poe.tcp import Backoff

kernel = Kernel()
server = irc_server.start(kernel)
port = server.port
# Fast, regular attempts for the example; the default starts at 1 s and doubles up to 60 s.
connector = Connector(backoff=Backoff(initial=0.05, maximum=0.2, jitter=0))
autojoin = AutoJoin(["#poe"])
plugins = {"Connector": connector, "AutoJoin": autojoin}
bot = IRC(kernel, nick="poebot", port=port, flood=None, plugins=plugins)
connections = 0
failures = 0


def start(ctx: Context) -> None:
    events = ("connected", "join", "error", "disconnected", "socketerr", "shutdown")
    ctx.kernel.post(bot.session_id, "register", *events)
    bot.yield_("connect")


def connected(ctx: Context, server_address: str, msg: None) -> None:
    global connections, failures
    connections += 1
    print("connected" if connections == 1 else "reconnected")
    failures = 0


def joined(ctx: Context, who: str, channel: str, msg: Message) -> None:
    print(f"  poebot joins {channel}")
    if connections == 1 and channel == "#poe":
        bot.yield_("join", "#lobby")  # AutoJoin notes it: it will rejoin it too
    elif connections == 1 and channel == "#lobby":
        print("the server goes down")
        server.shutdown()
    elif connections == 2 and channel == "#lobby":
        print(f"AutoJoin's channels: {sorted(autojoin.channels)}")
        bot.yield_("shutdown", "done")  # removes the plugins: no reconnect after this


def shut_down(ctx: Context, component_id: int, msg: None) -> None:
    print("irc_shutdown: the Connector is gone with the other plugins")
    server.shutdown()


def socket_error(ctx: Context, error: str, msg: None) -> None:
    global failures, server
    failures += 1
    if failures == 1 and connections == 1:
        print("irc_socketerr: the server is down; starting it again on the same port")
        server = irc_server.start(kernel, port=port)


Session.create(
    kernel,
    inline_states={
        "_start": start,
        "irc_connected": connected,
        "irc_join": joined,
        "irc_error": lambda ctx, text, msg: print(f"irc_error: {text}"),
        "irc_disconnected": lambda ctx, *args: print("irc_disconnected"),
        "irc_socketerr": socket_error,
        "irc_shutdown": shut_down,
    },
)
kernel.run()
