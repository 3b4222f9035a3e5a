"""TCPServer at its defaults under attack (issue #11): the attacker is cut, nobody else suffers.

Real sockets on 127.0.0.1, blocking peers in threads; every scenario is bounded by the
watchdog and the peers' socket timeouts, and asserts behaviour, never timings.
"""

from __future__ import annotations

import errno
import socket
import threading
from typing import TYPE_CHECKING, Any

import pytest

from poe.filter import BlockFilter, LineFilter
from poe.session import Context
from poe.tcp import TCPServer
from poe.testing import when

if TYPE_CHECKING:
    from collections.abc import Callable

    from conftest import Peers
    from poe.kernel import Kernel
    from poe.testing.watchdog import Watchdog

pytestmark = [pytest.mark.timeout(60), pytest.mark.slow]

WAIT = 20.0
MIB = 1024 * 1024


def finish(kernel: Kernel, watchdog: Watchdog, server: TCPServer, *futures: Any) -> None:
    """Shut everything down once every peer is done."""

    def stop(ctx: Context) -> None:
        server.shutdown(connections=True)
        watchdog.done()

    when(kernel, lambda: all(f.done() for f in futures), stop)


def flood(port: int, chunk: bytes, limit: int) -> int:
    """Send ``chunk`` again and again (up to ``limit`` bytes) until the server cuts; bytes sent."""
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as sock:
        try:
            while sent < limit:
                sock.sendall(chunk)
                sent += len(chunk)
            sock.settimeout(WAIT)
            while sock.recv(65536):
                pass
        except (ConnectionResetError, BrokenPipeError):
            pass
    return sent


def rr_client(port: int, count: int, tag: str) -> list[str]:
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as sock:
        got = []
        buffer = b""
        for i in range(count):
            sock.sendall(f"{tag} {i}\n".encode())
            while b"\n" not in buffer:
                chunk = sock.recv(4096)
                assert chunk, "closed early"
                buffer += chunk
            line, buffer = buffer.split(b"\n", 1)
            got.append(line.decode().rstrip("\r"))
        return got


def echo(ctx: Context, line: str) -> None:
    ctx.heap["client"].put(line)


@pytest.mark.parametrize(
    "make_filter",
    [LineFilter, lambda: LineFilter(literal=b"\n"), lambda: LineFilter(input_regexp=rb"\r?\n")],
    ids=["default", "literal", "regexp"],
)
def test_unterminated_line_is_cut_and_others_are_served(
    kernel: Kernel, watchdog: Watchdog, peers: Peers, make_filter: Callable[[], LineFilter]
) -> None:
    errors: list[tuple[str, int]] = []
    fed = [0]

    class Counting(LineFilter):
        __slots__ = ()

        def get_one_start(self, chunks: Any) -> None:
            chunks = list(chunks)
            fed[0] += sum(map(len, chunks))
            super().get_one_start(chunks)

    def counting() -> LineFilter:
        made = make_filter()
        made.__class__ = Counting
        return made

    def client_error(ctx: Context, operation: str, errnum: int, errstr: str) -> None:
        if errnum:
            errors.append((operation, errnum))

    server = TCPServer(
        kernel,
        address="127.0.0.1",
        client_input=echo,
        client_filter=counting,
        client_error=client_error,
    )
    assert server.port is not None
    attacker = peers.spawn(flood, server.port, b"x" * 65536, 64 * MIB)
    others = [peers.spawn(rr_client, server.port, 50, f"c{i}") for i in range(20)]
    finish(kernel, watchdog, server, attacker, *others)
    watchdog.run()
    for i, other in enumerate(others):
        assert other.result(WAIT) == [f"c{i} {j}" for j in range(50)]
    assert ("read", errno.EMSGSIZE) in errors
    assert fed[0] < MIB  # the default limit (64 KiB) plus one read, not 64 MiB


