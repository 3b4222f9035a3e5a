"""TCPServer's limits (issue #11 items 3, 4, 6): backpressure, output cap, input budget, timeouts.

Real sockets on 127.0.0.1; peers are blocking sockets in threads (``peers`` fixture). The
watchdog ends every scenario that goes wrong, and the peers' socket timeouts end their
threads; the waits only give a wrong server the time to show it is wrong: the tests assert
behaviour (what was read, queued, closed and reported), never how long anything took.
"""

from __future__ import annotations

import errno
import select
import socket
import ssl
import threading
from typing import TYPE_CHECKING, Any

import pytest

from poe.session import Context
from poe.tcp import TCPServer
from poe.testing import when

if TYPE_CHECKING:
    from collections.abc import Callable

    from conftest import Peers
    from poe.kernel import Kernel
    from poe.testing.watchdog import Watchdog
    from poe.wheel import ReadWriteWheel

pytestmark = pytest.mark.timeout(60)

WAIT = 10.0  # seconds a peer waits on a socket before it fails its test
KIB = 1024
MIB = 1024 * KIB
SMALL_BUFFER = 32 * KIB  # socket buffers kept small, so the server's own queue is what grows


def stop(
    server: TCPServer, watchdog: Watchdog, *, connections: bool = False
) -> Callable[[Context], None]:
    """An action that shuts the server down and disarms the watchdog."""

    def action(ctx: Context) -> None:
        server.shutdown(connections=connections)
        watchdog.done()

    return action


def small_buffers(ctx: Context, *args: Any) -> None:
    """``client_connected``: shrink the server side's socket buffers."""
    sock: socket.socket = ctx.heap["socket"]
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SMALL_BUFFER)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SMALL_BUFFER)


def connect_small(port: int) -> socket.socket:
    """A blocking client with small socket buffers (set before connecting, as TCP wants)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SMALL_BUFFER)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SMALL_BUFFER)
    sock.settimeout(WAIT)
    sock.connect(("127.0.0.1", port))
    return sock


def numbered(count: int, width: int = 1000) -> list[str]:
    """``count`` distinct lines of ``width`` characters (without the newline)."""
    return [f"{i:06d}".ljust(width - 1, "x") for i in range(count)]


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the peer gets until the server closes (end of file or a reset)."""
    chunks = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except ConnectionResetError:
        pass
    return b"".join(chunks)


def closed_within(sock: socket.socket, seconds: float) -> bool:
    """True if the server closes ``sock`` within ``seconds`` (reading and dropping input)."""
    ready, _, _ = select.select([sock], [], [], seconds)
    if not ready:
        return False
    try:
        return sock.recv(65536) == b""
    except ConnectionResetError:
        return True


def rr_client(port: int, count: int, tag: str) -> list[str]:
    """Send a line, read its reply, ``count`` times; the replies."""
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as sock:
        got: list[str] = []
        buffer = b""
        for i in range(count):
            sock.sendall(f"{tag} {i}\n".encode())
            while b"\n" not in buffer:
                chunk = sock.recv(65536)
                assert chunk, "closed early"
                buffer += chunk
            line, buffer = buffer.split(b"\n", 1)
            got.append(line.decode().rstrip("\r"))
        return got


class Echo:
    """An echo server's callbacks that keep count of what the server read and queued."""

    def __init__(self) -> None:
        self.lines_in: dict[int, int] = {}  # connection session ID -> lines read
        self.max_queued: dict[int, int] = {}  # connection session ID -> most octets queued
        self.wheels: dict[int, ReadWriteWheel] = {}
        self.errors: list[tuple[int, str, int]] = []
        self.high = threading.Event()

    def connected(self, ctx: Context, *args: Any) -> None:
        small_buffers(ctx)
        self.wheels[ctx.session.ID] = ctx.heap["client"]

    def input(self, ctx: Context, line: str) -> None:
        sid = ctx.session.ID
        self.lines_in[sid] = self.lines_in.get(sid, 0) + 1
        wheel = ctx.heap["client"]
        wheel.put(line)
        queued = wheel.get_driver_out_octets()
        self.max_queued[sid] = max(self.max_queued.get(sid, 0), queued)

    def error(self, ctx: Context, operation: str, errnum: int, errstr: str) -> None:
        if errnum:
            self.errors.append((ctx.session.ID, operation, errnum))

    def on_high(self, ctx: Context) -> None:
        self.high.set()


