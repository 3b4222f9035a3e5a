"""TCPServer (POE::Component::Server::TCP): every option, over real sockets.

Clients are plain blocking sockets in threads (``peers`` fixture), or a poe session where the
order of events on both sides matters (the oracle trace). Every test ends by shutting the
server down, so ``kernel.run()`` returns; the module timeout turns a hang into a failure.
"""

from __future__ import annotations

import errno
import functools
import logging
import os
import socket
import ssl
import threading
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

import pytest

import poe.tcp
from poe.errors import InvalidArgument
from poe.filter import BlockFilter, LineFilter, StreamFilter
from poe.session import Context, Session
from poe.tcp import TCPServer
from poe.testing import when
from poe.wheel import ReadWriteWheel, SocketFactoryWheel

if TYPE_CHECKING:
    from pathlib import Path

    from conftest import Peers
    from poe.kernel import Kernel

pytestmark = pytest.mark.timeout(30)

WAIT = 10.0  # seconds a test waits for a peer thread's result


def echo(ctx: Context, line: str) -> None:
    ctx.heap["client"].put(f"echo:{line}")


def port_of(server: TCPServer) -> int:
    """The port a TCP server listens on (the system chose it: the tests ask for port 0)."""
    assert server.port is not None
    return server.port


# ------------------------------------------------------------------------------ the POE oracle


def test_callback_order_matches_poe_oracle(kernel: Kernel) -> None:
    """poe-api.md §18: Server::TCP + a client over 127.0.0.1, POE 1.370's exact order."""
    trace: list[str] = []

    def client_input(ctx: Context, line: str) -> None:
        trace.append(f"S:ClientInput({line})")
        if line == "bye":
            ctx.heap["client"].put("ciao")
            ctx.kernel.yield_("shutdown")
            ctx.kernel.post("server", "shutdown")
        else:
            ctx.heap["client"].put(f"echo:{line}")

    def client_connected(ctx: Context) -> None:
        trace.append("S:ClientConnected")
        ctx.heap["client"].put("hello")

    server = TCPServer(
        kernel,
        address="127.0.0.1",
        alias="server",
        started=lambda ctx: trace.append("S:Started"),
        stopped=lambda ctx: trace.append("S:Stopped"),
        client_input=client_input,
        client_connected=client_connected,
        client_flushed=lambda ctx: trace.append("S:ClientFlushed"),
        client_disconnected=lambda ctx: trace.append("S:ClientDisconnected"),
    )

    # The client: POE::Component::Client::TCP's callbacks, built from the two wheels.
    def c_start(ctx: Context) -> None:
        ctx.kernel.yield_("reconnect")
        trace.append("C:Started")

    def c_reconnect(ctx: Context) -> None:
        ctx.heap["factory"] = SocketFactoryWheel(
            ctx.kernel,
            remote_address="127.0.0.1",
            remote_port=server.port,
            success_event="connected",
            failure_event="connect_error",
        )

    def c_connected(ctx: Context, sock: socket.socket, *rest: Any) -> None:
        del ctx.heap["factory"]
        ctx.heap["socket"] = sock
        ctx.heap["server"] = ReadWriteWheel(
            ctx.kernel, handle=sock, input_event="input", error_event="error"
        )
        trace.append("C:Connected")

    def c_input(ctx: Context, line: str, wheel_id: int) -> None:
        trace.append(f"C:ServerInput({line})")
        if line == "hello":
            ctx.heap["server"].put("ping")
        elif line == "echo:ping":
            ctx.heap["server"].put("bye")

    def c_error(ctx: Context, operation: str, code: int, text: str, wheel_id: int) -> None:
        trace.append(f"C:ServerError({operation},{code})")
        ctx.heap.pop("server").close()
        ctx.heap.pop("socket").close()
        trace.append("C:Disconnected")

    def c_connect_error(ctx: Context, *args: Any) -> None:
        trace.append(f"C:ConnectError{args}")
        del ctx.heap["factory"]

    Session.create(
        kernel,
        inline_states={
            "_start": c_start,
            "reconnect": c_reconnect,
            "connected": c_connected,
            "connect_error": c_connect_error,
            "input": c_input,
            "error": c_error,
        },
    )
    kernel.run()
    assert " ".join(trace) == (
        "S:Started C:Started S:ClientConnected C:Connected S:ClientFlushed C:ServerInput(hello) "
        "S:ClientInput(ping) S:ClientFlushed C:ServerInput(echo:ping) S:ClientInput(bye) "
        "S:ClientFlushed S:ClientDisconnected S:Stopped C:ServerInput(ciao) "
        "C:ServerError(read,0) C:Disconnected"
    )


