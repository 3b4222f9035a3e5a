"""A small but real IRC server on TCPServer, and a scripted demo of two users on it.

What it shows:

* :class:`~poe.tcp.TCPServer` with a filter other than lines: :class:`~poe.irc.filter.IRCFilter`
  turns each line a client sends into a :class:`~poe.irc.message.Message` (``command``,
  ``params``, ``source``, ``tags``), and turns the ``Message`` records we put back into lines.
* The whole server's state in one object (:class:`IRCServer`): connections by session id,
  nicks by their RFC 1459 case-folded form, channels with their members, topics, operators and
  modes. Every connection session runs the same methods of that object.
* Sessions never touch each other's wheels: a line for a client is *posted* to that client's
  connection session (the ``irc_send`` state), which puts it on its own wheel. Replies to the
  sender go the same way, so each client sees lines in the order the server made them.
* Bad input: a line that is not IRC (``:only-a-prefix``) reaches ``client_error`` as a
  ``"read"`` error with ``EINVAL`` and is ignored, the connection stays open; a line longer
  than the filter takes (``EMSGSIZE``, over 8 KiB) gets an ``ERROR`` and the connection is
  closed; bytes that are not UTF-8 are decoded leniently by the filter. A connection that
  ends without ``QUIT`` is announced to its channels as ``QUIT :Connection closed``.
* Hostile input: no line the server sends is longer than IRC's 512 bytes (CR LF included). A
  client's line over 512 bytes is refused with ``417`` (the connection stays); a relayed line
  that a long prefix pushes over the limit has its last parameter cut, never inside a UTF-8
  character. Numbers (``MODE +l``) are ASCII digits only: ``int()`` would take ``"٣"`` and
  ``str.isdigit()`` takes ``"²"``, which ``int()`` refuses.
* A client that stops reading: its queued output is capped at ``SENDQ`` (TCPServer's
  ``client_max_output``); past it the connection is dropped and its channels see
  ``QUIT :SendQ exceeded``, as on other ircds, instead of the server holding its lines
  without end. While its output is over 512 KiB its input is not read either (the server's
  default backpressure).

Commands: registration (NICK, USER, PASS ignored, CAP with no capabilities), PING/PONG, JOIN,
PART, PRIVMSG, NOTICE, TOPIC, NAMES, MODE (channel ``o v k l b i m n s t``, user ``i``), KICK,
INVITE, WHOIS, WHO, LIST, ISON, USERHOST, AWAY, MOTD, QUIT. No server links, services, operators
or ping timeouts.

Other programs import it (``examples/`` is their script directory)::

    server = irc_server.start_server(kernel, port=0)  # or irc_server.start(kernel)
    server.port  # the bound port
    server.shutdown()  # ERROR to everyone, close, stop

Run as a script, it plays a short scene (two users register, talk, change nick, kick, quit) and
prints what each user receives. ``python examples/irc_server.py --serve 6667`` keeps a server
running for a real client: ``irssi -c 127.0.0.1 -p 6667`` or ``telnet 127.0.0.1 6667``.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import fnmatch
import re
import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from poe.errors import SessionNotFound
from poe.irc.filter import IRCFilter
from poe.irc.message import Message
from poe.kernel import Kernel
from poe.session import Context
from poe.tcp import TCPClient, TCPServer

VERSION = "poe-ircd-0.1"
NICKLEN = 30
KEYLEN = 23  # a channel key's longest, as most servers (ISUPPORT KEYLEN)
MAX_LINE = 512  # bytes in a line, CR LF included (RFC 2812 2.3); the same for input and output
MAX_ECHO = 64  # the longest word of a client's that a numeric repeats (nicks, channels: less)
SENDQ = 1024 * 1024  # queued output octets a client may hold (InspIRCd's default hardsendq: 1 MB)
MOTD = ("This is a small IRC server written with poe.tcp.", "Be excellent to each other.")

_FOLD = str.maketrans(string.ascii_uppercase + "[]\\~", string.ascii_lowercase + "{}|^")
_SPECIAL = r"\[\]\\`_^{|}"  # nicks may use these too (RFC 2812 2.3.1)
_NICK = re.compile(f"[A-Za-z{_SPECIAL}][-A-Za-z0-9{_SPECIAL}]{{0,{NICKLEN - 1}}}")
_CHANNEL = re.compile(r"#[^\s,:\x07]{1,49}")
_WORD = re.compile(r"[^\s:]\S*")  # what may stand as a middle parameter of a line
_NUMBER = re.compile(r"[0-9]{1,9}")  # ASCII only, and small: str.isdigit() takes "²" and "٣"


def fold(name: str) -> str:
    """RFC 1459 case mapping: ``A-Z [ ] \\ ~`` are the capitals of ``a-z { } | ^``."""
    return name.translate(_FOLD)


@dataclass(eq=False)  # eq=False: compared and hashed by identity, usable as dict keys
class Client:
    """One connection, and who it says it is once registered."""

    session_id: int
    host: str
    nick: str = "*"  # "*" until NICK, as numerics say
    user: str = ""
    realname: str = ""
    registered: bool = False
    negotiating: bool = False  # between a CAP LS/REQ and CAP END: registration waits
    away: str = ""
    modes: set[str] = field(default_factory=set)
    channels: dict[str, Channel] = field(default_factory=dict)  # folded name -> channel

    @property
    def mask(self) -> str:
        return f"{self.nick}!{self.user}@{self.host}"


@dataclass(eq=False)
class Channel:
    """A channel: members (with their ``o``/``v`` status, in join order), topic and modes."""

    name: str
    members: dict[Client, set[str]] = field(default_factory=dict)
    topic: str = ""
    modes: set[str] = field(default_factory=lambda: {"n", "t"})
    key: str = ""
    limit: int = 0
    bans: list[str] = field(default_factory=list)
    invited: set[Client] = field(default_factory=set)

    def prefix(self, client: Client) -> str:
        status = self.members.get(client, set())
        return "@" if "o" in status else "+" if "v" in status else ""

    def is_op(self, client: Client) -> bool:
        return "o" in self.members.get(client, set())

    def can_speak(self, client: Client) -> bool:
        if client not in self.members:
            return "n" not in self.modes
        return "m" not in self.modes or bool(self.members[client])

    def refusal(self, client: Client, key: str) -> tuple[str, str] | None:
        """Why ``client`` may not join: (numeric, text), or None."""
        if self.key and key != self.key:
            return "475", "Cannot join channel (+k)"
        if self.limit and len(self.members) >= self.limit:
            return "471", "Cannot join channel (+l)"
        if "i" in self.modes and client not in self.invited:
            return "473", "Cannot join channel (+i)"
        if any(fnmatch.fnmatchcase(fold(client.mask), fold(ban)) for ban in self.bans):
            return "474", "Cannot join channel (+b)"
        return None

    def mode_params(self) -> list[str]:
        flags = (
            "".join(sorted(self.modes)) + ("k" if self.key else "") + ("l" if self.limit else "")
        )
        args = ([self.key] if self.key else []) + ([str(self.limit)] if self.limit else [])
        return ["+" + flags, *args]


Handler = Callable[[Client, tuple[str, ...]], None]
#: Commands an unregistered connection may send; anything else gets 451.
BEFORE_REGISTRATION = frozenset({"CAP", "NICK", "PASS", "PING", "PONG", "QUIT", "USER"})


class IRCServer:
    """The server: one TCPServer, and the state all its connection sessions share.

    ``on_event(event, *args)``, if given, is called as things happen: ``("register", nick)``,
    ``("join", nick, channel)``, ``("part", nick, channel)``, ``("nick", old, new)``,
    ``("topic", nick, channel, topic)``, ``("mode", nick, target, modes)``,
    ``("kick", nick, channel, victim, reason)``, ``("privmsg", nick, target, text)``,
    ``("notice", nick, target, text)``, ``("quit", nick, reason)``.
    """

    def __init__(
        self,
        kernel: Kernel,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        name: str = "irc.poe.test",
        network: str = "PoeNet",
        motd: Iterable[str] = MOTD,
        on_event: Callable[..., object] | None = None,
    ) -> None:
        self.kernel = kernel
        self.name = name
        self.network = network
        self.motd = list(motd)
        self.on_event = on_event
        self.clients: dict[int, Client] = {}  # connection session id -> client
        self.nicks: dict[str, Client] = {}  # folded nick -> client (taken by NICK)
        self.channels: dict[str, Channel] = {}  # folded name -> channel
        self.isupport = [
            "PREFIX=(ov)@+",
            "CHANTYPES=#",
            "CHANMODES=b,k,l,imnst",
            "CASEMAPPING=rfc1459",
            f"NICKLEN={NICKLEN}",
            f"KEYLEN={KEYLEN}",
            f"NETWORK={network}",
        ]
        # command -> (how many parameters it needs at least, handler)
        self.commands: dict[str, tuple[int, Handler]] = {
            "CAP": (1, self.cmd_cap),  # no IRCv3 capabilities are offered
            "PASS": (0, self.ignore),
            "PONG": (0, self.ignore),
            "PING": (1, self.cmd_ping),
            "NICK": (0, self.cmd_nick),
            "USER": (4, self.cmd_user),
            "QUIT": (0, self.cmd_quit),
            "MOTD": (0, self.cmd_motd),
            "JOIN": (1, self.cmd_join),
            "PART": (1, self.cmd_part),
            "PRIVMSG": (0, self.cmd_privmsg),
            "NOTICE": (0, self.cmd_notice),
            "TOPIC": (1, self.cmd_topic),
            "NAMES": (0, self.cmd_names),
            "MODE": (1, self.cmd_mode),
            "KICK": (2, self.cmd_kick),
            "INVITE": (2, self.cmd_invite),
            "WHOIS": (0, self.cmd_whois),
            "WHO": (0, self.cmd_who),
            "LIST": (0, self.cmd_list),
            "ISON": (1, self.cmd_ison),
            "USERHOST": (1, self.cmd_userhost),
            "AWAY": (0, self.cmd_away),
        }
        self.tcp = TCPServer(
            kernel,
            address=host,
            port=port,
            client_filter=IRCFilter,  # a factory: one new filter per connection
            client_connected=self.connected,
            client_input=self.input,
            client_error=self.error,
            client_disconnected=self.disconnected,
            client_shutdown_on_error=False,  # self.error decides
            client_max_output=SENDQ,
            inline_states={"irc_send": self.deliver},
        )

    @property
    def port(self) -> int:
        port = self.tcp.port
        if port is None:
            msg = "the IRC server is not listening"
            raise RuntimeError(msg)
        return port

    def shutdown(self, reason: str = "Server shutting down") -> None:
        """Say ERROR to every client, close every connection once flushed, stop listening."""
        for client in self.clients.values():
            self.send(client, Message("ERROR", (f"Closing Link: {client.host} ({reason})",)))
        self.clients.clear()
        self.nicks.clear()
        self.channels.clear()
        with contextlib.suppress(SessionNotFound):  # already stopped
            self.tcp.shutdown(connections=True)

    # -- the TCPServer callbacks (they run in the connection's own session) ---------------------

    def connected(self, ctx: Context) -> None:
        address = ctx.heap["remote_ip"]
        # Real servers look the host name up in the DNS; the loopback is easy to name.
        host = "localhost" if address in ("127.0.0.1", "::1") else address
        host = "0" + host if host.startswith(":") else host  # "::ffff:10.0.0.1" can't start a word
        self.clients[ctx.session.ID] = Client(ctx.session.ID, host)

    def input(self, ctx: Context, message: Message) -> None:
        client = self.clients.get(ctx.session.ID)
        if client is None:
            return  # it quit: the connection is closing
        params = message.params
        entry = self.commands.get(message.command)
        if input_length(message) > MAX_LINE:
            # Refused whole: cut, it could mean something else (a KICK reason taken for
            # another nick). A line beyond the filter's limit never gets here (see error()).
            self.numeric(client, "417", "Input line was too long")
        elif not client.registered and message.command not in BEFORE_REGISTRATION:
            self.numeric(client, "451", "You have not registered")
        elif entry is None:
            self.numeric(client, "421", message.command, "Unknown command")
        elif len(params) < entry[0]:
            self.numeric(client, "461", message.command, "Not enough parameters")
        else:
            entry[1](client, params)

    def error(self, ctx: Context, operation: str, errnum: int, errstr: str) -> None:
        if operation == "read" and errnum == errno.EINVAL:
            return  # a line that is not IRC: the filter dropped it, the next one may be fine
        client = self.clients.get(ctx.session.ID)
        if operation == "read" and errnum == errno.EMSGSIZE and client is not None:
            self.close(client, "Line too long")
            return
        if errnum != 0:  # a broken connection, not an end of file: don't wait for the output
            ctx.heap["got_an_error"] = True
        if operation == "write" and errnum == errno.ENOBUFS:  # over client_max_output
            ctx.heap["quit_reason"] = "SendQ exceeded"
        elif errnum not in (0, errno.ECONNRESET):  # the peer hanging up is "Connection closed"
            ctx.heap["quit_reason"] = f"{operation.capitalize()} error: {errstr}"
        ctx.kernel.yield_("shutdown")

    def disconnected(self, ctx: Context) -> None:
        client = self.clients.get(ctx.session.ID)
        if client is not None:  # gone without QUIT
            self.quit(client, ctx.heap.get("quit_reason", "Connection closed"))

    def deliver(self, ctx: Context, messages: tuple[Message, ...]) -> None:
        """The ``irc_send`` state: write lines to this connection's own client."""
        wheel = ctx.heap.get("client")
        if wheel is not None and not ctx.heap["shutdown"]:
            wheel.put(*messages)

    # -- sending --------------------------------------------------------------------------------

    def send(self, client: Client, *messages: Message) -> None:
        """Queue ``messages`` for ``client``, each cut to fit in one line (:func:`fit`).

        Every line for a client goes through here and then :meth:`deliver`, in its session.
        """
        fitted = tuple(fit(message) for message in messages)
        with contextlib.suppress(SessionNotFound):  # its session may have ended just now
            self.kernel.post(client.session_id, "irc_send", fitted)

    def numeric(self, client: Client, code: str, *params: str) -> None:
        """Send a numeric reply; the last parameter is the text.

        The middle parameters often repeat what the client sent: one that could not stand as
        a middle parameter, or is longer than ``MAX_ECHO``, is sent as ``*``, so the text
        after it still fits in the line.
        """
        *middle, text = params
        words = [
            word if _WORD.fullmatch(word) and len(word) <= MAX_ECHO else "*" for word in middle
        ]
        self.send(client, Message(code, (client.nick, *words, text), self.name))

    def to_channel(self, channel: Channel, message: Message, skip: Client | None = None) -> None:
        for member in channel.members:
            if member is not skip:
                self.send(member, message)

    def to_peers(self, client: Client, message: Message, *, me: bool = False) -> None:
        """Send to everyone sharing a channel with ``client``, once each (and to it if ``me``)."""
        peers: dict[Client, None] = {client: None} if me else {}  # a dict keeps the order
        for channel in client.channels.values():
            peers.update(dict.fromkeys(channel.members))
        if not me:
            peers.pop(client, None)
        for peer in peers:
            self.send(peer, message)

    def event(self, name: str, *args: str) -> None:
        if self.on_event is not None:
            self.on_event(name, *args)

    # -- the state ------------------------------------------------------------------------------

    def user(self, nick: str) -> Client | None:
        client = self.nicks.get(fold(nick))
        return client if client is not None and client.registered else None

    def channel_for(self, client: Client, name: str, *, member: bool = True) -> Channel | None:
        """The channel called ``name``, or None after a 403 (or 442 when not a ``member``)."""
        channel = self.channels.get(fold(name))
        if channel is None:
            self.numeric(client, "403", name, "No such channel")
        elif member and client not in channel.members:
            self.numeric(client, "442", channel.name, "You're not on that channel")
            return None
        return channel

    def leave(self, channel: Channel, client: Client) -> None:
        del channel.members[client]
        del client.channels[fold(channel.name)]
        if not channel.members:
            del self.channels[fold(channel.name)]

    def quit(self, client: Client, reason: str) -> None:
        """Forget ``client``; tell everyone who shared a channel with it."""
        del self.clients[client.session_id]
        if self.nicks.get(fold(client.nick)) is client:
            del self.nicks[fold(client.nick)]
        if client.registered:
            self.to_peers(client, Message("QUIT", (reason,), client.mask))
            self.event("quit", client.nick, reason)
        for channel in list(client.channels.values()):
            self.leave(channel, client)

    def close(self, client: Client, reason: str) -> None:
        """ERROR, then QUIT to the channels, then close once the output is written."""
        self.send(client, Message("ERROR", (f"Closing Link: {client.host} ({reason})",)))
        self.quit(client, reason)
        with contextlib.suppress(SessionNotFound):
            self.kernel.post(client.session_id, "shutdown")  # after irc_send: same queue

    # -- registration ---------------------------------------------------------------------------

    def ignore(self, client: Client, params: tuple[str, ...]) -> None:
        pass

    def cmd_ping(self, client: Client, params: tuple[str, ...]) -> None:
        self.send(client, Message("PONG", (self.name, params[0]), self.name))

    def cmd_nick(self, client: Client, params: tuple[str, ...]) -> None:
        if not params:
            self.numeric(client, "431", "No nickname given")
            return
        nick, old = params[0], client.nick
        owner = self.nicks.get(fold(nick))
        if not _NICK.fullmatch(nick):
            self.numeric(client, "432", nick, "Erroneous nickname")
        elif owner is not None and owner is not client:
            self.numeric(client, "433", nick, "Nickname is already in use")
        elif nick != old:
            if client.registered:
                self.to_peers(client, Message("NICK", (nick,), client.mask), me=True)
                self.event("nick", old, nick)
            if self.nicks.get(fold(old)) is client:
                del self.nicks[fold(old)]
            self.nicks[fold(nick)] = client
            client.nick = nick
            self.try_register(client)

    def cmd_user(self, client: Client, params: tuple[str, ...]) -> None:
        if client.registered:
            self.numeric(client, "462", "You may not reregister")
            return
        client.user = re.sub(r"[^A-Za-z0-9_.-]", "", params[0])[:10] or "user"
        client.realname = params[3]
        self.try_register(client)

    def cmd_cap(self, client: Client, params: tuple[str, ...]) -> None:
        """IRCv3 capability negotiation, offering none: clients that ask (irssi waits for the
        answer to ``CAP LS``) learn that at once and register plainly.

        ``CAP LS`` or ``CAP REQ`` before registration holds it until ``CAP END`` (IRCv3), so
        a client's ``NICK`` and ``USER`` sent meanwhile do not register it early; ``CAP END``
        then completes it. Unknown subcommands get 410.
        """
        sub = params[0].upper()
        target = client.nick if client.registered else "*"
        if sub in ("LS", "LIST"):
            self.send(client, Message("CAP", (target, sub, ""), self.name))
        elif sub == "REQ":
            wanted = params[1] if len(params) > 1 else ""
            self.send(client, Message("CAP", (target, "NAK", wanted), self.name))
        elif sub == "END":
            client.negotiating = False
            self.try_register(client)
            return
        else:
            self.numeric(client, "410", sub, "Invalid CAP command")
            return
        if not client.registered:
            client.negotiating = True

    def try_register(self, client: Client) -> None:
        if client.registered or client.negotiating or client.nick == "*" or not client.user:
            return
        client.registered = True
        self.numeric(client, "001", f"Welcome to the {self.network} IRC network, {client.mask}")
        self.numeric(client, "002", f"Your host is {self.name}, running version {VERSION}")
        self.numeric(client, "003", "This server was created for the poe examples")
        self.numeric(client, "004", self.name, VERSION, "i", "biklmnostv", "bklov")
        self.numeric(client, "005", *self.isupport, "are supported by this server")
        self.cmd_motd(client, ())
        self.event("register", client.nick)

    def cmd_motd(self, client: Client, params: tuple[str, ...]) -> None:
        if not self.motd:
            self.numeric(client, "422", "MOTD File is missing")
            return
        self.numeric(client, "375", f"- {self.name} Message of the day -")
        for line in self.motd:
            self.numeric(client, "372", f"- {line}")
        self.numeric(client, "376", "End of /MOTD command.")

    def cmd_quit(self, client: Client, params: tuple[str, ...]) -> None:
        self.close(client, f"Quit: {params[0]}" if params else "Client Quit")

    # -- channels -------------------------------------------------------------------------------

    def cmd_join(self, client: Client, params: tuple[str, ...]) -> None:
        if params[0] == "0":  # JOIN 0: leave every channel
            for channel in list(client.channels.values()):
                self.cmd_part(client, (channel.name,))
            return
        keys = params[1].split(",") if len(params) > 1 else []
        for i, name in enumerate(params[0].split(",")):
            self.join(client, name, keys[i] if i < len(keys) else "")

    def join(self, client: Client, name: str, key: str) -> None:
        if not _CHANNEL.fullmatch(name):
            self.numeric(client, "403", name, "No such channel")
            return
        channel = self.channels.get(fold(name))
        if channel is None:
            channel = self.channels[fold(name)] = Channel(name)
        elif client in channel.members:
            return
        elif refused := channel.refusal(client, key):
            self.numeric(client, refused[0], channel.name, refused[1])
            return
        channel.members[client] = set() if channel.members else {"o"}  # the first one is op
        channel.invited.discard(client)
        client.channels[fold(name)] = channel
        self.to_channel(channel, Message("JOIN", (channel.name,), client.mask))
        if channel.topic:
            self.numeric(client, "332", channel.name, channel.topic)
        self.names(client, channel)
        self.event("join", client.nick, channel.name)

    def names(self, client: Client, channel: Channel) -> None:
        names = [channel.prefix(member) + member.nick for member in channel.members]
        symbol = "@" if "s" in channel.modes else "="
        for start in range(0, len(names), 12):  # keep each line well under 512 bytes
            self.numeric(client, "353", symbol, channel.name, " ".join(names[start : start + 12]))
        self.numeric(client, "366", channel.name, "End of /NAMES list.")

    def cmd_names(self, client: Client, params: tuple[str, ...]) -> None:
        for name in params[0].split(",") if params else ["*"]:
            channel = self.channels.get(fold(name))
            if channel and ("s" not in channel.modes or client in channel.members):
                self.names(client, channel)
            else:
                self.numeric(client, "366", name, "End of /NAMES list.")

    def cmd_part(self, client: Client, params: tuple[str, ...]) -> None:
        for name in params[0].split(","):
            channel = self.channel_for(client, name)
            if channel is not None:
                self.to_channel(channel, Message("PART", (channel.name, *params[1:2]), client.mask))
                self.leave(channel, client)
                self.event("part", client.nick, channel.name)

    def cmd_topic(self, client: Client, params: tuple[str, ...]) -> None:
        channel = self.channel_for(client, params[0], member=len(params) > 1)
        if channel is None:
            return
        if len(params) == 1:
            if channel.topic:
                self.numeric(client, "332", channel.name, channel.topic)
            else:
                self.numeric(client, "331", channel.name, "No topic is set")
        elif "t" in channel.modes and not channel.is_op(client):
            self.numeric(client, "482", channel.name, "You're not channel operator")
        else:
            channel.topic = params[1][:300]
            self.to_channel(channel, Message("TOPIC", (channel.name, channel.topic), client.mask))
            self.event("topic", client.nick, channel.name, channel.topic)

    def cmd_kick(self, client: Client, params: tuple[str, ...]) -> None:
        channel = self.channel_for(client, params[0])
        if channel is None:
            return
        if not channel.is_op(client):
            self.numeric(client, "482", channel.name, "You're not channel operator")
            return
        reason = params[2] if len(params) > 2 else client.nick
        for nick in params[1].split(","):
            victim = self.user(nick)
            if victim is None or victim not in channel.members:
                self.numeric(client, "441", nick, channel.name, "They aren't on that channel")
                continue
            kick = Message("KICK", (channel.name, victim.nick, reason), client.mask)
            self.to_channel(channel, kick)
            self.leave(channel, victim)
            self.event("kick", client.nick, channel.name, victim.nick, reason)

    def cmd_invite(self, client: Client, params: tuple[str, ...]) -> None:
        target = self.user(params[0])
        channel = self.channel_for(client, params[1])
        if channel is None:
            return
        if target is None:
            self.numeric(client, "401", params[0], "No such nick/channel")
        elif target in channel.members:
            self.numeric(client, "443", target.nick, channel.name, "is already on channel")
        elif "i" in channel.modes and not channel.is_op(client):
            self.numeric(client, "482", channel.name, "You're not channel operator")
        else:
            channel.invited.add(target)
            self.numeric(client, "341", target.nick, channel.name)
            self.send(target, Message("INVITE", (target.nick, channel.name), client.mask))

    # -- modes ----------------------------------------------------------------------------------

    def cmd_mode(self, client: Client, params: tuple[str, ...]) -> None:
        if params[0].startswith("#"):
            self.channel_mode(client, params)
            return
        if self.user(params[0]) is None:
            self.numeric(client, "401", params[0], "No such nick/channel")
        elif fold(params[0]) != fold(client.nick):
            self.numeric(client, "502", "Can't change mode for other users")
        elif len(params) == 1:
            self.numeric(client, "221", "+" + "".join(sorted(client.modes)))
        else:
            changes: list[tuple[str, str]] = []
            for sign, char in signed(params[1]):
                if char != "i":
                    self.numeric(client, "501", "Unknown MODE flag")
                elif (char in client.modes) != (sign == "+"):
                    (client.modes.add if sign == "+" else client.modes.discard)(char)
                    changes.append((sign, char))
            if changes:
                self.send(client, Message("MODE", (client.nick, compact(changes)), client.mask))

    def channel_mode(self, client: Client, params: tuple[str, ...]) -> None:
        channel = self.channel_for(client, params[0], member=False)
        if channel is None:
            return
        if len(params) == 1:
            self.numeric(client, "324", channel.name, *channel.mode_params())
            return
        args = list(params[2:])
        changes: list[tuple[str, str]] = []
        changed_args: list[str] = []
        for sign, char in signed(params[1]):
            if char == "b" and not args:  # a query of the ban list, allowed to anyone
                for ban in channel.bans:
                    self.numeric(client, "367", channel.name, ban, "Ban")
                self.numeric(client, "368", channel.name, "End of channel ban list")
                continue
            if not channel.is_op(client):
                self.numeric(client, "482", channel.name, "You're not channel operator")
                return
            needs_arg = char in "ovb" or (sign == "+" and char in "kl")
            if needs_arg and not args:
                continue  # "+o" without a nick: nothing to do
            arg = args.pop(0) if needs_arg or (char == "k" and args) else ""
            change = self.apply_mode(client, channel, sign, char, arg)
            if change is not None:
                changes.append((sign, char))
                changed_args.extend([change] if change else [])
        if changes:
            modes = compact(changes)
            mode = Message("MODE", (channel.name, modes, *changed_args), client.mask)
            self.to_channel(channel, mode)
            self.event("mode", client.nick, channel.name, " ".join([modes, *changed_args]))

    def apply_mode(
        self, client: Client, channel: Channel, sign: str, char: str, arg: str
    ) -> str | None:
        """Apply one change; return its argument ("" for none), or None when nothing changed."""
        on = sign == "+"
        if char in "ov":
            member = self.user(arg)
            if member is None or member not in channel.members:
                self.numeric(client, "441", arg, channel.name, "They aren't on that channel")
                return None
            status = channel.members[member]
            if (char in status) == on:
                return None
            (status.add if on else status.discard)(char)
            return member.nick
        if char == "k":
            bad = not _WORD.fullmatch(arg) or "," in arg or len(arg) > KEYLEN
            if on == bool(channel.key) or (on and bad):
                return None
            key, channel.key = channel.key, arg if on else ""
            return arg if on else key
        if char == "l":
            limit = number(arg) if on else 0
            if (on and not limit) or (not on and not channel.limit):
                return None
            channel.limit = limit or 0
            return str(limit) if on else ""
        if char == "b":
            mask = arg if "!" in arg or "@" in arg else f"{arg}!*@*"
            if on == (mask in channel.bans) or not _WORD.fullmatch(mask) or len(mask) > MAX_ECHO:
                return None
            (channel.bans.append if on else channel.bans.remove)(mask)
            return mask
        if char in "imnst":
            if (char in channel.modes) == on:
                return None
            (channel.modes.add if on else channel.modes.discard)(char)
            return ""
        self.numeric(client, "472", char, "is unknown mode char to me")
        return None

    # -- messages -------------------------------------------------------------------------------

    def cmd_privmsg(self, client: Client, params: tuple[str, ...]) -> None:
        self.message("PRIVMSG", client, params)

    def cmd_notice(self, client: Client, params: tuple[str, ...]) -> None:
        self.message("NOTICE", client, params)

    def message(self, command: str, client: Client, params: tuple[str, ...]) -> None:
        def fail(*args: str) -> None:
            if command == "PRIVMSG":  # a NOTICE never gets an automatic reply (RFC 2812 3.3.2)
                self.numeric(client, *args)

        if not params:
            fail("411", f"No recipient given ({command})")
            return
        if len(params) < 2 or not params[1]:
            fail("412", "No text to send")
            return
        text = params[1]
        for target in params[0].split(","):
            channel = self.channels.get(fold(target))
            user = None if channel else self.user(target)
            if channel is not None:
                if not channel.can_speak(client):
                    fail("404", channel.name, "Cannot send to channel")
                    continue
                line = Message(command, (channel.name, text), client.mask)
                self.to_channel(channel, line, skip=client)  # not echoed to the sender
            elif user is not None:
                self.send(user, Message(command, (user.nick, text), client.mask))
                if user.away:
                    fail("301", user.nick, user.away)
            else:
                fail("401", target, "No such nick/channel")
                continue
            self.event(command.lower(), client.nick, target, text)

    # -- queries --------------------------------------------------------------------------------

    def cmd_whois(self, client: Client, params: tuple[str, ...]) -> None:
        if not params:
            self.numeric(client, "431", "No nickname given")
            return
        for nick in params[-1].split(","):  # WHOIS [server] nicks
            user = self.user(nick)
            if user is None:
                self.numeric(client, "401", nick, "No such nick/channel")
            else:
                self.numeric(client, "311", user.nick, user.user, user.host, "*", user.realname)
                channels = [
                    channel.prefix(user) + channel.name
                    for channel in user.channels.values()
                    if "s" not in channel.modes or client in channel.members
                ]
                if channels:
                    self.numeric(client, "319", user.nick, " ".join(channels))
                self.numeric(client, "312", user.nick, self.name, "a poe.tcp example")
                if user.away:
                    self.numeric(client, "301", user.nick, user.away)
            self.numeric(client, "318", nick, "End of /WHOIS list.")

    def cmd_who(self, client: Client, params: tuple[str, ...]) -> None:
        mask = params[0] if params else "*"
        channel = self.channels.get(fold(mask))
        rows: list[tuple[str, Client, str]] = []
        if channel is not None and ("s" not in channel.modes or client in channel.members):
            rows = [(channel.name, m, channel.prefix(m)) for m in channel.members]
        elif (user := self.user(mask)) is not None:
            rows = [("*", user, "")]
        for where, user, prefix in rows:
            flags = ("G" if user.away else "H") + prefix
            info = f"0 {user.realname}"
            self.numeric(
                client, "352", where, user.user, user.host, self.name, user.nick, flags, info
            )
        self.numeric(client, "315", mask, "End of /WHO list.")

    def cmd_list(self, client: Client, params: tuple[str, ...]) -> None:
        wanted = {fold(name) for name in params[0].split(",")} if params else None
        for key, channel in self.channels.items():
            if wanted is not None and key not in wanted:
                continue
            if "s" not in channel.modes or client in channel.members:
                self.numeric(client, "322", channel.name, str(len(channel.members)), channel.topic)
        self.numeric(client, "323", "End of /LIST")

    def cmd_ison(self, client: Client, params: tuple[str, ...]) -> None:
        users = [self.user(nick) for param in params for nick in param.split()]
        self.numeric(client, "303", " ".join(user.nick for user in users if user is not None))

    def cmd_userhost(self, client: Client, params: tuple[str, ...]) -> None:
        users = [self.user(nick) for param in params for nick in param.split()][:5]
        replies = [
            f"{user.nick}={'-' if user.away else '+'}{user.user}@{user.host}"
            for user in users
            if user is not None
        ]
        self.numeric(client, "302", " ".join(replies))

    def cmd_away(self, client: Client, params: tuple[str, ...]) -> None:
        client.away = params[0] if params else ""
        if client.away:
            self.numeric(client, "306", "You have been marked as being away")
        else:
            self.numeric(client, "305", "You are no longer marked as being away")


