"""TCPClient's output limits against servers that do not read (issue #11, item 3).

The servers are blocking sockets in threads (conftest.py's ``peers``): they send and read
exactly as the test says, so the client's behaviour alone decides what happens. Each scenario
runs under a watchdog; sizes are small enough for loopback and large enough to pass the
default marks (512 KiB / 128 KiB) and the default cap (16 MiB).
"""

from __future__ import annotations

import errno
import socket
import ssl
import threading
from typing import TYPE_CHECKING, Any

import pytest

from poe.driver.sysrw import DEFAULT_BLOCK_SIZE
from poe.errors import SessionNotFound
from poe.tcp import TCPClient

if TYPE_CHECKING:
    from conftest import Peers
    from poe.kernel import Kernel
    from poe.session import Context
    from poe.testing.watchdog import Watchdog

pytestmark = pytest.mark.timeout(30)

HOST = "127.0.0.1"
#: Seconds a server thread waits for the client's signal before it gives up.
WAIT = 8.0


def listener() -> tuple[socket.socket, int]:
    """A listening socket on loopback with small buffers (the client's queue grows sooner)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
    sock.bind((HOST, 0))
    sock.listen(1)
    sock.settimeout(WAIT)
    port: int = sock.getsockname()[1]
    return sock, port


def small_buffers(ctx: Context, sock: socket.socket) -> socket.socket:
    """``pre_connect``: small client buffers too, so little hides in the kernel."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    return sock


def flood_never_read(server: socket.socket) -> int:
    """Accept one client, send lines at it until it goes away, never read; return octets sent."""
    conn, _ = server.accept()
    server.close()
    sent = 0
    chunk = b"flood\n" * 10000
    with conn:
        conn.settimeout(WAIT)
        try:
            while True:
                conn.sendall(chunk)
                sent += len(chunk)
        except OSError:
            return sent  # the client closed the connection (EPIPE, ECONNRESET)


def test_output_past_max_output_is_enobufs_then_closed(
    kernel: Kernel, watchdog: Watchdog, peers: Peers
) -> None:
    """A client that puts regardless of the server: capped at 16 MiB by default, closed."""
    server, port = listener()
    flood = peers.spawn(flood_never_read, server)
    log: list[str] = []
    puts = [0]
    record = "x" * (1 << 20)

    def more(ctx: Context) -> None:
        # Put 1 MiB per event, up to 40 MiB, whatever put() returns (a misbehaving client).
        if ctx.heap["connected"] and puts[0] < 40:
            puts[0] += 1
            ctx.heap["server"].put(record)
            ctx.kernel.yield_("more")

    def server_error(ctx: Context, operation: str, code: int, text: str) -> None:
        log.append(f"ServerError({operation},{errno.errorcode.get(code, code)})")
        assert ctx.heap["server"].get_driver_out_octets() == 0  # the queue is freed at once

    def disconnected(ctx: Context) -> None:
        log.append("Disconnected")
        watchdog.done()

    TCPClient(
        kernel,
        remote_address=HOST,
        remote_port=port,
        pre_connect=small_buffers,
        connected=lambda ctx, sock, address, port: ctx.kernel.yield_("more"),
        server_input=lambda ctx, line: None,
        server_error=server_error,
        disconnected=disconnected,
        inline_states={"more": more},
    )
    watchdog.run()
    assert log == ["ServerError(write,ENOBUFS)", "Disconnected"]
    # 16 MiB queued, plus what the small socket buffers took, then the put that overflowed.
    assert 16 < puts[0] < 20
    assert flood.result(timeout=WAIT) > 0


N_LINES = 60000
#: The most records one read can bring: 6-octet lines in one block.
PER_READ = DEFAULT_BLOCK_SIZE // 6 + 1


@pytest.mark.parametrize(
    "marks",
    [{}, {"high_mark": 512 * 1024, "low_mark": 128 * 1024}],
    ids=["default-marks", "explicit-marks"],
)
def test_input_pauses_while_output_is_high_and_nothing_is_lost(
    kernel: Kernel, watchdog: Watchdog, peers: Peers, marks: dict[str, Any]
) -> None:
    """An echo client of a server that stops reading, then reads: paused, resumed, in order.

    The server sends 60,000 numbered lines while it does not read; the client answers each
    with a 64-character line, so its output passes the high mark. Once the client reports
    ``server_high``, it is given 20 loop iterations in which it could read on (the server
    keeps sending); only then does the server read. While the output is high the client may
    only deliver the rest of the read that took it there; every answer arrives, in order.
    """
    server, port = listener()
    go = threading.Event()

    def send(conn: socket.socket) -> None:
        conn.sendall(b"".join(b"%05d\n" % i for i in range(N_LINES)))

    def serve() -> list[str]:
        conn, _ = server.accept()
        server.close()
        with conn:
            conn.settimeout(WAIT)
            sender = threading.Thread(target=send, args=(conn,), daemon=True)
            sender.start()
            if not go.wait(WAIT):
                return ["the client never reported server_high"]
            answers = peers.read_lines(conn, N_LINES)
            sender.join(WAIT)
        return answers

    answers = peers.spawn(serve)
    log: list[str] = []
    high = [False]
    in_high: list[int] = []  # records delivered during each high-water period

    def server_input(ctx: Context, line: str) -> None:
        if high[0]:
            in_high[-1] += 1
        ctx.heap["server"].put(f"{line}:".ljust(64, "y"))
        if line == f"{N_LINES - 1:05d}":
            ctx.kernel.yield_("shutdown")

    def server_high(ctx: Context) -> None:
        log.append("High")
        high[0] = True
        in_high.append(0)
        if not go.is_set():
            ctx.kernel.yield_("tick", 20)

    def server_low(ctx: Context) -> None:
        log.append("Low")
        high[0] = False

    def tick(ctx: Context, left: int) -> None:
        # One event per loop iteration: the client's socket is polled in between.
        if left:
            ctx.kernel.yield_("tick", left - 1)
        else:
            go.set()

    def disconnected(ctx: Context) -> None:
        log.append("Disconnected")
        watchdog.done()

    TCPClient(
        kernel,
        remote_address=HOST,
        remote_port=port,
        pre_connect=small_buffers,
        server_input=server_input,
        server_high=server_high,
        server_low=server_low,
        disconnected=disconnected,
        inline_states={"tick": tick},
        **marks,
    )
    watchdog.run()
    assert log[:2] == ["High", "Low"]
    assert log[-1] == "Disconnected"
    assert in_high
    assert max(in_high) <= PER_READ
    assert answers.result(timeout=WAIT) == [f"{i:05d}:".ljust(64, "y") for i in range(N_LINES)]