# ------------------------------------------------------------------------------ addresses


def test_echo_on_loopback_sets_poe_heap_keys(
    kernel: Kernel, loopback: tuple[int, str], peers: Peers
) -> None:
    family, host = loopback
    seen: dict[str, Any] = {}

    def connected(ctx: Context) -> None:
        heap = ctx.heap
        seen.update(heap)
        seen["wheel_is_rw"] = isinstance(heap["client"], ReadWriteWheel)

    server = TCPServer(
        kernel,
        address=host,
        domain=family,
        client_input=echo,
        client_connected=connected,
        client_disconnected=lambda ctx: server.shutdown(),
    )
    assert server.address == host
    assert isinstance(server.port, int)
    assert server.port > 0
    reply = peers.spawn(peers.talk, server.port, ["one", "two"], host, family)
    kernel.run()
    assert reply.result(WAIT) == ["echo:one", "echo:two"]
    assert seen["remote_ip"] == host
    assert isinstance(seen["remote_port"], int)
    assert seen["shutdown"] is False
    assert seen["shutdown_on_error"] is True
    assert seen["got_an_error"] is False
    assert seen["wheel_is_rw"]
    assert not server.listening


def test_hostname_is_resolved_to_an_address(kernel: Kernel, peers: Peers) -> None:
    server = TCPServer(
        kernel,
        hostname="localhost",
        client_input=echo,
        client_disconnected=lambda ctx: server.shutdown(),
    )
    assert server.address == "127.0.0.1"
    assert server.port is not None
    reply = peers.spawn(peers.talk, server.port, ["x"])
    kernel.run()
    assert reply.result(WAIT) == ["echo:x"]


def test_default_address_listens_on_every_interface(kernel: Kernel, peers: Peers) -> None:
    server = TCPServer(kernel, client_input=echo, client_disconnected=lambda ctx: server.shutdown())
    assert server.address == "0.0.0.0"
    assert server.port is not None
    reply = peers.spawn(peers.talk, server.port, ["x"])
    kernel.run()
    assert reply.result(WAIT) == ["echo:x"]


def test_unix_socket_replaces_a_stale_file_and_removes_its_own(
    kernel: Kernel, socket_dir: Path, peers: Peers
) -> None:
    path = str(socket_dir / "server.sock")
    with socket.socket(socket.AF_UNIX) as dead:  # a server that died: its file stays behind
        dead.bind(path)
    seen: dict[str, Any] = {}

    def connected(ctx: Context) -> None:
        seen.update(ip=ctx.heap["remote_ip"], port=ctx.heap["remote_port"])

    server = TCPServer(
        kernel,
        domain=socket.AF_UNIX,
        address=path,
        client_input=echo,
        client_connected=connected,
        client_disconnected=lambda ctx: server.shutdown(),
    )
    assert server.address == path
    assert server.port is None
    reply = peers.spawn(peers.talk, 0, ["over unix"], path, socket.AF_UNIX)
    kernel.run()
    assert reply.result(WAIT) == ["echo:over unix"]
    assert seen == {"ip": "LOCAL", "port": None}
    assert not os.path.exists(path)


def test_unix_socket_in_use_is_left_alone(kernel: Kernel, socket_dir: Path) -> None:
    path = str(socket_dir / "busy.sock")
    errors: list[tuple[str, int]] = []
    with socket.socket(socket.AF_UNIX) as live:
        live.bind(path)
        live.listen()
        server = TCPServer(
            kernel,
            domain=socket.AF_UNIX,
            address=path,
            client_input=echo,
            error=lambda ctx, op, num, text: errors.append((op, num)),
        )
        kernel.run()
        assert errors == [("bind", errno.EADDRINUSE)]
        assert os.path.exists(path)
        assert not server.listening