def number(text: str) -> int | None:
    """``text`` as a number if it is 1 to 9 ASCII digits, else None (never raises)."""
    return int(text) if _NUMBER.fullmatch(text) else None


def input_length(message: Message) -> int:
    """The bytes of ``message`` as a client sends it, CR LF included and tags left out (IRCv3
    gives tags their own 8191 bytes; this server offers none).

    Measured on the parsed message: runs of spaces count as one, and the last parameter is
    counted with the ``:`` clients put before a text (``PRIVMSG #c :hi``) even where it could
    be left out, so a line is never refused for spaces, and a bare last word is at worst
    counted a byte long.
    """
    line = str(Message(message.command, message.params, message.source))
    last = message.params[-1] if message.params else None
    needless = last is not None and not (not last or " " in last or last.startswith(":"))
    return len(line.encode()) + 2 + needless


def fit(message: Message, limit: int = MAX_LINE) -> Message:
    """``message``, with its last parameter cut so that its line (CR LF included) has at most
    ``limit`` bytes. The cut never falls inside a UTF-8 character.

    A client's line is at most ``MAX_LINE`` bytes, but relayed it gains a prefix
    (``:nick!user@host``): the last parameter, the text of a PRIVMSG, a reason or a topic,
    makes room. The middle parameters are short by construction (nicks, channel names,
    ``MAX_ECHO``), so the last one can always make enough.
    """
    excess = len(message.line().encode()) + 2 - limit
    if excess <= 0 or not message.params:
        return message
    *head, last = message.params
    raw = last.encode()
    # errors="ignore" drops the bytes of a character the cut went through. Only text is ever
    # cut (a last parameter that is a word, a nick or a MODE argument, is short), and cut
    # text needs no ":" that the whole did not, so the line is exactly short enough.
    text = raw[: max(len(raw) - excess, 0)].decode("utf-8", errors="ignore")
    return Message(message.command, (*head, text), message.source, message.tags)


