"""poe showcase: an IRC server, a bot and a telnet chat bridge, all in one kernel.

Everything runs in one thread, on 127.0.0.1, with nothing installed but this repository:

* **ircd**: a small IRC server written on :class:`poe.tcp.TCPServer` (``irc_server.py``);
* **poebot**: a bot made with :class:`poe.irc.bot.Bot`. Commands are plain functions
  (``!roll 2d6``, ``!who``), ``@bot.on("join")`` greets newcomers, and the bot tracks the
  channel with the ``State`` plugin;
* **the telnet bridge**: a :class:`~poe.tcp.TCPServer` where anyone with ``telnet`` can chat.
  Each telnet user gets an IRC connection of their own (an :class:`~poe.irc.IRC` component
  made on the fly), so on IRC they are ordinary users;
* **alice**, on IRC, and **carol**, on telnet, play a short scripted conversation. Each step
  waits until everyone has seen what it caused, so the transcript is the same on every run
  and every loop backend. Then everyone leaves and the program ends.

Run it with ``./dev showcase``. ``./dev showcase --serve`` keeps the server, the bot and the
bridge running (IRC on port 6667, telnet on 2323 of 127.0.0.1) until Ctrl-C: try
``telnet 127.0.0.1 2323`` or an IRC client.
"""

from __future__ import annotations

import argparse
import logging
import random
from typing import Any

import irc_server
from poe.filter import LineFilter
from poe.irc import IRC, Message
from poe.irc.bot import Bot, BotContext
from poe.irc.plugins import State
from poe.kernel import Kernel
from poe.session import Context, Session
from poe.tcp import TCPClient, TCPServer

CHANNEL = "#poe"


# -- the bot ----------------------------------------------------------------------------------


def make_bot(kernel: Kernel, port: int, *, seed: int | None = None) -> Bot:
    """poebot: joins #poe, greets, rolls dice, says who is here."""
    state = State()
    dice = random.Random(seed)
    bot = Bot(
        kernel, nick="poebot", port=port, channels=[CHANNEL], flood=None, plugins={"State": state}
    )

    @bot.command("roll", help="roll NdM: roll N dice with M sides (2d6)")
    def roll(ctx: BotContext, spec: str = "1d6") -> str:
        count, _, sides = spec.lower().partition("d")
        if not (count.isdigit() and sides.isdigit()):
            return "roll NdM: N dice with M sides, such as 2d6"
        n, m = int(count), int(sides)
        if not (1 <= n <= 10 and 2 <= m <= 100):
            return "roll NdM: from 1 to 10 dice, with 2 to 100 sides"
        rolls = [dice.randint(1, m) for _ in range(n)]
        who = ctx.who.nick if ctx.who is not None else "someone"
        return f"{who} rolls {spec}: {' + '.join(map(str, rolls))} = {sum(rolls)}"

    @bot.command("who", help="who: who is in the channel")
    def who(ctx: BotContext) -> str:
        names = sorted(
            state.nick_channel_modes(CHANNEL, nick).replace("o", "@").replace("v", "+") + nick
            for nick in state.channel_list(CHANNEL)
        )
        return f"on {CHANNEL}: {' '.join(names)}"

    @bot.on("join")
    def greet(ctx: BotContext, who: str, channel: str, msg: Message) -> str | None:
        if ctx.who is None or ctx.who.nick == ctx.irc.nick_name():
            return None
        return f"hello {ctx.who.nick}, try !help"

    return bot


# -- the telnet bridge ------------------------------------------------------------------------


