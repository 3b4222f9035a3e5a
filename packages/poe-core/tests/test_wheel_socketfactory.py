"""POE::Wheel::SocketFactory: ports of wheel_sf_tcp, wheel_sf_udp, wheel_sf_unix, wheel_sf_ipv6
and connect_errors (POE 1.370), on real sockets.
"""

from __future__ import annotations

import errno
import os
import socket
import tempfile
import time
from collections.abc import Iterator
from typing import Any

import pytest

from poe.errors import InvalidArgument
from poe.filter import StreamFilter
from poe.kernel import Kernel
from poe.session import Context, Session
from poe.wheel import ReadWriteWheel, SocketFactoryWheel

Log = list[Any]
LINES = [f"line {i}" for i in range(10)]


def run(kernel: Kernel, **states: Any) -> dict[str, Any]:
    heap: dict[str, Any] = {}
    Session.create(kernel, inline_states=states, heap=heap)
    kernel.run()
    return heap


@pytest.fixture
def unix_path() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp:
        yield os.path.join(tmp, "sock")


# -- TCP (wheel_sf_tcp, wheel_sf_ipv6) --------------------------------------------------------


def test_tcp_server_and_client_echo(kernel: Kernel, loopback: tuple[int, str]) -> None:
    domain, host = loopback
    log: Log = []
    echoed: list[str] = []

    def start(ctx: Context) -> None:
        server = ctx.heap["server"] = SocketFactoryWheel(
            ctx.kernel,
            socket_domain=domain,
            bind_address=host,
            bind_port=0,
            reuse=True,
            success_event="server_accepted",
            failure_event="failed",
        )
        port = server.getsockname()[1]
        assert isinstance(port, int)
        assert port > 0
        ctx.heap["port"] = port
        ctx.heap["client"] = SocketFactoryWheel(
            ctx.kernel,
            socket_domain=domain,
            remote_address=host,
            remote_port=port,
            success_event="client_connected",
            failure_event="failed",
        )

    def server_accepted(ctx: Context, sock: socket.socket, addr: Any, port: Any, wid: int) -> None:
        assert wid == ctx.heap["server"].ID
        assert (addr, isinstance(port, int)) == (host, True)
        log.append("accepted")
        ctx.heap["server_rw"] = ReadWriteWheel(
            ctx.kernel, handle=sock, input_event="server_got", error_event="server_error"
        )

    def client_connected(ctx: Context, sock: socket.socket, addr: Any, port: Any, wid: int) -> None:
        assert wid == ctx.heap["client"].ID
        assert (addr, port) == (host, ctx.heap["port"])
        log.append("connected")
        ctx.heap.pop("client").close()
        rw = ctx.heap["client_rw"] = ReadWriteWheel(
            ctx.kernel, handle=sock, input_event="client_got"
        )
        for line in LINES:
            rw.put(line)

    def server_got(ctx: Context, line: str, wid: int) -> None:
        ctx.heap["server_rw"].put(line)

    def client_got(ctx: Context, line: str, wid: int) -> None:
        echoed.append(line)
        if len(echoed) == len(LINES):
            ctx.heap.pop("client_rw").close(close_handles=True)

    def server_error(ctx: Context, op: str, code: int, text: str, wid: int) -> None:
        log.append((op, code, text))
        ctx.heap.pop("server_rw").close(close_handles=True)
        ctx.heap.pop("server").close()

    run(
        kernel,
        _start=start,
        server_accepted=server_accepted,
        client_connected=client_connected,
        server_got=server_got,
        client_got=client_got,
        server_error=server_error,
        failed=lambda ctx, *a: log.append(("failed", *a)),
    )
    assert echoed == LINES
    assert sorted(log[:2]) == ["accepted", "connected"]
    assert log[2:] == [("read", 0, "")]


