"""A TCP client session that connects, reconnects and talks in records (POE::Component::Client::TCP).

Port of POE::Component::Client::TCP 1.370. :class:`TCPClient` creates one session. It connects
with a :class:`~poe.wheel.SocketFactoryWheel` (never blocking the kernel), then talks through a
:class:`~poe.wheel.ReadWriteWheel` whose records go straight to the user's ``server_input``.

Theory of operation (the session's events; ``heap["server"]`` is the factory while connecting,
the ReadWrite wheel while connected, else None):

* ``_start``: set the alias, yield ``reconnect`` (unless ``autoconnect=False``), call ``started``.
* ``reconnect``: drop the current factory or connection (queued output is lost and
  ``disconnected`` is *not* called, as in POE), start a new factory, arm ``connect_timeout``.
* ``connect(address=None, port=None)``: remember a new target, then as ``reconnect``.
* connected: cancel the timeout, let ``pre_connect`` wrap or refuse the socket, make the wheel
  (TLS through :class:`~poe.driver.TLSDriver` when ``tls`` is given), call ``connected``.
* connect failure or timeout: drop the factory, then call ``connect_error`` (which may reconnect).
* a read or write error: call ``server_error``; then, if ``heap["shutdown_on_error"]`` (default
  True), close the connection at once and call ``disconnected``. End of file is
  ``("read", 0, "")``.
* ``shutdown``: stop reading, cancel the timeout, let queued output flush, then close and call
  ``disconnected`` (once); remove the alias. Shutdown is final: ``connect``, ``reconnect`` and
  ``put`` are ignored afterwards, so the session ends once the connection is gone.
* ``put(*records)``: ``heap["server"].put(*records)`` when connected (dropped, with a warning,
  otherwise).
* output limits (not in POE, whose output buffer grows without bound): by default the wheel has
  watermarks (``high_mark`` 512 KiB, ``low_mark`` 128 KiB) and the client stops *reading* while
  the output is above the high mark, until it drains to the low mark (``server_high`` and
  ``server_low`` still run); past ``max_output`` (16 MiB) the wheel drops the output and the
  client gets ``server_error(ctx, "write", errno.ENOBUFS, ...)``, then, as after any error,
  the connection closes and ``disconnected`` runs (which may reconnect, as usual).
* timeouts (not in POE): ``idle_timeout`` (off by default) is ``server_error(ctx, "read",
  errno.ETIMEDOUT, ...)`` when nothing was read for that long; ``shutdown_timeout`` (30 s)
  bounds the wait of ``shutdown`` for the output to drain: then ``server_error(ctx, "write",
  errno.ETIMEDOUT, ...)`` and the connection closes at once. One timer each, per connection.
* input the filter refuses (:class:`~poe.filter.RecordTooLarge` and other
  :class:`~poe.filter.FilterError`) is ``server_error(ctx, "read", EMSGSIZE or EINVAL, message)``,
  then handled as any other error. Other exceptions in callbacks are left alone: they are ``DIE``
  signals, as in POE.

Why the per-record path is short: the wheel's ``input_event`` *is* the user's ``server_input``
state, so a record costs exactly what a hand-written ReadWrite session costs. It also means
``server_input`` may take the wheel id after the record, as POE's ``ARG1``:
``server_input(ctx, record, wheel_id)``; a ``server_input(ctx, record)`` gets a small adapter
(one more call per record). Input stops at ``shutdown`` because the wheel's input
event is switched off, not because each record is checked.
"""

from __future__ import annotations

import contextlib
import errno as _errno
import logging
import os
import socket
import ssl
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from poe.driver import TLSDriver
from poe.errors import InvalidArgument, SessionNotFound, TimerNotFound
from poe.session import Session
from poe.tcp._common import (
    Callback,
    FilterSpec,
    check_alias,
    check_args,
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
    check_seconds,
    sweep_period,
)
from poe.wheel import ReadWriteWheel, SocketFactoryWheel

