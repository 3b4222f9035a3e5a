"""The IRC component: one session that keeps one client connection to an IRC server.

The port of POE::Component::IRC. Sessions ``register`` for the events they want and send
commands by posting to the component (``privmsg``, ``join``, ``mode``, ...); plugins
(:mod:`poe.irc.plugin`) see every event and command first. See ``docs/components/irc.rst``.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import errno
import logging
import time
from typing import TYPE_CHECKING, Any

from poe.driver import TLSDriver
from poe.errors import InvalidArgument, SessionNotFound, TimerNotFound
from poe.irc.events import ctcp_quote, translate
from poe.irc.filter import IRCFilter
from poe.irc.flood import FloodControl
from poe.irc.isupport import ISupport
from poe.irc.message import Message
from poe.irc.plugin import Pipeline
from poe.irc.split import split_text, text_budget
from poe.session import Session
from poe.wheel import ReadWriteWheel, SocketFactoryWheel

if TYPE_CHECKING:
    import socket
    import ssl
    from collections.abc import Callable, Iterable, Mapping

    from poe.kernel import Kernel
    from poe.session import Context

__all__ = ["DEFAULT_CAPS", "IRC"]

log = logging.getLogger("poe.irc")

DEFAULT_CAPS = (
    "message-tags",
    "server-time",
    "multi-prefix",
    "away-notify",
    "account-notify",
    "extended-join",
    "userhost-in-names",
    "cap-notify",
)
"""IRCv3 capabilities requested by default, each only if the server offers it."""

_REFCOUNT = "poe.irc"
_CONNECT_OPTIONS = frozenset(
    {
        "nick",
        "server",
        "port",
        "username",
        "ircname",
        "password",
        "tls",
        "server_hostname",
        "bind_address",
        "connect_timeout",
    }
)
_SASL_CHUNK = 400
_SASL_FAILED = frozenset({"902", "904", "905", "906", "908"})
_UNSET: Any = object()

# The commands sessions post, with the number of arguments each needs at least.
_COMMANDS: dict[str, int] = {
    "privmsg": 2,
    "notice": 2,
    "ctcp": 2,
    "ctcpreply": 2,
    "join": 1,
    "part": 1,
    "nick": 1,
    "mode": 1,
    "kick": 2,
    "topic": 1,
    "invite": 2,
    "whois": 1,
    "whowas": 1,
    "who": 0,
    "names": 0,
    "list": 0,
    "away": 0,
    "userhost": 1,
    "ison": 1,
    "oper": 2,
    "quit": 0,
    "quote": 1,
    "raw": 1,
}


class IRC:
    """A session holding one IRC connection, driven by posted commands (POE::Component::IRC).

    The component does not connect until it gets ``connect`` (as POE's). Sessions post
    ``register`` with event names (or ``"all"``) to receive ``irc_*`` events; registration
    keeps them alive until they ``unregister`` or the component shuts down. Every event's last
    argument is the :class:`~poe.irc.message.Message` it came from (None for the component's
    own events: ``irc_connected``, ``irc_disconnected``, ``irc_socketerr``, ...).

    Args:
        kernel: the kernel to run in.
        nick: the nick to register with.
        server: the server's address or host name.
        port: the server's port.
        username: the user name (``USER``); default: the nick.
        ircname: the real name (``USER``'s last parameter); default: the nick.
        password: the server password (``PASS``), if any.
        alias: an alias for the component's session.
        tls: speak TLS with this client :class:`ssl.SSLContext`.
        server_hostname: the name the server's certificate must carry; default ``server``.
        bind_address: a local address to connect from.
        connect_timeout: seconds a connection attempt may take (then ``irc_socketerr``).
        flood: the :class:`~poe.irc.flood.FloodControl` that paces what is sent once
            registered; None sends at once (only for servers that do not throttle, such as
            a test server with penalties off).
        caps: IRCv3 capabilities to request when the server offers them.
        sasl: ``(account, password)`` to log in with SASL PLAIN during registration.
        sasl_required: quit when SASL fails or is not offered (after ``irc_sasl_failed``),
            instead of registering without an account.
        raw: also send ``irc_raw(line)`` and ``irc_raw_out(line)`` events for every line.
        plugins: plugins to add at once, ``{name: plugin}``, in order.

    Raises:
        InvalidArgument: a missing nick, a malformed port or option.
    """

    def __init__(
        self,
        kernel: Kernel,
        *,
        nick: str,
        server: str = "127.0.0.1",
        port: int = 6667,
        username: str | None = None,
        ircname: str | None = None,
        password: str | None = None,
        alias: str | None = None,
        tls: ssl.SSLContext | None = None,
        server_hostname: str | None = None,
        bind_address: str | None = None,
        connect_timeout: float = 30.0,
        flood: FloodControl | None = _UNSET,
        caps: Iterable[str] = DEFAULT_CAPS,
        sasl: tuple[str, str] | None = None,
        sasl_required: bool = False,
        raw: bool = False,
        plugins: Mapping[str, Any] | None = None,
    ) -> None:
        self._kernel = kernel
        self._options: dict[str, Any] = {}
        self._configure(
            nick=nick,
            server=server,
            port=port,
            username=username,
            ircname=ircname,
            password=password,
            tls=tls,
            server_hostname=server_hostname,
            bind_address=bind_address,
            connect_timeout=connect_timeout,
        )
        self._alias = alias
        self.flood: FloodControl | None = FloodControl() if flood is _UNSET else flood
        self._want_caps = frozenset(caps)
        pair: object = sasl  # callers may be untyped
        if pair is not None and not (
            isinstance(pair, tuple) and len(pair) == 2 and all(isinstance(s, str) for s in pair)
        ):
            msg = "sasl must be an (account, password) pair of strings"
            raise InvalidArgument(msg)
        self._sasl = sasl
        self._sasl_required = bool(sasl_required)
        self._raw = bool(raw)
        self.pipeline = Pipeline()
        #: Sessions registered for events: session id -> event names ("all" for every event).
        self._registered: dict[int, set[str]] = {}
        self.isupport = ISupport()
        #: Capabilities the server acknowledged on this connection.
        self.caps: set[str] = set()
        self._nick = nick
        self._mask: str | None = None
        self._server_name: str | None = None
        self._wheel: ReadWriteWheel | None = None
        self._factory: SocketFactoryWheel | None = None
        self._connect_timer: int | None = None
        self._queue: collections.deque[str] = collections.deque()
        self._registered_on_server = False
        self._cap_state = ""  # "", "ls", "req", "sasl", "done"
        self._offered: set[str] = set()
        self._shutdown = False
        self._shutdown_timer: int | None = None
        states: dict[str, Callable[..., Any]] = {
            "_start": self._on_start,
            "_stop": self._on_stop,
            "_child": _ignore,
            "register": self._on_register,
            "unregister": self._on_unregister,
            "connect": self._on_connect,
            "disconnect": self._on_disconnect,
            "shutdown": self._on_shutdown,
            "send_event": self._on_send_event,
            "got_connect": self._on_connect_success,
            "got_connect_error": self._on_connect_error,
            "got_connect_timeout": self._on_connect_timeout,
            "got_input": self._on_input,
            "got_error": self._on_error,
            "send_tick": self._on_send_tick,
            "shutdown_timeout": self._on_shutdown_timeout,
            "plugin_timer": self._on_plugin_timer,
            "plugin_timer_set": self._on_plugin_timer_set,
            "plugin_timer_remove": self._on_plugin_timer_remove,
        }
        for command in _COMMANDS:
            states[command] = self._command_handler(command)
        self._session_id: int = Session.create(kernel, inline_states=states).ID
        for name, plugin in (plugins or {}).items():
            self.plugin_add(name, plugin)

    def _configure(self, **options: Any) -> None:
        given = dict(options)
        port = given.get("port", self._options.get("port"))
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            msg = f"IRC: port must be an int between 1 and 65535, not {port!r}"
            raise InvalidArgument(msg)
        nick = given.get("nick", self._options.get("nick"))
        if not isinstance(nick, str) or not nick or " " in nick:
            msg = f"IRC: nick must be one non-empty word, not {nick!r}"
            raise InvalidArgument(msg)
        self._options.update(given)

    # -- the facade ---------------------------------------------------------------------------

    @property
    def session_id(self) -> int:
        """The component session's id (post commands to it, or use :meth:`yield_`)."""
        return self._session_id

    @property
    def kernel(self) -> Kernel:
        """The kernel the component runs in."""
        return self._kernel

    def nick_name(self) -> str:
        """Our current nick (the one asked for until the server has accepted one)."""
        return self._nick

    def server_name(self) -> str | None:
        """The server's name as it introduced itself, once connected."""
        return self._server_name

    @property
    def connected(self) -> bool:
        """True while a connection to the server is open."""
        return self._wheel is not None

    @property
    def logged_in(self) -> bool:
        """True once the server has welcomed us (``001``) on the current connection."""
        return self._registered_on_server

    @property
    def shutting_down(self) -> bool:
        """True once ``shutdown`` was received: nothing will connect again."""
        return self._shutdown

    @property
    def options(self) -> Mapping[str, Any]:
        """The connection options (``nick``, ``server``, ``port``, ...) as last set."""
        return dict(self._options)

    @property
    def send_queue(self) -> int:
        """Lines waiting for flood control."""
        return len(self._queue)

    def yield_(self, command: str, *args: Any) -> None:
        """Post ``command`` with ``args`` to the component (POE::Component::IRC's ``yield``)."""
        self._kernel.post(self._session_id, command, *args)

    def call(self, command: str, *args: Any) -> Any:
        """Call ``command`` on the component synchronously and return what it returns."""
        return self._kernel.call(self._session_id, command, *args)

    def is_channel(self, target: str) -> bool:
        """True if ``target`` names a channel on this server (ISUPPORT ``CHANTYPES``)."""
        return bool(self.isupport.is_channel(target))

    # -- plugins ------------------------------------------------------------------------------

    def plugin_add(self, name: str, plugin: Any, *, before: str | None = None) -> None:
        """Add ``plugin`` to the pipeline (last, or before the plugin named ``before``).

        Calls its ``plugin_register(irc)`` first; sessions get ``irc_plugin_add(name, plugin)``.

        Raises:
            PluginError: the name is taken, or ``before`` names no plugin.
        """
        self.pipeline.add(name, plugin, before)
        register = getattr(plugin, "plugin_register", None)
        if register is not None:
            try:
                register(self)
            except BaseException:
                self.pipeline.remove(name)
                raise
        self.send_event("irc_plugin_add", name, plugin, None)

    def plugin_del(self, name: str) -> Any:
        """Remove the plugin named ``name``, call its ``plugin_unregister(irc)``, return it.

        Raises:
            PluginError: no plugin has that name.
        """
        plugin = self.pipeline.remove(name)
        unregister = getattr(plugin, "plugin_unregister", None)
        if unregister is not None:
            unregister(self)
        self.send_event("irc_plugin_del", name, plugin, None)
        return plugin

    def plugin_get(self, name: str) -> Any:
        """The plugin added as ``name``, or None."""
        return self.pipeline.get(name)

    def plugin_list(self) -> list[str]:
        """The plugins' names in pipeline order."""
        return self.pipeline.names()

    def delay(self, seconds: float, function: Callable[..., Any], *args: Any) -> int:
        """Run ``function(*args)`` in the component's session after ``seconds``; return the id.

        For plugins, which have no session of their own. The timer keeps the component alive
        until it runs, is removed, or the component shuts down. An exception in ``function``
        is logged and sent as ``irc_plugin_error``.

        Raises:
            RuntimeError: the component's session has ended.
        """
        try:
            timer = self._kernel.call(self._session_id, "plugin_timer_set", seconds, function, args)
        except SessionNotFound:
            timer = None
        if not isinstance(timer, int):
            msg = f"IRC {self._session_id}: the component has ended; no timer can be set"
            raise RuntimeError(msg)
        return timer

    def delay_remove(self, timer_id: int) -> bool:
        """Cancel a timer made by :meth:`delay`.

        Returns False if it already ran, is unknown, or the component has ended.
        """
        try:
            return bool(self._kernel.call(self._session_id, "plugin_timer_remove", timer_id))
        except SessionNotFound:
            return False

    def send_event_next(self, event: str, *args: Any) -> None:
        """Like :meth:`send_event`, but after the event being handled (a posted event).

        A plugin that makes an event out of another one (BotCommand's ``irc_botcmd_*`` out of
        ``irc_public``) uses this, so sessions get the cause first (POE's ``send_event_next``).
        """
        self.yield_("send_event", event, *args)

    def send_event(self, event: str, *args: Any) -> None:
        """Send ``event`` with ``args`` through the plugins, then to the registered sessions.

        For plugins that make events of their own (``irc_botcmd_*``, ...). Runs at once.
        """
        if self.pipeline.run(event, self, args, self._plugin_error):
            self._to_sessions(event, args)

    # -- sessions -----------------------------------------------------------------------------

    def _to_sessions(self, event: str, args: tuple[Any, ...]) -> None:
        for session_id, events in list(self._registered.items()):
            if "all" in events or event in events:
                try:
                    self._kernel.post(session_id, event, *args)
                except SessionNotFound:
                    self._registered.pop(session_id, None)

    def _plugin_error(self, message: str, plugin: str, hook: str) -> None:
        self._to_sessions("irc_plugin_error", (message, plugin, hook, None))

    def _on_register(self, ctx: Context, *events: str) -> None:
        sender = ctx.sender
        session_id = getattr(sender, "ID", None)
        if not isinstance(session_id, int) or session_id == self._session_id:
            log.warning("IRC %d: register must come from another session", self._session_id)
            return
        if self._shutdown:
            # Too late (a register queued behind shutdown): say so, and hold nothing.
            ctx.kernel.post(session_id, "irc_shutdown", self._session_id, None)
            return
        wanted = self._registered.get(session_id)
        if wanted is None:
            wanted = self._registered[session_id] = set()
            ctx.kernel.refcount_increment(session_id, _REFCOUNT)
        wanted.update(e if e == "all" or e.startswith("irc_") else "irc_" + e for e in events)
        ctx.kernel.post(session_id, "irc_registered", self, None)

    def _on_unregister(self, ctx: Context, *events: str) -> None:
        session_id = getattr(ctx.sender, "ID", None)
        if not isinstance(session_id, int) or session_id not in self._registered:
            return
        wanted = self._registered[session_id]
        if events:
            wanted.difference_update(
                e if e == "all" or e.startswith("irc_") else "irc_" + e for e in events
            )
        if not events or not wanted:
            self._forget_session(session_id)

    def _forget_session(self, session_id: int) -> None:
        if self._registered.pop(session_id, None) is not None:
            with contextlib.suppress(SessionNotFound):
                self._kernel.refcount_decrement(session_id, _REFCOUNT)

    # -- lifecycle ----------------------------------------------------------------------------

    def _on_start(self, ctx: Context) -> None:
        if self._alias is not None:
            ctx.kernel.alias_set(self._alias)
        # Alive until shutdown, connected or not, as POE::Component::IRC.
        ctx.kernel.refcount_increment(ctx.session.ID, _REFCOUNT)

    def _on_stop(self, ctx: Context) -> None:
        self._drop_connection()

    def _on_shutdown(self, ctx: Context, message: str = "", *args: Any) -> None:
        if self._shutdown:
            return
        self._shutdown = True
        if self._wheel is not None:
            # What flood control still holds goes out now, unpaced, then QUIT: a bot's last
            # words must not be lost to its own pacing.
            self._queue.append(Message("QUIT", (message,) if message else ()).line())
            self._pump(paced=False)
            # The server answers QUIT with ERROR and closes; do not wait for ever.
            self._shutdown_timer = ctx.kernel.delay_set("shutdown_timeout", 5.0)
        else:
            self._finish_shutdown(ctx)

    def _on_shutdown_timeout(self, ctx: Context) -> None:
        self._shutdown_timer = None
        self._drop_connection()
        self._finish_shutdown(ctx)

    def _finish_shutdown(self, ctx: Context) -> None:
        self._drop_connection()
        if self._shutdown_timer is not None:
            with contextlib.suppress(TimerNotFound):
                ctx.kernel.alarm_remove(self._shutdown_timer)
            self._shutdown_timer = None
        self.send_event("irc_shutdown", self._session_id, None)
        for name in reversed(self.pipeline.names()):
            with contextlib.suppress(Exception):
                self.plugin_del(name)
        for session_id in list(self._registered):
            self._forget_session(session_id)
        ctx.kernel.alarm_remove_all()
        if self._alias is not None:
            with contextlib.suppress(SessionNotFound):
                ctx.kernel.alias_remove(self._alias)
        ctx.kernel.refcount_decrement(ctx.session.ID, _REFCOUNT)

    # -- connecting ---------------------------------------------------------------------------

    def _on_connect(self, ctx: Context, options: Mapping[str, Any] | None = None) -> None:
        """Connect, or reconnect: an open connection is dropped first.

        ``connect`` may carry ``{option: value}`` (POE's ``connect => {...}``): the options
        (``nick``, ``server``, ``port``, ``password``, ...) replace the ones set before.
        """
        if self._shutdown:
            log.warning("IRC %d: connect after shutdown ignored", self._session_id)
            return
        if options is not None:
            unknown = set(options) - _CONNECT_OPTIONS
            if unknown:
                log.warning("IRC %d: unknown connect options %s", self._session_id, sorted(unknown))
                return
            try:
                self._configure(**options)
            except InvalidArgument as exc:
                log.warning("IRC %d: connect refused: %s", self._session_id, exc)
                return
        if self._wheel is not None or self._factory is not None:
            was_connected = self._wheel is not None
            self._drop_connection()
            if was_connected:
                self.send_event("irc_disconnected", self._options["server"], None)
        self._nick = self._options["nick"]
        opts = self._options
        self._factory = SocketFactoryWheel(
            ctx.kernel,
            remote_address=opts["server"],
            remote_port=opts["port"],
            bind_address=opts.get("bind_address"),
            success_event="got_connect",
            failure_event="got_connect_error",
        )
        timeout = opts.get("connect_timeout")
        if timeout:
            self._connect_timer = ctx.kernel.delay_set(
                "got_connect_timeout", timeout, self._factory.ID
            )

    def _on_connect_success(
        self, ctx: Context, sock: socket.socket, address: Any, port: Any, wheel_id: int
    ) -> None:
        if self._factory is None or wheel_id != self._factory.ID:
            sock.close()
            return
        self._cancel_connect_timer()
        self._factory.close()
        self._factory = None
        opts = self._options
        driver = None
        if opts.get("tls") is not None:
            driver = TLSDriver(
                opts["tls"], server_hostname=opts.get("server_hostname") or opts["server"]
            )
        self._wheel = ReadWriteWheel(
            ctx.kernel,
            handle=sock,
            driver=driver,
            filter=IRCFilter(),
            input_event="got_input",
            error_event="got_error",
        )
        self._reset_connection_state()
        self.send_event("irc_connected", opts["server"], None)
        if self._want_caps or self._sasl is not None:
            self._cap_state = "ls"
            self._write("CAP LS 302")
        if opts.get("password"):
            self._write(Message("PASS", (opts["password"],)).line())
        self._write(Message("NICK", (self._nick,)).line())
        user = opts.get("username") or self._nick
        self._write(Message("USER", (user, "0", "*", opts.get("ircname") or self._nick)).line())

    def _reset_connection_state(self) -> None:
        self._queue.clear()
        self._registered_on_server = False
        self._cap_state = ""
        self._offered = set()
        self.caps = set()
        self._mask = None
        self._server_name = None
        self.isupport.clear()
        if self.flood is not None:
            self.flood.reset()

    def _on_connect_error(
        self, ctx: Context, operation: str, errnum: int, errstr: str, wheel_id: int
    ) -> None:
        if self._factory is None or wheel_id != self._factory.ID:
            return
        self._cancel_connect_timer()
        self._factory.close()
        self._factory = None
        self.send_event("irc_socketerr", f"{operation} error {errnum}: {errstr}", None)

    def _on_connect_timeout(self, ctx: Context, wheel_id: int) -> None:
        self._connect_timer = None
        if self._factory is None or wheel_id != self._factory.ID:
            return
        self._factory.close()
        self._factory = None
        self.send_event("irc_socketerr", "connect error: timed out", None)

    def _cancel_connect_timer(self) -> None:
        if self._connect_timer is not None:
            with contextlib.suppress(TimerNotFound):
                self._kernel.alarm_remove(self._connect_timer)
            self._connect_timer = None

    def _on_disconnect(self, ctx: Context) -> None:
        """Close the connection at once (no QUIT); ``irc_disconnected`` follows."""
        if self._wheel is not None:
            self._drop_connection()
            self.send_event("irc_disconnected", self._options["server"], None)

    def _drop_connection(self) -> None:
        self._cancel_connect_timer()
        if self._factory is not None:
            self._factory.close()
            self._factory = None
        if self._wheel is not None:
            self._wheel.close(close_handles=True)
            self._wheel = None
        self._queue.clear()
        self._registered_on_server = False
        self.caps = set()
        with contextlib.suppress(Exception):
            self._kernel.delay("send_tick")

    # -- input --------------------------------------------------------------------------------

    def _on_input(self, ctx: Context, msg: Message, wheel_id: int) -> None:
        if self._wheel is None or wheel_id != self._wheel.ID:
            return
        if self._raw:
            self._to_sessions("irc_raw", (str(msg), msg))
        self.pipeline.notify("irc_message", self, (msg,), self._plugin_error)
        self._track(msg)
        for event, args in translate(msg, self.is_channel):
            self.send_event(event, *args, msg)

    def _track(self, msg: Message) -> None:
        """The component's own bookkeeping: PING, registration, our nick, CAP and SASL."""
        command = msg.command
        params = msg.params
        if command == "PING":
            self._write(Message("PONG", params or ("",)).line())
        elif command == "001":
            self._registered_on_server = True
            self._cap_state = "done"
            if params:
                self._nick = params[0]
            self._server_name = msg.source
        elif command == "005":
            self.isupport.load(list(params))
        elif command == "NICK" and params and msg.nick is not None:
            if self.isupport.fold(msg.nick) == self.isupport.fold(self._nick):
                self._nick = params[0]
                self._mask = None
        elif command == "JOIN" and msg.source and msg.nick is not None:
            if self.isupport.fold(msg.nick) == self.isupport.fold(self._nick):
                self._mask = msg.source
        elif command == "CAP" and len(params) >= 2:
            self._on_cap(params[1].upper(), params[2:])
        elif command == "AUTHENTICATE" and params and params[0] == "+":
            self._send_sasl_payload()
        elif command in _SASL_FAILED or command in ("903", "907"):
            self._on_sasl_result(command)

    def _on_cap(self, sub: str, params: tuple[str, ...]) -> None:
        if sub == "LS" and self._cap_state == "ls":
            # "CAP * LS * :caps" continues on the next line; "CAP * LS :caps" is the last.
            more = len(params) > 1 and params[0] == "*"
            for token in (params[-1] if params else "").split():
                self._offered.add(token.partition("=")[0])
            if more:
                return
            wanted = set(self._want_caps)
            if self._sasl is not None:
                wanted.add("sasl")
            request = sorted(wanted & self._offered)
            if self._sasl is not None and "sasl" not in self._offered:
                self._sasl_failed("the server offers no SASL")
                if self._wheel is None:
                    return
            if request:
                self._cap_state = "req"
                self._write("CAP REQ :" + " ".join(request))
            else:
                self._cap_end()
        elif sub == "ACK":
            acked = set((params[-1] if params else "").split())
            self.caps |= {c for c in acked if not c.startswith("-")}
            self.caps -= {c[1:] for c in acked if c.startswith("-")}
            if self._cap_state == "req":
                if "sasl" in self.caps and self._sasl is not None:
                    self._cap_state = "sasl"
                    self._write("AUTHENTICATE PLAIN")
                else:
                    self._cap_end()
        elif sub == "NAK" and self._cap_state == "req":
            if self._sasl is not None:
                self._sasl_failed("the server refused the sasl capability")
            if self._wheel is not None:
                self._cap_end()
        elif sub == "DEL":
            self.caps -= set((params[-1] if params else "").split())

    def _cap_end(self) -> None:
        if self._cap_state not in ("", "done"):
            self._cap_state = "done"
            self._write("CAP END")

    def _send_sasl_payload(self) -> None:
        if self._cap_state != "sasl" or self._sasl is None:
            return
        account, password = self._sasl
        payload = base64.b64encode(f"{account}\0{account}\0{password}".encode()).decode()
        chunks = [payload[i : i + _SASL_CHUNK] for i in range(0, len(payload), _SASL_CHUNK)]
        if not chunks or len(chunks[-1]) == _SASL_CHUNK:
            chunks.append("+")  # an empty (or exactly filled) last chunk is announced with "+"
        for chunk in chunks:
            self._write("AUTHENTICATE " + chunk)

    def _on_sasl_result(self, numeric: str) -> None:
        if self._cap_state != "sasl":
            return
        if numeric in _SASL_FAILED:
            self._sasl_failed(f"SASL authentication failed ({numeric})")
        if self._wheel is not None:
            self._cap_end()

    def _sasl_failed(self, reason: str) -> None:
        self.send_event("irc_sasl_failed", reason, None)
        if self._sasl_required and self._wheel is not None:
            self._write(Message("QUIT", ("SASL required",)).line())

    def _on_error(
        self, ctx: Context, operation: str, errnum: int, errstr: str, wheel_id: int
    ) -> None:
        if self._wheel is None or wheel_id != self._wheel.ID:
            return
        if operation == "read" and errnum in (errno.EINVAL, errno.EMSGSIZE):
            # The filter refused one line (not IRC, or too long); the connection goes on.
            self.send_event("irc_malformed", errstr, None)
            return
        if errnum:
            log.info("IRC %d: %s error %d: %s", self._session_id, operation, errnum, errstr)
        self._drop_connection()
        self.send_event("irc_disconnected", self._options["server"], None)
        if self._shutdown:
            self._finish_shutdown(ctx)

    # -- output -------------------------------------------------------------------------------

    def _write(self, line: str) -> None:
        """Send one line (already formatted): behind flood control, or at once if a PONG.

        Every PONG (the component's answer to PING, or one a plugin or session sends with
        ``quote``) skips the queue and the pacing: a server drops a client whose PONG is late,
        and behind a full queue it could be minutes late. It is still charged to the flood
        account, as the server charges it, so the lines after it keep to the server's rule.
        """
        if self._wheel is None:
            log.warning("IRC %d: not connected, line dropped: %s", self._session_id, line[:80])
            return
        if line[:5].upper() in ("PONG", "PONG "):
            if self.flood is not None and self._registered_on_server:
                self.flood.spend(time.monotonic(), len(line.encode()) + 2)
            self._put(self._wheel, line)
            return
        self._queue.append(line)
        self._pump()

    def _pump(self, *, paced: bool = True) -> None:
        wheel = self._wheel
        flood = self.flood if self._registered_on_server and paced else None
        now = time.monotonic()
        while self._queue and wheel is not None:
            if flood is not None:
                wait = flood.wait(now)
                if wait > 0:
                    self._kernel.delay("send_tick", wait)
                    return
                flood.spend(now, len(self._queue[0].encode()) + 2)
            self._put(wheel, self._queue.popleft())

    def _put(self, wheel: ReadWriteWheel, line: str) -> None:
        if self._raw:
            self._to_sessions("irc_raw_out", (line, None))
        try:
            wheel.put(line)
        except ValueError as exc:
            log.warning("IRC %d: %s", self._session_id, exc)

    def _on_send_tick(self, ctx: Context) -> None:
        self._pump()

    def _on_plugin_timer_set(
        self, ctx: Context, seconds: float, function: Callable[..., Any], args: tuple[Any, ...]
    ) -> int:
        return ctx.kernel.delay_set("plugin_timer", seconds, function, args)

    def _on_plugin_timer_remove(self, ctx: Context, timer_id: int) -> bool:
        try:
            ctx.kernel.alarm_remove(timer_id)
        except TimerNotFound:
            return False
        return True

    def _on_plugin_timer(
        self, ctx: Context, function: Callable[..., Any], args: tuple[Any, ...]
    ) -> None:
        try:
            function(*args)
        except Exception as exc:  # a plugin's timer must not end the component (as its hooks)
            name = getattr(function, "__qualname__", repr(function))
            log.exception("poe.irc plugin timer %s failed", name)
            self._plugin_error(f"{type(exc).__name__}: {exc}", "<timer>", name)

    def _on_send_event(self, ctx: Context, event: str, *args: Any) -> None:
        self.send_event(event, *args)

    # -- commands -----------------------------------------------------------------------------

    def _command_handler(self, command: str) -> Callable[..., None]:
        least = _COMMANDS[command]

        def handler(ctx: Context, *args: Any) -> None:
            if len(args) < least:
                log.warning(
                    "IRC %d: %s needs %d argument(s), got %r",
                    self._session_id,
                    command,
                    least,
                    args,
                )
                return
            if not self.pipeline.run("cmd_" + command, self, args, self._plugin_error):
                return  # a plugin ate it
            try:
                self._send_command(command, args)
            except (ValueError, TypeError) as exc:
                log.warning("IRC %d: %s not sent: %s", self._session_id, command, exc)

        return handler

    def _send_command(self, command: str, args: tuple[Any, ...]) -> None:
        if command in ("privmsg", "notice"):
            self._say(command.upper(), _targets(args[0]), str(args[1]))
        elif command in ("ctcp", "ctcpreply"):
            verb, _, rest = str(args[1]).partition(" ")
            text = ctcp_quote(verb, rest)
            for target in _targets(args[0]):
                self._write(
                    Message("PRIVMSG" if command == "ctcp" else "NOTICE", (target, text)).line()
                )
        elif command == "quote" or command == "raw":
            self._write(str(args[0]))
        elif command == "quit":
            self._write(Message("QUIT", tuple(str(a) for a in args[:1])).line())
        else:
            if command == "join" and len(args) > 1 and args[1] is None:
                args = args[:1]
            self._write(Message(command.upper(), tuple(str(a) for a in args)).line())

    def _say(self, command: str, targets: list[str], text: str) -> None:
        for target in targets:
            limit = text_budget(command, target, self._nick, self._mask)
            for piece in split_text(text, limit):
                self._write(Message(command, (target, piece)).line())


def _targets(target: Any) -> list[str]:
    if isinstance(target, str):
        return [target]
    return [str(t) for t in target]


def _ignore(ctx: Context, *args: Any) -> None:
    """Handlers for events the component does not care about."""
