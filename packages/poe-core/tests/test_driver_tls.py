"""TLSDriver over a real 127.0.0.1 TCP connection, with certificates made for the test.

Both ends are driven by TLSDriver in a select() loop, as a wheel would drive them: watch
writability while ``want_write`` is true, readability always.
"""

from __future__ import annotations

import select
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from poe.driver import TLSDriver
from poe.errors import InvalidArgument
from poe.pipe import two_way


@pytest.fixture
def tcp() -> Iterator[tuple[socket.socket, socket.socket]]:
    """A connected non-blocking TCP pair over 127.0.0.1: (server side, client side)."""
    (server, _), (client, _) = two_way("inet")
    assert isinstance(server, socket.socket)
    assert isinstance(client, socket.socket)
    with server, client:
        server.setblocking(False)
        client.setblocking(False)
        yield server, client


@dataclass
class End:
    """One side of the connection, as a wheel would keep it."""

    sock: socket.socket
    driver: TLSDriver
    received: bytearray = field(default_factory=bytearray)
    eof: bool = False


def pump(ends: list[End], done: Callable[[], bool]) -> None:
    """Drive both ends with select() until ``done()``; fail if nothing can progress."""
    for _ in range(100_000):
        if done():
            return
        readers = [end.sock for end in ends if not end.eof]
        writers = [end.sock for end in ends if end.driver.want_write]
        readable, writable, _ = select.select(readers, writers, [], 10)
        assert readable or writable, "stalled: no readiness in 10 s"
        for end in ends:
            if end.sock in writable:
                end.driver.flush(end.sock)
            if end.sock in readable:
                chunks = end.driver.get(end.sock)
                if chunks is None:
                    end.eof = True
                else:
                    for chunk in chunks:
                        end.received += chunk
    pytest.fail("no completion after 100000 rounds")


def _ends(
    tcp: tuple[socket.socket, socket.socket],
    server_context: ssl.SSLContext,
    client_context: ssl.SSLContext,
    hostname: str = "localhost",
) -> tuple[End, End]:
    server_sock, client_sock = tcp
    server = End(server_sock, TLSDriver(server_context, server_side=True))
    client = End(client_sock, TLSDriver(client_context, server_hostname=hostname))
    return server, client


def test_handshake_and_round_trip(
    tcp: tuple[socket.socket, socket.socket],
    tls_server_context: ssl.SSLContext,
    tls_client_context: ssl.SSLContext,
) -> None:
    server, client = _ends(tcp, tls_server_context, tls_client_context)
    assert client.driver.want_write  # someone has to start
    assert (client.driver.want_read, client.driver.handshake_done) == (False, False)

    # Data put before the handshake waits for it.
    assert client.driver.put([b"hello, ", b"", b"server"]) == 13
    assert client.driver.get_out_messages_buffered() == 2
    pump([server, client], lambda: bytes(server.received) == b"hello, server")

    assert (server.driver.handshake_done, client.driver.handshake_done) == (True, True)
    assert not client.driver.want_read
    assert client.driver.get_out_octets_buffered() == 0
    assert client.driver.get_out_messages_buffered() == 0
    peer = client.driver.ssl_object.getpeercert()
    assert peer is not None
    assert ("commonName", "localhost") in [item for rdn in peer["subject"] for item in rdn]

    server.driver.put([b"hello, client"])
    pump([server, client], lambda: bytes(client.received) == b"hello, client")


def test_large_transfer_both_ways(
    tcp: tuple[socket.socket, socket.socket],
    tls_server_context: ssl.SSLContext,
    tls_client_context: ssl.SSLContext,
) -> None:
    server, client = _ends(tcp, tls_server_context, tls_client_context)
    up = bytes(range(256)) * 8192  # 2 MiB: more than the socket buffers hold
    down = up[::-1]
    client.driver.put([up[i : i + 50_000] for i in range(0, len(up), 50_000)])
    server.driver.put([down])
    pump(
        [server, client],
        lambda: len(server.received) == len(up) and len(client.received) == len(down),
    )
    assert bytes(server.received) == up
    assert bytes(client.received) == down
    for end in (server, client):
        assert end.driver.get_out_octets_buffered() == 0
        assert not end.driver.want_write