@pytest.mark.parametrize(
    ("payload", "error"),
    [(b"9" * 10_000, errno.EMSGSIZE), (b"9" * 10_000 + b"\0", errno.EMSGSIZE)],
    ids=["digits-without-nul", "digits-then-nul"],
)
def test_block_header_of_ten_thousand_digits_is_refused(
    kernel: Kernel, watchdog: Watchdog, peers: Peers, payload: bytes, error: int
) -> None:
    errors: list[tuple[str, int]] = []

    def client_error(ctx: Context, operation: str, errnum: int, errstr: str) -> None:
        if errnum:
            errors.append((operation, errnum))

    server = TCPServer(
        kernel,
        address="127.0.0.1",
        client_input=lambda ctx, block: ctx.heap["client"].put(block),
        client_filter=BlockFilter,
        client_error=client_error,
    )
    assert server.port is not None
    port = server.port

    def attacker() -> bytes:
        with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as sock:
            sock.sendall(payload)
            try:
                return peers.read_all(sock)
            except ConnectionResetError:
                return b""

    def good() -> bytes:
        with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as sock:
            sock.sendall(b"\xff\xfegarbage" + b"5\0hello")  # garbage is dropped (documented)
            return sock.recv(100)

    bad = peers.spawn(attacker)
    fine = peers.spawn(good)
    finish(kernel, watchdog, server, bad, fine)
    watchdog.run()
    assert bad.result(WAIT) == b""
    assert fine.result(WAIT) == b"5\0hello"
    assert errors == [("read", error)]


def test_byte_at_a_time_clients_do_not_stop_others(
    kernel: Kernel, watchdog: Watchdog, peers: Peers
) -> None:
    server = TCPServer(kernel, address="127.0.0.1", client_input=echo)
    assert server.port is not None
    port = server.port
    stop_trickle = threading.Event()

    def trickle() -> int:
        socks = [socket.create_connection(("127.0.0.1", port), timeout=WAIT) for _ in range(200)]
        sent = 0
        try:
            while not stop_trickle.is_set() and sent < 200 * 50:
                for sock in socks:
                    sock.send(b"z")
                    sent += 1
                stop_trickle.wait(0.05)
        finally:
            for sock in socks:
                sock.close()
        return sent

    slow = peers.spawn(trickle)
    others = [peers.spawn(rr_client, port, 50, f"n{i}") for i in range(20)]

    def others_done() -> bool:
        if all(f.done() for f in others):
            stop_trickle.set()
            return slow.done()
        return False

    def stop(ctx: Context) -> None:
        server.shutdown(connections=True)
        watchdog.done()

    when(kernel, others_done, stop)
    watchdog.run()
    for i, other in enumerate(others):
        assert other.result(WAIT) == [f"n{i} {j}" for j in range(50)]
    assert slow.result(WAIT) > 0


def test_non_reader_is_bounded_and_cut(kernel: Kernel, watchdog: Watchdog, peers: Peers) -> None:
    """A client that sends and never reads: its input is paused (backpressure), never buffered."""
    errors: list[tuple[str, int]] = []
    most = [0]

    def client_input(ctx: Context, line: str) -> None:
        wheel = ctx.heap["client"]
        wheel.put(line)
        most[0] = max(most[0], wheel.get_driver_out_octets())

    def client_error(ctx: Context, operation: str, errnum: int, errstr: str) -> None:
        if errnum:
            errors.append((operation, errnum))

    server = TCPServer(
        kernel,
        address="127.0.0.1",
        client_input=client_input,
        client_error=client_error,
    )
    assert server.port is not None
    port = server.port
    line = b"y" * 1023 + b"\n"

    def non_reader() -> str:
        with socket.create_connection(("127.0.0.1", port), timeout=5.0) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            block = line * 64
            try:
                for _ in range(200 * MIB // len(block)):
                    sock.sendall(block)
            except (ConnectionResetError, BrokenPipeError):
                return "cut"
            except TimeoutError:
                return "paused"
        return "took it all"

    attacker = peers.spawn(non_reader)
    finish(kernel, watchdog, server, attacker)
    watchdog.run()
    # Paused at the default high mark (512 KiB): the sender times out, the queue stays small.
    assert attacker.result(WAIT) == "paused"
    assert most[0] <= 2 * MIB
