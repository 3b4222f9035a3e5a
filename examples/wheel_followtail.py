"""A log watcher: FollowTail reports the lines another session appends, across a rotation.

The writer session appends one line to ``app.log`` each time it is asked to. The watcher
follows the file by name with a FollowTail wheel and asks for the next line when it has seen
the previous one, so the output does not depend on timing. After line 3 the writer rotates
the log the way logrotate does: one more line in the old file, rename it to ``app.log.1``,
start a new ``app.log``. The wheel drains the old file, notices the name now points to a new
file (``reset_event``) and carries on there from the start.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from poe.kernel import Kernel
from poe.session import Context, Session
from poe.wheel import FollowTailWheel


# -- the writer: an application appending to its log --------------------------------------------
def writer_start(ctx: Context, log: Path) -> None:
    ctx.kernel.alias_set("writer")
    ctx.heap.update(log=log, number=0)


def write_next(ctx: Context) -> None:
    log: Path = ctx.heap["log"]
    ctx.heap["number"] += 1
    number = ctx.heap["number"]
    if number == 4:  # rotate: a last line in the old file, then a new file under the old name
        with log.open("a") as f:
            f.write("line 4 (the last one before the rotation)\n")
        os.rename(log, log.with_name(log.name + ".1"))
        log.write_text("line 5 (the first one in the new file)\n")
        ctx.heap["number"] = 5
        return
    with log.open("a") as f:
        f.write(f"line {number}\n")


# -- the watcher: follows the log by name -------------------------------------------------------
def watcher_start(ctx: Context, log: Path) -> None:
    ctx.heap["wheel"] = FollowTailWheel(
        ctx.kernel,
        filename=log,
        poll_interval=0.05,  # seconds between polls when nothing is new (default 1)
        input_event="got_line",
        reset_event="got_reset",
        error_event="got_error",
    )
    ctx.kernel.post("writer", "write_next")


def got_line(ctx: Context, line: str, wheel_id: int) -> None:
    print(f"watcher: {line}")
    if line.startswith("line 6"):
        print("watcher: seen enough, stopping")
        del ctx.heap["wheel"]  # dropping the wheel stops the polling
    elif not line.startswith("line 4"):  # line 5 comes with line 4's rotation
        ctx.kernel.post("writer", "write_next")


def got_reset(ctx: Context, wheel_id: int) -> None:
    print("watcher: the log was rotated, following the new file")


def got_error(ctx: Context, operation: str, errno: int, errstr: str, wheel_id: int) -> None:
    print(f"watcher: {operation} error {errstr}")
    del ctx.heap["wheel"]


with tempfile.TemporaryDirectory() as tmp:
    log_path = Path(tmp) / "app.log"
    log_path.write_text("an old line, written before the watcher started\n")
    kernel = Kernel()
    Session.create(
        kernel, inline_states={"_start": writer_start, "write_next": write_next}, args=(log_path,)
    )
    Session.create(
        kernel,
        inline_states={
            "_start": watcher_start,
            "got_line": got_line,
            "got_reset": got_reset,
            "got_error": got_error,
        },
        args=(log_path,),
    )
    kernel.run()
    print(f"files left: {sorted(p.name for p in Path(tmp).iterdir())}")
