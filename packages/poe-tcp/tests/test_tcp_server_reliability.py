"""TCPServer under hostile or heavy conditions: what must not happen to the other clients.

Each test keeps the damage to one connection (an over-long line, a reset mid-write, a client
sending a byte at a time, a handler that raises) or pushes a limit (10,000 connections, a
descriptor shortage, 5 MB queued at shutdown) and checks that every other byte arrives.
Nothing asserts on time: the loops count events, and the timeouts only turn a hang into a
failure.
"""

from __future__ import annotations

import errno
import logging
import resource
import socket
import struct
import subprocess
import sys
import textwrap
import threading
from typing import TYPE_CHECKING, Any

import pytest

from poe.filter import LineFilter
from poe.session import Context, Session
from poe.tcp import TCPServer
from poe.testing import when

if TYPE_CHECKING:
    from conftest import Peers
    from poe.kernel import Kernel

pytestmark = pytest.mark.timeout(60)

WAIT = 20.0


def echo(ctx: Context, line: str, wheel_id: int) -> None:
    ctx.heap["client"].put(f"echo:{line}")


# ------------------------------------------------------------------------------ 10,000 clients

CLIENTS = 10_000

# The clients live in a process of their own: 10,000 sockets on each side would not fit one
# process's descriptor limit. They connect (at most 500 handshakes in flight, so the listen
# backlog never overflows into SYN retransmits), send one line each, wait for every echo while
# holding every connection open, report, and close them all.
_MANY_CLIENTS = textwrap.dedent(
    """
    import resource, selectors, socket, sys
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    port, total = int(sys.argv[1]), int(sys.argv[2])
    sel = selectors.DefaultSelector()
    started = echoed = 0
    connected = []
    inflight = 0
    while echoed < total:
        while started < total and inflight < 500:
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", port))
            sel.register(s, selectors.EVENT_WRITE, [started, b""])
            connected.append(s)
            started += 1
            inflight += 1
        for key, mask in sel.select(timeout=30) or sys.exit("timed out"):
            s, (n, buf) = key.fileobj, key.data
            if mask & selectors.EVENT_WRITE:
                s.send(b"hi %d\\n" % n)
                sel.modify(s, selectors.EVENT_READ, [n, b""])
                continue
            data = s.recv(100)
            if not data:
                sys.exit("closed early")
            key.data[1] = buf = buf + data
            if buf.endswith(b"\\r\\n"):
                assert buf == b"echo:hi %d\\r\\n" % n, buf
                sel.unregister(s)
                echoed += 1
                inflight -= 1
    print("echoed", echoed, flush=True)
    for s in connected:
        s.close()
    """
)