# ------------------------------------------------------------------ output: backpressure


def test_non_reader_is_paused_others_served_and_it_resumes_losing_nothing(
    kernel: Kernel, watchdog: Watchdog, peers: Peers
) -> None:
    """Default watermarks: a client that sends and never reads stops being read."""
    echo = Echo()
    server = TCPServer(
        kernel,
        address="127.0.0.1",
        client_input=echo.input,
        client_connected=echo.connected,
        client_error=echo.error,
        client_high=echo.on_high,
    )
    assert server.port is not None
    port = server.port
    lines = numbered(4096)  # 4 MiB, far more than the high mark (512 KiB) and the buffers
    go_read = threading.Event()
    sent: list[BaseException | None] = []

    def non_reader() -> list[str]:
        with connect_small(port) as sock:

            def send() -> None:
                try:
                    sock.sendall("".join(f"{line}\n" for line in lines).encode())
                    sock.shutdown(socket.SHUT_WR)
                    sent.append(None)
                except BaseException as exc:  # noqa: BLE001 - reported through ``sent``
                    sent.append(exc)

            sender = threading.Thread(target=send, daemon=True)
            sender.start()
            assert go_read.wait(WAIT)
            got = peers.read_lines(sock)
            sender.join(WAIT)
            return got

    looks: dict[str, Any] = {}
    reader = peers.spawn(non_reader)

    def paused(ctx: Context) -> None:
        (sid,) = echo.lines_in
        looks["sid"] = sid
        looks["read then"] = echo.lines_in[sid]
        looks["other"] = peers.spawn(rr_client, port, 20, "other")
        when(kernel, looks["other"].done, check_and_read, after=0.1)

    def check_and_read(ctx: Context) -> None:
        looks["read after others"] = echo.lines_in[looks["sid"]]
        go_read.set()
        when(kernel, reader.done, stop(server, watchdog))

    when(kernel, echo.high.is_set, paused, after=0.3)
    watchdog.run()
    sid = looks["sid"]
    assert looks["read then"] < len(lines)  # it stopped reading the non-reader...
    assert looks["read after others"] == looks["read then"]  # ...while serving the other
    assert looks["other"].result(WAIT) == [f"other {i}" for i in range(20)]
    assert echo.max_queued[sid] < MIB  # near the high mark, not the 4 MiB it sent
    assert reader.result(WAIT) == lines  # resumed: every reply, in order
    assert sent == [None]
    assert echo.errors == []


def test_no_watermarks_keep_reading_a_non_reader(
    kernel: Kernel, watchdog: Watchdog, peers: Peers
) -> None:
    """client_high_mark=None (and no low mark): POE's behaviour, the output queue grows."""
    echo = Echo()
    server = TCPServer(
        kernel,
        address="127.0.0.1",
        client_input=echo.input,
        client_connected=echo.connected,
        client_error=echo.error,
        client_high_mark=None,
        client_low_mark=None,
    )
    assert server.port is not None
    port = server.port
    lines = numbered(2048)
    go_read = threading.Event()

    def non_reader() -> list[str]:
        with connect_small(port) as sock:
            sock.sendall("".join(f"{line}\n" for line in lines).encode())
            sock.shutdown(socket.SHUT_WR)
            assert go_read.wait(WAIT)
            return peers.read_lines(sock)

    reader = peers.spawn(non_reader)
    when(kernel, lambda: sum(echo.lines_in.values()) == len(lines), lambda ctx: go_read.set())
    when(kernel, reader.done, stop(server, watchdog))
    watchdog.run()
    assert reader.result(WAIT) == lines
    (queued,) = echo.max_queued.values()
    assert queued > MIB  # everything read while nothing was taken
    assert echo.errors == []


