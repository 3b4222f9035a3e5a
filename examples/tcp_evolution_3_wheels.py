"""Evolution of a server, step 3: wheels do the bookkeeping, one session per connection.

Step 2's buffers, watchers and line splitting come back as two wheels. A
:class:`~poe.wheel.SocketFactoryWheel` makes the listening socket and accepts connections
(``success_event``). Each accepted socket goes to a **new session** with a
:class:`~poe.wheel.ReadWriteWheel`, which reads, cuts the input into lines (its default
:class:`~poe.filter.LineFilter`), buffers the output and writes it when it can: ``put()`` is
all that is left of step 2's ``send``/``write``. One session per connection means each
connection's data lives in its own heap, not in dictionaries keyed by socket.

Graceful closing is POE's recipe: after ``bye``, wait for ``flushed_event`` (the output buffer
is empty) before dropping the wheel. The server session learns that a connection session ended
from ``_child`` (``"lose"``), and stops listening after two. Step 4 packages all of this.
"""

from __future__ import annotations

import socket
from typing import Any

from _tcp_script import run_with_visitors
from poe.kernel import Kernel
from poe.session import Context, Session
from poe.wheel import ReadWriteWheel, SocketFactoryWheel

VISITORS = 2  # stop listening after this many, so the example ends


# -- the server session: accepts, and starts one connection session per client -----------------
def server_start(ctx: Context) -> None:
    ctx.heap["served"] = 0
    ctx.heap["listener"] = factory = SocketFactoryWheel(
        ctx.kernel,
        bind_address="127.0.0.1",
        bind_port=0,
        reuse=True,
        success_event="accepted",
        failure_event="failed",
    )
    ctx.heap["port"] = factory.getsockname()[1]


def accepted(ctx: Context, sock: socket.socket, address: str, port: int, wheel_id: int) -> None:
    Session.create(ctx.kernel, inline_states=CONNECTION, args=(sock,))


def failed(ctx: Context, operation: str, errnum: int, errstr: str, wheel_id: int) -> None:
    print(f"server: {operation} failed: {errstr}")
    del ctx.heap["listener"]


def child(ctx: Context, reason: str, session: Any, value: Any) -> None:
    if reason == "lose":  # a connection session has ended
        ctx.heap["served"] += 1
        if ctx.heap["served"] == VISITORS:
            del ctx.heap["listener"]  # dropping the wheel closes the listening socket


SERVER: dict[str, Any] = {
    "_start": server_start,
    "accepted": accepted,
    "failed": failed,
    "_child": child,
}


# -- a connection session: one per client ------------------------------------------------------
def connection_start(ctx: Context, sock: socket.socket) -> None:
    ctx.heap["sock"] = sock
    ctx.heap["wheel"] = ReadWriteWheel(
        ctx.kernel, handle=sock, input_event="got_line", error_event="got_error"
    )


def got_line(ctx: Context, line: str, wheel_id: int) -> None:
    wheel = ctx.heap["wheel"]
    if line == "quit":
        wheel.put("bye")
        wheel.pause_input()  # read nothing more
        wheel.event(flushed_event="flushed")  # and hang up once "bye" is written
        return
    wheel.put(f"you said: {line}")


def got_error(ctx: Context, operation: str, errnum: int, errstr: str, wheel_id: int) -> None:
    hang_up(ctx)  # ("read", 0, "") is end of file: the client left without "quit"


def flushed(ctx: Context, wheel_id: int) -> None:
    hang_up(ctx)


def hang_up(ctx: Context) -> None:
    del ctx.heap["wheel"]  # no wheel, no watcher: the session ends
    ctx.heap.pop("sock").close()


CONNECTION: dict[str, Any] = {
    "_start": connection_start,
    "got_line": got_line,
    "got_error": got_error,
    "flushed": flushed,
}


def main() -> None:
    kernel = Kernel()
    server = Session.create(kernel, inline_states=SERVER)
    run_with_visitors(kernel, server.get_heap()["port"])
    print(f"server: served {VISITORS} clients at the same time")


if __name__ == "__main__":
    main()
