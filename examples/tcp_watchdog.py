"""A watchdog that keeps reconnecting to a server that goes away, with exponential backoff.

The watchdog is a :class:`~poe.tcp.TCPClient` that checks the server with ``ping`` and expects
``pong``. When the connection is lost (``disconnected``) or cannot be made
(``connect_error``), it does not give up and does not hammer the server either: it posts
itself a delayed ``reconnect`` (TCPClient's own event) after ``backoff.next()`` seconds. A
:class:`~poe.tcp.Backoff` makes each delay longer than the last (up to a maximum, with a little
random jitter so that many clients do not come back in lockstep) and ``backoff.reset()`` in
``connected`` starts it over.

An ``operator`` session plays the outage: once the watchdog has seen the server alive, it
stops the server (``shutdown(connections=True)``: stop listening, close every connection);
after the watchdog's third failed attempt it starts a new :class:`~poe.tcp.TCPServer` on the
same port. The watchdog notices nothing but a working connection again. The delays are random
and not printed; the order of what happens is fixed, so the transcript is the same every run.
"""

from __future__ import annotations

import errno
import socket
from typing import Any

from poe.kernel import Kernel
from poe.session import Context, Session
from poe.tcp import Backoff, TCPClient, TCPServer

OUTAGE_ATTEMPTS = 3  # the operator restarts the server after this many failed attempts


# -- the watchdog -------------------------------------------------------------------------------
class Watchdog:
    """The callbacks of a TCPClient that reconnects with a Backoff."""

    def __init__(self, kernel: Kernel, port: int) -> None:
        self.backoff = Backoff(initial=0.05, maximum=0.5, factor=2.0, jitter=0.2)
        self.state = "connecting"
        self.failures = 0  # failed attempts since the last good connection
        print("watchdog: connecting")
        self.client = TCPClient(
            kernel,
            remote_address="127.0.0.1",
            remote_port=port,
            connect_timeout=2.0,
            connected=self.connected,
            connect_error=self.connect_error,
            server_input=self.server_input,
            disconnected=self.disconnected,
        )

    def become(self, state: str, why: str) -> None:
        print(f"watchdog: {self.state} -> {state} ({why})")
        self.state = state

    def connected(self, ctx: Context, sock: socket.socket, address: str, port: int) -> None:
        self.backoff.reset()
        self.failures = 0
        self.become("checking", "connected")
        ctx.heap["server"].put("ping")

    def server_input(self, ctx: Context, line: str, wheel_id: int) -> None:
        if line == "pong":
            self.become("healthy", "the server answered")
            ctx.kernel.post("operator", "healthy")

    def disconnected(self, ctx: Context) -> None:
        if ctx.heap["shutdown"]:
            self.become("stopped", "asked to stop")
            return
        self.become("retrying", "the server hung up")
        ctx.kernel.delay("reconnect", self.backoff.next())

    def connect_error(self, ctx: Context, operation: str, errnum: int, errstr: str) -> None:
        self.failures += 1
        name = errno.errorcode.get(errnum, str(errnum))
        print(f"watchdog: attempt {self.failures} failed ({name}); will retry")
        ctx.kernel.post("operator", "attempt_failed", self.failures)
        ctx.kernel.delay("reconnect", self.backoff.next())  # a longer wait each time


# -- the server, and the operator who stops and restarts it -------------------------------------
def heartbeat(ctx: Context, line: str) -> None:
    if line == "ping":
        ctx.heap["client"].put("pong")


def start_server(kernel: Kernel, port: int = 0) -> TCPServer:
    return TCPServer(kernel, address="127.0.0.1", port=port, client_input=heartbeat)


def operator_start(ctx: Context) -> None:
    ctx.kernel.alias_set("operator")
    server = start_server(ctx.kernel)
    assert server.port is not None
    print("operator: the server is up")
    ctx.heap.update(server=server, port=server.port, checks=0)
    ctx.heap["watchdog"] = Watchdog(ctx.kernel, server.port)


def healthy(ctx: Context) -> None:
    ctx.heap["checks"] += 1
    if ctx.heap["checks"] == 1:
        print("operator: pulling the plug on the server")
        ctx.heap["server"].shutdown(connections=True)
        return
    print("operator: all is well again; the demo is over")
    ctx.heap["watchdog"].client.shutdown()
    ctx.heap["server"].shutdown(connections=True)
    ctx.kernel.alias_remove("operator")


def attempt_failed(ctx: Context, attempts: int) -> None:
    if attempts == OUTAGE_ATTEMPTS:
        print("operator: starting the server again, on the same port")
        ctx.heap["server"] = start_server(ctx.kernel, ctx.heap["port"])


def main() -> None:
    kernel = Kernel()
    states: dict[str, Any] = {
        "_start": operator_start,
        "healthy": healthy,
        "attempt_failed": attempt_failed,
    }
    Session.create(kernel, inline_states=states)
    kernel.run()


if __name__ == "__main__":
    main()