def test_shutdown_sends_close_notify(
    tcp: tuple[socket.socket, socket.socket],
    tls_server_context: ssl.SSLContext,
    tls_client_context: ssl.SSLContext,
) -> None:
    server, client = _ends(tcp, tls_server_context, tls_client_context)
    client.driver.put([b"last words"])
    client.driver.shutdown(client.sock)
    with pytest.raises(InvalidArgument):
        client.driver.put([b"more"])
    pump([server, client], lambda: server.eof)
    # The data came before the close_notify, and nothing was lost.
    assert bytes(server.received) == b"last words"
    assert not client.driver.want_write

    # A one-way close: the server can still answer, then close its side.
    server.driver.put([b"goodbye"])
    server.driver.shutdown(server.sock)
    pump([server, client], lambda: client.eof)
    assert bytes(client.received) == b"goodbye"
    assert server.driver.get(server.sock) is None
    assert client.driver.get(client.sock) is None


@pytest.mark.parametrize("suppress", [True, False])
def test_transport_eof_without_close_notify(
    tcp: tuple[socket.socket, socket.socket],
    tls_server_context: ssl.SSLContext,
    tls_client_context: ssl.SSLContext,
    suppress: bool,
) -> None:
    server_sock, client_sock = tcp
    server = End(
        server_sock,
        TLSDriver(tls_server_context, server_side=True, suppress_ragged_eofs=suppress),
    )
    client = End(client_sock, TLSDriver(tls_client_context, server_hostname="localhost"))
    client.driver.put([b"ping"])
    pump([server, client], lambda: bytes(server.received) == b"ping")
    client_sock.shutdown(socket.SHUT_WR)  # a FIN, and no close_notify
    select.select([server_sock], [], [], 10)
    if suppress:
        assert server.driver.get(server_sock) is None
    else:
        with pytest.raises(ssl.SSLEOFError):
            server.driver.get(server_sock)


def test_untrusted_certificate_fails_the_handshake(
    tcp: tuple[socket.socket, socket.socket], tls_server_context: ssl.SSLContext
) -> None:
    untrusting = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies, with no CA loaded
    server, client = _ends(tcp, tls_server_context, untrusting)
    with pytest.raises(ssl.SSLCertVerificationError):
        pump([server, client], lambda: False)
    assert not client.driver.handshake_done


def test_wrong_hostname_fails_the_handshake(
    tcp: tuple[socket.socket, socket.socket],
    tls_server_context: ssl.SSLContext,
    tls_client_context: ssl.SSLContext,
) -> None:
    server, client = _ends(
        tcp, tls_server_context, tls_client_context, hostname="elsewhere.example"
    )
    with pytest.raises(ssl.SSLCertVerificationError, match=r"elsewhere\.example"):
        pump([server, client], lambda: False)


@pytest.mark.parametrize("size", [0, -5])
def test_block_size_must_be_positive(tls_client_context: ssl.SSLContext, size: int) -> None:
    with pytest.raises(InvalidArgument):
        TLSDriver(tls_client_context, server_hostname="localhost", block_size=size)


def test_small_block_size_still_round_trips(
    tcp: tuple[socket.socket, socket.socket],
    tls_server_context: ssl.SSLContext,
    tls_client_context: ssl.SSLContext,
) -> None:
    server_sock, client_sock = tcp
    server = End(server_sock, TLSDriver(tls_server_context, server_side=True, block_size=7))
    client = End(
        client_sock, TLSDriver(tls_client_context, server_hostname="localhost", block_size=5)
    )
    message = b"a message longer than every block size in play"
    client.driver.put([message])
    pump([server, client], lambda: bytes(server.received) == message)
