"""A TCP forwarder (client <-> proxy <-> server), built from bare wheels.

The same proxy as ``tcp_forwarder_components.py``, one layer down, as POE's cookbook
forwarder does it. The proxy session listens with a :class:`~poe.wheel.SocketFactoryWheel`.
Each accepted client gets a **forwarder session** of its own that holds everything about that
pair of connections: a :class:`~poe.wheel.ReadWriteWheel` on the client's socket, a second
SocketFactory dialing the server, then a second ReadWrite wheel on the server's socket. Both
wheels use :class:`~poe.filter.StreamFilter`: octets are relayed as they come.

Because both wheels live in one session, relaying is a method call (``put`` on the other
wheel), with no events in between; the wheel id that ends every wheel event tells the two
directions apart. The rest is bookkeeping the components did for us: queue what the client
sends before the server side is up, and when one side hangs up, close the other once its
output is written (``flushed_event``).

The real server and the scripted client are the components version's, shared through
``_forwarder_script.py``, and the transcript is the same.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

from _forwarder_script import run_client, start_server
from poe.filter import StreamFilter
from poe.kernel import Kernel
from poe.session import Context, Session
from poe.wheel import ReadWriteWheel, SocketFactoryWheel


# -- the proxy session: listens, and starts one forwarder session per client -------------------
def proxy_start(ctx: Context, server_port: int) -> None:
    ctx.kernel.alias_set("proxy")
    ctx.heap["server_port"] = server_port
    ctx.heap["listener"] = SocketFactoryWheel(
        ctx.kernel,
        bind_address="127.0.0.1",
        bind_port=0,
        reuse=True,
        success_event="accepted",
        failure_event="listen_failed",
    )


def accepted(ctx: Context, sock: socket.socket, address: str, port: int, wheel_id: int) -> None:
    print("proxy: a client connected; dialing the server for it")
    Session.create(ctx.kernel, inline_states=FORWARDER, args=(sock, ctx.heap["server_port"]))


def listen_failed(ctx: Context, operation: str, errnum: int, errstr: str, wheel_id: int) -> None:
    print(f"proxy: {operation} failed: {errstr}")
    del ctx.heap["listener"]


def proxy_shutdown(ctx: Context) -> None:
    ctx.heap.pop("listener", None)
    ctx.kernel.alias_remove("proxy")


PROXY: dict[str, Callable[..., Any]] = {
    "_start": proxy_start,
    "accepted": accepted,
    "listen_failed": listen_failed,
    "shutdown": proxy_shutdown,
}


# -- a forwarder session: one client, one server connection, two wheels -------------------------
def forwarder_start(ctx: Context, client_sock: socket.socket, server_port: int) -> None:
    heap = ctx.heap
    heap["client"] = ReadWriteWheel(
        ctx.kernel,
        handle=client_sock,
        filter=StreamFilter(),
        input_event="from_client",
        error_event="client_error",
    )
    heap["server"] = None  # the server's wheel, once connected
    heap["queue"] = []  # what the client sends before that
    heap["dialer"] = SocketFactoryWheel(
        ctx.kernel,
        remote_address="127.0.0.1",
        remote_port=server_port,
        success_event="server_connected",
        failure_event="server_failed",
    )


def server_connected(
    ctx: Context, sock: socket.socket, address: str, port: int, wheel_id: int
) -> None:
    print("proxy: connected to the server")
    heap = ctx.heap
    del heap["dialer"]  # its job is done; the socket is ours
    heap["server"] = ReadWriteWheel(
        ctx.kernel,
        handle=sock,
        filter=StreamFilter(),
        input_event="from_server",
        error_event="server_error",
    )
    if heap["queue"]:
        heap["server"].put(*heap["queue"])
    heap["queue"] = None


def server_failed(ctx: Context, operation: str, errnum: int, errstr: str, wheel_id: int) -> None:
    print(f"proxy: cannot reach the server ({errstr}); dropping the client")
    del ctx.heap["dialer"]
    close_after_flush(ctx, "client")


def from_client(ctx: Context, chunk: bytes, wheel_id: int) -> None:
    if ctx.heap["server"] is None:
        ctx.heap["queue"].append(chunk)
    else:
        ctx.heap["server"].put(chunk)


def from_server(ctx: Context, chunk: bytes, wheel_id: int) -> None:
    ctx.heap["client"].put(chunk)


def client_error(ctx: Context, operation: str, errnum: int, errstr: str, wheel_id: int) -> None:
    print("proxy: the client hung up; closing the server side")
    ctx.heap.pop("client").close(close_handles=True)
    ctx.heap.pop("dialer", None)  # still dialing? Then stop.
    close_after_flush(ctx, "server")


def server_error(ctx: Context, operation: str, errnum: int, errstr: str, wheel_id: int) -> None:
    ctx.heap.pop("server").close(close_handles=True)
    close_after_flush(ctx, "client")


def close_after_flush(ctx: Context, side: str) -> None:
    """Close one side once everything queued for it is written (POE's FlushedEvent recipe)."""
    wheel = ctx.heap.get(side)
    if wheel is None:
        return
    wheel.pause_input()  # the other side is gone: nowhere to relay input to
    if wheel.get_driver_out_octets():
        wheel.event(flushed_event="flushed")
    else:
        ctx.heap.pop(side).close(close_handles=True)


def flushed(ctx: Context, wheel_id: int) -> None:
    for side in ("client", "server"):
        wheel = ctx.heap.get(side)
        if wheel is not None and wheel_id == wheel.ID:
            ctx.heap.pop(side).close(close_handles=True)


FORWARDER: dict[str, Callable[..., Any]] = {
    "_start": forwarder_start,
    "server_connected": server_connected,
    "server_failed": server_failed,
    "from_client": from_client,
    "from_server": from_server,
    "client_error": client_error,
    "server_error": server_error,
    "flushed": flushed,
}


def main() -> None:
    kernel = Kernel()
    server_port = start_server(kernel)  # the real server, from _forwarder_script
    proxy = Session.create(kernel, inline_states=PROXY, args=(server_port,))
    proxy_port = proxy.get_heap()["listener"].getsockname()[1]
    run_client(kernel, proxy_port)  # the scripted client, until everyone has gone


if __name__ == "__main__":
    main()