def test_tcp_all_put_data_is_flushed_before_eof(kernel: Kernel) -> None:
    data = os.urandom(512 * 1024)
    received = bytearray()
    log: Log = []

    def start(ctx: Context) -> None:
        server = ctx.heap["server"] = SocketFactoryWheel(
            ctx.kernel, bind_address="127.0.0.1", success_event="accepted", failure_event="failed"
        )
        ctx.heap["client"] = SocketFactoryWheel(
            ctx.kernel,
            remote_address="127.0.0.1",
            remote_port=server.getsockname()[1],
            success_event="connected",
            failure_event="failed",
        )

    def accepted(ctx: Context, sock: socket.socket, *rest: Any) -> None:
        ctx.heap.pop("server").close()
        ctx.heap["reader"] = ReadWriteWheel(
            ctx.kernel, handle=sock, filter=StreamFilter(), input_event="got", error_event="err"
        )

    def connected(ctx: Context, sock: socket.socket, *rest: Any) -> None:
        ctx.heap.pop("client")
        writer = ReadWriteWheel(ctx.kernel, handle=sock, filter=StreamFilter())
        writer.put(data)
        writer.close(flush=True, close_handles=True)  # drains, then closes: the peer sees EOF

    def got(ctx: Context, chunk: bytes, wid: int) -> None:
        received.extend(chunk)

    def err(ctx: Context, op: str, code: int, text: str, wid: int) -> None:
        log.append((op, code))
        ctx.heap.pop("reader").close(close_handles=True)

    run(
        kernel,
        _start=start,
        accepted=accepted,
        connected=connected,
        got=got,
        err=err,
        failed=lambda ctx, *a: log.append(a),
    )
    assert log == [("read", 0)]
    assert bytes(received) == data


def test_client_resolves_host_names_without_blocking(kernel: Kernel) -> None:
    log: Log = []
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)

        def start(ctx: Context) -> None:
            ctx.heap["client"] = SocketFactoryWheel(
                ctx.kernel,
                remote_address="localhost",
                remote_port=str(listener.getsockname()[1]),
                success_event="connected",
                failure_event="failed",
            )
            log.append("constructed")

        def connected(ctx: Context, sock: socket.socket, addr: Any, port: Any, wid: int) -> None:
            log.append(("connected", addr, port == listener.getsockname()[1]))
            sock.close()
            ctx.heap.pop("client").close()

        run(
            kernel,
            _start=start,
            connected=connected,
            failed=lambda ctx, *a: log.append(("failed", *a)),
        )
        conn, _ = listener.accept()
        conn.close()
    assert log == ["constructed", ("connected", "127.0.0.1", True)]


def test_close_while_resolving_releases_the_session(kernel: Kernel) -> None:
    log: Log = []

    def start(ctx: Context) -> None:
        wheel = SocketFactoryWheel(
            ctx.kernel,
            remote_address="localhost",
            remote_port=9,
            success_event="connected",
            failure_event="failed",
        )
        wheel.close()

    run(kernel, _start=start, connected=log.append, failed=log.append, _stop=lambda ctx: None)
    assert log == []


def test_close_after_the_answer_was_queued_still_releases_the_session(kernel: Kernel) -> None:
    log: Log = []

    def start(ctx: Context) -> None:
        wheel = SocketFactoryWheel(
            ctx.kernel,
            remote_address="localhost",
            remote_port=9,
            success_event="connected",
            failure_event="failed",
        )
        deadline = time.monotonic() + 10
        while not wheel._resolve_flags["posted"] and time.monotonic() < deadline:
            time.sleep(0.001)  # the worker thread answers: a real OS event
        assert wheel._resolve_flags["posted"]
        wheel.close()

    run(
        kernel,
        _start=start,
        connected=log.append,
        failed=log.append,
        _stop=lambda ctx: log.append("stop"),
    )
    assert log == ["stop"]


def test_pause_and_resume_accept(kernel: Kernel) -> None:
    log: Log = []
    client = socket.socket()

    def start(ctx: Context) -> None:
        server = ctx.heap["server"] = SocketFactoryWheel(
            ctx.kernel, bind_address="127.0.0.1", success_event="accepted", failure_event="failed"
        )
        assert server.pause_accept() is True
        client.connect(server.getsockname())  # completes through the backlog
        ctx.kernel.yield_("tick", 10)

    def tick(ctx: Context, n: int) -> None:
        log.append("tick")
        if n:
            ctx.kernel.yield_("tick", n - 1)
        else:
            assert ctx.heap["server"].resume_accept() is True

    def accepted(ctx: Context, sock: socket.socket, *rest: Any) -> None:
        log.append("accepted")
        sock.close()
        server = ctx.heap.pop("server")
        server.close()
        assert server.pause_accept() is False

    with client:
        run(
            kernel,
            _start=start,
            tick=tick,
            accepted=accepted,
            failed=lambda ctx, *a: log.append(a),
        )
    assert log == ["tick"] * 11 + ["accepted"]