def signed(modes: str) -> list[tuple[str, str]]:
    """``"+o-v"`` -> ``[("+", "o"), ("-", "v")]``."""
    sign, result = "+", []
    for char in modes:
        if char in "+-":
            sign = char
        else:
            result.append((sign, char))
    return result


def compact(changes: list[tuple[str, str]]) -> str:
    """``[("+", "o"), ("+", "v"), ("-", "t")]`` -> ``"+ov-t"``."""
    text, last = "", ""
    for sign, char in changes:
        text += char if sign == last else sign + char
        last = sign
    return text


def start_server(
    kernel: Kernel,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    name: str = "irc.poe.test",
    on_event: Callable[..., object] | None = None,
    **options: Any,
) -> IRCServer:
    """Start an IRC server in ``kernel`` (listening at once: read ``.port``)."""
    return IRCServer(kernel, host=host, port=port, name=name, on_event=on_event, **options)


start = start_server


# -- the demo: two raw clients on TCPClient, in the same kernel -------------------------------
# Each step: one user sends some lines. Then we wait until every user has received all that
# step caused before printing it: the actor sends PING, and once its PONG is back (the server
# has handled the lines before it, and posted what they made to the other connections), each
# other user sends PING too; its PONG comes after anything the server had for it. Timers would
# be slower and could be wrong; this is exact, so the transcript is the same on every loop.
SCRIPT: list[tuple[str, list[str]]] = [
    ("alice", ["CAP LS 302", "NICK alice", "USER alice 0 * :Alice Liddell", "CAP END"]),
    ("bob", ["NICK ALICE", "USER bob 0 * :Bob", "NICK bob"]),
    ("alice", ["JOIN #poe", "TOPIC #poe :Perl Object Environment, in Python"]),
    ("bob", ["JOIN #poe"]),
    ("bob", ["PRIVMSG #poe :hi alice!"]),
    ("alice", ["PRIVMSG bob :hello bob, welcome"]),
    ("bob", ["NICK robert"]),
    ("bob", ["TOPIC #poe :robert was here", "KICK #poe alice"]),
    ("alice", ["WHOIS robert"]),
    ("alice", ["MODE #poe +v robert", "KICK #poe robert :mind your manners"]),
    ("bob", ["PRIVMSG #poe :let me back in", "JOIN #poe"]),
    ("bob", ["QUIT :bye"]),
    ("alice", ["QUIT"]),
]