class TelnetBridge:
    """A line chat over TCP where each user is bridged to CHANNEL by their own IRC connection.

    A connection's session asks for a name, then makes an :class:`IRC` component with that
    nick and registers for its channel events: what happens in the channel is written to the
    telnet user, and what they type is said in the channel (``/me`` makes an action). When
    they hang up, their IRC connection quits.
    """

    def __init__(self, kernel: Kernel, irc_port: int, *, port: int = 0) -> None:
        self.irc_port = irc_port
        self.tcp = TCPServer(
            kernel,
            address="127.0.0.1",
            port=port,
            client_filter=LineFilter(),
            client_connected=self.connected,
            client_input=self.typed,
            client_disconnected=self.hung_up,
            inline_states={
                "irc_001": self.irc_welcome,
                "irc_433": self.irc_nick_taken,
                "irc_join": self.irc_join,
                "irc_part": self.irc_part,
                "irc_quit": self.irc_quit,
                "irc_public": self.irc_public,
                "irc_ctcp_action": self.irc_action,
            },
        )

    @property
    def port(self) -> int:
        port = self.tcp.port
        assert port is not None
        return port

    def shutdown(self) -> None:
        self.tcp.shutdown()

    @staticmethod
    def write(ctx: Context, text: str) -> None:
        ctx.heap["client"].put(text)

    # The telnet side (TCPServer callbacks, in the connection's session).

    def connected(self, ctx: Context) -> None:
        ctx.heap["irc"] = None
        self.write(ctx, f"Welcome to the poe telnet bridge to {CHANNEL}. What is your name?")

    def typed(self, ctx: Context, line: str) -> None:
        line = line.strip()
        irc: IRC | None = ctx.heap["irc"]
        if irc is None:
            if not line or " " in line:
                self.write(ctx, "One word, please. What is your name?")
                return
            irc = IRC(ctx.kernel, nick=line, port=self.irc_port, flood=None, ircname="via telnet")
            ctx.heap["irc"] = irc
            ctx.kernel.post(irc.session_id, "register", "all")
            irc.yield_("connect")
        elif line.startswith("/me "):
            irc.yield_("ctcp", CHANNEL, "ACTION " + line[4:])
        elif line:
            irc.yield_("privmsg", CHANNEL, line)

    def hung_up(self, ctx: Context) -> None:
        irc: IRC | None = ctx.heap.get("irc")
        if irc is not None:
            irc.yield_("shutdown", "telnet closed")

    # The IRC side (the user's IRC component posts these to the connection's session).

    def irc_welcome(self, ctx: Context, *args: Any) -> None:
        ctx.heap["irc"].yield_("join", CHANNEL)

    def irc_nick_taken(self, ctx: Context, *args: Any) -> None:
        self.write(ctx, "That name is taken on IRC. Bye!")
        ctx.heap["irc"].yield_("shutdown")
        ctx.kernel.yield_("shutdown")

    def irc_join(self, ctx: Context, who: str, channel: str, msg: Message) -> None:
        me = ctx.heap["irc"].nick_name()
        if msg.nick == me:
            self.write(ctx, f"* you are {me} on {channel}; type to talk, /me to act")
        else:
            self.write(ctx, f"* {msg.nick} joins {channel}")

    def irc_part(self, ctx: Context, who: str, channel: str, reason: str, msg: Message) -> None:
        self.write(ctx, f"* {msg.nick} leaves {channel}")

    def irc_quit(self, ctx: Context, who: str, reason: str, msg: Message) -> None:
        self.write(ctx, f"* {msg.nick} quits ({reason})")

    def irc_public(self, ctx: Context, who: str, where: list[str], text: str, msg: Message) -> None:
        self.write(ctx, f"<{msg.nick}> {text}")

    def irc_action(self, ctx: Context, who: str, where: list[str], text: str, msg: Message) -> None:
        self.write(ctx, f"* {msg.nick} {text}")


# -- the scripted conversation ----------------------------------------------------------------

# (who acts, what they do, how many lines alice then sees, how many carol sees)
SCRIPT: list[tuple[str, str, int, int]] = [
    ("alice", "/join #poe", 1, 0),
    ("carol", "/telnet", 0, 1),
    ("carol", "carol", 2, 2),
    ("alice", "hi carol! no IRC client needed?", 0, 1),
    ("carol", "none at all, just telnet", 1, 0),
    ("carol", "!roll 2d6", 2, 1),
    ("alice", "!who", 1, 2),
    ("carol", "/me waves goodbye", 1, 0),
    ("carol", "/hangup", 1, 0),
]