# ------------------------------------------------------------------------------ listener options


def test_alias_started_stopped_and_listener_args(kernel: Kernel, peers: Peers) -> None:
    log: list[Any] = []

    def started(ctx: Context, *args: Any) -> None:
        log.append(("started", args, ctx.heap["alias"], ctx.kernel.alias_list()))

    server = TCPServer(
        kernel,
        address="127.0.0.1",
        alias="echo-server",
        started=started,
        stopped=lambda ctx: log.append(("stopped",)),
        listener_args=("a", 1),
        client_input=echo,
        client_disconnected=lambda ctx: ctx.kernel.post("echo-server", "shutdown"),
    )
    port = port_of(server)
    reply = peers.spawn(peers.talk, port, ["x"])
    kernel.run()
    assert reply.result(WAIT) == ["echo:x"]
    assert log == [("started", ("a", 1), "echo-server", ["echo-server"]), ("stopped",)]


def test_session_options_apply_to_listener_and_connections(kernel: Kernel, peers: Peers) -> None:
    seen: list[Any] = []
    server = TCPServer(
        kernel,
        address="127.0.0.1",
        session_options={"custom": 7},
        started=lambda ctx: seen.append(ctx.session.option("custom")),
        client_input=echo,
        client_connected=lambda ctx: seen.append(ctx.session.option("custom")),
        client_disconnected=lambda ctx: server.shutdown(),
    )
    port = port_of(server)
    reply = peers.spawn(peers.talk, port, ["x"])
    kernel.run()
    reply.result(WAIT)
    assert seen == [7, 7]


def test_bind_failure_reaches_the_error_callback(kernel: Kernel) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        errors: list[Any] = []
        stopped: list[bool] = []
        server = TCPServer(
            kernel,
            address="127.0.0.1",
            port=port,
            client_input=echo,
            error=lambda ctx, *args: errors.append(args),
            stopped=lambda ctx: stopped.append(True),
        )
        kernel.run()
    assert [(op, num) for op, num, _text in errors] == [("bind", errno.EADDRINUSE)]
    assert isinstance(errors[0][2], str)
    assert stopped == [True]
    assert server.port is None
    assert not server.listening


