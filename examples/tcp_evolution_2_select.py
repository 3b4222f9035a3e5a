"""Evolution of a server, step 2: one kernel session, with I/O watchers instead of blocking.

Same protocol as step 1, but the server never waits: it asks the kernel to tell it when a
socket is ready (``select_read``, ``select_write``: POE's ``select`` verbs) and then does one
non-blocking ``accept``, ``recv`` or ``send``. The listening socket and every connection are
watched at once, so Bob gets his answer while Alice is still connected.

The price is bookkeeping, all of it by hand: an input buffer per connection to cut the bytes
into lines, an output buffer per connection because ``send`` may take only part of it, a write
watcher switched on and off with that buffer, and closing in the right order. Step 3 hands all
of that to wheels. (The visitors run in a thread so that one program can play both parts; a
real server would also run forever rather than stop after two visitors.)
"""

from __future__ import annotations

import socket

from _tcp_script import run_with_visitors
from poe.kernel import Kernel
from poe.loop import Mode
from poe.session import Context, Session

VISITORS = 2  # stop listening after this many, so the example ends


def start(ctx: Context, listener: socket.socket) -> None:
    ctx.heap.update(listener=listener, inbuf={}, outbuf={}, closing=set(), served=0)
    ctx.kernel.select_read(listener, "accept")


def accept(ctx: Context, listener: socket.socket, mode: Mode) -> None:
    conn, _address = listener.accept()  # ready: this does not block
    conn.setblocking(False)
    ctx.heap["inbuf"][conn] = b""
    ctx.heap["outbuf"][conn] = b""
    ctx.kernel.select_read(conn, "read")


def read(ctx: Context, conn: socket.socket, mode: Mode) -> None:
    data = conn.recv(4096)
    if not data:  # end of file: the client has gone
        close(ctx, conn)
        return
    buffer = ctx.heap["inbuf"][conn] + data
    *lines, ctx.heap["inbuf"][conn] = buffer.split(b"\r\n")  # keep the incomplete last line
    for line in lines:
        if line == b"quit":
            send(ctx, conn, b"bye\r\n")
            ctx.heap["closing"].add(conn)  # close once "bye" is out
            ctx.kernel.select_read(conn)  # and read nothing more
            break
        send(ctx, conn, b"you said: " + line + b"\r\n")


def send(ctx: Context, conn: socket.socket, data: bytes) -> None:
    ctx.heap["outbuf"][conn] += data
    ctx.kernel.select_write(conn, "write")  # write when the socket can take it


def write(ctx: Context, conn: socket.socket, mode: Mode) -> None:
    pending = ctx.heap["outbuf"][conn]
    sent = conn.send(pending)  # may be less than everything
    ctx.heap["outbuf"][conn] = pending = pending[sent:]
    if not pending:
        ctx.kernel.select_write(conn)  # nothing to write: stop watching, or it fires forever
        if conn in ctx.heap["closing"]:
            close(ctx, conn)


def close(ctx: Context, conn: socket.socket) -> None:
    heap = ctx.heap
    ctx.kernel.select_read(conn)  # stop watching before closing: the fd number gets reused
    ctx.kernel.select_write(conn)
    del heap["inbuf"][conn], heap["outbuf"][conn]
    heap["closing"].discard(conn)
    conn.close()
    heap["served"] += 1
    if heap["served"] == VISITORS:
        ctx.kernel.select_read(heap["listener"])  # no watcher left: the session can end
        heap["listener"].close()


def main() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    kernel = Kernel()
    Session.create(
        kernel,
        inline_states={"_start": start, "accept": accept, "read": read, "write": write},
        args=(listener,),
    )
    run_with_visitors(kernel, port)  # returns when the session has nothing left to watch
    print(f"server: served {VISITORS} clients at the same time")


if __name__ == "__main__":
    main()
