"""An echo server and its client in one kernel: SocketFactory makes sockets, ReadWrite talks.

The server's SocketFactory listens on 127.0.0.1 (port 0: the system picks a free one) and
reports each accepted connection with ``success_event``; the server wraps each one in its own
ReadWrite wheel, kept in the heap by wheel id. The client's SocketFactory connects without
blocking the kernel, then the client does the same with its socket. A second client connects
to a port nobody listens on, to show ``failure_event``.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

from poe.kernel import Kernel
from poe.session import Context, Session
from poe.wheel import ReadWriteWheel, SocketFactoryWheel


# -- the server ---------------------------------------------------------------------------------
def server_start(ctx: Context) -> None:
    ctx.heap["clients"] = {}
    factory = SocketFactoryWheel(
        ctx.kernel,
        bind_address="127.0.0.1",
        bind_port=0,
        reuse=True,
        success_event="server_accepted",
        failure_event="server_failed",
    )
    ctx.heap["factory"] = factory
    _host, port = factory.getsockname()
    print("server: listening on 127.0.0.1")
    Session.create(ctx.kernel, inline_states=CLIENT_STATES, args=(port, ["hello", "world"]))


def server_accepted(ctx: Context, sock: socket.socket, address: str, port: int, fid: int) -> None:
    print(f"server: connection from {address}")
    wheel = ReadWriteWheel(
        ctx.kernel, handle=sock, input_event="server_input", error_event="server_error"
    )
    ctx.heap["clients"][wheel.ID] = (wheel, sock)  # one wheel per connection, by wheel id


def server_input(ctx: Context, line: str, wheel_id: int) -> None:
    wheel, _sock = ctx.heap["clients"][wheel_id]
    wheel.put(f"echo: {line}")


def server_error(ctx: Context, operation: str, errno: int, errstr: str, wheel_id: int) -> None:
    print(f"server: client disconnected ({operation} error {errno})")
    wheel, sock = ctx.heap["clients"].pop(wheel_id)
    wheel.close()
    sock.close()
    print("server: shutting down the listener")  # a demo: one client is enough
    del ctx.heap["factory"]  # closing the factory closes the listening socket


def server_failed(ctx: Context, operation: str, errno: int, errstr: str, fid: int) -> None:
    print(f"server: {operation} failed: {errstr}")
    del ctx.heap["factory"]


# -- the clients --------------------------------------------------------------------------------
def client_start(ctx: Context, port: int, lines: list[str]) -> None:
    ctx.heap["lines"] = list(lines)
    ctx.heap["factory"] = SocketFactoryWheel(
        ctx.kernel,
        remote_address="127.0.0.1",
        remote_port=port,
        success_event="client_connected",
        failure_event="client_failed",
    )


def client_connected(ctx: Context, sock: socket.socket, address: str, port: int, fid: int) -> None:
    print(f"client: connected to {address}")
    del ctx.heap["factory"]  # its work is done: the socket is ours now
    wheel = ReadWriteWheel(
        ctx.kernel, handle=sock, input_event="client_input", error_event="client_error"
    )
    ctx.heap.update(wheel=wheel, sock=sock)
    wheel.put(ctx.heap["lines"].pop(0))


def client_input(ctx: Context, line: str, wheel_id: int) -> None:
    print(f"client: got {line!r}")
    if ctx.heap["lines"]:
        ctx.heap["wheel"].put(ctx.heap["lines"].pop(0))
        return
    print("client: done, disconnecting")
    del ctx.heap["wheel"]
    ctx.heap["sock"].close()


def client_error(ctx: Context, operation: str, errno: int, errstr: str, wheel_id: int) -> None:
    print(f"client: {operation} error {errno} {errstr!r}")
    del ctx.heap["wheel"]


def client_failed(ctx: Context, operation: str, errno: int, errstr: str, fid: int) -> None:
    print(f"client: {operation} failed: {errstr}")
    del ctx.heap["factory"]


CLIENT_STATES: dict[str, Callable[..., Any]] = {
    "_start": client_start,
    "client_connected": client_connected,
    "client_input": client_input,
    "client_error": client_error,
    "client_failed": client_failed,
}


def unused_port() -> int:
    """A port on 127.0.0.1 that nobody listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


kernel = Kernel()
Session.create(
    kernel,
    inline_states={
        "_start": server_start,
        "server_accepted": server_accepted,
        "server_input": server_input,
        "server_error": server_error,
        "server_failed": server_failed,
    },
)
kernel.run()

print("-- a client for a port nobody listens on:")
Session.create(kernel, inline_states=CLIENT_STATES, args=(unused_port(), []))
kernel.run()