def test_output_past_client_max_output_closes_with_enobufs(
    kernel: Kernel, watchdog: Watchdog, peers: Peers
) -> None:
    """A member of a broadcast that stops reading: "SendQ exceeded", the others go on."""
    wheels: dict[int, ReadWriteWheel] = {}
    errors: list[tuple[int, str, int]] = []
    gone: list[int] = []

    def connected(ctx: Context) -> None:
        small_buffers(ctx)
        wheels[ctx.session.ID] = ctx.heap["client"]

    def broadcast(ctx: Context, line: str) -> None:
        for wheel in list(wheels.values()):
            wheel.put(line)  # the non-reader's queue grows through other clients' input

    def error(ctx: Context, operation: str, errnum: int, errstr: str) -> None:
        if errnum:
            errors.append((ctx.session.ID, operation, errnum))

    def disconnected(ctx: Context) -> None:
        wheels.pop(ctx.session.ID, None)
        gone.append(ctx.session.ID)

    server = TCPServer(
        kernel,
        address="127.0.0.1",
        client_input=broadcast,
        client_connected=connected,
        client_error=error,
        client_disconnected=disconnected,
        client_high_mark=64 * KIB,
        client_low_mark=16 * KIB,
        client_max_output=256 * KIB,
    )
    assert server.port is not None
    port = server.port
    cut = threading.Event()

    def silent() -> int:
        with connect_small(port) as sock:
            assert cut.wait(WAIT)
            return len(read_until_closed(sock))

    first = peers.spawn(silent)
    talker: dict[str, Any] = {}
    when(
        kernel,
        lambda: len(wheels) == 1,
        lambda ctx: talker.update(
            sid=next(iter(wheels)), future=peers.spawn(rr_client, port, 1000, "x" * 1000)
        ),
    )
    when(kernel, lambda: bool(gone), lambda ctx: cut.set())
    when(
        kernel,
        lambda: first.done() and "future" in talker and talker["future"].done(),
        stop(server, watchdog, connections=True),
    )
    watchdog.run()
    assert errors == [(talker["sid"], "write", errno.ENOBUFS)]
    assert gone[0] == talker["sid"]
    assert first.result(WAIT) < 1000 * 1002  # it was cut, not sent everything
    assert talker["future"].result(WAIT) == [f"{'x' * 1000} {i}" for i in range(1000)]


# ------------------------------------------------------------------ input: the budget


def test_input_budget_pauses_accepting_and_reading_then_resumes(
    kernel: Kernel, watchdog: Watchdog, peers: Peers
) -> None:
    errors: list[tuple[str, int]] = []

    def echo(ctx: Context, line: str) -> None:
        ctx.heap["client"].put(f"echo:{line[:5]}")

    def error(ctx: Context, operation: str, errnum: int, errstr: str) -> None:
        if errnum:
            errors.append((operation, errnum))

    server = TCPServer(
        kernel,
        address="127.0.0.1",
        client_input=echo,
        client_error=error,
        input_budget=1000,
    )
    assert server.port is not None
    port = server.port
    finish_first = threading.Event()
    second_sent = threading.Event()

    def first() -> list[str]:
        with peers.connect(port) as sock:
            sock.sendall(b"a" * 600)  # a partial line: 600 octets held, under the budget
            assert finish_first.wait(WAIT)
            sock.sendall(b"\n")
            return peers.read_lines(sock, 1)

    def second() -> list[str]:
        with peers.connect(port) as sock:
            sock.sendall(b"b" * 600)  # 1200 in all: over the budget, and over its share
            assert second_sent.wait(WAIT)
            sock.sendall(b"\n")  # not read while the server is over its budget
            return peers.read_lines(sock, 1)

    looks: dict[str, Any] = {}
    one = peers.spawn(first)

    def start_second(ctx: Context) -> None:
        looks["two"] = peers.spawn(second)
        when(kernel, lambda: server.pending_input > 1000, over_budget)

    def over_budget(ctx: Context) -> None:
        second_sent.set()
        looks["three"] = peers.spawn(rr_client, port, 1, "third")
        when(kernel, lambda: True, held, after=0.3)

    def held(ctx: Context) -> None:
        looks["connections then"] = server.connections
        looks["second answered then"] = looks["two"].done()
        looks["third answered then"] = looks["three"].done()
        finish_first.set()  # 600 octets leave the budget: under it again
        when(
            kernel,
            lambda: all(f.done() for f in (one, looks["two"], looks["three"])),
            stop(server, watchdog, connections=True),
        )

    when(kernel, lambda: server.pending_input == 600, start_second)
    watchdog.run()
    assert looks["connections then"] == 2  # the third connection was not accepted...
    assert not looks["second answered then"]  # ...nor the second one's line read
    assert not looks["third answered then"]
    assert one.result(WAIT) == ["echo:aaaaa"]
    assert looks["two"].result(WAIT) == ["echo:bbbbb"]  # resumed, nothing lost
    assert looks["three"].result(WAIT) == ["echo:third"]
    assert server.pending_input == 0
    assert errors == []


