"""Evolution of a server, step 4: the TCPServer component.

Step 3's two sessions (the listener with its SocketFactory, one connection session per client
with its ReadWrite wheel) are exactly what :class:`~poe.tcp.TCPServer` builds. What is left is
the protocol: ``client_input`` gets each line, in the connection's own session, and
``ctx.heap["client"]`` is that connection's wheel. Hanging up gracefully is the component's
``shutdown`` event: it stops reading, waits until the output is written, then closes and calls
``client_disconnected``. End of file and errors are handled the same way without a line of code.

The server stops listening after two visitors by posting ``shutdown`` to the listener (found by
its alias); the listener session ends once its last connection has.
"""

from __future__ import annotations

from _tcp_script import run_with_visitors
from poe.kernel import Kernel
from poe.session import Context
from poe.tcp import TCPServer

VISITORS = 2  # stop listening after this many, so the example ends
served: list[int] = []  # the remote ports of the visitors who have left


def client_input(ctx: Context, line: str) -> None:
    if line == "quit":
        ctx.heap["client"].put("bye")
        ctx.kernel.yield_("shutdown")  # flush "bye", then hang up
        return
    ctx.heap["client"].put(f"you said: {line}")


def client_disconnected(ctx: Context) -> None:
    served.append(ctx.heap["remote_port"])
    if len(served) == VISITORS:
        ctx.kernel.post("echo", "shutdown")  # the listener: stop accepting


def main() -> None:
    kernel = Kernel()
    server = TCPServer(
        kernel,
        address="127.0.0.1",
        port=0,
        alias="echo",
        client_input=client_input,
        client_disconnected=client_disconnected,
    )
    assert server.port is not None
    run_with_visitors(kernel, server.port)
    print(f"server: served {len(served)} clients at the same time")


if __name__ == "__main__":
    main()