if TYPE_CHECKING:
    from poe.kernel import Kernel
    from poe.session import Context

__all__ = ["TCPClient"]

log: Final = logging.getLogger("poe.tcp")


#: The session's public events (POE's) and its internal ones (POE's names too).
_PUBLIC: Final = ("_start", "connect", "reconnect", "shutdown", "put")
_INTERNAL: Final = (
    "got_connect_success",
    "got_connect_error",
    "got_connect_timeout",
    "got_server_input",
    "got_server_error",
    "got_server_flush",
    "got_high",
    "got_low",
    "got_idle_check",
    "got_shutdown_timeout",
)
#: What holds an ``autoconnect=False`` session alive between connections, until ``shutdown``.
_ON_DEMAND: Final = "poe.tcp.TCPClient on demand"


def _check_bind_address(address: object) -> str | None:
    if address is not None and not isinstance(address, str):
        msg = f"TCPClient: bind_address must be a string, not {address!r}"
        raise InvalidArgument(msg)
    return address


def _check_tls(
    tls: object, hostname: object, domain: int
) -> tuple[ssl.SSLContext | None, str | None]:
    if tls is not None and not isinstance(tls, ssl.SSLContext):
        msg = f"TCPClient: tls must be an ssl.SSLContext, not {tls!r}"
        raise InvalidArgument(msg)
    if hostname is not None and (not isinstance(hostname, str) or not hostname):
        msg = f"TCPClient: server_hostname must be a non-empty string, not {hostname!r}"
        raise InvalidArgument(msg)
    if tls is not None and tls.check_hostname and hostname is None and domain == socket.AF_UNIX:
        msg = "TCPClient: a TLS context that checks host names needs server_hostname with AF_UNIX"
        raise InvalidArgument(msg)
    return tls, hostname


def _check_options(options: object) -> Mapping[str, Any] | None:
    if options is not None and not isinstance(options, Mapping):
        msg = f"TCPClient: session_options must be a mapping, not {options!r}"
        raise InvalidArgument(msg)
    return options


def _check_port(port: object, name: str) -> int:
    """A TCP port: an int in 1..65535, a digit string, or a service name."""
    if isinstance(port, str):
        if port.isdigit():
            port = int(port)
        else:
            try:
                port = socket.getservbyname(port, "tcp")
            except OSError:
                msg = f"{name}: unknown service name {port!r}"
                raise InvalidArgument(msg) from None
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port <= 65535:
        msg = f"{name} must be a port number in 1..65535 or a service name, not {port!r}"
        raise InvalidArgument(msg)
    return port