def test_input_budget_notices_a_paused_peer_that_has_gone(
    kernel: Kernel, watchdog: Watchdog, peers: Peers
) -> None:
    """Over the budget, a paused connection whose peer closed is found and closed."""

    def echo(ctx: Context, line: str) -> None:
        ctx.heap["client"].put(f"echo:{line[:5]}")

    server = TCPServer(kernel, address="127.0.0.1", client_input=echo, input_budget=1000)
    assert server.port is not None
    port = server.port
    finish_first = threading.Event()
    second_paused = threading.Event()

    def first() -> list[str]:
        with peers.connect(port) as sock:
            sock.sendall(b"a" * 600)  # held, partial, by a peer that waits (and stays)
            assert finish_first.wait(WAIT)
            sock.sendall(b"\n")
            return peers.read_lines(sock, 1)

    def second() -> None:
        with peers.connect(port) as sock:
            sock.sendall(b"b" * 600)  # over the budget: this connection is paused...
            assert second_paused.wait(WAIT)
        # ...and its peer goes: only reading the connection can tell

    looks: dict[str, Any] = {}
    one = peers.spawn(first)

    def start_second(ctx: Context) -> None:
        looks["two"] = peers.spawn(second)
        when(kernel, lambda: server.pending_input > 1000, over_budget)

    def over_budget(ctx: Context) -> None:
        second_paused.set()
        # the third client is accepted once the gone one is closed and frees its 600 octets
        looks["three"] = peers.spawn(rr_client, port, 1, "third")
        when(kernel, looks["three"].done, lambda ctx: finish_first.set())

    when(kernel, lambda: server.pending_input == 600, start_second)
    when(kernel, lambda: one.done(), stop(server, watchdog, connections=True))
    watchdog.run()
    assert looks["three"].result(WAIT) == ["echo:third"]
    assert one.result(WAIT) == ["echo:aaaaa"]
    assert server.pending_input == 0


# ------------------------------------------------------------------ timeouts


def test_idle_timeout_closes_a_silent_connection_not_an_active_one(
    kernel: Kernel, watchdog: Watchdog, peers: Peers
) -> None:
    errors: list[tuple[str, int, int]] = []

    def echo(ctx: Context, line: str) -> None:
        ctx.heap["client"].put(line)

    def error(ctx: Context, operation: str, errnum: int, errstr: str) -> None:
        if errnum:
            errors.append((operation, errnum, ctx.heap["remote_port"]))

    server = TCPServer(
        kernel,
        address="127.0.0.1",
        client_input=echo,
        client_error=error,
        client_idle_timeout=0.4,
    )
    assert server.port is not None
    port = server.port
    ports: dict[str, int] = {}

    def silent() -> bool:
        with peers.connect(port) as sock:
            ports["silent"] = sock.getsockname()[1]
            return closed_within(sock, WAIT)

    def active() -> list[str]:
        with peers.connect(port) as sock:
            ports["active"] = sock.getsockname()[1]
            got = []
            for i in range(30):  # 1.5 s or more: several idle timeouts long
                closed_within(sock, 0.05)  # a pause; returns at once if it were closed
                sock.sendall(b"%d\n" % i)
                got += peers.read_lines(sock, 1)
            return got

    quiet = peers.spawn(silent)
    busy = peers.spawn(active)
    when(
        kernel,
        lambda: quiet.done() and busy.done(),
        stop(server, watchdog, connections=True),
    )
    watchdog.run()
    assert quiet.result(WAIT) is True
    assert busy.result(WAIT) == [str(i) for i in range(30)]
    assert errors == [("read", errno.ETIMEDOUT, ports["silent"])]