class Director:
    """Plays SCRIPT: alice is an IRC component, carol a telnet client of the bridge.

    Each step prints what its actor does, waits until alice and carol have seen as many lines
    as the step says, and prints those (alice's, then carol's) before the next step.
    """

    def __init__(self, kernel: Kernel, server: Any, bot: Bot, bridge: TelnetBridge) -> None:
        self.kernel = kernel
        self.server = server
        self.bot = bot
        self.bridge = bridge
        self.alice = IRC(kernel, nick="alice", port=server.port, flood=None)
        self.carol: TCPClient | None = None
        self.steps = list(SCRIPT)
        self.seen: dict[str, list[str]] = {"alice": [], "carol": []}
        self.expect = {"alice": 0, "carol": 0}
        self.session = Session.create(
            kernel,
            inline_states={
                "_start": self.start,
                "irc_366": self.bot_ready,
                "irc_001": lambda ctx, *args: self.next_step(),
                "irc_join": self.alice_join,
                "irc_quit": self.alice_quit,
                "irc_public": self.alice_public,
                "irc_ctcp_action": self.alice_action,
            },
        )

    def start(self, ctx: Context) -> None:
        say("ircd", f"an IRC server written on poe.tcp, network {self.server.network}")
        ctx.kernel.post(self.bot.irc.session_id, "register", "366")

    def bot_ready(self, ctx: Context, *args: Any) -> None:
        if self.bot.irc.session_id == ctx.sender.ID:  # the bot is in #poe: alice may come
            say("poebot", f"in {CHANNEL}, answering !help, !roll and !who")
            say("bridge", "a telnet chat bridged to #poe")
            ctx.kernel.post(self.alice.session_id, "register", "001", "join", "quit", "public")
            ctx.kernel.post(self.alice.session_id, "register", "ctcp_action")
            self.alice.yield_("connect")

    # What alice sees, on IRC.

    def alice_join(self, ctx: Context, who: str, channel: str, msg: Message) -> None:
        if msg.nick != "alice":  # her own JOIN is not news; the bot's greeting is
            self.saw("alice", f"* {msg.nick} joins {channel}")

    def alice_quit(self, ctx: Context, who: str, reason: str, msg: Message) -> None:
        self.saw("alice", f"* {msg.nick} quits ({reason})")

    def alice_public(
        self, ctx: Context, who: str, where: list[str], text: str, msg: Message
    ) -> None:
        self.saw("alice", f"<{msg.nick}> {text}")

    def alice_action(
        self, ctx: Context, who: str, where: list[str], text: str, msg: Message
    ) -> None:
        self.saw("alice", f"* {msg.nick} {text}")

    # What carol sees, on telnet.

    def carol_line(self, ctx: Context, line: str) -> None:
        self.saw("carol", line)

    # The script.

    def saw(self, who: str, line: str) -> None:
        self.seen[who].append(line)
        if all(len(self.seen[w]) >= self.expect[w] for w in self.seen):
            for viewer in ("alice", "carol"):
                for seen in self.seen[viewer][: self.expect[viewer]]:
                    print(f"{'':8}{viewer:>5} | {seen}")
                del self.seen[viewer][: self.expect[viewer]]
            self.expect = {"alice": 0, "carol": 0}
            self.next_step()

    def next_step(self) -> None:
        if not self.steps:
            self.finish()
            return
        actor, action, alice, carol = self.steps.pop(0)
        self.expect = {"alice": alice, "carol": carol}
        medium = "IRC" if actor == "alice" else "telnet"
        print(f"{actor:>5} ({medium}) {action}")
        if actor == "alice":
            if action.startswith("/join "):
                self.alice.yield_("join", action[6:])
            else:
                self.alice.yield_("privmsg", CHANNEL, action)
        elif action == "/telnet":
            self.carol = TCPClient(
                self.kernel,
                remote_address="127.0.0.1",
                remote_port=self.bridge.port,
                server_input=self.carol_line,
            )
        elif action == "/hangup":
            assert self.carol is not None
            self.carol.shutdown()
        else:
            assert self.carol is not None
            self.carol.put(action)

    def finish(self) -> None:
        say("director", "curtain: everyone leaves")
        self.alice.yield_("shutdown", "bye")
        self.bot.shutdown("bye")
        self.bridge.shutdown()
        self.server.shutdown()


def say(who: str, text: str) -> None:
    print(f"[{who}] {text}")


def serve(irc_port: int, telnet_port: int) -> None:
    """Run the server, the bot and the bridge until Ctrl-C."""
    kernel = Kernel()
    server = irc_server.start(kernel, port=irc_port)
    make_bot(kernel, server.port)
    bridge = TelnetBridge(kernel, server.port, port=telnet_port)
    print(f"IRC server on 127.0.0.1:{server.port}, telnet bridge on 127.0.0.1:{bridge.port}")
    print(f"try: telnet 127.0.0.1 {bridge.port}   (Ctrl-C stops everything)")
    try:
        kernel.run()
    except KeyboardInterrupt:
        print("\nstopped")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", action="store_true", help="run until Ctrl-C, for telnet/IRC")
    parser.add_argument("--irc-port", type=int, default=6667)
    parser.add_argument("--telnet-port", type=int, default=2323)
    options = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if options.serve:
        serve(options.irc_port, options.telnet_port)
        return
    print("poe showcase: an IRC server, a bot and a telnet chat, one kernel, 127.0.0.1\n")
    kernel = Kernel()
    counts: dict[str, int] = {}

    def count(event: str, *args: str) -> None:  # the server reports what it does
        counts[event] = counts.get(event, 0) + 1

    server = irc_server.start(kernel, on_event=count)
    bot = make_bot(kernel, server.port, seed=2026)
    bridge = TelnetBridge(kernel, server.port)
    Director(kernel, server, bot, bridge)
    kernel.run()
    print(
        f"[ircd] {counts.get('register', 0)} users registered, {counts.get('join', 0)} joins, "
        f"{counts.get('privmsg', 0)} messages relayed"
    )
    print("\nthe kernel has nothing left to run: the show is over")


if __name__ == "__main__":
    main()