class TCPClient:
    """A session that connects to a TCP (or UNIX) server and exchanges filtered records with it.

    Handlers follow poe's convention, ``callback(ctx, *args)``, and run in the client's session
    (``ctx.heap`` is its heap: ``server``, ``connected``, ``shutdown``, ``shutdown_on_error``,
    ``got_an_error``, ``ctimeout_id``, as POE's).

    Args:
        kernel: the kernel to run in.
        remote_address: the server's address or host name (resolved without blocking); with
            ``domain=AF_UNIX``, the socket's path. None: the loopback address (POE's default).
        remote_port: the server's port (number or service name); not used with AF_UNIX.
        bind_address: the local address to bind before connecting (a path with AF_UNIX).
        bind_port: the local port to bind; 0: any.
        domain: ``AF_INET`` (default), ``AF_INET6`` or ``AF_UNIX``.
        alias: an alias for the session (kept until ``shutdown``).
        connect_timeout: seconds a connection attempt may take; then ``connect_error(ctx,
            "connect", ETIMEDOUT, errstr)``. None: no limit but the system's.
        autoconnect: connect at once (True, as POE) or only on ``connect``/``reconnect``
            (False: the session then stays alive, idle, until ``shutdown``).
        connected: ``connected(ctx, sock, peer_address, peer_port)`` once connected.
        connect_error: ``connect_error(ctx, operation, errnum, errstr)`` when an attempt fails
            (``operation`` is ``"connect"``, ``"bind"``, ``"getaddrinfo"``, ...); default: log a
            warning. Reconnect from here with ``ctx.kernel.delay("reconnect", seconds)``.
        disconnected: ``disconnected(ctx)`` when an established connection has been closed
            (by ``shutdown`` or after an error); at most once per connection.
        server_input: ``server_input(ctx, record)`` or ``server_input(ctx, record, wheel_id)``
            for each record (required).
        server_error: ``server_error(ctx, operation, errnum, errstr)`` on a read or write error;
            ``("read", 0, "")`` is the server closing the connection. Default: log a warning
            unless it is end of file or ECONNRESET.
        server_flushed: ``server_flushed(ctx)`` each time the output buffer empties.
        pre_connect: ``pre_connect(ctx, sock) -> sock | None``, before the wheel is made:
            return the socket to use, or None to drop the connection (the client closes the
            socket; no other callback runs).
        filter: the filter for both directions (an instance, cloned per connection, or a
            factory); default :class:`~poe.filter.LineFilter`.
        input_filter: the filter for input, instead of ``filter``.
        output_filter: the filter for output, instead of ``filter``.
        high_mark: queued output octets at which the client stops reading and calls
            ``server_high`` (default 512 KiB).
        low_mark: queued output octets at or below which it reads again and calls
            ``server_low`` (default 128 KiB). Both marks or neither (None and None: no
            watermarks, the input is never paused), ``1 <= low < high``.
        server_high: ``server_high(ctx)`` when the output buffer reaches ``high_mark``; it may
            call ``ctx.heap["server"].resume_input()`` to keep reading anyway.
        server_low: ``server_low(ctx)`` when it drains to ``low_mark``.
        max_output: the most octets of queued output; a ``put`` past it drops the output and
            is ``server_error(ctx, "write", errno.ENOBUFS, errstr)``, then (with
            ``shutdown_on_error``) the connection closes and ``disconnected`` runs (default
            16 MiB; None: no limit).
        idle_timeout: seconds without any input (paused input reads nothing either) after which
            ``server_error(ctx, "read", errno.ETIMEDOUT, errstr)`` is called, then handled as
            any error. None (default): none.
        shutdown_timeout: seconds ``shutdown`` waits for the queued output to be written; then
            ``server_error(ctx, "write", errno.ETIMEDOUT, errstr)`` and the connection closes,
            the rest of the output lost (default 30 s; None: wait for ever, as POE).
        started: ``started(ctx, *args)`` at the end of ``_start``.
        args: the arguments for ``started``.
        inline_states: more ``{event: handler}`` states for the session.
        object_states: ``[(obj, events), ...]`` states bound to methods.
        package_states: ``[(cls, events), ...]`` states bound to class methods.
        session_options: the session's options (``trace``, ``debug``, ``default``, ...).
        tls: speak TLS with this client-side :class:`ssl.SSLContext`.
        server_hostname: the name the server's certificate must carry (and SNI); default: the
            remote address (IP addresses are checked against the certificate's IP entries).

    Raises:
        InvalidArgument: a missing or malformed argument, a callback that is not callable, an
            extra state that redefines one of the client's, watermarks that do not go together.
    """

    def __init__(
        self,
        kernel: Kernel,
        *,
        remote_address: str | None,
        remote_port: int | str | None = None,
        bind_address: str | None = None,
        bind_port: int = 0,
        domain: int = socket.AF_INET,
        alias: str | None = None,
        connect_timeout: float | None = None,
        autoconnect: bool = True,
        connected: Callback | None = None,
        connect_error: Callback | None = None,
        disconnected: Callback | None = None,
        server_input: Callback,
        server_error: Callback | None = None,
        server_flushed: Callback | None = None,
        pre_connect: Callback | None = None,
        filter: FilterSpec | None = None,  # noqa: A002 - POE's parameter name
        input_filter: FilterSpec | None = None,
        output_filter: FilterSpec | None = None,
        high_mark: int | None = DEFAULT_HIGH_MARK,
        low_mark: int | None = DEFAULT_LOW_MARK,
        server_high: Callback | None = None,
        server_low: Callback | None = None,
        started: Callback | None = None,
        args: Sequence[Any] = (),
        inline_states: Mapping[str, Callback] | None = None,
        object_states: Iterable[tuple[Any, Mapping[str, str] | Iterable[str]]] = (),
        package_states: Iterable[tuple[type, Mapping[str, str] | Iterable[str]]] = (),
        session_options: Mapping[str, Any] | None = None,
        tls: ssl.SSLContext | None = None,
        server_hostname: str | None = None,
        max_output: int | None = DEFAULT_MAX_OUTPUT,
        idle_timeout: float | None = None,
        shutdown_timeout: float | None = DEFAULT_SHUTDOWN_TIMEOUT,
    ) -> None:
        self._domain = check_domain(domain, "TCPClient")
        self._address, self._port = self._check_target(remote_address, remote_port)
        self._bind_address = _check_bind_address(bind_address)
        self._bind_port = 0 if bind_port == 0 else _check_port(bind_port, "bind_port")
        self._alias = check_alias(alias, "TCPClient")
        self._connect_timeout = check_seconds(connect_timeout, "TCPClient: connect_timeout")
        self._autoconnect = bool(autoconnect)
        if check_callback(server_input, "server_input") is None:
            msg = "TCPClient needs a server_input callback"
            raise InvalidArgument(msg)
        self._server_input: Callback = input_handler(server_input, "server_input")
        self._connected = check_callback(connected, "connected")
        self._connect_error = (
            check_callback(connect_error, "connect_error") or _default_connect_error
        )
        self._disconnected = check_callback(disconnected, "disconnected")
        self._server_error = check_callback(server_error, "server_error") or _default_server_error
        self._server_flushed = check_callback(server_flushed, "server_flushed")
        self._pre_connect = check_callback(pre_connect, "pre_connect")
        self._started = check_callback(started, "started")
        self._filter = check_filter(filter, "filter")
        self._input_filter = check_filter(input_filter, "input_filter")
        self._output_filter = check_filter(output_filter, "output_filter")
        self._server_high = check_callback(server_high, "server_high")
        self._server_low = check_callback(server_low, "server_low")
        self._high_mark, self._low_mark = check_watermarks(
            high_mark,
            low_mark,
            self._server_high,
            self._server_low,
            ("TCPClient: high_mark", "low_mark", "server_high", "server_low"),
        )
        self._max_output = (
            None if max_output is None else check_int(max_output, "TCPClient: max_output", 1)
        )
        self._idle_timeout = check_seconds(idle_timeout, "TCPClient: idle_timeout")
        self._shutdown_timeout = check_seconds(shutdown_timeout, "TCPClient: shutdown_timeout")
        self._args = check_args(args, "TCPClient: args")
        self._tls, self._server_hostname = _check_tls(tls, server_hostname, self._domain)
        options = _check_options(session_options)
        #: Set by the ``shutdown`` event: nothing connects any more.
        self._final = False
        #: The TLS driver of the current (or last) connection.
        self._tls_driver: TLSDriver | None = None
        #: With idle_timeout: [reads seen, when that count last changed] of the connection.
        self._idle_seen: list[float] = [0, 0.0]

        owned = _PUBLIC + _INTERNAL
        extra = dict(inline_states or {})
        # _stop and _child are the user's if given; the client only needs _stop to clean up.
        self._user_stop = check_callback(extra.pop("_stop", None), "inline_states['_stop']")
        user_child = extra.pop("_child", None)
        states = merge_states(self._states(), extra, "TCPClient")
        states["_stop"] = self._on_stop
        states["_child"] = check_callback(user_child, "inline_states['_child']") or ignore
        session = Session.create(
            kernel,
            inline_states=states,
            object_states=check_reserved(object_states, owned, "TCPClient"),
            package_states=check_reserved(package_states, owned, "TCPClient"),
            args=self._args,
            options=options,
        )
        self._kernel = kernel
        self._session_id: int = session.ID

    def _check_target(self, address: object, port: object) -> tuple[str, int | None]:
        if self._domain == socket.AF_UNIX:
            if not isinstance(address, str) or not address:
                msg = f"TCPClient: AF_UNIX needs remote_address as a socket path, not {address!r}"
                raise InvalidArgument(msg)
            return address, None
        if address is None:
            address = "::1" if self._domain == socket.AF_INET6 else "127.0.0.1"
        if not isinstance(address, str) or not address:
            msg = f"TCPClient: remote_address must be a host name or address, not {address!r}"
            raise InvalidArgument(msg)
        if port is None:
            msg = "TCPClient needs a remote_port"
            raise InvalidArgument(msg)
        return address, _check_port(port, "remote_port")

    def _states(self) -> dict[str, Callback]:
        states: dict[str, Callback] = {
            "_start": self._on_start,
            "connect": self._on_connect,
            "reconnect": self._on_reconnect,
            "shutdown": self._on_shutdown,
            "put": self._on_put,
            "got_connect_success": self._on_connect_success,
            "got_connect_error": self._on_connect_error,
            "got_connect_timeout": self._on_connect_timeout,
            # The user's handler itself: no per-record work is added to the wheel's.
            "got_server_input": self._server_input,
            "got_server_error": self._on_server_error,
            "got_server_flush": self._on_server_flush,
            "got_idle_check": self._on_idle_check,
            "got_shutdown_timeout": self._on_shutdown_timeout,
        }
        if self._high_mark is not None:
            states["got_high"] = self._on_high
            states["got_low"] = self._on_low
        return states

    # -- the facade ---------------------------------------------------------------------------

    @property
    def session_id(self) -> int:
        """The client session's id."""
        return self._session_id

    @property
    def remote_address(self) -> str:
        """The address the client connects to (changed by ``connect`` with a new address)."""
        return self._address

    @property
    def remote_port(self) -> int | None:
        """The port the client connects to; None with AF_UNIX."""
        return self._port

    def connect(self, address: str | None = None, port: int | str | None = None) -> None:
        """Post ``connect``: (re)connect, to ``address``/``port`` when given.

        Raises:
            InvalidArgument: a malformed address or port.
            SessionNotFound: the client's session has ended.
        """
        if address is not None or port is not None:
            self._check_target(
                address if address is not None else self._address,
                port if port is not None else self._port,
            )
        self._kernel.post(self._session_id, "connect", address, port)

    def reconnect(self) -> None:
        """Post ``reconnect``: drop the current connection or attempt and connect again.

        Raises:
            SessionNotFound: the client's session has ended.
        """
        self._kernel.post(self._session_id, "reconnect")

    def shutdown(self) -> None:
        """Post ``shutdown``: flush, close, and let the session end. Harmless once it has ended."""
        with contextlib.suppress(SessionNotFound):
            self._kernel.post(self._session_id, "shutdown")

    def put(self, *records: Any) -> None:
        """Post ``put``: send ``records`` once the event runs, if connected then.

        Raises:
            SessionNotFound: the client's session has ended.
        """
        self._kernel.post(self._session_id, "put", *records)

    # -- lifecycle ----------------------------------------------------------------------------

    def _on_start(self, ctx: Context, *args: Any) -> None:
        ctx.heap.update(
            server=None,
            connected=False,
            shutdown=False,
            shutdown_on_error=True,
            got_an_error=False,
            ctimeout_id=None,
        )
        if self._alias is not None:
            ctx.kernel.alias_set(self._alias)
        if self._autoconnect:
            ctx.kernel.yield_("reconnect")
        else:
            ctx.kernel.refcount_increment(ctx.session.ID, _ON_DEMAND)
        if self._started is not None:
            self._started(ctx, *args)

    def _on_connect(self, ctx: Context, address: str | None = None, port: Any = None) -> None:
        if self._final:
            log.warning("TCPClient %d: connect after shutdown ignored", ctx.session.ID)
            return
        if address is not None or port is not None:
            self._address, self._port = self._check_target(
                address if address is not None else self._address,
                port if port is not None else self._port,
            )
        ctx.kernel.yield_("reconnect")

    def _on_reconnect(self, ctx: Context) -> None:
        if self._final:
            return
        heap = ctx.heap
        self._cancel_timeout(ctx)
        self._drop_server(heap)
        self._clear_timers(ctx)
        heap.update(shutdown=False, connected=False, got_an_error=False)
        factory = SocketFactoryWheel(
            ctx.kernel,
            remote_address=self._address,
            remote_port=self._port,
            socket_domain=self._domain,
            bind_address=self._bind_address,
            bind_port=self._bind_port,
            success_event="got_connect_success",
            failure_event="got_connect_error",
        )
        heap["server"] = factory
        if self._connect_timeout is not None:
            heap["ctimeout_id"] = ctx.kernel.delay_set(
                "got_connect_timeout", self._connect_timeout, factory.ID
            )

    def _on_connect_success(
        self, ctx: Context, sock: socket.socket, address: Any, port: Any, wheel_id: int
    ) -> None:
        heap = ctx.heap
        factory = heap["server"]
        if not isinstance(factory, SocketFactoryWheel) or wheel_id != factory.ID:
            sock.close()  # an attempt that was abandoned meanwhile
            return
        self._cancel_timeout(ctx)
        factory.close()
        heap["server"] = None
        if self._pre_connect is not None:
            wrapped = self._pre_connect(ctx, sock)
            if wrapped is None:
                sock.close()
                return
            sock = wrapped
        driver = None
        if self._tls is not None:
            hostname = self._server_hostname
            if hostname is None and self._domain != socket.AF_UNIX:
                hostname = self._address
            driver = TLSDriver(self._tls, server_hostname=hostname)
        self._tls_driver = driver
        filters = wheel_filters(
            self._filter,
            self._input_filter,
            self._output_filter,
            ("filter", "input_filter", "output_filter"),
        )
        marks = wheel_marks(self._high_mark, self._low_mark, "got_high", "got_low")
        try:
            wheel = ReadWriteWheel(
                ctx.kernel,
                handle=sock,
                driver=driver,
                input_event="got_server_input",
                error_event="got_server_error",
                flushed_event="got_server_flush",
                max_output=self._max_output,
                **filters,
                **marks,
            )
        except BaseException:
            sock.close()
            raise
        heap["server"] = wheel
        heap["connected"] = True
        if self._idle_timeout is not None:
            # One timer per connection compares the read count with its last look.
            self._idle_seen = [0, time.monotonic()]
            ctx.kernel.delay("got_idle_check", sweep_period([self._idle_timeout]), wheel.ID)
        if self._connected is not None:
            self._connected(ctx, sock, address, port)

    def _on_connect_error(
        self, ctx: Context, operation: str, errnum: int, errstr: str, wheel_id: int
    ) -> None:
        heap = ctx.heap
        factory = heap["server"]
        if not isinstance(factory, SocketFactoryWheel) or wheel_id != factory.ID:
            return  # the failure of an attempt abandoned meanwhile (failures may be yielded)
        self._cancel_timeout(ctx)
        # Dropped before the callback (POE drops it after): a reconnect the callback makes with
        # call() must not be undone on the way out.
        self._drop_server(heap)
        self._connect_error(ctx, operation, errnum, errstr)

    def _on_connect_timeout(self, ctx: Context, wheel_id: int) -> None:
        heap = ctx.heap
        heap["ctimeout_id"] = None
        factory = heap["server"]
        if not isinstance(factory, SocketFactoryWheel) or wheel_id != factory.ID:
            return
        self._drop_server(heap)
        code = _errno.ETIMEDOUT
        self._connect_error(ctx, "connect", code, os.strerror(code))

    # -- the connection -----------------------------------------------------------------------

    def _on_server_error(
        self, ctx: Context, operation: str, errnum: int, errstr: str, wheel_id: int
    ) -> None:
        heap = ctx.heap
        wheel = heap["server"]
        if not isinstance(wheel, ReadWriteWheel) or wheel_id != wheel.ID:
            return
        self._server_error(ctx, operation, errnum, errstr)
        if heap["shutdown_on_error"] and heap["server"] is wheel:
            # POE yields shutdown here; closing now keeps a reconnect the callback yields (or a
            # delay in disconnected) from racing with it, and shutdown stays the user's verb.
            heap["got_an_error"] = True
            self._disconnect(ctx, graceful=False)

    def _on_server_flush(self, ctx: Context, wheel_id: int) -> None:
        heap = ctx.heap
        wheel = heap["server"]
        if not isinstance(wheel, ReadWriteWheel) or wheel_id != wheel.ID:
            return
        if self._server_flushed is not None:
            self._server_flushed(ctx)
        if heap["shutdown"] and heap["server"] is wheel:
            self._disconnect(ctx, graceful=True)

    def _on_high(self, ctx: Context, wheel_id: int) -> None:
        # Backpressure: while the server does not take our output, take none of its input
        # (a request/response client stops making requests it cannot send).
        wheel = self._current(ctx, wheel_id)
        driver = self._tls_driver
        # Not during a TLS handshake: no output moves until the server's handshake records
        # are read, so a pause would stall the connection for good (a big put in connected).
        if wheel is not None and (driver is None or driver.handshake_done):
            wheel.pause_input()
        if self._server_high is not None:
            self._server_high(ctx)

    def _on_low(self, ctx: Context, wheel_id: int) -> None:
        wheel = self._current(ctx, wheel_id)
        if wheel is not None and not ctx.heap["shutdown"] and not ctx.heap["got_an_error"]:
            wheel.resume_input()
        if self._server_low is not None:
            self._server_low(ctx)

    def _on_idle_check(self, ctx: Context, wheel_id: int) -> None:
        wheel = self._current(ctx, wheel_id)
        if wheel is None or ctx.heap["shutdown"] or self._idle_timeout is None:
            return  # the connection is gone (or going): the timer lapses
        state = self._idle_seen
        reads, now = wheel.get_read_count(), time.monotonic()
        if reads != state[0]:
            state[0], state[1] = reads, now
        elif now - state[1] >= self._idle_timeout:
            state[1] = now  # once per idle_timeout, if server_error keeps the connection
            text = f"no input for {self._idle_timeout} s (idle_timeout)"
            self._on_server_error(ctx, "read", _errno.ETIMEDOUT, text, wheel_id)
            if self._current(ctx, wheel_id) is None:
                return
        ctx.kernel.delay("got_idle_check", sweep_period([self._idle_timeout]), wheel_id)

    def _on_shutdown_timeout(self, ctx: Context, wheel_id: int) -> None:
        wheel = self._current(ctx, wheel_id)
        if wheel is None:
            return
        ctx.heap["got_an_error"] = True
        text = f"server took no output for {self._shutdown_timeout} s (shutdown_timeout)"
        self._server_error(ctx, "write", _errno.ETIMEDOUT, text)
        if self._current(ctx, wheel_id) is not None:
            self._disconnect(ctx, graceful=False)

    def _on_put(self, ctx: Context, *records: Any) -> None:
        heap = ctx.heap
        if heap["connected"] and not heap["shutdown"]:
            heap["server"].put(*records)
            return
        state = "shutting down" if heap["shutdown"] else "not connected"
        log.warning("TCPClient %d: %s, %d record(s) dropped", ctx.session.ID, state, len(records))

    def _on_shutdown(self, ctx: Context) -> None:
        if self._final:
            return
        self._final = True
        heap = ctx.heap
        heap["shutdown"] = True
        self._cancel_timeout(ctx)
        if self._alias is not None:
            with contextlib.suppress(SessionNotFound):
                ctx.kernel.alias_remove(self._alias)
        wheel = heap["server"]
        if heap["connected"] and isinstance(wheel, ReadWriteWheel):
            wheel.event(input_event=None)  # later input is ignored: stop reading it
            if heap["got_an_error"] or not wheel.get_driver_out_octets():
                self._disconnect(ctx, graceful=True)
            elif self._shutdown_timeout is not None:
                # got_server_flush finishes the job; a server that never reads does not stop it.
                ctx.kernel.delay("got_shutdown_timeout", self._shutdown_timeout, wheel.ID)
        else:
            self._drop_server(heap)
        self._forget_reconnects(ctx)
        if not self._autoconnect:
            ctx.kernel.refcount_decrement(ctx.session.ID, _ON_DEMAND)

    def _disconnect(self, ctx: Context, *, graceful: bool) -> None:
        """Close the connection (TLS: with close_notify when graceful), then ``disconnected``."""
        heap = ctx.heap
        wheel = heap["server"]
        heap["server"] = None
        heap["connected"] = False
        if isinstance(wheel, ReadWriteWheel):
            wheel.close(flush=graceful and self._tls is not None, close_handles=True)
        self._clear_timers(ctx)
        if self._disconnected is not None:
            self._disconnected(ctx)
        if self._final:
            self._forget_reconnects(ctx)

    def _on_stop(self, ctx: Context) -> Any:
        # The kernel stopped the session (kernel.stop(), a DIE): release the socket.
        self._final = True
        self._drop_server(ctx.heap)
        if self._user_stop is not None:
            return self._user_stop(ctx)
        return None

    # -- helpers ------------------------------------------------------------------------------

    def _drop_server(self, heap: dict[str, Any]) -> None:
        """Close the factory or the connection silently (queued output is lost)."""
        server = heap.get("server")
        heap["server"] = None
        heap["connected"] = False
        if isinstance(server, ReadWriteWheel):
            server.close(close_handles=True)
        elif server is not None:
            server.close()

    @staticmethod
    def _current(ctx: Context, wheel_id: int) -> ReadWriteWheel | None:
        """The connection's wheel if ``wheel_id`` is still its id, else None (an older one)."""
        wheel = ctx.heap["server"]
        if isinstance(wheel, ReadWriteWheel) and wheel_id == wheel.ID:
            return wheel
        return None

    def _clear_timers(self, ctx: Context) -> None:
        """Drop the connection's timers, so they hold no session whose connection is gone."""
        if self._idle_timeout is not None:
            ctx.kernel.delay("got_idle_check")
        if self._shutdown_timeout is not None:
            ctx.kernel.delay("got_shutdown_timeout")

    def _cancel_timeout(self, ctx: Context) -> None:
        timer = ctx.heap.get("ctimeout_id")
        ctx.heap["ctimeout_id"] = None
        if timer is not None:
            with contextlib.suppress(TimerNotFound):
                ctx.kernel.alarm_remove(timer)

    @staticmethod
    def _forget_reconnects(ctx: Context) -> None:
        # After shutdown they would be ignored anyway; cleared, they do not hold the session.
        ctx.kernel.delay("reconnect")
        ctx.kernel.delay("connect")


def _default_connect_error(ctx: Context, operation: str, errnum: int, errstr: str) -> None:
    log.warning("TCPClient %d got %s error %d (%s)", ctx.session.ID, operation, errnum, errstr)


def _default_server_error(ctx: Context, operation: str, errnum: int, errstr: str) -> None:
    if operation == "read" and errnum in (0, _errno.ECONNRESET):
        return  # the server closed the connection: nothing to report
    log.warning("TCPClient %d got %s error %d (%s)", ctx.session.ID, operation, errnum, errstr)
