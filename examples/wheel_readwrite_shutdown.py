"""Graceful ReadWrite shutdown: say goodbye, wait until it is written, then close.

A client sends two lines, one at a time, then ``quit``. The server answers ``bye`` and must close the
connection, but only after ``bye`` has really been written: deleting the wheel right after
``put`` would throw the queued reply away. So the server sets a shutdown flag, creates a
``flushed`` handler on the fly with ``kernel.state()``, and points the wheel's FlushedEvent
at it with ``wheel.event(flushed_event=...)``. When the output buffer is empty the handler
deletes the wheel and closes the socket; the client then reads end of file.
"""

from __future__ import annotations

import socket

from poe.kernel import Kernel
from poe.session import Context, Session
from poe.wheel import ReadWriteWheel


def tcp_pair() -> tuple[socket.socket, socket.socket]:
    """A connected pair of TCP sockets on 127.0.0.1 (the two ends of one connection)."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        server, _peer = listener.accept()
    return server, client


# -- the server: answers each line, and says bye to "quit" ---------------------------------------
def server_start(ctx: Context, sock: socket.socket) -> None:
    ctx.heap["sock"] = sock
    ctx.heap["shutdown"] = False
    ctx.heap["wheel"] = ReadWriteWheel(
        ctx.kernel, handle=sock, input_event="server_input", error_event="server_error"
    )


def server_input(ctx: Context, line: str, wheel_id: int) -> None:
    if ctx.heap["shutdown"]:  # input that arrives after "quit" is ignored
        return
    print(f"server: got {line!r}")
    wheel: ReadWriteWheel = ctx.heap["wheel"]
    if line != "quit":
        wheel.put(f"ok {line}")
        return
    wheel.put("bye")
    ctx.heap["shutdown"] = True  # the flag: no more work, close once "bye" is out
    ctx.kernel.state("server_flushed", server_flushed)  # a handler created on the fly
    wheel.event(flushed_event="server_flushed")  # FlushedEvent now goes to it
    print("server: 'bye' queued, waiting for the flush")


def server_flushed(ctx: Context, wheel_id: int) -> None:
    if ctx.heap["shutdown"]:
        print(f"server: wheel {wheel_id} flushed, closing the connection")
        del ctx.heap["wheel"]  # dropping the wheel closes it (POE's delete $heap->{wheel})
        ctx.heap["sock"].close()
        ctx.kernel.state("server_flushed")  # remove the temporary handler again


def server_error(ctx: Context, operation: str, errno: int, errstr: str, wheel_id: int) -> None:
    print(f"server: {operation} error {errno} {errstr!r}")
    ctx.heap.pop("wheel", None)


# -- the client: sends three lines, prints the answers, stops at end of file ---------------------
def client_start(ctx: Context, sock: socket.socket) -> None:
    ctx.heap["sock"] = sock
    wheel = ReadWriteWheel(
        ctx.kernel, handle=sock, input_event="client_input", error_event="client_error"
    )
    ctx.heap["wheel"] = wheel
    ctx.heap["todo"] = ["how are you"]
    wheel.put("hello")


def client_input(ctx: Context, line: str, wheel_id: int) -> None:
    print(f"client: got {line!r}")
    wheel: ReadWriteWheel = ctx.heap["wheel"]
    if ctx.heap["todo"]:
        wheel.put(ctx.heap["todo"].pop(0))
    elif line != "bye":
        wheel.put("quit")


def client_error(ctx: Context, operation: str, errno: int, errstr: str, wheel_id: int) -> None:
    if operation == "read" and errno == 0:
        print("client: end of file, the server closed the connection")
    else:
        print(f"client: {operation} error {errno} {errstr!r}")
    del ctx.heap["wheel"]
    ctx.heap["sock"].close()


kernel = Kernel()
server_sock, client_sock = tcp_pair()
Session.create(
    kernel,
    inline_states={
        "_start": server_start,
        "server_input": server_input,
        "server_error": server_error,
    },
    args=(server_sock,),
)
Session.create(
    kernel,
    inline_states={
        "_start": client_start,
        "client_input": client_input,
        "client_error": client_error,
    },
    args=(client_sock,),
)
kernel.run()
print("both sessions are done")