def test_idle_timeout_is_a_read_error(kernel: Kernel, watchdog: Watchdog, peers: Peers) -> None:
    """A server that accepts and then says nothing: ETIMEDOUT after idle_timeout, closed."""
    server, port = listener()
    done = threading.Event()

    def silent() -> bytes:
        conn, _ = server.accept()
        server.close()
        with conn:
            done.wait(WAIT)
            conn.settimeout(WAIT)
            return peers.read_all(conn)

    peer = peers.spawn(silent)
    log: list[str] = []

    def disconnected(ctx: Context) -> None:
        log.append("Disconnected")
        done.set()
        watchdog.done()

    TCPClient(
        kernel,
        remote_address=HOST,
        remote_port=port,
        idle_timeout=0.2,
        connected=lambda ctx, sock, address, port: ctx.heap["server"].put("hi"),
        server_input=lambda ctx, line: log.append(f"Input({line})"),
        server_error=lambda ctx, op, code, text: log.append(
            f"ServerError({op},{errno.errorcode[code]})"
        ),
        disconnected=disconnected,
    )
    watchdog.run()
    assert log == ["ServerError(read,ETIMEDOUT)", "Disconnected"]
    assert peer.result(timeout=WAIT) == b"hi\r\n"


def test_shutdown_timeout_bounds_the_wait_for_a_server_that_never_reads(
    kernel: Kernel, watchdog: Watchdog, peers: Peers
) -> None:
    """shutdown with 2 MiB queued to a server that never reads: ETIMEDOUT, closed, ended."""
    server, port = listener()
    flood = peers.spawn(flood_never_read, server)
    log: list[str] = []

    def connected(ctx: Context, sock: socket.socket, address: Any, port: Any) -> None:
        ctx.heap["server"].put(*["z" * 1000] * 2000)
        ctx.kernel.yield_("shutdown")

    def disconnected(ctx: Context) -> None:
        log.append("Disconnected")
        watchdog.done()

    client = TCPClient(
        kernel,
        remote_address=HOST,
        remote_port=port,
        shutdown_timeout=0.3,
        pre_connect=small_buffers,
        connected=connected,
        server_input=lambda ctx, line: None,
        server_error=lambda ctx, op, code, text: log.append(
            f"ServerError({op},{errno.errorcode[code]})"
        ),
        disconnected=disconnected,
    )
    watchdog.run()
    assert log == ["ServerError(write,ETIMEDOUT)", "Disconnected"]
    assert flood.result(timeout=WAIT) > 0
    with pytest.raises(SessionNotFound):
        client.put("late")  # the session ended with the connection


def test_tls_output_over_the_high_mark_before_the_handshake_does_not_stall(
    kernel: Kernel,
    watchdog: Watchdog,
    peers: Peers,
    tls_server_context: ssl.SSLContext,
    tls_client_context: ssl.SSLContext,
) -> None:
    """2 MB put in ``connected``, before the handshake: the input must not pause then.

    No output moves until the server's handshake records are read, so pausing the input
    above the high mark at that point would stall the connection for good.
    """
    server, port = listener()

    def serve() -> int:
        conn, _ = server.accept()
        server.close()
        conn.settimeout(WAIT)
        with tls_server_context.wrap_socket(conn, server_side=True) as tls:
            lines = peers.read_lines(tls, 2000)
            tls.sendall(b"done\r\n")
        return len(lines)

    count = peers.spawn(serve)
    log: list[str] = []

    def server_input(ctx: Context, line: str) -> None:
        log.append(line)
        ctx.kernel.yield_("shutdown")

    def disconnected(ctx: Context) -> None:
        log.append("Disconnected")
        watchdog.done()

    TCPClient(
        kernel,
        remote_address=HOST,
        remote_port=port,
        tls=tls_client_context,
        server_hostname="localhost",
        connected=lambda ctx, sock, address, port: ctx.heap["server"].put(*["y" * 1000] * 2000),
        server_input=server_input,
        server_high=lambda ctx: log.append("High"),
        server_low=lambda ctx: log.append("Low"),
        disconnected=disconnected,
    )
    watchdog.run()
    assert log == ["High", "Low", "done", "Disconnected"]
    assert count.result(timeout=WAIT) == 2000
