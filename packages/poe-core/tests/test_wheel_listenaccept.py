"""POE::Wheel::ListenAccept: port of t/20_resources/.../wheel_accept (POE 1.370).

A listening socket on 127.0.0.1 (and ::1 when available); clients connect, each accept is one
``accept_event(socket, peer_address, wheel_id)``; the accepted socket talks through a
ReadWriteWheel.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from poe.errors import InvalidArgument
from poe.kernel import Kernel
from poe.session import Context, Session
from poe.wheel import ListenAcceptWheel, ReadWriteWheel

CLIENTS = 3


def _listen(family: int, host: str) -> Iterator[socket.socket]:
    sock = socket.socket(family, socket.SOCK_STREAM)
    with sock:
        sock.bind((host, 0))
        sock.listen(16)
        yield sock


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A listening socket on the IPv4 loopback."""
    yield from _listen(socket.AF_INET, "127.0.0.1")


@pytest.fixture
def loopback_listener(loopback: tuple[int, str]) -> Iterator[socket.socket]:
    """A listening socket on the IPv4 and on the IPv6 loopback (one test each)."""
    yield from _listen(*loopback)


def test_accept_and_talk(kernel: Kernel, loopback_listener: socket.socket) -> None:
    listener = loopback_listener
    log: list[Any] = []
    accepted: list[socket.socket] = []
    clients: list[socket.socket] = []

    def start(ctx: Context) -> None:
        ctx.heap["listener"] = ListenAcceptWheel(
            ctx.kernel, handle=listener, accept_event="accepted", error_event="failed"
        )
        ctx.heap["id"] = ctx.heap["listener"].ID
        ctx.heap["wheels"] = {}
        for _ in range(CLIENTS):
            client = socket.socket(listener.family, socket.SOCK_STREAM)
            clients.append(client)
            client.connect(listener.getsockname())
            client.sendall(b"hello\n")

    def accepted_(ctx: Context, sock: socket.socket, peer: Any, wheel_id: int) -> None:
        assert wheel_id == ctx.heap["id"]
        assert sock.getblocking() is False
        assert peer[0] == listener.getsockname()[0]
        accepted.append(sock)
        wheel = ReadWriteWheel(ctx.kernel, handle=sock, input_event="got")
        ctx.heap["wheels"][wheel.ID] = wheel
        if len(accepted) == CLIENTS:
            ctx.heap.pop("listener").close()

    def got(ctx: Context, line: str, wheel_id: int) -> None:
        log.append(line)
        ctx.heap["wheels"].pop(wheel_id).close()

    try:
        Session.create(
            kernel,
            inline_states={
                "_start": start,
                "accepted": accepted_,
                "got": got,
                "failed": lambda ctx, *a: log.append(a),
            },
        )
        kernel.run()
    finally:
        for s in accepted + clients:
            s.close()
    assert log == ["hello"] * CLIENTS
    assert len(accepted) == CLIENTS


def test_validation_and_event(kernel: Kernel, listener: socket.socket) -> None:
    def start(ctx: Context) -> None:
        with pytest.raises(InvalidArgument):
            ListenAcceptWheel(ctx.kernel, handle=None, accept_event="x")  # type: ignore[arg-type]
        with pytest.raises(InvalidArgument):
            ListenAcceptWheel(ctx.kernel, handle=listener, accept_event=None)  # type: ignore[arg-type]
        wheel = ListenAcceptWheel(ctx.kernel, handle=listener, accept_event="x")
        assert wheel.get_handle() is listener
        with pytest.raises(InvalidArgument):
            wheel.event(accept_event=None)
        with pytest.raises(InvalidArgument):
            wheel.event(nonsense="y")
        wheel.event(accept_event="y", error_event="z")
        wheel.close()

    Session.create(kernel, inline_states={"_start": start})
    kernel.run()


def test_accept_errors_become_error_events(kernel: Kernel) -> None:
    log: list[Any] = []

    class Failing:
        """A "listening socket" whose accept() fails."""

        def __init__(self, sock: socket.socket, code: int) -> None:
            self.sock = sock
            self.code = code

        def fileno(self) -> int:
            return self.sock.fileno()

        def setblocking(self, flag: bool) -> None:
            self.sock.setblocking(flag)

        def accept(self) -> tuple[socket.socket, Any]:
            raise OSError(self.code, "custom failure")

    a, b = socket.socketpair()
    b.sendall(b"x")  # keeps `a` readable

    def start(ctx: Context) -> None:
        ctx.heap["w"] = ListenAcceptWheel(
            ctx.kernel,
            handle=Failing(a, errno.EMFILE),  # type: ignore[arg-type]
            accept_event="accepted",
            error_event="failed",
        )

    def failed(ctx: Context, op: str, code: int, text: str, wheel_id: int) -> None:
        log.append((op, code, text, wheel_id == ctx.heap["w"].ID))
        ctx.heap.pop("w").close()

    with a, b:
        Session.create(kernel, inline_states={"_start": start, "failed": failed})
        kernel.run()
    assert log == [("accept", errno.EMFILE, "custom failure", True)]
