"""Create client and server sockets without blocking the kernel (POE::Wheel::SocketFactory).

Port of POE::Wheel::SocketFactory 1.370, for TCP and UDP over IPv4 and IPv6, and UNIX sockets.

* **Client** (``remote_address`` given): a non-blocking ``connect``; when the socket becomes
  writable the wheel checks ``SO_ERROR`` and ``getpeername`` and ``call``-s
  ``success_event(socket, peer_address, peer_port, wheel_id)``, or
  ``failure_event("connect", errno, errstr, wheel_id)``. There is no connect timeout (as in POE):
  close the wheel from a timer to give up.
* **Server** (stream socket, no remote address): ``listen``, then one ``accept`` per readable
  notification, each a ``success_event(socket, peer_address, peer_port, wheel_id)``
  (UNIX: address and port None). :meth:`SocketFactoryWheel.pause_accept` and
  :meth:`~SocketFactoryWheel.resume_accept` stop and restart accepting.
* **Connectionless** (datagram socket, no remote address): the bound socket is handed over at
  once with a *yielded* ``success_event(socket, None, None, wheel_id)``.

Failures while the constructor runs (``socket``, ``setsockopt``, ``bind``, ``listen``, an
immediate ``connect`` failure) are *yielded*, later ones ``call``-ed; ``new`` always returns the
wheel. Operation names: ``"socket"``, ``"setsockopt"``, ``"getaddrinfo"``, ``"bind"``,
``"listen"``, ``"connect"``, ``"getpeername"``, ``"accept"``.

Name resolution never blocks the kernel: numeric addresses are used as they are; host names are
resolved with ``getaddrinfo`` in a worker thread whose answer comes back as an event
(``kernel.post_threadsafe``), the session being held alive meanwhile. POE resolves ``BindAddress``
blocking. Peer addresses are address strings (``"127.0.0.1"``, ``"::1"``; UNIX: the path or
None) rather than POE's packed ``sockaddr``; ports are ``int``.

Ownership: the wheel owns its socket until it hands it over in ``success_event``; closing the
wheel closes a socket it still owns (a listening socket, an unfinished connect). Sockets handed
over belong to the receiver. A UNIX server's socket file is not unlinked (as POE).
"""

from __future__ import annotations

import contextlib
import errno as _errno
import socket
import threading
from typing import TYPE_CHECKING, Any

from poe.errors import InvalidArgument
from poe.loop import Mode
from poe.wheel._base import WheelBase, rename_events, strerror

if TYPE_CHECKING:
    from poe.kernel import Kernel
    from poe.session import Context

__all__ = ["SocketFactoryWheel"]

_DOMAINS = {
    socket.AF_INET: "inet",
    socket.AF_INET6: "inet6",
    socket.AF_UNIX: "unix",
}
_TYPES = (socket.SOCK_STREAM, socket.SOCK_DGRAM)
#: accept() failures that mean "nothing to accept after all" (OSX also gives ESPIPE).
_IGNORED_ACCEPT = frozenset({_errno.EAGAIN, _errno.EWOULDBLOCK, _errno.ECONNABORTED})
_CONNECT_PENDING = frozenset({0, _errno.EINPROGRESS, _errno.EWOULDBLOCK})


def _is_numeric(family: int, host: str) -> bool:
    try:
        socket.inet_pton(family, host)
    except (OSError, ValueError):
        return False
    return True


def _port_number(value: int | str | None, proto: str) -> int:
    if value is None:
        return 0
    if isinstance(value, int) and not isinstance(value, bool):
        port = value
    elif isinstance(value, str) and value.isdigit():
        port = int(value)
    elif isinstance(value, str):
        try:
            port = socket.getservbyname(value, proto)
        except OSError:
            msg = f"unknown service name {value!r}"
            raise InvalidArgument(msg) from None
    else:
        msg = f"a port must be an int or a service name, not {value!r}"
        raise InvalidArgument(msg)
    if not 0 <= port <= 65535:
        msg = f"port {port} is out of range"
        raise InvalidArgument(msg)
    return port


def _peer(family: int, address: Any) -> tuple[Any, int | None]:
    if family == socket.AF_UNIX:
        return (address or None), None
    return address[0], int(address[1])


