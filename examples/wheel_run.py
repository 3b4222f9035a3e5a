"""Wheel::Run, one child process per session: talk to it, then collect its exit status.

The first session runs a small Python program that answers each line it reads, and leaves
with status 3 on ``bye``. The session sends a line with ``put()``, gets the answer as a
``stdout_event``, and learns the exit status with ``exit_event`` (the wheel calls
``kernel.sig_child`` for you). The child's end of output (``close_event``) and its exit
(``CHLD``) may come in either order, so the session reports when it has both.

The second session runs a shell command whose output goes to ``stderr_event``, and asks for
the exit status itself with ``kernel.sig_child(wheel.PID, ...)``, as in POE.
"""

from __future__ import annotations

import os
import sys

from poe.kernel import Kernel
from poe.session import Context, Session
from poe.wheel import RunWheel

ANSWERER = """
import sys
for line in sys.stdin:
    word = line.strip()
    if word == "bye":
        print("goodbye", flush=True)
        sys.exit(3)
    print(f"{word.upper()} has {len(word)} letters", flush=True)
"""


# -- one conversation -----------------------------------------------------------------------------
def talker_start(ctx: Context) -> None:
    wheel = RunWheel(
        ctx.kernel,
        [sys.executable, "-c", ANSWERER],
        stdout_event="child_stdout",
        stderr_event="child_stderr",
        close_event="child_closed",
        exit_event="child_exited",
    )
    ctx.heap.update(wheel=wheel, words=["hello", "wheel", "bye"], done=[])
    wheel.put(ctx.heap["words"].pop(0))


def child_stdout(ctx: Context, line: str, wheel_id: int) -> None:
    print(f"talker: the child says {line!r}")
    if ctx.heap["words"]:
        ctx.heap["wheel"].put(ctx.heap["words"].pop(0))


def child_stderr(ctx: Context, line: str, wheel_id: int) -> None:
    print(f"talker: the child complains {line!r}")


def child_closed(ctx: Context, wheel_id: int) -> None:
    ctx.heap["done"].append("its output is closed")
    finish(ctx)


def child_exited(ctx: Context, signal: str, pid: int, status: int, wheel_id: int) -> None:
    ctx.heap["done"].append(f"it exited with status {os.waitstatus_to_exitcode(status)}")
    finish(ctx)


def finish(ctx: Context) -> None:
    if len(ctx.heap["done"]) == 2:  # both the close and the exit arrived, in whichever order
        for fact in sorted(ctx.heap["done"]):
            print(f"talker: {fact}")
        del ctx.heap["wheel"]


# -- a command whose exit status is watched with sig_child ----------------------------------------
def command_start(ctx: Context) -> None:
    wheel = RunWheel(
        ctx.kernel,
        "echo 'disk almost full' >&2; exit 1",  # a string runs through /bin/sh -c
        stderr_event="command_stderr",
        close_event="command_closed",
    )
    ctx.heap.update(wheel=wheel, stderr=[], status=None, closed=False)
    ctx.kernel.sig_child(wheel.PID, "command_exited")


def command_stderr(ctx: Context, line: str, wheel_id: int) -> None:
    ctx.heap["stderr"].append(line)


def command_closed(ctx: Context, wheel_id: int) -> None:
    ctx.heap["closed"] = True
    command_finish(ctx)


def command_exited(ctx: Context, signal: str, pid: int, status: int) -> None:
    ctx.heap["status"] = os.waitstatus_to_exitcode(status)
    command_finish(ctx)


def command_finish(ctx: Context) -> None:
    if ctx.heap["closed"] and ctx.heap["status"] is not None:
        print(f"command: stderr said {ctx.heap['stderr']}, exit status {ctx.heap['status']}")
        del ctx.heap["wheel"]


kernel = Kernel()
Session.create(
    kernel,
    inline_states={
        "_start": talker_start,
        "child_stdout": child_stdout,
        "child_stderr": child_stderr,
        "child_closed": child_closed,
        "child_exited": child_exited,
    },
)
kernel.run()

Session.create(
    kernel,
    inline_states={
        "_start": command_start,
        "command_stderr": command_stderr,
        "command_closed": command_closed,
        "command_exited": command_exited,
    },
)
kernel.run()