# -- UDP (wheel_sf_udp) -----------------------------------------------------------------------


def test_udp_connectionless_and_connected(kernel: Kernel) -> None:
    log: Log = []
    sockets: list[socket.socket] = []

    def start(ctx: Context) -> None:
        server = ctx.heap["server"] = SocketFactoryWheel(
            ctx.kernel,
            socket_type=socket.SOCK_DGRAM,
            bind_address="127.0.0.1",
            success_event="server_ready",
            failure_event="failed",
        )
        log.append("constructed")
        ctx.heap["client"] = SocketFactoryWheel(
            ctx.kernel,
            socket_type=socket.SOCK_DGRAM,
            remote_address="127.0.0.1",
            remote_port=server.getsockname()[1],
            success_event="client_ready",
            failure_event="failed",
        )

    def server_ready(ctx: Context, sock: socket.socket, addr: Any, port: Any, wid: int) -> None:
        # connectionless: yielded at once, no peer
        assert (addr, port, wid) == (None, None, ctx.heap["server"].ID)
        sockets.append(sock)
        log.append("server_ready")
        ctx.heap["server_rw"] = ReadWriteWheel(
            ctx.kernel, handle=sock, filter=StreamFilter(), input_event="server_got"
        )
        maybe_send(ctx)

    def client_ready(ctx: Context, sock: socket.socket, addr: Any, port: Any, wid: int) -> None:
        assert addr == "127.0.0.1"
        assert port == ctx.heap["server"].getsockname()[1]
        sockets.append(sock)
        log.append("client_ready")
        ctx.heap["client_rw"] = ReadWriteWheel(ctx.kernel, handle=sock, filter=StreamFilter())
        maybe_send(ctx)

    def maybe_send(ctx: Context) -> None:
        if "server_rw" in ctx.heap and "client_rw" in ctx.heap:
            ctx.heap["client_rw"].put(b"datagram")

    def server_got(ctx: Context, data: bytes, wid: int) -> None:
        log.append(data)
        for name in ("server", "client", "server_rw", "client_rw"):
            ctx.heap.pop(name).close()

    try:
        run(
            kernel,
            _start=start,
            server_ready=server_ready,
            client_ready=client_ready,
            server_got=server_got,
            failed=lambda ctx, *a: log.append(a),
        )
    finally:
        for s in sockets:
            s.close()
    assert log[0] == "constructed"
    assert sorted(log[1:3]) == ["client_ready", "server_ready"]
    assert log[3:] == [b"datagram"]


# -- UNIX (wheel_sf_unix) ---------------------------------------------------------------------


def test_unix_server_and_client(kernel: Kernel, unix_path: str) -> None:
    log: Log = []

    def start(ctx: Context) -> None:
        ctx.heap["server"] = SocketFactoryWheel(
            ctx.kernel,
            socket_domain=socket.AF_UNIX,
            bind_address=unix_path,
            success_event="accepted",
            failure_event="failed",
        )
        assert ctx.heap["server"].getsockname() == unix_path
        ctx.heap["client"] = SocketFactoryWheel(
            ctx.kernel,
            socket_domain=socket.AF_UNIX,
            remote_address=unix_path,
            success_event="connected",
            failure_event="failed",
        )

    def accepted(ctx: Context, sock: socket.socket, addr: Any, port: Any, wid: int) -> None:
        assert (addr, port) == (None, None)
        ctx.heap.pop("server").close()
        ctx.heap["srw"] = ReadWriteWheel(
            ctx.kernel, handle=sock, input_event="server_got", error_event="server_err"
        )

    def connected(ctx: Context, sock: socket.socket, addr: Any, port: Any, wid: int) -> None:
        assert addr == unix_path
        assert port is None
        ctx.heap.pop("client")
        rw = ReadWriteWheel(ctx.kernel, handle=sock)
        rw.put("over unix")
        rw.close(flush=True, close_handles=True)

    def server_got(ctx: Context, line: str, wid: int) -> None:
        log.append(line)

    def server_err(ctx: Context, op: str, code: int, text: str, wid: int) -> None:
        log.append((op, code))
        ctx.heap.pop("srw").close(close_handles=True)

    run(
        kernel,
        _start=start,
        accepted=accepted,
        connected=connected,
        server_got=server_got,
        server_err=server_err,
        failed=lambda ctx, *a: log.append(a),
    )
    assert log == ["over unix", ("read", 0)]


