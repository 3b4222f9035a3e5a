"""A TCP server in one call: POE::Component::Server::TCP.

Theory of operation. :class:`TCPServer` creates one *listener* session holding a
:class:`~poe.wheel.SocketFactoryWheel` (``SO_REUSEADDR``, ``listen``), and, for every accepted
socket, one *connection* session (a child of the listener) holding a
:class:`~poe.wheel.ReadWriteWheel` in ``heap["client"]``. The user's callbacks run in those
sessions, with POE's names and order (``poe-api.md`` §10.1, §18)::

    listener: started -> (accept -> connection session)* -> shutdown -> stopped
    connection: client_pre_connect -> client_connected -> client_input* / client_flushed*
                -> shutdown (flush) -> client_disconnected -> session ends

Hot path. ``client_input`` *is* the wheel's input handler: a record goes from the filter to the
user's function with no event or wrapper in between (a callback declared as ``(ctx, record)``,
without POE's ``wheel_id`` argument, costs one extra Python call per record). Nothing in the
component runs per record (the flushed event runs once per emptied buffer, not per record).
"Input is ignored once shutdown started" (POE) is done by swapping that one
session's input handler, not by a test on every record.

Memory. The connection sessions share one handler table (the wheel's own two handlers make it
copy that table once, see ``poe-core``); every handler is a method of the server object, so a
connection costs its session, heap, wheel, filter, driver and socket, and no closures.

Robustness choices (where POE is silent or dies):

* ``accept`` failing with ``EMFILE``/``ENFILE``/``ENOBUFS``/``ENOMEM`` pauses accepting for a
  short, growing delay (50 ms doubling to 1 s, reset by the next successful accept or by a
  connection closing) instead of spinning on a listening socket that stays readable; the
  ``error`` callback still hears about it, the default one logs once per episode.
* A record over the filter's limit (:class:`~poe.filter.RecordTooLarge`, or any other
  :class:`~poe.filter.FilterError`, i.e. the peer broke the framing) becomes
  ``client_error(ctx, "read", errno.EMSGSIZE, message)`` (``errno.EINVAL`` for other filter
  errors), and that connection alone is closed.
* An exception raised by a connection's handler (``client_input``, ``client_connected``, an
  extra state...) is a ``DIE`` signal in poe (``docs/concepts/exceptions.rst``); unhandled, it
  would stop the whole program. The listener watches ``DIE`` for its connections: it logs the
  exception with its traceback (logger ``"poe.tcp"``), marks it handled, and closes that
  connection as after an I/O error (``client_disconnected`` runs, queued output is dropped).
  The listener and every other connection go on. An exception in a *listener* callback
  (``started``, ``acceptor``, ``error``) is not caught: it ends ``kernel.run()`` as in POE.
* End of file from the peer (``client_error(ctx, "read", 0, "")``) still lets queued output be
  written before the connection closes (POE drops it): the peer may only have half-closed.
* Limits under attack (POE has none; every one can be switched off with None). Output:
  each connection has watermarks by default (``client_high_mark`` 512 KiB,
  ``client_low_mark`` 128 KiB) and the server stops *reading* that connection while its
  output is above the high mark (an echo-type server stops taking requests from a client that
  does not read its replies), until it drains to the low mark; past ``client_max_output``
  (16 MiB) the connection is closed with ``client_error(ctx, "write", errno.ENOBUFS, ...)``
  (an ircd's "SendQ exceeded"). Input: ``input_budget`` (64 MiB) bounds the input buffered,
  unparsed, across all connections; over it the server stops accepting and stops reading the
  connections that hold more than their share, until the total is back within the budget.
  Time: ``client_idle_timeout`` and ``client_partial_timeout`` (off by default) close
  connections that send nothing, or that leave a record unfinished, with ``client_error(ctx,
  "read", errno.ETIMEDOUT, ...)``; ``shutdown_timeout`` (30 s) bounds a graceful close that
  waits for a peer that never reads. One sweep timer per server checks the clocks; nothing is
  added per record, and per read only an int increment (and, with a budget, the input
  filter's ``pending_octets()``).
* A UNIX-domain server removes a stale socket file (one nobody accepts on) before binding and
  its own socket file when it stops listening.
"""

from __future__ import annotations

import contextlib
import errno as _errno
import logging
import os
import socket
import ssl
import time
from typing import TYPE_CHECKING, Any, Final

from poe.driver import TLSDriver
from poe.errors import InvalidArgument
from poe.kernel import Kernel
from poe.session import Context, Session, SessionBase
from poe.tcp._common import (
    Callback,
    FilterSpec,
    check_callback,
    check_domain,
    check_filter,
    check_int,
    check_reserved,
    check_watermarks,
    ignore,
    input_handler,
    merge_states,
    wheel_filters,
    wheel_marks,
)
from poe.tcp._limits import (
    DEFAULT_HIGH_MARK,
    DEFAULT_LOW_MARK,
    DEFAULT_MAX_OUTPUT,
    DEFAULT_SHUTDOWN_TIMEOUT,
)
from poe.tcp._limits import check_seconds as _check_seconds
from poe.tcp._limits import sweep_period as _sweep_period
from poe.tcp._listen import bind_target, file_identity, remove_stale_socket
from poe.wheel import ReadWriteWheel, SocketFactoryWheel

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from poe.events import DieInfo

__all__ = ["TCPServer"]

log: Final = logging.getLogger("poe.tcp")

#: Events of the connection sessions that the component owns (POE's reserved names).
CONNECTION_EVENTS: Final = frozenset(
    {
        "_start",
        "_stop",
        "shutdown",
        "tcp_server_got_error",
        "tcp_server_got_flush",
        "tcp_server_got_high",
        "tcp_server_got_input",
        "tcp_server_got_low",
        "tcp_server_linger",
        "tcp_server_timeout",
    }
)

