"""Fixtures for the poe-tcp tests: blocking peers in threads, talking to a kernel in the main thread.

The kernel (``kernel`` fixture from poe-core's pytest plugin) runs in the test's thread; a
peer that only needs to connect, send and read is simplest as plain blocking code in a thread
with socket timeouts, so a server that misbehaves fails the test instead of hanging it.
"""

from __future__ import annotations

import socket
import ssl
import threading
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator


T = TypeVar("T")

#: Seconds a peer waits on its socket before it gives up (and fails its test).
PEER_TIMEOUT = 10.0


class Peers:
    """Run peer functions in daemon threads; each returns a Future of the function's result.

    The blocking client helpers of this module are attached as static methods, so a test gets
    them all from the one ``peers`` fixture.
    """

    def __init__(self) -> None:
        self.futures: list[Future[Any]] = []

    def spawn(self, function: Callable[..., T], *args: Any) -> Future[T]:
        """Run ``function(*args)`` in a new thread."""
        future: Future[T] = Future()

        def run() -> None:
            try:
                future.set_result(function(*args))
            except BaseException as exc:  # noqa: BLE001 - handed to the test through the future
                future.set_exception(exc)

        threading.Thread(target=run, daemon=True).start()
        self.futures.append(future)
        return future

    @staticmethod
    def connect(
        port: int,
        host: str = "127.0.0.1",
        family: int = socket.AF_INET,
        tls: ssl.SSLContext | None = None,
    ) -> socket.socket:
        """A blocking client socket connected to ``host:port`` (or a UNIX path), with a timeout."""
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(PEER_TIMEOUT)
        try:
            sock.connect(host if family == socket.AF_UNIX else (host, port))
            if tls is not None:
                return tls.wrap_socket(sock, server_hostname="localhost")
        except BaseException:
            sock.close()
            raise
        return sock

    @staticmethod
    def read_lines(sock: socket.socket, count: int | None = None) -> list[str]:
        """Read CRLF-terminated lines: ``count`` of them, or all of them until end of file."""
        buffer = b""
        lines: list[str] = []
        while count is None or len(lines) < count:
            while b"\r\n" not in buffer:
                chunk = sock.recv(65536)
                if not chunk:
                    if buffer:
                        lines.append(buffer.decode())
                    return lines
                buffer += chunk
            line, buffer = buffer.split(b"\r\n", 1)
            lines.append(line.decode())
        return lines

    @staticmethod
    def read_all(sock: socket.socket) -> bytes:
        """Everything until end of file."""
        chunks = []
        while chunk := sock.recv(1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)

    @staticmethod
    def talk(
        port: int,
        lines: list[str],
        host: str = "127.0.0.1",
        family: int = socket.AF_INET,
        tls: ssl.SSLContext | None = None,
    ) -> list[str]:
        """Send ``lines``, then return every line the server sends until it closes.

        Plain TCP half-closes after sending (the server sees end of file); TLS cannot, so the
        server must close by itself.
        """
        with Peers.connect(port, host, family, tls) as sock:
            sock.sendall("".join(f"{line}\n" for line in lines).encode())
            if tls is None:
                sock.shutdown(socket.SHUT_WR)
            return Peers.read_lines(sock)


@pytest.fixture
def peers() -> Iterator[Peers]:
    """Thread peers; every one must have finished (without error) when the test ends."""
    group = Peers()
    yield group
    for future in group.futures:
        future.result(timeout=PEER_TIMEOUT)