class Demo:
    """Plays SCRIPT with one TCPClient per user and prints what each one receives."""

    def __init__(self, kernel: Kernel, server: IRCServer) -> None:
        self.kernel = kernel
        self.server = server
        self.users: dict[str, TCPClient] = {}
        self.steps = list(SCRIPT)
        self.actor = ""
        self.waiting: set[str] = set()  # users whose PONG (or disconnection) we wait for
        self.heard: list[tuple[str, str]] = []

    def next_step(self) -> None:
        if not self.steps:
            print("-- everyone has left; the server shuts down")
            self.server.shutdown()
            return
        name, lines = self.steps.pop(0)
        self.actor, self.waiting = name, {name}
        if name in self.users:
            self.say(name, lines)
            return
        print(f"-- {name} connects")
        self.users[name] = TCPClient(
            self.kernel,
            remote_address="127.0.0.1",
            remote_port=self.server.port,
            filter=IRCFilter,
            connected=lambda ctx, *sock: self.say(name, lines),
            server_input=lambda ctx, message: self.received(name, message),
            disconnected=lambda ctx: self.gone(name),
        )

    def say(self, name: str, lines: list[str]) -> None:
        for line in lines:
            print(f"{name}> {line}")
        self.users[name].put(*lines, "PING :sync")

    def received(self, name: str, message: Message) -> None:
        if message.command == "PONG":
            self.synced(name)
        else:
            self.heard.append((name, message.line()))

    def gone(self, name: str) -> None:
        del self.users[name]
        self.heard.append((name, "(disconnected)"))
        self.synced(name)

    def synced(self, name: str) -> None:
        self.waiting.discard(name)
        if self.waiting:
            return
        if name == self.actor:  # the actor's lines are handled: now sync everyone else
            self.actor = ""
            self.waiting = set(self.users) - {name}
            for other in self.waiting:
                self.users[other].put("PING :sync")
            if self.waiting:
                return
        # sorted() is stable: each user's lines stay in the order that user received them.
        for who, line in sorted(self.heard, key=lambda item: item[0]):
            print(f"    {who} < {line}")
        self.heard = []
        self.next_step()


def show_event(event: str, *args: str) -> None:
    print(f"  [server] {event}: {' | '.join(args)}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--serve", metavar="PORT", type=int, help="serve real clients on PORT")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (--serve)")
    options = parser.parse_args()
    kernel = Kernel()
    if options.serve is not None:
        server = start_server(kernel, host=options.host, port=options.serve, on_event=show_event)
        print(
            f"IRC server on {options.host}:{server.port}; try irssi -c 127.0.0.1 -p {server.port}"
        )
    else:
        Demo(kernel, start_server(kernel, on_event=show_event)).next_step()
    kernel.run()


if __name__ == "__main__":
    main()