#: Default bound of the input buffered unparsed across all connections of a server.
DEFAULT_INPUT_BUDGET: Final = 64 * 1024 * 1024

#: Why a connection's input is paused (bits): its output is over the high mark / the budget.
_HELD_OUTPUT: Final = 1
_HELD_BUDGET: Final = 2

#: While over the input budget, the connections paused for it are resumed this often (seconds)
#: until they are read again: a paused peer that has gone is only seen by reading it, and its
#: input would hold the budget, and keep accepting paused, for ever.
_BUDGET_PROBE: Final = 0.5

#: How long a closed connection keeps reading (and discarding) to wait for the peer's FIN.
LINGER_SECONDS: Final = 2.0

#: accept() failures caused by a resource shortage: retrying at once would spin.
_EXHAUSTED: Final = frozenset({_errno.EMFILE, _errno.ENFILE, _errno.ENOBUFS, _errno.ENOMEM})
_RETRY_FIRST: Final = 0.05
_RETRY_MAX: Final = 1.0

_CONNECTION_OPTIONS: Final = (
    "client_connected",
    "client_disconnected",
    "client_error",
    "client_flushed",
    "client_pre_connect",
    "client_filter",
    "client_input_filter",
    "client_output_filter",
    "client_high",
    "client_low",
    "client_high_mark",
    "client_low_mark",
    "client_max_output",
    "client_idle_timeout",
    "client_partial_timeout",
)

#: The defaults of the connection options above that are not None.
_CONNECTION_DEFAULTS: Final = {
    "client_high_mark": DEFAULT_HIGH_MARK,
    "client_low_mark": DEFAULT_LOW_MARK,
    "client_max_output": DEFAULT_MAX_OUTPUT,
}