# -- failures (connect_errors) ----------------------------------------------------------------


def _free_port(family: int, host: str) -> int:
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
    return port


def test_refused_connect_is_a_failure_event(kernel: Kernel, loopback: tuple[int, str]) -> None:
    domain, host = loopback
    log: Log = []
    port = _free_port(domain, host)

    def start(ctx: Context) -> None:
        ctx.heap["client"] = SocketFactoryWheel(
            ctx.kernel,
            socket_domain=domain,
            remote_address=host,
            remote_port=port,
            success_event="connected",
            failure_event="failed",
        )

    def failed(ctx: Context, op: str, code: int, text: str, wid: int) -> None:
        log.append((op, code, text, wid == ctx.heap["client"].ID))
        ctx.heap.pop("client").close()

    run(kernel, _start=start, failed=failed, connected=lambda ctx, *a: log.append(a))
    assert log == [("connect", errno.ECONNREFUSED, os.strerror(errno.ECONNREFUSED), True)]


def test_failures_during_construction_are_yielded(kernel: Kernel, unix_path: str) -> None:
    log: Log = []
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        busy_port = taken.getsockname()[1]

        def start(ctx: Context) -> None:
            ctx.heap["bind"] = SocketFactoryWheel(
                ctx.kernel,
                bind_address="127.0.0.1",
                bind_port=busy_port,
                success_event="ok",
                failure_event="failed",
            )
            ctx.heap["unix"] = SocketFactoryWheel(
                ctx.kernel,
                socket_domain=socket.AF_UNIX,
                remote_address=unix_path,
                success_event="ok",
                failure_event="failed",
            )
            assert ctx.heap["bind"].get_socket() is None  # failed: socket closed already
            log.append("constructed")

        def failed(ctx: Context, op: str, code: int, text: str, wid: int) -> None:
            log.append((op, code))
            ctx.heap.pop("bind" if op == "bind" else "unix").close()

        run(kernel, _start=start, failed=failed, ok=lambda ctx, *a: log.append(a))
    assert log == ["constructed", ("bind", errno.EADDRINUSE), ("connect", errno.ENOENT)]


def test_validation(kernel: Kernel) -> None:
    def start(ctx: Context) -> None:
        k = ctx.kernel
        bad: list[dict[str, Any]] = [
            {"failure_event": "f"},
            {"success_event": "s"},
            {"success_event": "s", "failure_event": "f", "socket_domain": 12345},
            {"success_event": "s", "failure_event": "f", "socket_type": socket.SOCK_RAW},
            {"success_event": "s", "failure_event": "f", "remote_port": 80},
            {"success_event": "s", "failure_event": "f", "remote_address": "127.0.0.1"},
            {"success_event": "s", "failure_event": "f", "bind_port": "no-such-service-x"},
            {"success_event": "s", "failure_event": "f", "bind_port": 70000},
            {"success_event": "s", "failure_event": "f", "socket_protocol": "no-such-proto"},
        ]
        for params in bad:
            with pytest.raises((InvalidArgument, TypeError)):
                SocketFactoryWheel(k, **params)
        wheel = SocketFactoryWheel(
            k, bind_address="127.0.0.1", socket_protocol="tcp", success_event="s", failure_event="f"
        )
        with pytest.raises(InvalidArgument):
            wheel.event(bogus="x")
        wheel.event(success_event="s2", failure_event=None)
        wheel.close()
        assert wheel.get_socket() is None

    run(kernel, _start=start)