class SocketFactoryWheel(WheelBase):
    """Make a client, server or connectionless socket and report when it is ready.

    Args:
        kernel: the kernel; its active session owns the wheel.
        success_event: ``(socket, peer_address, peer_port, wheel_id)`` (required).
        failure_event: ``(operation, errno, errstr, wheel_id)`` (required).
        socket_domain: ``AF_INET`` (default), ``AF_INET6`` or ``AF_UNIX``.
        socket_type: ``SOCK_STREAM`` (default) or ``SOCK_DGRAM``.
        socket_protocol: protocol name (``"tcp"``) or number; default: the type's usual one.
            Ignored for UNIX sockets.
        bind_address: local address (numeric or host name) or, for UNIX, a path.
        bind_port: local port (number, digit string or service name); default 0.
        reuse: set ``SO_REUSEADDR`` before binding.
        remote_address: connect to this address (a UNIX path for UNIX sockets): client mode.
        remote_port: the remote port (required with an IP ``remote_address``).
        listen_queue: ``listen`` backlog (default ``SOMAXCONN``).

    Raises:
        InvalidArgument: a missing event, an unknown domain or type, a remote port without a
            remote address (POE carps), a missing remote port, a bad port.
        NotInSession: not created inside a session's handler.
    """

    def __init__(
        self,
        kernel: Kernel,
        *,
        success_event: str,
        failure_event: str,
        socket_domain: int = socket.AF_INET,
        socket_type: int = socket.SOCK_STREAM,
        socket_protocol: int | str | None = None,
        bind_address: str | bytes | None = None,
        bind_port: int | str | None = None,
        reuse: bool = False,
        remote_address: str | bytes | None = None,
        remote_port: int | str | None = None,
        listen_queue: int = socket.SOMAXCONN,
    ) -> None:
        given: tuple[object, object] = (success_event, failure_event)  # callers may be untyped
        if not isinstance(given[0], str) or not isinstance(given[1], str):
            msg = "SocketFactoryWheel needs a success_event and a failure_event"
            raise InvalidArgument(msg)
        if socket_domain not in _DOMAINS:
            msg = f"unsupported socket_domain {socket_domain!r}"
            raise InvalidArgument(msg)
        if socket_type not in _TYPES:
            msg = f"unsupported socket_type {socket_type!r}"
            raise InvalidArgument(msg)
        if remote_port is not None and remote_address is None:
            msg = "remote_port requires remote_address"
            raise InvalidArgument(msg)
        unix = socket_domain == socket.AF_UNIX
        proto_name = "tcp" if socket_type == socket.SOCK_STREAM else "udp"
        proto = 0
        if not unix:
            if remote_address is not None and remote_port is None:
                msg = "remote_port is required with remote_address"
                raise InvalidArgument(msg)
            if isinstance(socket_protocol, str):
                try:
                    proto = socket.getprotobyname(socket_protocol)
                except OSError:
                    msg = f"unknown protocol {socket_protocol!r}"
                    raise InvalidArgument(msg) from None
            elif socket_protocol is not None:
                proto = int(socket_protocol)
        self._bind_port = 0 if unix else _port_number(bind_port, proto_name)
        self._remote_port = 0 if unix else _port_number(remote_port, proto_name)
        super().__init__(kernel)
        self._success_event: str | None = success_event
        self._failure_event: str | None = failure_event
        self._domain = socket_domain
        self._type = socket_type
        self._proto = proto
        self._bind_address = bind_address
        self._remote_address = remote_address
        self._reuse = reuse
        self._listen_queue = listen_queue
        self._socket: socket.socket | None = None
        self._sockname: Any = None
        self._resolve_token = 0  # identifies the latest resolution started
        self._resolve_then = ""  # the step to continue with; "" when nothing is in flight
        self._resolve_lock = threading.Lock()
        self._resolve_flags = {"abandoned": False, "posted": False}
        self._extref = f"poe.wheel.SocketFactory({self._id}) resolving"
        self._constructing = True
        try:
            self._make_socket()
        finally:
            self._constructing = False

    # -- the construction pipeline ------------------------------------------------------------

    def _fail(self, operation: str, code: int, text: str | None = None) -> None:
        if self._closed:
            return
        self._drop_socket()
        event = self._failure_event
        if event is None:
            return
        args = (operation, code, text if text is not None else strerror(code), self._id)
        if self._constructing:
            self._kernel.yield_(event, *args)
        else:
            self._emit(event, *args)

    def _fail_exc(self, operation: str, exc: OSError) -> None:
        code = exc.errno if exc.errno is not None else _errno.EIO
        self._fail(operation, code, exc.strerror or strerror(code))

    def _make_socket(self) -> None:
        try:
            sock = socket.socket(self._domain, self._type, self._proto)
        except OSError as exc:
            self._fail_exc("socket", exc)
            return
        self._socket = sock
        sock.setblocking(False)
        if self._reuse:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            except OSError as exc:
                self._fail_exc("setsockopt", exc)
                return
        if self._domain == socket.AF_UNIX:
            if self._bind_address is not None:
                self._bind(self._bind_address)
            else:
                self._after_bind()
        elif self._bind_address is not None or self._bind_port or self._remote_address is None:
            host = self._bind_address
            if host is None:
                host = "::" if self._domain == socket.AF_INET6 else "0.0.0.0"
            self._resolve(host, self._bind_port, "_bind")
        else:
            self._after_bind()

    def _resolve(self, host: str | bytes, port: int, then: str) -> None:
        text = host.decode() if isinstance(host, bytes) else host
        if _is_numeric(self._domain, text):
            getattr(self, then)((text, port))
            return
        self._resolve_token += 1
        token = self._resolve_token
        self._resolve_then = then
        state = self._define("resolved", "_on_resolved")
        session_id = self._session.ID
        self._kernel.refcount_increment(session_id, self._extref)
        family, kind, proto = self._domain, self._type, self._proto
        post = self._kernel.post_threadsafe
        lock = self._resolve_lock
        flags = self._resolve_flags = {"abandoned": False, "posted": False}

        def worker() -> None:
            try:
                infos = socket.getaddrinfo(text, port, family, kind, proto)
            except OSError as exc:
                code = exc.errno if exc.errno is not None else _errno.EIO
                result: Any = ("error", code, exc.strerror or str(exc))
            else:
                result = ("ok", infos[0][4]) if infos else ("error", _errno.ENOENT, "no address")
            with lock:  # close() takes the lock too: after it, nothing is posted any more
                if not flags["abandoned"]:
                    flags["posted"] = True
                    with contextlib.suppress(Exception):
                        post(session_id, state, token, result)

        threading.Thread(target=worker, name=f"{self._extref}", daemon=True).start()

    def _on_resolved(self, token: int, result: tuple[Any, ...]) -> None:
        if token != self._resolve_token or not self._resolve_then:
            return
        then = self._resolve_then
        self._release_extref()
        if result[0] == "ok":
            getattr(self, then)(result[1])
        else:
            self._fail("getaddrinfo", result[1], result[2])

    def _release_extref(self, *, closing: bool = False) -> None:
        """The resolution in flight is over (answered or abandoned): release the session."""
        if not self._resolve_then:
            return
        self._resolve_then = ""
        with self._resolve_lock:
            in_flight = self._resolve_flags["posted"] and not self._resolve_flags["abandoned"]
            self._resolve_flags["abandoned"] = True
        if not self._session.alive:
            return
        if in_flight and closing:
            # The answer is already queued: hold the session until it arrives, then let go.
            name = self._state_name("resolved")
            self._forget_state(name)
            kernel, session_id, tag = self._kernel, self._session.ID, self._extref

            def late_answer(ctx: Context, *args: Any) -> None:
                ctx.kernel.state(name)
                kernel.refcount_decrement(session_id, tag)

            self._session._set_handler(name, late_answer)
            return
        with contextlib.suppress(Exception):
            self._kernel.refcount_decrement(self._session.ID, self._extref)

    def _bind(self, address: Any) -> None:
        sock = self._socket
        assert sock is not None
        try:
            sock.bind(address)
        except OSError as exc:
            self._fail_exc("bind", exc)
            return
        self._after_bind()

    def _after_bind(self) -> None:
        sock = self._socket
        assert sock is not None
        if self._remote_address is not None:
            if self._domain == socket.AF_UNIX:
                self._connect(self._remote_address)
            else:
                self._resolve(self._remote_address, self._remote_port, "_connect")
        elif self._type == socket.SOCK_STREAM:
            try:
                sock.listen(self._listen_queue)
            except OSError as exc:
                self._fail_exc("listen", exc)
                return
            self._watch(sock, Mode.READ, self._define("select accept", "_on_accept"))
        else:
            self._sockname = sock.getsockname()
            self._socket = None  # handed over
            event = self._success_event
            if event is not None:
                self._kernel.post(self._session, event, sock, None, None, self._id)
            else:
                sock.close()

    def _connect(self, address: Any) -> None:
        sock = self._socket
        assert sock is not None
        try:
            code = sock.connect_ex(address)
        except OSError as exc:
            self._fail_exc("connect", exc)
            return
        if code not in _CONNECT_PENDING:
            self._fail("connect", code)
            return
        self._watch(sock, Mode.WRITE, self._define("select connect", "_on_connect"))

    # -- readiness ----------------------------------------------------------------------------

    def _on_connect(self, handle: Any, mode: Mode, *args: Any) -> None:
        sock = self._socket
        if sock is None:
            return
        self._unwatch(sock, Mode.WRITE)
        code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if code:
            self._fail("connect", code)
            return
        try:
            peer = sock.getpeername()
        except OSError as exc:
            self._fail_exc("getpeername", exc)
            return
        self._sockname = sock.getsockname()
        self._socket = None  # handed over
        address, port = _peer(self._domain, peer)
        if self._success_event is None:
            sock.close()
            return
        self._emit(self._success_event, sock, address, port, self._id)

    def _on_accept(self, handle: Any, mode: Mode, *args: Any) -> None:
        sock = self._socket
        if sock is None:
            return
        try:
            new_socket, peer = sock.accept()
        except OSError as exc:
            if exc.errno in _IGNORED_ACCEPT or exc.errno == getattr(_errno, "ESPIPE", None):
                return
            code = exc.errno if exc.errno is not None else _errno.EIO
            if self._failure_event is not None:
                self._emit(
                    self._failure_event, "accept", code, exc.strerror or strerror(code), self._id
                )
            return
        new_socket.setblocking(False)
        address, port = _peer(self._domain, peer)
        if self._success_event is None:
            new_socket.close()
            return
        self._emit(self._success_event, new_socket, address, port, self._id)

    # -- public methods -----------------------------------------------------------------------

    def event(self, **renames: str | None) -> None:
        """Rename (None: disable) ``success_event`` and ``failure_event``.

        Raises:
            InvalidArgument: an unknown event.
        """
        rename_events(
            self, {"success_event": "_success_event", "failure_event": "_failure_event"}, renames
        )

    def getsockname(self) -> Any:
        """The local address of the socket (e.g. to learn the port of a ``bind_port=0``)."""
        if self._socket is not None:
            return self._socket.getsockname()
        return self._sockname

    def get_socket(self) -> socket.socket | None:
        """The socket the wheel still owns (listening or connecting), else None."""
        return self._socket

    def pause_accept(self) -> bool:
        """Stop accepting (server mode). True if the wheel is listening."""
        if self._socket is None or self._watching(self._socket.fileno(), Mode.READ) < 0:
            return False
        return self._pause(self._socket, Mode.READ, paused=True)

    def resume_accept(self) -> bool:
        """Resume accepting after :meth:`pause_accept`. True if the wheel is listening."""
        if self._socket is None or self._watching(self._socket.fileno(), Mode.READ) < 0:
            return False
        return self._pause(self._socket, Mode.READ, paused=False)

    def _drop_socket(self) -> None:
        sock, self._socket = self._socket, None
        if sock is None:
            return
        fd = sock.fileno()
        for mode in (Mode.READ, Mode.WRITE):
            if self._watching(fd, mode) >= 0:
                self._unwatch(sock, mode)
        with contextlib.suppress(OSError):
            self._sockname = sock.getsockname()
        sock.close()

    def close(self) -> None:
        """Stop: close the socket the wheel still owns, remove handlers and watchers."""
        if self._closed:
            return
        self._drop_socket()
        self._release_extref(closing=True)
        super().close()
