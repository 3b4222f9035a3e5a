"""Reading a named pipe (FIFO) with a ReadWrite wheel, from a child process and from the kernel.

A FIFO, made with :func:`os.mkfifo`, is a pipe with a name in the filesystem: any process that
may open the file can write into it, and a daemon reading it gets a simple local inbox (a
"command FIFO"). The reader opens it non-blocking and hands the descriptor to a
:class:`~poe.wheel.ReadWriteWheel`, which delivers one line per ``input_event``.

When the last writer closes the FIFO, the reader gets end of file (``error_event`` with
``("read", 0, "")``). A daemon wants the *next* writer too, so the reader closes and opens the
FIFO again: a fresh reader end waits quietly for a new writer.

There are two writers, one after the other: a child process started with a
:class:`~poe.wheel.RunWheel`, then a session of this same kernel, which opens the FIFO for
writing and puts lines through a second ReadWrite wheel (it only writes, so it needs no input
event), closing it once ``flushed_event`` says everything is written.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from typing import Any

from poe.kernel import Kernel
from poe.session import Context, Session
from poe.wheel import ReadWriteWheel, RunWheel

WRITER = """
import sys
with open(sys.argv[1], "w") as fifo:  # blocks until a reader has the FIFO open
    for word in ("first", "second", "third"):
        print(f"child says {word}", file=fifo, flush=True)
"""


# -- the reader ---------------------------------------------------------------------------------
def reader_start(ctx: Context, path: str) -> None:
    ctx.heap.update(path=path, writers=0)
    open_fifo(ctx)
    # The first writer: a child process. It writes three lines and exits.
    ctx.heap["child"] = RunWheel(
        ctx.kernel,
        [sys.executable, "-c", WRITER, path],
        stdout_event="child_stdout",
        exit_event="child_exited",
    )


def open_fifo(ctx: Context) -> None:
    fd = os.open(ctx.heap["path"], os.O_RDONLY | os.O_NONBLOCK)  # does not wait for a writer
    ctx.heap["fd"] = fd
    ctx.heap["wheel"] = ReadWriteWheel(
        ctx.kernel, handle=fd, input_event="got_line", error_event="got_error"
    )


def got_line(ctx: Context, line: str, wheel_id: int) -> None:
    print(f"reader: {line}")


def got_error(ctx: Context, operation: str, errnum: int, errstr: str, wheel_id: int) -> None:
    # close() now, not just ``del``: the wheel is still running (it is reporting this very
    # error), and its watcher must be gone before the descriptor is closed and reused.
    ctx.heap.pop("wheel").close()
    os.close(ctx.heap.pop("fd"))
    if (operation, errnum) != ("read", 0):
        print(f"reader: {operation} error: {errstr}")
        return
    ctx.heap["writers"] += 1
    print(f"reader: end of file: writer {ctx.heap['writers']} closed the FIFO")
    if ctx.heap["writers"] == 1:
        open_fifo(ctx)  # wait for the next writer
        Session.create(ctx.kernel, inline_states=WRITER_STATES, args=(ctx.heap["path"],))


def child_stdout(ctx: Context, line: str, wheel_id: int) -> None:
    print(f"child printed: {line}")  # it prints nothing: its lines go into the FIFO


def child_exited(ctx: Context, signal: str, pid: int, status: int, wheel_id: int) -> None:
    del ctx.heap["child"]
    ctx.heap["child_status"] = status  # reported at the end: its timing is the child's business


# -- the second writer: a session of the same kernel ---------------------------------------------
def writer_start(ctx: Context, path: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)  # fine: the reader has the FIFO open
    ctx.heap["fd"] = fd
    wheel = ReadWriteWheel(ctx.kernel, handle=fd, flushed_event="written")
    ctx.heap["wheel"] = wheel
    wheel.put("a session says hello", "and goodbye")


def written(ctx: Context, wheel_id: int) -> None:
    ctx.heap.pop("wheel").close()
    os.close(ctx.heap.pop("fd"))  # the reader gets end of file


WRITER_STATES: dict[str, Callable[..., Any]] = {"_start": writer_start, "written": written}


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "inbox.fifo")
        os.mkfifo(path)
        kernel = Kernel()
        reader = Session.create(
            kernel,
            inline_states={
                "_start": reader_start,
                "got_line": got_line,
                "got_error": got_error,
                "child_stdout": child_stdout,
                "child_exited": child_exited,
            },
            args=(path,),
        )
        kernel.run()
        print(f"the child writer exited with status {reader.get_heap()['child_status']}")


if __name__ == "__main__":
    main()
