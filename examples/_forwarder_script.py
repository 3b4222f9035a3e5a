"""The scenery of the ``tcp_forwarder_*`` examples: the real server and the scripted client.

Not an example by itself: both forwarders import it, so they run the same scenario and print
the same transcript. The server greets, echoes each line and, once the proxy hangs up, stops
both listeners (aliases ``server`` and ``proxy``). The client answers the greeting with
``ping``, the echo with ``one more line``, and hangs up after the next echo.
"""

from __future__ import annotations

from poe.kernel import Kernel
from poe.session import Context
from poe.tcp import TCPClient, TCPServer


def server_greets(ctx: Context) -> None:
    ctx.heap["client"].put("hello from the server")


def server_input(ctx: Context, line: str) -> None:
    print(f"server: got {line!r}")
    ctx.heap["client"].put(f"echo: {line}")


def server_disconnected(ctx: Context) -> None:
    print("server: the proxy hung up")
    ctx.kernel.post("server", "shutdown")  # the demo is over: both listeners stop
    ctx.kernel.post("proxy", "shutdown")


SCRIPT = {"hello from the server": "ping", "echo: ping": "one more line"}


def client_input(ctx: Context, line: str, wheel_id: int) -> None:
    print(f"client: got {line!r}")
    reply = SCRIPT.get(line)
    if reply is None:
        print("client: hanging up")
        ctx.kernel.yield_("shutdown")
        return
    print(f"client: sending {reply!r}")
    ctx.heap["server"].put(reply)


def start_server(kernel: Kernel) -> int:
    """Start the real server (alias ``server``) on a free loopback port; return that port."""
    server = TCPServer(
        kernel,
        address="127.0.0.1",
        alias="server",
        client_connected=server_greets,
        client_input=server_input,
        client_disconnected=server_disconnected,
    )
    assert server.port is not None
    return server.port


def run_client(kernel: Kernel, proxy_port: int) -> None:
    """Start the scripted client on the proxy's port, then run the kernel until everyone is gone."""
    print("client: connecting to the proxy")
    TCPClient(kernel, remote_address="127.0.0.1", remote_port=proxy_port, server_input=client_input)
    kernel.run()
    print("everyone has gone: kernel.run() returned")