class TCPServer:
    """Listen on a TCP (or UNIX-domain) socket and run one session per connection.

    Construct it with the kernel, inside a handler or before ``kernel.run()``; the listener
    session starts (and binds) at once, so :attr:`port` is known on return. Every argument is
    keyword-only.

    Listener arguments:
        port: TCP port; 0 lets the system pick one (read :attr:`port`).
        address: bind address (numeric or a name, resolved now, blocking, as POE does); default
            ``"0.0.0.0"`` / ``"::"``. With ``domain=AF_UNIX``: the socket's path (required).
        hostname: a host name to bind to, when ``address`` is not given (POE's ``Hostname``).
        domain: ``socket.AF_INET`` (default), ``AF_INET6`` or ``AF_UNIX``.
        alias: an alias for the listener session (also ``heap["alias"]``).
        concurrency: most connections at once; at the limit accepting pauses until one
            leaves. -1 (default): no limit; 0: accept nothing until :meth:`set_concurrency`.
        backlog: the ``listen`` queue length.
        acceptor: ``acceptor(ctx, sock, remote_address, remote_port)`` in the listener session,
            instead of the connection sessions (then no ``client_*`` argument is allowed, and
            the sessions you make should post ``"disconnected"`` to the listener when they end
            if you use ``concurrency``).
        error: ``error(ctx, operation, errnum, errstr)`` for listener failures (``"bind"``,
            ``"listen"``, ``"accept"``...). Default: log a warning and stop listening (a
            resource shortage on accept only pauses, see the module docs). After a failure
            other than ``accept`` the listener is shut down whatever the callback does.
        started: ``started(ctx, *listener_args)`` at the end of the listener's ``_start``.
        stopped: ``stopped(ctx)`` when the listener session stops.
        listener_args: the arguments of ``started``.
        session_options: session options (``trace``, ``debug``...) for the listener and every
            connection session (POE's ``SessionParams``).
        input_budget: the most input octets buffered unparsed (the input filters'
            ``pending_octets()``) across all connections; above it the server stops accepting
            and stops reading every connection that holds more than ``input_budget /
            connections``, until the total is back within the budget. Every 0.5 s meanwhile
            the paused ones may read once more (a peer that has gone is only noticed by
            reading): the total can pass the budget by about one read (64 KiB) per
            connection and probe, each connection still bounded by its filter's limit.
            None: no budget.
        shutdown_timeout: seconds a graceful close (``shutdown``, end of file, a server
            ``shutdown(connections=True)``) waits for the queued output to be written; then
            the connection is closed hard, after ``client_error(ctx, "write", ETIMEDOUT,
            ...)`` if ``client_disconnected`` has not run yet. None: wait for ever (POE).

    Connection arguments:
        client_input: the handler of every input record: ``client_input(ctx, record, wheel_id)``
            or ``client_input(ctx, record)``. Required unless ``acceptor`` is given. Ignored once
            the connection is shutting down.
        client_connected: ``client_connected(ctx, *client_args)`` once ``heap["client"]`` exists.
        client_disconnected: ``client_disconnected(ctx)`` just before the wheel is dropped.
        client_error: ``client_error(ctx, operation, errnum, errstr)``; end of file is
            ``("read", 0, "")``. Default: log a warning, except for end of file and
            ``ECONNRESET``.
        client_flushed: ``client_flushed(ctx)`` each time the output buffer empties.
        client_pre_connect: ``client_pre_connect(ctx, sock)`` first thing in the connection
            session (``heap["remote_ip"]`` and ``["remote_port"]`` are set); returns the socket
            to use (the same one, or another socket), or None to drop the connection.
        client_filter: filter for both directions: an instance (cloned per connection) or a
            zero-argument factory; default :class:`~poe.filter.LineFilter`.
        client_input_filter: filter for input only (overrides ``client_filter`` for input).
        client_output_filter: filter for output only (overrides ``client_filter`` for output).
        client_args: the arguments of ``client_connected``.
        client_shutdown_on_error: after ``client_error``, shut the connection down (default).
        client_high_mark: queued output octets at which the connection's input is paused and
            ``client_high(ctx)`` is called (default 512 KiB).
        client_low_mark: queued output octets at which the input is resumed and
            ``client_low(ctx)`` is called after a ``client_high`` (default 128 KiB). Both
            marks or neither (None and None: no watermarks, input is never paused),
            ``0 < low < high``.
        client_high: see ``client_high_mark``; it may call ``ctx.heap["client"].resume_input()``
            to keep reading anyway.
        client_low: see ``client_low_mark``.
        client_max_output: the most octets of queued output; a ``put`` past it drops the
            output and closes the connection with ``client_error(ctx, "write",
            errno.ENOBUFS, ...)`` (default 16 MiB; None: no limit).
        client_idle_timeout: seconds without any input after which the connection is closed
            with ``client_error(ctx, "read", errno.ETIMEDOUT, ...)``. None (default): none.
        client_partial_timeout: seconds a record may stay unfinished (the input filter holds
            octets, at every look of the sweep) before the same ETIMEDOUT error. None
            (default): none.
        inline_states: extra ``{event: handler}`` for every connection session.
        object_states: extra ``[(obj, events)]`` for every connection session.
        package_states: extra ``[(cls, events)]`` for every connection session.
        tls: an :class:`ssl.SSLContext` (server side): every connection speaks TLS through a
            :class:`~poe.driver.TLSDriver`; the handshake runs inside the wheel.

    Connection heap (POE's keys): ``client`` (the wheel), ``remote_ip`` (text; ``"LOCAL"`` for
    UNIX sockets), ``remote_port`` (None for UNIX sockets), ``shutdown``, ``shutdown_on_error``,
    ``got_an_error``, and ``socket`` (the connection's socket, closed when the session ends).
    Connection events: ``shutdown`` (stop taking input, flush the output, then
    ``client_disconnected`` and close). Listener events: ``shutdown`` (an optional true
    argument also shuts every connection down), ``set_concurrency(n)``, ``disconnected``.

    Raises:
        InvalidArgument: a bad or conflicting argument (see the checks in the source).
        OSError: ``address`` or ``hostname`` cannot be resolved.
    """

    def __init__(
        self,
        kernel: Kernel,
        *,
        port: int = 0,
        address: str | None = None,
        hostname: str | None = None,
        domain: int = socket.AF_INET,
        alias: str | None = None,
        concurrency: int = -1,
        backlog: int = socket.SOMAXCONN,
        acceptor: Callback | None = None,
        error: Callback | None = None,
        started: Callback | None = None,
        stopped: Callback | None = None,
        listener_args: Sequence[Any] = (),
        session_options: Mapping[str, Any] | None = None,
        client_input: Callback | None = None,
        client_connected: Callback | None = None,
        client_disconnected: Callback | None = None,
        client_error: Callback | None = None,
        client_flushed: Callback | None = None,
        client_pre_connect: Callback | None = None,
        client_filter: FilterSpec | None = None,
        client_input_filter: FilterSpec | None = None,
        client_output_filter: FilterSpec | None = None,
        client_args: Sequence[Any] = (),
        client_shutdown_on_error: bool = True,
        client_high_mark: int | None = DEFAULT_HIGH_MARK,
        client_low_mark: int | None = DEFAULT_LOW_MARK,
        client_high: Callback | None = None,
        client_low: Callback | None = None,
        inline_states: Mapping[str, Callback] | None = None,
        object_states: Iterable[tuple[Any, Mapping[str, str] | Iterable[str]]] = (),
        package_states: Iterable[tuple[Any, Mapping[str, str] | Iterable[str]]] = (),
        tls: ssl.SSLContext | None = None,
        client_max_output: int | None = DEFAULT_MAX_OUTPUT,
        client_idle_timeout: float | None = None,
        client_partial_timeout: float | None = None,
        input_budget: int | None = DEFAULT_INPUT_BUDGET,
        shutdown_timeout: float | None = DEFAULT_SHUTDOWN_TIMEOUT,
    ) -> None:
        given: object = kernel
        if not isinstance(given, Kernel):
            msg = f"TCPServer needs the kernel as its first argument, not {kernel!r}"
            raise InvalidArgument(msg)
        if (acceptor is None) == (client_input is None):
            msg = "TCPServer needs either an acceptor or a client_input, but not both"
            raise InvalidArgument(msg)
        self._kernel = kernel
        self._domain = check_domain(domain, "TCPServer")
        self._bind_address, self._bind_port = bind_target(domain, address, hostname, port)
        self._alias = alias
        self._concurrency = _check_concurrency(concurrency)
        self._backlog = check_int(backlog, "backlog", 0)
        self._acceptor = check_callback(acceptor, "acceptor")
        self._error = check_callback(error, "error")
        self._started = check_callback(started, "started")
        self._stopped = check_callback(stopped, "stopped")
        self._listener_args = tuple(listener_args)
        self._options = dict(session_options) if session_options else None
        self._unix_file: tuple[str, int, int] | None = None
        self._retry_delay = _RETRY_FIRST
        self._warned_exhausted = False
        #: Live connection sessions (to recognise their DIE signals and to shut them down).
        self._connections: set[SessionBase] = set()
        self._listener: Session | None = None
        self._listener_heap: dict[str, Any] = {}

        connection_args = {
            "client_connected": client_connected,
            "client_disconnected": client_disconnected,
            "client_error": client_error,
            "client_flushed": client_flushed,
            "client_pre_connect": client_pre_connect,
            "client_filter": client_filter,
            "client_input_filter": client_input_filter,
            "client_output_filter": client_output_filter,
            "client_high": client_high,
            "client_low": client_low,
            "client_high_mark": client_high_mark,
            "client_low_mark": client_low_mark,
            "client_max_output": client_max_output,
            "client_idle_timeout": client_idle_timeout,
            "client_partial_timeout": client_partial_timeout,
        }
        if client_input is None:
            extra = [
                name
                for name in _CONNECTION_OPTIONS
                if connection_args[name] is not None
                and connection_args[name] != _CONNECTION_DEFAULTS.get(name)
            ]
            if client_args or inline_states or tuple(object_states) or tuple(package_states):
                extra.append("client_args/inline_states/object_states/package_states")
            if tls is not None:
                extra.append("tls")
            if extra:
                msg = f"{', '.join(extra)} not permitted without client_input (with acceptor)"
                raise InvalidArgument(msg)
        self._client_connected = check_callback(client_connected, "client_connected")
        self._client_disconnected = check_callback(client_disconnected, "client_disconnected")
        self._client_error = check_callback(client_error, "client_error")
        self._client_flushed = check_callback(client_flushed, "client_flushed")
        self._client_pre_connect = check_callback(client_pre_connect, "client_pre_connect")
        self._client_high = check_callback(client_high, "client_high")
        self._client_low = check_callback(client_low, "client_low")
        if (
            client_input_filter is not None
            and client_output_filter is not None
            and client_filter is not None
        ):
            msg = (
                "client_filter would be ignored: "
                "client_input_filter and client_output_filter are both given"
            )
            raise InvalidArgument(msg)
        self._filter = check_filter(client_filter, "client_filter")
        self._input_filter = check_filter(client_input_filter, "client_input_filter")
        self._output_filter = check_filter(client_output_filter, "client_output_filter")
        client_high_mark, client_low_mark = check_watermarks(
            client_high_mark,
            client_low_mark,
            client_high,
            client_low,
            ("client_high_mark", "client_low_mark", "client_high", "client_low"),
        )
        self._high_mark = client_high_mark
        self._low_mark = client_low_mark
        self._max_output = (
            None
            if client_max_output is None
            else check_int(client_max_output, "client_max_output", 1)
        )
        self._idle_timeout = _check_seconds(client_idle_timeout, "client_idle_timeout")
        self._partial_timeout = _check_seconds(client_partial_timeout, "client_partial_timeout")
        self._shutdown_timeout = _check_seconds(shutdown_timeout, "shutdown_timeout")
        self._input_budget = (
            None if input_budget is None else check_int(input_budget, "input_budget", 1)
        )
        timeouts = [t for t in (self._idle_timeout, self._partial_timeout) if t is not None]
        #: The sweep's period for the input timeouts (None: no input timeout).
        self._sweep_every = _sweep_period(timeouts) if timeouts else None
        #: Connections whose input the server paused, with the reasons (_HELD_* bits).
        self._held: dict[ReadWriteWheel, int] = {}
        #: Input octets buffered unparsed across the connections (with input_budget).
        self._pending_total = 0
        self._over_budget = False
        #: Per connection, with input timeouts: [reads seen, when they changed, partial since,
        #: its session].
        self._activity: dict[ReadWriteWheel, list[Any]] = {}
        #: Graceful closes under way: (deadline, wheel) per connection session.
        self._deadlines: dict[SessionBase, tuple[float, ReadWriteWheel]] = {}
        self._sweep_armed = False
        self._client_args = tuple(client_args)
        self._shutdown_on_error = bool(client_shutdown_on_error)
        given_tls: object = tls
        if given_tls is not None and not isinstance(given_tls, ssl.SSLContext):
            msg = f"tls must be an ssl.SSLContext, not {tls!r}"
            raise InvalidArgument(msg)
        self._tls = tls
        self._client_input = (
            input_handler(check_callback(client_input, "client_input"), "client_input")
            if client_input is not None
            else None
        )

        owned: dict[str, Callback] = {
            "_start": self._connection_start,
            "_stop": self._connection_stop,
            "shutdown": self._connection_shutdown,
            "tcp_server_got_error": self._connection_error,
            "tcp_server_got_flush": self._connection_flushed,
            "tcp_server_linger": self._lingering,
            "tcp_server_timeout": self._connection_timeout,
        }
        if self._client_input is not None:
            owned["tcp_server_got_input"] = self._client_input
        if self._high_mark is not None:
            owned["tcp_server_got_high"] = self._connection_high
            owned["tcp_server_got_low"] = self._connection_low
        reserved = set(CONNECTION_EVENTS)
        for event in inline_states or {}:
            if event in reserved and event not in owned:
                msg = (
                    f"TCPServer: inline_states may not redefine {event!r}, which it handles itself"
                )
                raise InvalidArgument(msg)
        self._connection_states = merge_states(owned, inline_states, "TCPServer")
        self._object_states = check_reserved(object_states, reserved, "TCPServer")
        self._package_states = check_reserved(package_states, reserved, "TCPServer")

        self._listener = Session.create(
            kernel,
            inline_states={
                "_start": self._listener_start,
                "_stop": self._listener_stop,
                "_child": ignore,
                "tcp_server_got_connection": self._accepted,
                "tcp_server_got_error": self._listener_error,
                "tcp_server_resume_accept": self._resume_after_shortage,
                "tcp_server_got_die": self._connection_died,
                "shutdown": self._listener_shutdown,
                "set_concurrency": self._set_concurrency,
                "disconnected": self._disconnected,
                "tcp_server_sweep": self._sweep,
                "tcp_server_arm_sweep": self._arm_sweep,
            },
            args=self._listener_args,
            options=self._options,
        )
        self.session_id: Final[int] = self._listener.ID

    # ================================================================ public API

    @property
    def port(self) -> int | None:
        """The bound port (None for a UNIX socket, or when binding failed)."""
        name = self._sockname()
        if name is None or self._domain == socket.AF_UNIX:
            return None
        return int(name[1])

    @property
    def address(self) -> str | None:
        """The bound address (the path for a UNIX socket; None when binding failed)."""
        name = self._sockname()
        if name is None:
            return None
        if self._domain == socket.AF_UNIX:
            return name if isinstance(name, str) else os.fsdecode(name)
        return str(name[0])

    @property
    def connections(self) -> int:
        """How many connections the listener counts as open (POE's ``heap["connections"]``)."""
        return int(self._listener_heap.get("connections", 0))

    @property
    def listening(self) -> bool:
        """True while the listening socket exists (until shutdown or a fatal listener error)."""
        return self._listener_heap.get("listener") is not None

    def shutdown(self, *, connections: bool = False) -> None:
        """Stop listening (post ``shutdown`` to the listener).

        Existing connections go on, and the listener session ends when the last one does.
        With ``connections=True`` every connection is also shut down gracefully: input is
        ignored, queued output is written, then ``client_disconnected`` runs.
        """
        self._kernel.post(self.session_id, "shutdown", connections)

    def set_concurrency(self, limit: int) -> None:
        """Change the connection limit (post ``set_concurrency``); -1: no limit."""
        self._kernel.post(self.session_id, "set_concurrency", _check_concurrency(limit))

    def __repr__(self) -> str:
        where = self.address if self._domain == socket.AF_UNIX else f"{self.address}:{self.port}"
        return f"<TCPServer {self.session_id} {where} connections={self.connections}>"

    def _sockname(self) -> Any:
        return self._listener_heap.get("sockname")

    # ================================================================ the listener session

    def _listener_start(self, ctx: Context, *listener_args: Any) -> None:
        heap = ctx.heap
        self._listener_heap = heap
        if self._alias is not None:
            heap["alias"] = self._alias
            ctx.kernel.alias_set(self._alias)
        heap["concurrency"] = self._concurrency
        heap["connections"] = 0
        if self._domain == socket.AF_UNIX:
            remove_stale_socket(self._bind_address)
        factory = SocketFactoryWheel(
            ctx.kernel,
            socket_domain=self._domain,
            bind_address=self._bind_address,
            bind_port=None if self._domain == socket.AF_UNIX else self._bind_port,
            reuse=True,
            listen_queue=self._backlog,
            success_event="tcp_server_got_connection",
            failure_event="tcp_server_got_error",
        )
        heap["listener"] = factory
        if factory.get_socket() is not None:
            heap["sockname"] = factory.getsockname()
            if self._domain == socket.AF_UNIX:
                self._unix_file = file_identity(self._bind_address)
            if self._concurrency == 0:
                factory.pause_accept()
        # A connection's exception reaches its ancestors as DIE: see _connection_died.
        ctx.kernel.sig("DIE", "tcp_server_got_die")
        if self._started is not None:
            self._started(ctx, *listener_args)

    def _listener_stop(self, ctx: Context) -> None:
        self._close_listener(ctx)
        if self._stopped is not None:
            self._stopped(ctx)

    def _accepted(
        self, ctx: Context, sock: socket.socket, address: Any, port: Any, wheel_id: int
    ) -> None:
        heap = ctx.heap
        heap["connections"] += 1
        self._retry_delay = _RETRY_FIRST
        self._warned_exhausted = False
        limit = heap["concurrency"]
        if limit != -1 and heap["connections"] >= limit and heap.get("listener") is not None:
            heap["listener"].pause_accept()
        if self._acceptor is not None:
            self._acceptor(ctx, sock, address, port)
            return
        Session.create(
            ctx.kernel,
            inline_states=self._connection_states,
            object_states=self._object_states,
            package_states=self._package_states,
            args=(sock, address, port),
            options=self._options,
        )

    def _listener_error(
        self, ctx: Context, operation: str, errnum: int, errstr: str, wheel_id: int
    ) -> None:
        exhausted = operation == "accept" and errnum in _EXHAUSTED
        if exhausted:
            # The listening socket stays readable: accepting again now would spin. Wait a
            # little (or until a connection closes, see _disconnected) and try again.
            factory = ctx.heap.get("listener")
            if factory is not None:
                factory.pause_accept()
                ctx.kernel.delay("tcp_server_resume_accept", self._retry_delay)
                self._retry_delay = min(self._retry_delay * 2, _RETRY_MAX)
        if self._error is not None:
            self._error(ctx, operation, errnum, errstr)
        elif exhausted:
            if not self._warned_exhausted:
                self._warned_exhausted = True
                log.warning(
                    "server %d: accept failed (%s), pausing accepts", ctx.session.ID, errstr
                )
        else:
            log.warning(
                "server %d got %s error %d (%s); no longer listening",
                ctx.session.ID,
                operation,
                errnum,
                errstr,
            )
            self._listener_shutdown(ctx)
            return
        if operation != "accept":
            self._listener_shutdown(ctx)

    def _resume_after_shortage(self, ctx: Context) -> None:
        self._resume_accept(ctx.heap)

    def _resume_accept(self, heap: dict[str, Any]) -> None:
        factory = heap.get("listener")
        limit = heap["concurrency"]
        if (
            factory is not None
            and not self._over_budget
            and (limit == -1 or heap["connections"] < limit)
        ):
            factory.resume_accept()

    def _disconnected(self, ctx: Context) -> None:
        self._connection_gone(ctx.heap)

    def _connection_gone(self, heap: dict[str, Any]) -> None:
        heap["connections"] -= 1
        if heap["connections"] < 0:
            log.warning("server: excessive 'disconnected' event")
            heap["connections"] = 0
        # A connection closed: below the limit again, and one descriptor is free after EMFILE.
        self._resume_accept(heap)

    def _set_concurrency(self, ctx: Context, limit: int) -> None:
        heap = ctx.heap
        heap["concurrency"] = limit
        factory = heap.get("listener")
        if factory is None:
            return
        if limit != -1 and heap["connections"] >= limit:
            factory.pause_accept()
        else:
            factory.resume_accept()

    def _listener_shutdown(self, ctx: Context, connections: bool = False) -> None:
        self._close_listener(ctx)
        if connections:
            for session in list(self._connections):
                ctx.kernel.post(session, "shutdown")

    def _close_listener(self, ctx: Context) -> None:
        heap = ctx.heap
        factory = heap.pop("listener", None)
        if factory is not None:
            factory.close()
        with contextlib.suppress(Exception):
            ctx.kernel.delay("tcp_server_resume_accept")
        alias = heap.get("alias")
        if alias is not None:
            with contextlib.suppress(Exception):
                ctx.kernel.alias_remove(alias)
        if self._unix_file is not None:
            path, device, inode = self._unix_file
            self._unix_file = None
            if file_identity(path) == (path, device, inode):
                with contextlib.suppress(OSError):
                    os.unlink(path)

    def _connection_died(self, ctx: Context, name: str, info: DieInfo) -> None:
        session = info.dest_session
        if session not in self._connections:
            return  # the listener's own failure, or someone else's: not ours to handle
        ctx.kernel.sig_handled()
        heap = session.heap
        wheel = heap.get("client")
        error = info.error
        log.error(
            "server %d: connection %d failed in %r: %s; closing that connection",
            ctx.session.ID,
            session.ID,
            info.event,
            info.error_str,
            exc_info=error,
        )
        if wheel is None:
            return
        if heap.get("shutdown"):
            # It failed while shutting down (in client_disconnected...): just close it.
            heap.pop("client", None)
            wheel.close(close_handles=True)
            return
        heap["got_an_error"] = True
        heap["shutdown"] = True
        wheel.pause_input()
        ctx.kernel.post(session, "shutdown")

    # ================================================================ the connection sessions

    def _connection_start(self, ctx: Context, sock: socket.socket, address: Any, port: Any) -> None:
        self._connections.add(ctx.session)  # counted from now; _stop uncounts it
        heap = ctx.heap
        heap["socket"] = sock
        heap["remote_ip"] = "LOCAL" if self._domain == socket.AF_UNIX else address
        heap["remote_port"] = port
        heap["shutdown"] = False
        heap["shutdown_on_error"] = self._shutdown_on_error
        heap["got_an_error"] = False
        if self._client_pre_connect is not None:
            try:
                chosen = self._client_pre_connect(ctx, sock)
            except BaseException:
                sock.close()
                raise
            if chosen is not sock:
                sock.close()
            if chosen is None or _fileno(chosen) < 0:
                heap.pop("socket", None)
                return  # dropped: nothing holds the session, it ends now
            heap["socket"] = sock = chosen
        filters = wheel_filters(
            self._filter,
            self._input_filter,
            self._output_filter,
            ("client_filter", "client_input_filter", "client_output_filter"),
        )
        marks = wheel_marks(
            self._high_mark, self._low_mark, "tcp_server_got_high", "tcp_server_got_low"
        )
        # Kept for _connection_high: no output moves before the handshake is done.
        heap["_tls"] = tls = None if self._tls is None else TLSDriver(self._tls, server_side=True)
        try:
            heap["client"] = wheel = ReadWriteWheel(
                ctx.kernel,
                handle=sock,
                driver=tls,
                input_event="tcp_server_got_input",
                error_event="tcp_server_got_error",
                flushed_event="tcp_server_got_flush",
                max_output=self._max_output,
                input_meter=None if self._input_budget is None else self._meter,
                **filters,
                **marks,
            )
        except BaseException:
            heap.pop("socket", None)
            sock.close()
            raise
        if self._sweep_every is not None:
            self._activity[wheel] = [0, time.monotonic(), None, ctx.session]
            self._want_sweep(ctx.kernel)
        if self._client_connected is not None:
            args = self._client_args
            self._client_connected(ctx._replace(args=args), *args)

    def _connection_stop(self, ctx: Context) -> None:
        heap = ctx.heap
        wheel = heap.pop("client", None)
        if wheel is not None:
            self._forget(wheel)
            wheel.close()
        entry = self._deadlines.pop(ctx.session, None)
        if entry is not None:
            self._forget(entry[1])
        sock = heap.pop("socket", None)
        if sock is not None:
            sock.close()
        self._release(ctx.session)

    def _release(self, session: SessionBase) -> None:
        """The connection is over: uncount it (once) on the listener."""
        if session in self._connections:
            self._connections.discard(session)
            self._connection_gone(self._listener_heap)

    def _connection_error(
        self, ctx: Context, operation: str, errnum: int, errstr: str, wheel_id: int
    ) -> None:
        heap = ctx.heap
        if heap["got_an_error"]:
            return  # already going down: a write failing after a read did is no news
        wheel = heap.get("client")
        if wheel is None or wheel_id != wheel.ID:
            return  # posted by a wheel that is gone (max_output): the connection is closed
        if self._client_error is not None:
            self._client_error(ctx, operation, errnum, errstr)
        elif not (operation == "read" and errnum in (0, _errno.ECONNRESET)):
            log.warning(
                "server connection %d got %s error %d (%s)",
                ctx.session.ID,
                operation,
                errnum,
                errstr,
            )
        if heap["shutdown_on_error"]:
            if not (operation == "read" and errnum == 0):
                # Broken: don't wait for output to drain. End of file only means the peer
                # sends no more; what we queued can still reach it. No more input either:
                # the records after a framing error in the same read are not delivered.
                heap["got_an_error"] = True
                if heap.get("client") is wheel:
                    wheel.event(input_event=None)
            ctx.kernel.yield_("shutdown")

    def _connection_shutdown(self, ctx: Context) -> None:
        heap = ctx.heap
        wheel = heap.get("client")
        if wheel is None:
            heap["shutdown"] = True
            return
        if not heap["shutdown"]:
            heap["shutdown"] = True
            ctx.kernel.state("tcp_server_got_input", ignore)  # POE: input ignored from now on
        if heap["got_an_error"] or not wheel.get_driver_out_octets():
            self._disconnect(ctx, wheel)
        elif self._shutdown_timeout is not None and ctx.session not in self._deadlines:
            # Waiting for the peer to read what is queued: not for ever.
            self._deadlines[ctx.session] = (time.monotonic() + self._shutdown_timeout, wheel)
            self._want_sweep(ctx.kernel)

    def _connection_flushed(self, ctx: Context, wheel_id: int) -> None:
        if self._client_flushed is not None:
            self._client_flushed(ctx)
        heap = ctx.heap
        if heap["shutdown"]:
            wheel = heap.get("client")
            if wheel is not None:
                self._disconnect(ctx, wheel)

    def _disconnect(self, ctx: Context, wheel: ReadWriteWheel) -> None:
        heap = ctx.heap
        if self._client_disconnected is not None:
            self._client_disconnected(ctx)
        if heap.pop("client", None) is None:
            self._forget(wheel)
            self._deadlines.pop(ctx.session, None)
            return  # client_disconnected closed it itself
        sock = heap.get("socket")
        if heap["got_an_error"] or self._tls is not None or wheel.get_driver_out_octets():
            # Broken: close now. TLS, or output put by client_disconnected: let the wheel
            # finish (close_notify, the last octets), then it closes the socket itself, or
            # the sweep closes it at the shutdown deadline.
            heap.pop("socket", None)
            wheel.close(flush=not heap["got_an_error"], close_handles=True)
            if wheel.closed or self._shutdown_timeout is None:
                self._forget(wheel)
                self._deadlines.pop(ctx.session, None)
            else:
                deadline = self._deadlines.get(ctx.session, (0.0, wheel))[0]
                if not deadline:
                    deadline = time.monotonic() + self._shutdown_timeout
                self._deadlines[ctx.session] = (deadline, wheel)
                self._want_sweep(ctx.kernel)
            return
        self._forget(wheel)
        self._deadlines.pop(ctx.session, None)
        wheel.close()
        if sock is not None:
            self._linger(ctx, sock)

    def _linger(self, ctx: Context, sock: socket.socket) -> None:
        """Close ``sock`` the way that loses nothing (a "lingering close").

        Closing a socket that still has unread input makes the system send a reset, and a
        reset makes the peer throw away what it has received but not yet read: the end of
        our output. So: send our FIN now, read and discard until the peer's FIN (or
        ``LINGER_SECONDS``), then close. The session leaves the listener first: the
        connection is over for the server (counted out, ``stopped`` may run), only the
        socket's last moments remain.
        """
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_WR)
        kernel = ctx.kernel
        kernel.select_read(sock, "tcp_server_linger")
        kernel.delay("tcp_server_linger", LINGER_SECONDS)
        self._release(ctx.session)
        with contextlib.suppress(Exception):
            kernel.detach_myself()

    def _lingering(self, ctx: Context, *ready: Any) -> None:
        heap = ctx.heap
        sock = heap.get("socket")
        if sock is None:
            return
        if ready:  # readable: discard what came, stop at end of file (or an error)
            try:
                while sock.recv(65536):
                    pass
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                pass
        ctx.kernel.select_read(sock)
        ctx.kernel.delay("tcp_server_linger")
        heap.pop("socket", None)
        sock.close()

    def _connection_high(self, ctx: Context, wheel_id: int) -> None:
        # Backpressure: a peer that does not read its output gets no more input read either.
        wheel = ctx.heap.get("client")
        tls = ctx.heap.get("_tls")
        # Not during a TLS handshake: no output moves until the peer's handshake records are
        # read, so a pause would stall the connection for good (a big put in client_connected).
        if wheel is not None and wheel_id == wheel.ID and (tls is None or tls.handshake_done):
            self._hold(wheel, _HELD_OUTPUT)
        if self._client_high is not None:
            self._client_high(ctx)

    def _connection_low(self, ctx: Context, wheel_id: int) -> None:
        wheel = ctx.heap.get("client")
        if wheel is not None and wheel_id == wheel.ID and not ctx.heap["got_an_error"]:
            self._unhold(wheel, _HELD_OUTPUT)
        if self._client_low is not None:
            self._client_low(ctx)

    # ================================================================ limits

    def _hold(self, wheel: ReadWriteWheel, reason: int) -> None:
        """Pause ``wheel``'s input for ``reason`` (a ``_HELD_*`` bit)."""
        held = self._held.get(wheel, 0)
        if not held:
            wheel.pause_input()
        self._held[wheel] = held | reason

    def _unhold(self, wheel: ReadWriteWheel, reason: int) -> None:
        """Drop ``reason``; resume the input once no reason is left."""
        held = self._held.get(wheel, 0)
        if not held & reason:
            return
        held &= ~reason
        if held:
            self._held[wheel] = held
            return
        del self._held[wheel]
        if not wheel.closed:
            wheel.resume_input()

    def _forget(self, wheel: ReadWriteWheel) -> None:
        """The connection's wheel is going: drop what the limits know of it."""
        self._held.pop(wheel, None)
        self._activity.pop(wheel, None)

    def _meter(self, wheel: ReadWriteWheel, delta: int) -> None:
        """``input_meter`` of every wheel: keep the running total and apply the budget.

        Called after a read that changed a connection's buffered input (and at close), so the
        cost is O(1) per read: the total is kept from the deltas, never summed.
        """
        budget = self._input_budget
        assert budget is not None
        total = self._pending_total = self._pending_total + delta
        if delta > 0:
            if total <= budget:
                return
            if not self._over_budget:
                self._over_budget = True
                factory = self._listener_heap.get("listener")
                if factory is not None:
                    factory.pause_accept()
            share = budget // max(1, len(self._connections))
            if wheel.get_input_pending_octets() > share and not wheel.closed:
                self._hold(wheel, _HELD_BUDGET)
                self._want_sweep(self._kernel)
        elif self._over_budget and total <= budget:
            # Back within the budget: resume everyone. Not "at half the budget": a paused
            # connection's partial record is part of the total and cannot shrink while it is
            # paused, so one that holds more than half would never be resumed.
            self._over_budget = False
            for held in [w for w, reasons in self._held.items() if reasons & _HELD_BUDGET]:
                self._unhold(held, _HELD_BUDGET)
            if self._listener_heap:
                self._resume_accept(self._listener_heap)

    @property
    def pending_input(self) -> int:
        """Input octets buffered unparsed across the connections (counted with ``input_budget``)."""
        return self._pending_total

    def _want_sweep(self, kernel: Kernel) -> None:
        if not self._sweep_armed:
            kernel.call(self.session_id, "tcp_server_arm_sweep")

    def _arm_sweep(self, ctx: Context) -> None:
        """(Re)arm the one sweep timer if anything is to be watched; else let it lapse."""
        periods = []
        if self._sweep_every is not None and self._connections:
            periods.append(self._sweep_every)
        if self._deadlines and self._shutdown_timeout is not None:
            periods.append(_sweep_period([self._shutdown_timeout]))
        if self._over_budget and any(r & _HELD_BUDGET for r in self._held.values()):
            periods.append(_BUDGET_PROBE)
        self._sweep_armed = bool(periods)
        if periods:
            ctx.kernel.delay("tcp_server_sweep", min(periods))

    def _sweep(self, ctx: Context) -> None:
        """Check the clocks of every connection: input timeouts and graceful-close deadlines."""
        now = time.monotonic()
        kernel = ctx.kernel
        if self._over_budget:
            # Let the connections paused for the budget read again: one that only waits
            # stays quiet, one whose peer has gone sees its end of file and closes (freeing
            # its share), one that goes on sending is paused again after one read.
            for held in [w for w, reasons in self._held.items() if reasons & _HELD_BUDGET]:
                self._unhold(held, _HELD_BUDGET)
        for session, (deadline, _wheel) in list(self._deadlines.items()):
            if now >= deadline:
                kernel.call(session, "tcp_server_timeout", "shutdown")
        if self._sweep_every is not None:
            idle, partial = self._idle_timeout, self._partial_timeout
            for wheel, state in list(self._activity.items()):
                if wheel.closed:
                    continue
                reads = wheel.get_read_count()
                if reads != state[0]:
                    state[0], state[1] = reads, now
                elif idle is not None and now - state[1] >= idle:
                    state[1] = now  # once per period, if client_error keeps the connection
                    kernel.call(state[3], "tcp_server_timeout", "idle")
                    continue
                if partial is None:
                    continue
                if not wheel.get_input_pending_octets():
                    state[2] = None
                elif state[2] is None:
                    state[2] = now
                elif now - state[2] >= partial:
                    state[2] = now
                    kernel.call(state[3], "tcp_server_timeout", "partial")
        self._arm_sweep(ctx)

    def _connection_timeout(self, ctx: Context, kind: str) -> None:
        heap = ctx.heap
        wheel = heap.get("client")
        if kind == "shutdown":
            entry = self._deadlines.pop(ctx.session, None)
            code = _errno.ETIMEDOUT
            if wheel is not None:
                # Still before client_disconnected: say why the output is lost, then close.
                text = f"peer took no output for {self._shutdown_timeout} s (shutdown_timeout)"
                if not heap["got_an_error"]:
                    self._connection_error(ctx, "write", code, text, wheel.ID)
                heap["got_an_error"] = True
                if heap.get("client") is wheel:
                    self._disconnect(ctx, wheel)
            elif entry is not None:
                entry[1].close(close_handles=True)  # the last octets after client_disconnected
                self._forget(entry[1])
            return
        if wheel is None or heap["shutdown"]:
            return
        if kind == "idle":
            text = f"no input for {self._idle_timeout} s (client_idle_timeout)"
        else:
            text = f"record unfinished for {self._partial_timeout} s (client_partial_timeout)"
        self._connection_error(ctx, "read", _errno.ETIMEDOUT, text, wheel.ID)


# ==================================================================== helpers


def _check_concurrency(value: object) -> int:
    return check_int(value, "concurrency", -1)


def _fileno(handle: Any) -> int:
    try:
        return int(handle.fileno())
    except (AttributeError, OSError, ValueError, TypeError):
        return -1