def test_default_error_handler_logs_and_stops_listening(
    kernel: Kernel, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with caplog.at_level(logging.WARNING, logger="poe.tcp"):
            server = TCPServer(kernel, address="127.0.0.1", port=port, client_input=echo)
            kernel.run()
    assert "bind error" in caplog.text
    assert not server.listening


def test_acceptor_replaces_connection_sessions(kernel: Kernel, peers: Peers) -> None:
    accepted: list[Any] = []

    def acceptor(ctx: Context, sock: socket.socket, address: str, port: int) -> None:
        accepted.append((address, ctx.heap["connections"]))
        sock.send(b"from the acceptor\r\n")
        sock.close()
        ctx.kernel.yield_("disconnected")  # POE: the acceptor's sessions report their end
        ctx.kernel.yield_("shutdown")

    server = TCPServer(kernel, address="127.0.0.1", acceptor=acceptor)
    assert server.port is not None
    reply = peers.spawn(peers.talk, server.port, [])
    kernel.run()
    assert reply.result(WAIT) == ["from the acceptor"]
    assert accepted == [("127.0.0.1", 1)]
    assert server.connections == 0


def test_concurrency_limit_makes_the_third_connection_wait(kernel: Kernel, peers: Peers) -> None:
    log: list[str] = []
    third_connected = threading.Event()
    release = threading.Event()

    def connected(ctx: Context) -> None:
        log.append("connected")
        if log.count("connected") == 3:
            ctx.heap["client"].put("you are third")

    def disconnected(ctx: Context) -> None:
        log.append("disconnected")
        if log.count("disconnected") == 3:
            server.shutdown()

    server = TCPServer(
        kernel,
        address="127.0.0.1",
        concurrency=2,
        client_input=lambda ctx, line: None,
        client_connected=connected,
        client_disconnected=disconnected,
    )
    port = port_of(server)

    def holder() -> None:
        with peers.connect(port) as sock:
            release.wait(WAIT)
            sock.shutdown(socket.SHUT_WR)
            peers.read_all(sock)

    def third() -> list[str]:
        with peers.connect(port) as sock:  # completes in the backlog: accept is paused
            third_connected.set()
            sock.shutdown(socket.SHUT_WR)
            return peers.read_lines(sock)

    holders = [peers.spawn(holder), peers.spawn(holder)]
    late: list[Any] = []

    def start_third(ctx: Context) -> None:
        log.append("third started")
        late.append(peers.spawn(third))
        # Once it is queued, give a wrong server a moment to accept it anyway, then release.
        when(ctx.kernel, third_connected.is_set, go, after=0.2)

    def go(ctx: Context) -> None:
        log.append("release")
        release.set()

    when(kernel, lambda: log.count("connected") == 2, start_third)
    kernel.run()
    for future in holders:
        future.result(WAIT)
    assert late[0].result(WAIT) == ["you are third"]
    assert log[:4] == ["connected", "connected", "third started", "release"]
    assert log.index("disconnected") < [i for i, e in enumerate(log) if e == "connected"][2]
    assert server.connections == 0


def test_set_concurrency_zero_then_unlimited(kernel: Kernel, peers: Peers) -> None:
    log: list[str] = []
    queued = threading.Event()
    server = TCPServer(
        kernel,
        address="127.0.0.1",
        concurrency=0,
        client_input=echo,
        client_connected=lambda ctx: log.append("connected"),
        client_disconnected=lambda ctx: server.shutdown(),
    )
    port = port_of(server)

    def client() -> list[str]:
        with peers.connect(port) as sock:
            queued.set()
            sock.sendall(b"late\n")
            sock.shutdown(socket.SHUT_WR)
            return peers.read_lines(sock)

    reply = peers.spawn(client)

    def open_up(ctx: Context) -> None:
        log.append("open")
        server.set_concurrency(-1)

    # Queued in the backlog; a moment for a wrong server to accept it, then open the gate.
    when(kernel, queued.is_set, open_up, after=0.2)
    kernel.run()
    assert reply.result(WAIT) == ["echo:late"]
    assert log == ["open", "connected"]
    with pytest.raises(InvalidArgument):
        server.set_concurrency(-2)


# ------------------------------------------------------------------------------ shutdown


def test_listener_shutdown_keeps_live_connections(kernel: Kernel, peers: Peers) -> None:
    log: list[str] = []

    def client_input(ctx: Context, line: str) -> None:
        if line == "stop listening":
            ctx.kernel.call(server.session_id, "shutdown")  # done before the reply goes out
        ctx.heap["client"].put(f"echo:{line}")

    server = TCPServer(
        kernel,
        address="127.0.0.1",
        alias="listener",
        client_input=client_input,
        client_disconnected=lambda ctx: log.append("disconnected"),
        stopped=lambda ctx: log.append("stopped"),
    )
    port = port_of(server)

    def client() -> list[str]:
        with peers.connect(port) as sock:
            sock.sendall(b"stop listening\n")
            got = peers.read_lines(sock, 1)
            with pytest.raises(ConnectionRefusedError):
                peers.connect(port)
            sock.sendall(b"still here\n")
            got += peers.read_lines(sock, 1)
            sock.shutdown(socket.SHUT_WR)
            return got + peers.read_lines(sock)

    reply = peers.spawn(client)
    kernel.run()
    assert reply.result(WAIT) == ["echo:stop listening", "echo:still here"]
    assert log == ["disconnected", "stopped"]
    assert kernel.alias_list() == []


def test_shutdown_with_connections_closes_every_one_gracefully(
    kernel: Kernel, peers: Peers
) -> None:
    log: list[str] = []
    server = TCPServer(
        kernel,
        address="127.0.0.1",
        client_input=echo,
        client_connected=lambda ctx: ctx.heap["client"].put("welcome"),
        client_disconnected=lambda ctx: log.append("disconnected"),
        stopped=lambda ctx: log.append("stopped"),
    )
    port = port_of(server)

    def idle_client() -> list[str]:
        with peers.connect(port) as sock:
            return peers.read_lines(sock)  # until the server closes

    replies = [peers.spawn(idle_client) for _ in range(3)]
    when(kernel, lambda: server.connections == 3, lambda ctx: server.shutdown(connections=True))
    kernel.run()
    assert [reply.result(WAIT) for reply in replies] == [["welcome"]] * 3
    assert log == ["disconnected"] * 3 + ["stopped"]


def test_connection_shutdown_flushes_everything_queued(kernel: Kernel, peers: Peers) -> None:
    count = 20_000

    def client_input(ctx: Context, line: str) -> None:
        if line == "go":
            ctx.heap["client"].put(*(f"line {i}" for i in range(count)))
            ctx.kernel.yield_("shutdown")
            ctx.heap["client"].put("too late?")  # put before the shutdown event runs: sent
        else:
            ctx.heap["client"].put("input after shutdown was not ignored")

    server = TCPServer(
        kernel,
        address="127.0.0.1",
        client_input=client_input,
        client_disconnected=lambda ctx: server.shutdown(),
    )
    port = port_of(server)

    def client() -> list[str]:
        with peers.connect(port) as sock:
            sock.sendall(b"go\n")
            first = sock.recv(1)
            sock.sendall(b"ignored\n")  # the shutdown has started by now
            return (first + peers.read_all(sock)).decode().split("\r\n")[:-1]

    reply = peers.spawn(client)
    kernel.run()
    got = reply.result(WAIT)
    assert got == [f"line {i}" for i in range(count)] + ["too late?"]


def test_end_of_file_still_delivers_queued_output(kernel: Kernel, peers: Peers) -> None:
    errors: list[Any] = []

    def client_input(ctx: Context, line: str) -> None:
        ctx.heap["client"].put(*(f"{line} {i}" for i in range(5000)))

    server = TCPServer(
        kernel,
        address="127.0.0.1",
        client_input=client_input,
        client_error=lambda ctx, *args: errors.append(args),
        client_disconnected=lambda ctx: server.shutdown(),
    )
    port = port_of(server)
    reply = peers.spawn(peers.talk, port, ["half-closed"])
    kernel.run()
    assert reply.result(WAIT) == [f"half-closed {i}" for i in range(5000)]
    assert errors == [("read", 0, "")]


def test_without_shutdown_on_error_the_user_decides(kernel: Kernel, peers: Peers) -> None:
    log: list[Any] = []

    def client_error(ctx: Context, operation: str, errnum: int, errstr: str) -> None:
        log.append((operation, errnum, ctx.heap["shutdown"], ctx.heap["shutdown_on_error"]))
        ctx.kernel.delay("later", 0.01)  # still connected: finish in our own time

    def later(ctx: Context) -> None:
        log.append("later")
        ctx.heap["client"].put("goodbye")
        ctx.kernel.yield_("shutdown")

    server = TCPServer(
        kernel,
        address="127.0.0.1",
        client_input=echo,
        client_error=client_error,
        client_shutdown_on_error=False,
        inline_states={"later": later},
        client_disconnected=lambda ctx: server.shutdown(),
    )
    port = port_of(server)
    reply = peers.spawn(peers.talk, port, ["x"])
    kernel.run()
    assert reply.result(WAIT) == ["echo:x", "goodbye"]
    assert log == [("read", 0, False, False), "later"]


# ------------------------------------------------------------------------------ connection options


def test_client_args_and_extra_states(kernel: Kernel, peers: Peers) -> None:
    log: list[Any] = []

    class Handlers:
        def on_object(self, ctx: Context, value: int) -> None:
            log.append(("object", value))
            ctx.kernel.yield_("pkg", value + 1)

        @staticmethod
        def on_package(ctx: Context, value: int) -> None:
            log.append(("package", value))
            ctx.heap["client"].put("states ran")

    def connected(ctx: Context, *args: Any) -> None:
        log.append(("connected", args, ctx.args))
        ctx.kernel.yield_("inline", 1)

    def inline(ctx: Context, value: int) -> None:
        log.append(("inline", value))
        ctx.kernel.yield_("obj", value + 1)

    server = TCPServer(
        kernel,
        address="127.0.0.1",
        client_input=echo,
        client_connected=connected,
        client_args=("a", 2),
        inline_states={"inline": inline},
        object_states=[(Handlers(), {"obj": "on_object"})],
        package_states=[(Handlers, {"pkg": "on_package"})],
        client_disconnected=lambda ctx: server.shutdown(),
    )
    port = port_of(server)

    def client() -> list[str]:
        with peers.connect(port) as sock:
            got = peers.read_lines(sock, 1)
            sock.shutdown(socket.SHUT_WR)
            return got + peers.read_lines(sock)

    reply = peers.spawn(client)
    kernel.run()
    assert reply.result(WAIT) == ["states ran"]
    assert log == [
        ("connected", ("a", 2), ("a", 2)),
        ("inline", 1),
        ("object", 2),
        ("package", 3),
    ]


def test_pre_connect_can_drop_or_adjust_a_connection(kernel: Kernel, peers: Peers) -> None:
    log: list[Any] = []

    def pre_connect(ctx: Context, sock: socket.socket) -> socket.socket | None:
        log.append(("pre_connect", ctx.heap["remote_ip"], "client" in ctx.heap))
        if len(log) == 1:
            return None  # drop the first one
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def connected(ctx: Context) -> None:
        sock = ctx.heap["client"].get_input_handle()
        log.append(("connected", sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0))

    def disconnected(ctx: Context) -> None:
        log.append("disconnected")
        server.shutdown()

    server = TCPServer(
        kernel,
        address="127.0.0.1",
        client_input=echo,
        client_pre_connect=pre_connect,
        client_connected=connected,
        client_disconnected=disconnected,
    )
    port = port_of(server)

    def clients() -> tuple[bytes, list[str]]:
        with peers.connect(port) as dropped:
            nothing = peers.read_all(dropped)
        return nothing, peers.talk(port, ["kept"])

    replies = peers.spawn(clients)
    kernel.run()
    assert replies.result(WAIT) == (b"", ["echo:kept"])
    assert log == [
        ("pre_connect", "127.0.0.1", False),
        ("pre_connect", "127.0.0.1", False),
        ("connected", True),
        "disconnected",
    ]
    assert server.connections == 0


def test_watermarks_call_client_high_and_client_low(kernel: Kernel, peers: Peers) -> None:
    log: list[str] = []

    def client_input(ctx: Context, line: str) -> None:
        for i in range(2000):
            if ctx.heap["client"].put(f"{i:099d}"):
                log.append(f"put says high at {i}")
                break

    def low(ctx: Context) -> None:
        log.append("low")
        ctx.kernel.yield_("shutdown")

    server = TCPServer(
        kernel,
        address="127.0.0.1",
        client_input=client_input,
        client_high_mark=20_000,
        client_low_mark=1_000,
        client_high=lambda ctx: log.append("high"),
        client_low=low,
        client_disconnected=lambda ctx: server.shutdown(),
    )
    port = port_of(server)

    def client() -> int:
        with peers.connect(port) as sock:
            sock.sendall(b"go\n")
            return len(peers.read_lines(sock))

    reply = peers.spawn(client)
    kernel.run()
    assert log == ["high", "put says high at 198", "low"]
    assert reply.result(WAIT) == 199


@pytest.mark.parametrize("style", ["two", "three", "varargs", "callable_object"])
def test_client_input_signatures(kernel: Kernel, peers: Peers, style: str) -> None:
    got: list[Any] = []

    def two(ctx: Context, line: str) -> None:
        got.append(line)

    def three(ctx: Context, line: str, wheel_id: int) -> None:
        got.append((line, wheel_id == ctx.heap["client"].ID))

    def varargs(ctx: Context, *args: Any) -> None:
        got.append(args[0])

    class Callable:
        def __call__(self, ctx: Context, line: str) -> None:
            got.append(line)

    handler: dict[str, Any] = {
        "two": two,
        "three": three,
        "varargs": varargs,
        "callable_object": Callable(),
    }
    server = TCPServer(
        kernel,
        address="127.0.0.1",
        client_input=handler[style],
        client_disconnected=lambda ctx: server.shutdown(),
    )
    port = port_of(server)
    peers.spawn(peers.talk, port, ["x"])
    kernel.run()
    assert got == [("x", True)] if style == "three" else got == ["x"]


# ------------------------------------------------------------------------------ filters


def test_filter_instance_is_cloned_per_connection(kernel: Kernel, peers: Peers) -> None:
    shared = BlockFilter(block_size=4)
    records: list[Any] = []

    def client_input(ctx: Context, block: bytes) -> None:
        records.append(block)
        ctx.heap["client"].put(block.upper())

    server = TCPServer(
        kernel,
        address="127.0.0.1",
        client_filter=shared,
        client_input=client_input,
        client_disconnected=lambda ctx: last_out(),
    )
    port = port_of(server)

    def last_out() -> None:
        gone.append(True)
        if len(gone) == 2:
            server.shutdown()

    gone: list[bool] = []

    def client(data: bytes) -> bytes:
        with peers.connect(port) as sock:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
            return peers.read_all(sock)

    first = peers.spawn(client, b"abcdefgh")
    second = peers.spawn(client, b"ijklmn")  # "mn" stays pending in its own filter
    kernel.run()
    assert first.result(WAIT) == b"ABCDEFGH"
    assert second.result(WAIT) == b"IJKL"
    assert sorted(records) == [b"abcd", b"efgh", b"ijkl"]
    assert shared.get_pending() is None  # the instance given was never used itself


def test_filter_factory_and_separate_input_output_filters(kernel: Kernel, peers: Peers) -> None:
    server = TCPServer(
        kernel,
        address="127.0.0.1",
        client_filter=functools.partial(LineFilter, literal=b"\n"),
        client_output_filter=BlockFilter,  # a class is a zero-argument factory
        client_input=lambda ctx, line: ctx.heap["client"].put(line.encode()),
        client_disconnected=lambda ctx: server.shutdown(),
    )
    port = port_of(server)

    def client() -> bytes:
        with peers.connect(port) as sock:
            sock.sendall(b"abc\nde\n")
            sock.shutdown(socket.SHUT_WR)
            return peers.read_all(sock)

    reply = peers.spawn(client)
    kernel.run()
    assert reply.result(WAIT) == b"3\0abc2\0de"


def test_switching_filters_mid_stream(kernel: Kernel, peers: Peers) -> None:
    records: list[Any] = []

    def client_input(ctx: Context, record: Any) -> None:
        records.append(record)
        if record == "RAW":
            ctx.heap["client"].set_filter(StreamFilter())

    server = TCPServer(
        kernel,
        address="127.0.0.1",
        client_input=client_input,
        client_disconnected=lambda ctx: server.shutdown(),
    )
    port = port_of(server)

    def client() -> bytes:
        with peers.connect(port) as sock:
            sock.sendall(b"hello\nRAW\nbytes\nas they come")  # one write: one read
            sock.shutdown(socket.SHUT_WR)
            return peers.read_all(sock)

    reply = peers.spawn(client)
    kernel.run()
    assert reply.result(WAIT) == b""
    assert records[:2] == ["hello", "RAW"]
    assert b"".join(records[2:]) == b"bytes\nas they come"


# ------------------------------------------------------------------------------ TLS


def test_tls_echo_with_real_certificates(
    kernel: Kernel,
    peers: Peers,
    tls_server_context: ssl.SSLContext,
    tls_client_context: ssl.SSLContext,
) -> None:
    seen: list[Any] = []

    def client_input(ctx: Context, line: str) -> None:
        if line == "bye":
            ctx.heap["client"].put("ciao")
            ctx.kernel.yield_("shutdown")
        else:
            echo(ctx, line)

    def disconnected(ctx: Context) -> None:
        seen.append("disconnected")
        server.shutdown()

    server = TCPServer(
        kernel,
        address="127.0.0.1",
        tls=tls_server_context,
        client_input=client_input,
        client_connected=lambda ctx: ctx.heap["client"].put("hello"),
        client_disconnected=disconnected,
    )
    port = port_of(server)

    def client() -> tuple[list[str], str | None]:
        with peers.connect(port, tls=tls_client_context) as sock:
            assert isinstance(sock, ssl.SSLSocket)
            sock.sendall(b"secret\nbye\n")
            return peers.read_lines(sock), sock.version()

    reply = peers.spawn(client)
    kernel.run()
    lines, version = reply.result(WAIT)
    assert lines == ["hello", "echo:secret", "ciao"]
    assert version is not None
    assert version.startswith("TLS")
    assert seen == ["disconnected"]


def test_tls_handshake_failure_is_a_client_error(
    kernel: Kernel, peers: Peers, tls_server_context: ssl.SSLContext
) -> None:
    errors: list[Any] = []
    server = TCPServer(
        kernel,
        address="127.0.0.1",
        tls=tls_server_context,
        client_input=echo,
        client_error=lambda ctx, *args: errors.append(args),
        client_disconnected=lambda ctx: server.shutdown(),
    )
    port = port_of(server)
    reply = peers.spawn(peers.talk, port, ["not TLS at all"])
    kernel.run()
    assert reply.result(WAIT) == []
    assert len(errors) == 1
    assert errors[0][0] == "read"
    assert errors[0][1] != 0


# ------------------------------------------------------------------------------ argument checks


def _noop(ctx: Context, *args: Any) -> None:
    pass


class _Obj:
    def shutdown(self, ctx: Context) -> None:
        pass


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "either an acceptor or a client_input"),
        ({"client_input": _noop, "acceptor": _noop}, "not both"),
        ({"acceptor": _noop, "client_connected": _noop}, "not permitted without client_input"),
        ({"acceptor": _noop, "client_args": (1,)}, "not permitted without client_input"),
        ({"client_input": _noop, "client_error": 5}, "client_error must be callable"),
        ({"client_input": _noop, "concurrency": -2}, "concurrency"),
        ({"client_input": _noop, "port": 70000}, "in 0..65535"),
        ({"client_input": _noop, "port": "80"}, "port must be an int"),
        ({"client_input": _noop, "domain": 12345}, "domain must be"),
        ({"client_input": _noop, "domain": socket.AF_UNIX}, "socket path"),
        ({"client_input": _noop, "address": "127.0.0.1", "hostname": "x"}, "not both"),
        ({"client_input": _noop, "domain": socket.AF_UNIX, "address": "/x", "port": 1}, "no port"),
        ({"client_input": _noop, "client_high_mark": 10}, "must be below client_high_mark"),
        ({"client_input": _noop, "client_low_mark": None}, "go together"),
        (
            {"client_input": _noop, "client_high_mark": 10, "client_low_mark": 0},
            "client_low_mark must be an int >= 1",
        ),
        (
            {
                "client_input": _noop,
                "client_high": _noop,
                "client_high_mark": None,
                "client_low_mark": None,
            },
            "need client_high_mark",
        ),
        ({"client_input": _noop, "inline_states": {"shutdown": _noop}}, "redefine 'shutdown'"),
        (
            {"client_input": _noop, "inline_states": {"tcp_server_got_high": _noop}},
            "redefine",
        ),
        ({"client_input": _noop, "object_states": [(_Obj(), ["shutdown"])]}, "redefine"),
        ({"client_input": _noop, "tls": "yes please"}, "ssl.SSLContext"),
        ({"client_input": _noop, "client_filter": "Line"}, "client_filter must be a filter"),
        (
            {
                "client_input": _noop,
                "client_filter": LineFilter(),
                "client_input_filter": LineFilter(),
                "client_output_filter": LineFilter(),
            },
            "ignored",
        ),
        ({"client_input": lambda ctx: None}, "client_input must accept"),
        ({"client_input": _noop, "backlog": -1}, "backlog"),
    ],
)
def test_bad_arguments_are_refused(kernel: Kernel, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        TCPServer(kernel, **kwargs)


def test_kernel_must_come_first() -> None:
    with pytest.raises(InvalidArgument, match="kernel"):
        TCPServer("kernel", client_input=_noop)  # type: ignore[arg-type]


def test_unresolvable_hostname_raises(kernel: Kernel) -> None:
    with pytest.raises(OSError):  # noqa: PT011 - socket.gaierror, whose errno varies
        TCPServer(kernel, hostname="no-such-host.invalid", client_input=_noop)


# ------------------------------------------------------------------------------ packaging


def test_public_api_is_declared() -> None:
    assert "TCPServer" in poe.tcp.__all__
    assert all(hasattr(poe.tcp, name) for name in poe.tcp.__all__)


def test_registered_as_poe_component() -> None:
    found = {ep.name: ep.value for ep in entry_points(group="poe.components")}
    assert found.get("tcp") == "poe.tcp"
