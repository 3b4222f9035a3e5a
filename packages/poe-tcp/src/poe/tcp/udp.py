"""A UDP socket session: datagrams in and out as events, errors that do not kill the socket.

:class:`UDPSocket` binds a datagram socket when it is constructed (so its port is known at
once) and runs a session that reads it. Each datagram received becomes
``datagram(ctx, data, address, port)``; the ``send`` event (or :meth:`UDPSocket.send`) sends one.

Rules:

* Errors are reported, never fatal: a failed ``recvfrom`` or ``sendto`` becomes
  ``error(ctx, operation, errnum, errstr)`` (``"read"`` or ``"send"``) and the socket keeps
  working. On Linux (where the socket sets ``IP_RECVERR``) an ICMP "port unreachable" answer
  to an earlier datagram arrives this way, as ECONNREFUSED, on the next read or send; a send
  that reports it did not send its own datagram, which is tried again. Elsewhere such errors
  are reported as the system reports them (often not at all, for an unconnected socket).
* ``max_datagram`` bounds both directions: a received datagram longer than it is dropped with
  ``error(ctx, "read", EMSGSIZE, ...)``, and sending a longer one reports
  ``error(ctx, "send", EMSGSIZE, ...)`` without sending.
* Sending never blocks: when the socket's buffer is full, datagrams wait in a queue, in order,
  and go out as it drains.
* ``shutdown`` stops reading, sends what is queued, closes the socket and removes the alias;
  the session then ends. ``send`` after it is dropped.
"""

from __future__ import annotations

import contextlib
import errno as _errno
import logging
import os
import socket
import sys
from collections import deque
from typing import TYPE_CHECKING, Any, Final

