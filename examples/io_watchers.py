"""I/O watchers: the kernel says when a handle is ready; the handler does the reading/writing.

One session owns both ends of a socket pair. Its write watcher sends one message, then pauses
itself; its read watcher receives the message and resumes the writer. After the last message
both watchers are removed, and with nothing left to watch the session stops.
"""

from __future__ import annotations

import socket

from poe.kernel import Kernel
from poe.loop import Mode
from poe.session import Context, Session

MESSAGES = ["hello", "from", "the", "other", "end"]


def start(ctx: Context) -> None:
    reader, writer = socket.socketpair()
    ctx.heap.update(reader=reader, writer=writer, outbox=list(MESSAGES))
    ctx.kernel.select_read(reader, "readable", "reader-end")  # extra args follow (handle, mode)
    ctx.kernel.select_write(writer, "writable")


def writable(ctx: Context, handle: socket.socket, mode: Mode) -> None:
    word = ctx.heap["outbox"].pop(0)
    handle.send(word.encode())
    print(f"{Mode(mode).name:<5} sent {word!r}; pausing the write watcher")
    ctx.kernel.select_pause_write(handle)


def readable(ctx: Context, handle: socket.socket, mode: Mode, label: str) -> None:
    data = handle.recv(4096).decode()
    print(f"{Mode(mode).name:<5} {label} got {data!r}")
    if ctx.heap["outbox"]:
        ctx.kernel.select_resume_write(ctx.heap["writer"])
    else:
        print("done: removing both watchers")
        ctx.kernel.select_read(handle)  # no event name: stop watching
        ctx.kernel.select_write(ctx.heap["writer"])
        handle.close()
        ctx.heap["writer"].close()


def stop(ctx: Context) -> None:
    print("_stop: no watchers, no events, nothing keeps the session alive")


kernel = Kernel()
Session.create(
    kernel,
    inline_states={"_start": start, "writable": writable, "readable": readable, "_stop": stop},
)
kernel.run()