def test_partial_timeout_closes_a_record_left_unfinished(
    kernel: Kernel, watchdog: Watchdog, peers: Peers
) -> None:
    errors: list[tuple[str, int, int]] = []

    def echo(ctx: Context, line: str) -> None:
        ctx.heap["client"].put(line)

    def error(ctx: Context, operation: str, errnum: int, errstr: str) -> None:
        if errnum:
            errors.append((operation, errnum, ctx.heap["remote_port"]))

    server = TCPServer(
        kernel,
        address="127.0.0.1",
        client_input=echo,
        client_error=error,
        client_partial_timeout=0.3,
    )
    assert server.port is not None
    port = server.port
    ports: dict[str, int] = {}

    def slowloris() -> bool:
        with peers.connect(port) as sock:
            ports["slow"] = sock.getsockname()[1]
            for _ in range(200):  # a byte every 50 ms: never idle, never a whole line
                try:
                    sock.sendall(b"x")
                except (BrokenPipeError, ConnectionResetError):
                    return True
                if closed_within(sock, 0.05):
                    return True
            return False

    def lines() -> list[str]:
        with peers.connect(port) as sock:
            ports["lines"] = sock.getsockname()[1]
            got = []
            for i in range(30):
                closed_within(sock, 0.05)
                sock.sendall(b"%d\n" % i)
                got += peers.read_lines(sock, 1)
            return got

    slow = peers.spawn(slowloris)
    whole = peers.spawn(lines)
    when(
        kernel,
        lambda: slow.done() and whole.done(),
        stop(server, watchdog, connections=True),
    )
    watchdog.run()
    assert slow.result(WAIT) is True
    assert whole.result(WAIT) == [str(i) for i in range(30)]
    assert errors == [("read", errno.ETIMEDOUT, ports["slow"])]


def test_shutdown_timeout_ends_a_server_whose_peer_never_reads(
    kernel: Kernel, watchdog: Watchdog, peers: Peers
) -> None:
    """shutdown(connections=True) waits for a reader, and for a non-reader only until the deadline."""
    errors: list[tuple[str, int, int]] = []
    block = "z" * 999

    def connected(ctx: Context) -> None:
        small_buffers(ctx)
        ctx.heap["client"].put(*([block] * 1024))  # 1 MiB each: more than a socket holds

    def error(ctx: Context, operation: str, errnum: int, errstr: str) -> None:
        if errnum:
            errors.append((operation, errnum, ctx.heap["remote_port"]))

    server = TCPServer(
        kernel,
        address="127.0.0.1",
        client_input=lambda ctx, line: None,
        client_connected=connected,
        client_error=error,
        shutdown_timeout=1.0,
    )
    assert server.port is not None
    port = server.port
    ports: dict[str, int] = {}
    done = threading.Event()

    def never_reads() -> None:
        with connect_small(port) as sock:
            ports["never"] = sock.getsockname()[1]
            assert done.wait(WAIT)

    def reads() -> bytes:
        with peers.connect(port) as sock:
            ports["reads"] = sock.getsockname()[1]
            return read_until_closed(sock)

    stuck = peers.spawn(never_reads)
    reader = peers.spawn(reads)
    when(
        kernel,
        lambda: server.connections == 2,
        lambda ctx: server.shutdown(connections=True),
        after=0.1,
    )

    def over(ctx: Context) -> None:
        done.set()
        watchdog.done()

    when(kernel, lambda: not server.listening and server.connections == 0, over)
    watchdog.run()  # the server ended by itself (the watchdog would have failed the test)
    stuck.result(WAIT)
    assert reader.result(WAIT) == f"{block}\r\n".encode() * 1024  # nothing lost for a reader
    assert errors == [("write", errno.ETIMEDOUT, ports["never"])]


def test_tls_output_over_the_high_mark_before_the_handshake_does_not_stall(
    kernel: Kernel,
    watchdog: Watchdog,
    peers: Peers,
    tls_server_context: ssl.SSLContext,
    tls_client_context: ssl.SSLContext,
) -> None:
    """2 MB put in ``client_connected``, before the handshake: the input must not pause then.

    No output moves until the client's handshake records are read, so pausing the input
    above the high mark at that point would stall the connection for good.
    """
    log: list[str] = []

    def connected(ctx: Context) -> None:
        ctx.heap["client"].put(*["y" * 1000] * 2000)

    server = TCPServer(
        kernel,
        address="127.0.0.1",
        tls=tls_server_context,
        client_connected=connected,
        client_input=lambda ctx, line: log.append(line),
        client_high=lambda ctx: log.append("High"),
        client_low=lambda ctx: log.append("Low"),
    )
    port = server.port
    assert port is not None

    def client() -> int:
        raw = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
        with tls_client_context.wrap_socket(raw, server_hostname="localhost") as tls:
            lines = peers.read_lines(tls, 2000)
            tls.sendall(b"done\r\n")
            return len(lines)

    got = peers.spawn(client)
    when(kernel, lambda: "done" in log, stop(server, watchdog, connections=True))
    watchdog.run()
    assert got.result(timeout=WAIT) == 2000
    assert log == ["High", "Low", "done"]