from poe.errors import InvalidArgument, SessionNotFound
from poe.session import Session
from poe.tcp._common import (
    Callback,
    check_alias,
    check_args,
    check_callback,
    check_int,
    check_reserved,
    merge_states,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from poe.kernel import Kernel
    from poe.loop import Mode
    from poe.session import Context

__all__ = ["UDPSocket"]

log: Final = logging.getLogger("poe.tcp")

_OWNED: Final = ("_start", "_stop", "send", "shutdown", "udp_read", "udp_write")
#: Datagrams read per readiness notification at most, so one busy socket cannot starve the rest.
_READS_PER_WAKEUP: Final = 64
#: <linux/in.h> and <linux/in6.h>; the socket module does not export them.
_IP_RECVERR: Final = getattr(socket, "IP_RECVERR", 11)
_IPV6_RECVERR: Final = getattr(socket, "IPV6_RECVERR", 25)


class UDPSocket:
    """A bound UDP socket whose datagrams arrive as callbacks and leave through ``send``.

    Args:
        kernel: the kernel to run in.
        bind_address: the local address; default the loopback of ``domain`` (``127.0.0.1`` or
            ``::1``). Use ``"0.0.0.0"`` / ``"::"`` for every interface.
        bind_port: the local port; 0: the system picks one (read :attr:`port`).
        domain: ``AF_INET`` (default) or ``AF_INET6``.
        alias: an alias for the session (removed at ``shutdown``).
        datagram: ``datagram(ctx, data, address, port)`` per datagram received (required).
        error: ``error(ctx, operation, errnum, errstr)``; default: log a warning.
        started: ``started(ctx, *args)`` at the end of the session's ``_start``.
        args: the arguments for ``started``.
        max_datagram: the largest datagram, in octets, received or sent (1..65535).
        inline_states: more ``{event: handler}`` states for the session.
        object_states: ``[(obj, events), ...]`` states bound to methods.
        package_states: ``[(cls, events), ...]`` states bound to class methods.
        session_options: the session's options.

    Raises:
        InvalidArgument: a missing or malformed argument.
        OSError: the socket cannot be made or bound (e.g. EADDRINUSE).
    """

    def __init__(
        self,
        kernel: Kernel,
        *,
        bind_address: str | None = None,
        bind_port: int = 0,
        domain: int = socket.AF_INET,
        alias: str | None = None,
        datagram: Callback,
        error: Callback | None = None,
        started: Callback | None = None,
        args: Sequence[Any] = (),
        max_datagram: int = 65535,
        inline_states: Mapping[str, Callback] | None = None,
        object_states: Iterable[tuple[Any, Mapping[str, str] | Iterable[str]]] = (),
        package_states: Iterable[tuple[type, Mapping[str, str] | Iterable[str]]] = (),
        session_options: Mapping[str, Any] | None = None,
    ) -> None:
        if domain not in (socket.AF_INET, socket.AF_INET6):
            msg = f"UDPSocket: domain must be AF_INET or AF_INET6, not {domain!r}"
            raise InvalidArgument(msg)
        if bind_address is None:
            bind_address = "::1" if domain == socket.AF_INET6 else "127.0.0.1"
        address = _check_str(bind_address, "bind_address")
        port = check_int(bind_port, "bind_port", 0, 65535)
        self._max = check_int(max_datagram, "max_datagram", 1, 65535)
        self._alias = check_alias(alias, "UDPSocket")
        self._args = check_args(args, "UDPSocket: args")
        on_datagram = check_callback(datagram, "datagram")
        if on_datagram is None:
            msg = "UDPSocket needs a datagram callback"
            raise InvalidArgument(msg)
        self._datagram: Callback = on_datagram
        self._error = check_callback(error, "error") or _default_error
        self._started = check_callback(started, "started")
        self._queue: deque[tuple[bytes, tuple[str, int]]] = deque()
        self._closing = False
        states = merge_states(
            {
                "_start": self._on_start,
                "_stop": self._on_stop,
                "send": self._on_send,
                "shutdown": self._on_shutdown,
                "udp_read": self._on_read,
                "udp_write": self._on_write,
            },
            inline_states,
            "UDPSocket",
        )
        object_states = check_reserved(object_states, _OWNED, "UDPSocket")
        package_states = check_reserved(package_states, _OWNED, "UDPSocket")

        self._socket: socket.socket | None = socket.socket(domain, socket.SOCK_DGRAM)
        try:
            self._socket.setblocking(False)
            _report_icmp_errors(self._socket, domain)
            self._socket.bind((address, port))
            name = self._socket.getsockname()
            self._kernel = kernel
            session = Session.create(
                kernel,
                inline_states=states,
                object_states=object_states,
                package_states=package_states,
                args=self._args,
                options=session_options,
            )
        except BaseException:
            self._close_socket()
            raise
        self.address: Final[str] = name[0]
        self.port: Final[int] = name[1]
        self._session_id: int = session.ID

    # -- the facade ---------------------------------------------------------------------------

    @property
    def session_id(self) -> int:
        """The socket session's id."""
        return self._session_id

    def send(self, data: bytes | bytearray | memoryview, address: str, port: int) -> None:
        """Post ``send``: send ``data`` as one datagram to ``address``:``port``.

        Raises:
            InvalidArgument: ``data`` is not bytes-like, or the address or port is malformed.
            SessionNotFound: the socket's session has ended.
        """
        given: object = data  # checked at run time: callers may not be type-checked
        if not isinstance(given, (bytes, bytearray, memoryview)):
            msg = f"UDPSocket.send: data must be bytes, not {type(given).__name__}"
            raise InvalidArgument(msg)
        address = _check_str(address, "UDPSocket.send: address")
        port = check_int(port, "UDPSocket.send: port", 1, 65535)
        self._kernel.post(self._session_id, "send", bytes(data), address, port)

    def shutdown(self) -> None:
        """Post ``shutdown``: stop reading, send what is queued, close. Harmless once ended."""
        with contextlib.suppress(SessionNotFound):
            self._kernel.post(self._session_id, "shutdown")

    # -- the session --------------------------------------------------------------------------

    def _on_start(self, ctx: Context, *args: Any) -> None:
        if self._alias is not None:
            ctx.kernel.alias_set(self._alias)
        ctx.kernel.select_read(self._socket, "udp_read")
        if self._started is not None:
            self._started(ctx, *args)

    def _on_read(self, ctx: Context, handle: socket.socket, mode: Mode) -> None:
        sock = self._socket
        if sock is None or self._closing:
            return
        size = self._max + 1  # one octet more than allowed tells an oversize datagram apart
        for count in range(_READS_PER_WAKEUP):
            try:
                data, peer = sock.recvfrom(size)
            except (BlockingIOError, InterruptedError):
                if not count:
                    # Readable without a datagram: an ICMP report already given by a send
                    # may still sit in the error queue, which would keep the socket readable.
                    _drain_error_queue(sock)
                return
            except OSError as exc:
                # E.g. ECONNREFUSED from an ICMP answer to an earlier send: report, keep going.
                _drain_error_queue(sock)
                self._rearm(ctx)
                self._report(ctx, "read", exc)
                return
            if len(data) > self._max:
                code = _errno.EMSGSIZE
                text = f"datagram from {peer[0]} port {peer[1]} is over {self._max} octets"
                self._error(ctx, "read", code, text)
            else:
                self._datagram(ctx, data, peer[0], peer[1])
            if self._socket is None or self._closing:
                return

    def _rearm(self, ctx: Context) -> None:
        """Watch the socket afresh after an error condition.

        libuv (uvloop) stops polling a descriptor that reported POLLERR, which an ICMP error
        raises on a UDP socket, and would silently stop reading; a new watch starts it again.
        """
        sock = self._socket
        if sock is not None and not self._closing:
            ctx.kernel.select_read(sock)
            ctx.kernel.select_read(sock, "udp_read")

    def _on_send(self, ctx: Context, data: bytes, address: str, port: int) -> None:
        if self._socket is None or self._closing:
            log.warning("UDPSocket %d: send after shutdown dropped", ctx.session.ID)
            return
        if len(data) > self._max:
            code = _errno.EMSGSIZE
            self._error(ctx, "send", code, f"datagram of {len(data)} octets is over {self._max}")
            return
        self._queue.append((data, (address, port)))
        if len(self._queue) == 1:
            self._flush(ctx)

    def _on_write(self, ctx: Context, handle: socket.socket, mode: Mode) -> None:
        self._flush(ctx)

    def _flush(self, ctx: Context) -> None:
        """Send queued datagrams until the queue is empty or the socket would block."""
        sock = self._socket
        queue = self._queue
        while queue and sock is not None:
            data, target = queue[0]
            try:
                sock.sendto(data, target)
            except (BlockingIOError, InterruptedError):
                ctx.kernel.select_write(sock, "udp_write")
                return
            except OSError as exc:
                if exc.errno == _errno.ECONNREFUSED:
                    # The ICMP answer to an *earlier* datagram; this one was not sent: the
                    # error is reported and cleared, and the datagram tried again.
                    _drain_error_queue(sock)
                    self._rearm(ctx)
                else:
                    queue.popleft()  # this datagram failed; the next one may well go out
                self._report(ctx, "send", exc)
                sock = self._socket
                continue
            queue.popleft()
        if sock is not None:
            ctx.kernel.select_write(sock)
            if self._closing:
                self._finish(ctx)

    def _on_shutdown(self, ctx: Context) -> None:
        if self._socket is None or self._closing:
            return
        self._closing = True
        ctx.kernel.select_read(self._socket)
        if self._alias is not None:
            with contextlib.suppress(SessionNotFound):
                ctx.kernel.alias_remove(self._alias)
        if not self._queue:
            self._finish(ctx)
        # else: _flush closes once the queue is empty.

    def _finish(self, ctx: Context) -> None:
        sock = self._socket
        if sock is not None:
            ctx.kernel.select_read(sock)
            ctx.kernel.select_write(sock)
        self._queue.clear()
        self._close_socket()

    def _on_stop(self, ctx: Context) -> None:
        # The kernel stopped the session (kernel.stop(), a DIE) or it ended: free the socket.
        self._finish(ctx)

    def _report(self, ctx: Context, operation: str, exc: OSError) -> None:
        code = exc.errno or _errno.EIO
        self._error(ctx, operation, code, exc.strerror or os.strerror(code))

    def _close_socket(self) -> None:
        sock, self._socket = self._socket, None
        if sock is not None:
            sock.close()


def _report_icmp_errors(sock: socket.socket, domain: int) -> None:
    """Linux: have ICMP errors (port unreachable...) reported on this unconnected socket.

    Without ``IP_RECVERR`` Linux reports them to connected UDP sockets only. With it, an error
    is both returned by the next ``recvfrom``/``sendto`` and queued in the socket's error queue,
    which :func:`_drain_error_queue` empties.
    """
    if not sys.platform.startswith("linux"):
        return
    if domain == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, _IPV6_RECVERR, 1)
    else:
        sock.setsockopt(socket.IPPROTO_IP, _IP_RECVERR, 1)


def _drain_error_queue(sock: socket.socket) -> None:
    """Empty the socket's error queue (its errors were reported through ``sk_err``)."""
    if not sys.platform.startswith("linux"):
        return
    for _ in range(_READS_PER_WAKEUP):
        try:
            sock.recvmsg(1, 1024, socket.MSG_ERRQUEUE)
        except OSError:
            return


def _check_str(value: object, name: str) -> str:
    if not isinstance(value, str) or not value:
        msg = f"{name} must be a non-empty string, not {value!r}"
        raise InvalidArgument(msg)
    return value


def _default_error(ctx: Context, operation: str, errnum: int, errstr: str) -> None:
    log.warning("UDPSocket %d got %s error %d (%s)", ctx.session.ID, operation, errnum, errstr)