def test_ten_thousand_concurrent_connections(kernel: Kernel) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = CLIENTS + 200
    if hard != resource.RLIM_INFINITY and hard < needed:
        pytest.skip(f"RLIMIT_NOFILE hard limit {hard} < {needed} descriptors needed")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, needed), hard))
    try:
        peak = [0]
        gone = [0]

        def connected(ctx: Context) -> None:
            peak[0] = max(peak[0], server.connections)

        def disconnected(ctx: Context) -> None:
            gone[0] += 1

        server = TCPServer(
            kernel,
            address="127.0.0.1",
            client_input=echo,
            client_connected=connected,
            client_disconnected=disconnected,
        )
        clients = subprocess.Popen(
            [sys.executable, "-c", _MANY_CLIENTS, str(server.port), str(CLIENTS)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            when(
                kernel,
                lambda: clients.poll() is not None,
                lambda ctx: server.shutdown(connections=True),
            )
            kernel.run()
            out, err = clients.communicate(timeout=WAIT)
        finally:
            if clients.poll() is None:
                clients.kill()
                clients.communicate()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert clients.returncode == 0, err.decode()
    assert out.split() == [b"echoed", str(CLIENTS).encode()]
    assert peak[0] == CLIENTS  # all of them were open at once
    assert gone[0] == CLIENTS
    assert server.connections == 0


# ------------------------------------------------------------------------------ one bad client


def test_over_long_line_closes_only_that_connection(kernel: Kernel, peers: Peers) -> None:
    errors: list[tuple[Any, ...]] = []
    offender_gone = threading.Event()

    def client_error(ctx: Context, operation: str, errnum: int, errstr: str) -> None:
        errors.append((ctx.heap["remote_port"], operation, errnum, errstr))

    server = TCPServer(
        kernel,
        address="127.0.0.1",
        client_filter=LineFilter(max_length=100),
        client_input=echo,
        client_error=client_error,
    )
    assert server.port is not None
    port = server.port

    def offender() -> tuple[int, bytes]:
        with peers.connect(port) as sock:
            sock.sendall(b"x" * 1000 + b"\n")
            try:
                rest = peers.read_all(sock)
            except ConnectionResetError:
                rest = b"reset"
            offender_gone.set()
            return sock.getsockname()[1], rest

    def bystander() -> list[str]:
        with peers.connect(port) as sock:
            sock.sendall(b"before\n")
            got = peers.read_lines(sock, 1)
            offender_gone.wait(WAIT)
            sock.sendall(b"after\n")
            got += peers.read_lines(sock, 1)
        return got + peers.talk(port, ["newcomer"])

    calm = peers.spawn(bystander)
    bad = peers.spawn(offender)
    when(kernel, lambda: calm.done(), lambda ctx: server.shutdown(connections=True))
    kernel.run()
    assert calm.result(WAIT) == ["echo:before", "echo:after", "echo:newcomer"]
    offender_port, rest = bad.result(WAIT)
    assert rest == b""
    bad_errors = [error for error in errors if error[0] == offender_port]
    assert len(bad_errors) == 1
    assert bad_errors[0][1:3] == ("read", errno.EMSGSIZE)
    assert "maximum line length" in bad_errors[0][3]
    assert all(error[1:3] == ("read", 0) for error in errors if error[0] != offender_port)


def test_handler_exception_closes_only_that_connection(
    kernel: Kernel, peers: Peers, caplog: pytest.LogCaptureFixture
) -> None:
    log: list[str] = []
    victim_gone = threading.Event()

    def client_input(ctx: Context, line: str) -> None:
        if line == "boom":
            msg = "a bug in the handler"
            raise ValueError(msg)
        ctx.heap["client"].put(f"echo:{line}")

    server = TCPServer(
        kernel,
        address="127.0.0.1",
        client_input=client_input,
        client_disconnected=lambda ctx: log.append(f"disconnected {ctx.heap['got_an_error']}"),
    )
    assert server.port is not None
    port = server.port

    def victim() -> bytes:
        with peers.connect(port) as sock:
            sock.sendall(b"fine\nboom\nnever seen\n")
            try:
                got = peers.read_all(sock)
            except ConnectionResetError:
                got = b"reset"
        victim_gone.set()
        return got

    def bystander() -> list[str]:
        with peers.connect(port) as sock:
            sock.sendall(b"one\n")
            got = peers.read_lines(sock, 1)
            victim_gone.wait(WAIT)
            sock.sendall(b"two\n")
            return got + peers.read_lines(sock, 1)

    calm = peers.spawn(bystander)
    hit = peers.spawn(victim)
    when(kernel, lambda: calm.done(), lambda ctx: server.shutdown(connections=True))
    with caplog.at_level(logging.ERROR, logger="poe.tcp"):
        kernel.run()  # does not raise: the DIE was handled
    assert calm.result(WAIT) == ["echo:one", "echo:two"]
    assert hit.result(WAIT) in (b"echo:fine\r\n", b"", b"reset")
    assert "disconnected True" in log
    assert "disconnected False" in log
    failures = [r for r in caplog.records if r.name == "poe.tcp"]
    assert len(failures) == 1
    assert failures[0].exc_info is not None
    assert "a bug in the handler" in caplog.text


def test_slowloris_does_not_hold_up_other_clients(kernel: Kernel, peers: Peers) -> None:
    order: list[str] = []

    def client_input(ctx: Context, line: str, wheel_id: int) -> None:
        order.append(line[:4])
        ctx.heap["client"].put(f"echo:{line}")

    server = TCPServer(kernel, address="127.0.0.1", client_input=client_input)
    assert server.port is not None
    port = server.port
    fast_done = threading.Event()
    slow_started = threading.Event()
    slow_line = "slow" + "." * 200

    def slowloris() -> list[str]:
        with peers.connect(port) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for byte in slow_line.encode():
                sock.send(bytes([byte]))  # one byte per packet, one per server tick
                slow_started.set()
            fast_done.wait(WAIT)  # still no end of line: the server holds a partial record
            sock.sendall(b"\n")
            return peers.read_lines(sock, 1)

    def fast() -> list[str]:
        slow_started.wait(WAIT)
        with peers.connect(port) as sock:
            got = []
            for i in range(200):
                sock.sendall(b"fast %d\n" % i)
                got += peers.read_lines(sock, 1)
        fast_done.set()
        return got

    slow = peers.spawn(slowloris)
    quick = peers.spawn(fast)
    when(
        kernel, lambda: slow.done() and quick.done(), lambda ctx: server.shutdown(connections=True)
    )
    kernel.run()
    assert quick.result(WAIT) == [f"echo:fast {i}" for i in range(200)]
    assert slow.result(WAIT) == [f"echo:{slow_line}"]
    assert order == ["fast"] * 200 + ["slow"]


def test_reset_mid_write_does_not_disturb_others(kernel: Kernel, peers: Peers) -> None:
    errors: list[tuple[str, int]] = []
    resetter_gone = threading.Event()
    block = "z" * 1000

    def client_input(ctx: Context, line: str, wheel_id: int) -> None:
        if line == "flood":
            ctx.heap["client"].put(*([block] * 5000))  # 5 MB: far more than the socket takes
        else:
            ctx.heap["client"].put(f"echo:{line}")

    def client_error(ctx: Context, operation: str, errnum: int, errstr: str) -> None:
        errors.append((operation, errnum))

    server = TCPServer(
        kernel, address="127.0.0.1", client_input=client_input, client_error=client_error
    )
    assert server.port is not None
    port = server.port

    def resetter() -> None:
        with peers.connect(port) as sock:
            sock.sendall(b"flood\n")
            sock.recv(10_000)  # the server is writing now
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        resetter_gone.set()  # closed with SO_LINGER 0: a reset, not a FIN

    def bystander() -> list[str]:
        with peers.connect(port) as sock:
            sock.sendall(b"one\n")
            got = peers.read_lines(sock, 1)
            resetter_gone.wait(WAIT)
            for i in range(50):
                sock.sendall(b"n%d\n" % i)
                got += peers.read_lines(sock, 1)
            return got

    calm = peers.spawn(bystander)
    peers.spawn(resetter)
    when(kernel, lambda: calm.done(), lambda ctx: server.shutdown(connections=True))
    kernel.run()
    assert calm.result(WAIT) == ["echo:one"] + [f"echo:n{i}" for i in range(50)]
    assert len(errors) == 2  # the reset, then the bystander's end of file
    assert errors[0][1] in (errno.ECONNRESET, errno.EPIPE)
    assert errors[1] == ("read", 0)


# ------------------------------------------------------------------------------ flow control


def test_slow_reader_with_watermarks_loses_nothing(kernel: Kernel, peers: Peers) -> None:
    total = 3000
    line = "y" * 1000
    state = {"next": 0, "high": 0, "low": 0, "most_queued": 0}

    def produce(ctx: Context) -> None:
        wheel = ctx.heap["client"]
        while state["next"] < total:
            high = wheel.put(f"{state['next']:06d}{line}")
            state["next"] += 1
            state["most_queued"] = max(state["most_queued"], wheel.get_driver_out_octets())
            if high:
                return  # wait for client_low
        ctx.kernel.yield_("shutdown")

    def low(ctx: Context) -> None:
        state["low"] += 1
        produce(ctx)

    def high(ctx: Context) -> None:
        state["high"] += 1

    server = TCPServer(
        kernel,
        address="127.0.0.1",
        client_input=lambda ctx, record, wheel_id: produce(ctx),
        client_high_mark=64_000,
        client_low_mark=8_000,
        client_high=high,
        client_low=low,
        client_disconnected=lambda ctx: server.shutdown(),
    )
    assert server.port is not None
    port = server.port

    def slow_reader() -> list[str]:
        with socket.socket() as sock:
            sock.settimeout(WAIT)
            # A small window, set before the handshake so the window scale matches it.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.connect(("127.0.0.1", port))
            sock.sendall(b"go\n")
            data = bytearray()
            while chunk := sock.recv(997):  # small, odd-sized reads
                data += chunk
            return data.decode().split("\r\n")[:-1]

    reply = peers.spawn(slow_reader)
    kernel.run()
    lines = reply.result(WAIT)
    assert lines == [f"{i:06d}{line}" for i in range(total)]
    assert state["high"] >= 1
    assert state["low"] == state["high"]
    assert state["most_queued"] < 64_000 + 1100  # never more than the mark and one record


def test_graceful_shutdown_flushes_every_queued_byte(kernel: Kernel, peers: Peers) -> None:
    sizes = {"big": 5_000_000, "small": 100_000}
    stopped: list[bool] = []
    queued: list[str] = []

    def client_input(ctx: Context, name: str, wheel_id: int) -> None:
        size = sizes[name]
        ctx.heap["client"].put(*(f"{name}:{i:07d}:".ljust(99, "q") for i in range(size // 100)))
        queued.append(name)
        if len(queued) == 2:  # both have their output queued: now shut everything down
            stopped.append(False)
            server.shutdown(connections=True)

    server = TCPServer(
        kernel,
        address="127.0.0.1",
        client_filter=LineFilter(literal=b"\n"),
        client_input=client_input,
        stopped=lambda ctx: stopped.append(True),
    )
    assert server.port is not None
    port = server.port
    both_sent = threading.Barrier(2)

    def reader(name: str) -> bytes:
        with peers.connect(port) as sock:
            both_sent.wait(WAIT)  # both connected before either asks: the shutdown finds both
            sock.sendall(name.encode() + b"\n")
            return peers.read_all(sock)

    big = peers.spawn(reader, "big")
    small = peers.spawn(reader, "small")
    kernel.run()
    for name, future in (("big", big), ("small", small)):
        data = future.result(WAIT)
        assert len(data) == sizes[name]
        lines = data.split(b"\n")[:-1]
        assert lines[0] == f"{name}:{0:07d}:".ljust(99, "q").encode()
        assert lines[-1].startswith(f"{name}:{sizes[name] // 100 - 1:07d}:".encode())
    assert stopped == [False, True]


# ------------------------------------------------------------------------------ resource shortage


def test_accept_emfile_pauses_instead_of_spinning(kernel: Kernel, peers: Peers) -> None:
    counts = {"ticks": 0, "emfile": 0, "ticks_at_first": 0}
    limits = resource.getrlimit(resource.RLIMIT_NOFILE)
    log: list[str] = []

    def error(ctx: Context, operation: str, errnum: int, errstr: str) -> None:
        assert (operation, errnum) == ("accept", errno.EMFILE)
        counts["emfile"] += 1
        if counts["emfile"] == 1:
            counts["ticks_at_first"] = counts["ticks"]
        if counts["emfile"] == 3:  # three tries, two pauses: give descriptors back
            resource.setrlimit(resource.RLIMIT_NOFILE, limits)
            counts["ticks_during"] = counts["ticks"] - counts["ticks_at_first"]

    server = TCPServer(
        kernel,
        address="127.0.0.1",
        client_input=echo,
        error=error,
        client_connected=lambda ctx: log.append("connected"),
        client_disconnected=lambda ctx: server.shutdown(),
    )
    assert server.port is not None

    client = socket.socket()
    client.setblocking(False)

    def starve(ctx: Context) -> None:
        # Inside run(): the loop has its descriptors by now. Lower the soft limit to the
        # lowest free descriptor, so the next accept() gets EMFILE, then connect (a connect
        # needs no new descriptor).
        probe = socket.socket()
        lowest_free = probe.fileno()
        probe.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (lowest_free, limits[1]))
        client.connect_ex(("127.0.0.1", server.port))
        tick(ctx)

    # A session that re-queues itself: one tick per kernel iteration, so a server that spins
    # on accept() fails about once per tick, and one that pauses fails a few times in all.
    def tick(ctx: Context) -> None:
        counts["ticks"] += 1
        if not log:
            ctx.kernel.yield_("tick")
        else:
            client.close()

    try:
        Session.create(
            kernel,
            inline_states={
                "_start": lambda ctx: ctx.kernel.yield_("starve"),
                "starve": starve,
                "tick": tick,
            },
        )
        kernel.run()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, limits)
        client.close()
    assert counts["emfile"] == 3
    assert log == ["connected"]
    # Two pauses took many iterations each: a spinning server would fail on every one.
    assert counts["ticks_during"] > 20 * counts["emfile"]
