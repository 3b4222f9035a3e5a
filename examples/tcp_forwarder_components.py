"""A TCP forwarder (client <-> proxy <-> server), built from TCPServer and TCPClient.

The proxy listens with a :class:`~poe.tcp.TCPServer`. For each client that connects, its
connection session dials the real server with a :class:`~poe.tcp.TCPClient` (a child session)
and relays octets both ways. Both sides use :class:`~poe.filter.StreamFilter`, so the proxy
forwards whatever arrives, in whatever chunks, without knowing the protocol: the same proxy
would carry HTTP, SMTP or this example's lines.

Three details make it a correct forwarder:

* what the client sends before the server side is connected is queued, then sent in order;
* the two sessions talk by posting events (``from_server``, ``server_up``, ``server_gone``),
  never by touching each other's wheel;
* whichever side hangs up, the other is closed after its pending output is written.

``tcp_forwarder_wheels.py`` is the same proxy on bare SocketFactory and ReadWrite wheels, and
prints the same transcript: the real server and the scripted client that both run against are
in ``_forwarder_script.py``. The transcript only shows steps whose order is fixed by cause and
effect (the client cannot hear an echo before the server printed the line), so it is the same
on every run.
"""

from __future__ import annotations

import contextlib
import socket

from _forwarder_script import run_client, start_server
from poe.errors import SessionNotFound
from poe.filter import StreamFilter
from poe.kernel import Kernel
from poe.session import Context
from poe.tcp import TCPClient, TCPServer


# -- the proxy: one TCPServer; each connection session owns a TCPClient to the server ----------
def proxy_connected(ctx: Context, server_port: int) -> None:
    print("proxy: a client connected; dialing the server for it")
    ctx.heap["queue"] = []  # client data that arrives before the server side is up
    ctx.heap["upstream_gone"] = False
    ctx.heap["upstream"] = TCPClient(
        ctx.kernel,
        remote_address="127.0.0.1",
        remote_port=server_port,
        filter=StreamFilter(),
        args=(ctx.session.ID,),  # the upstream session reports to this connection session
        started=upstream_started,
        connected=upstream_connected,
        server_input=upstream_input,
        disconnected=upstream_disconnected,
    )


def proxy_input(ctx: Context, chunk: bytes) -> None:
    if ctx.heap["queue"] is None:
        ctx.heap["upstream"].put(chunk)
    else:
        ctx.heap["queue"].append(chunk)


def server_up(ctx: Context) -> None:
    print("proxy: connected to the server")
    queued, ctx.heap["queue"] = ctx.heap["queue"], None
    if queued:
        ctx.heap["upstream"].put(*queued)


def from_server(ctx: Context, chunk: bytes) -> None:
    if not ctx.heap["shutdown"]:
        ctx.heap["client"].put(chunk)


def server_gone(ctx: Context) -> None:
    ctx.heap["upstream_gone"] = True
    ctx.kernel.yield_("shutdown")  # the server hung up: write what is left, then hang up too


def proxy_disconnected(ctx: Context) -> None:
    if not ctx.heap["upstream_gone"]:
        print("proxy: the client hung up; closing the server side")
        ctx.heap["upstream"].shutdown()  # flushes what was sent upstream, then closes


def upstream_started(ctx: Context, owner: int) -> None:
    ctx.heap["owner"] = owner


def upstream_connected(ctx: Context, sock: socket.socket, address: str, port: int) -> None:
    ctx.kernel.post(ctx.heap["owner"], "server_up")


def upstream_input(ctx: Context, chunk: bytes, wheel_id: int) -> None:
    ctx.kernel.post(ctx.heap["owner"], "from_server", chunk)


def upstream_disconnected(ctx: Context) -> None:
    # The owner is gone already if the client hung up first: then nobody needs to know.
    with contextlib.suppress(SessionNotFound):
        ctx.kernel.post(ctx.heap["owner"], "server_gone")


def main() -> None:
    kernel = Kernel()
    server_port = start_server(kernel)  # the real server, from _forwarder_script
    proxy = TCPServer(
        kernel,
        address="127.0.0.1",
        alias="proxy",
        client_filter=StreamFilter(),
        client_args=(server_port,),
        client_connected=proxy_connected,
        client_input=proxy_input,
        client_disconnected=proxy_disconnected,
        inline_states={
            "server_up": server_up,
            "from_server": from_server,
            "server_gone": server_gone,
        },
    )
    assert proxy.port is not None
    run_client(kernel, proxy.port)  # the scripted client, until everyone has gone


if __name__ == "__main__":
    main()
