"""A child that needs a terminal: ``conduit="pty"`` gives it one.

Some programs behave differently, or refuse to work, when their stdin is not a terminal
(password prompts, ``ssh``, ``top``, programs that only line-buffer on a tty). The child here
checks ``os.isatty(0)`` and says so. Run through pipes (the default conduit) it reports no
terminal; run through a pseudo-terminal it finds one, and also reads the window size the
wheel set with ``winsize=``. With a pty the child's stdout and stderr both arrive as
``stdout_event``, and the terminal echoes what the parent types unless the child turns echo
off, as this one does.
"""

from __future__ import annotations

import os
import sys

from poe.filter import LineFilter
from poe.kernel import Kernel
from poe.session import Context, Session
from poe.wheel import RunWheel

CHILD = """
import os, shutil, sys, termios
if not os.isatty(0):
    print("no terminal here, refusing to ask for a password", flush=True)
    sys.exit(2)
attrs = termios.tcgetattr(0)
attrs[3] &= ~termios.ECHO  # like getpass(): do not echo what is typed
termios.tcsetattr(0, termios.TCSANOW, attrs)
size = os.get_terminal_size(0)
print(f"stdin is a terminal of {size.columns}x{size.lines}", flush=True)
print("password:", flush=True)
secret = sys.stdin.readline().strip()
print("accepted" if secret == "hunter2" else "wrong password", flush=True)
"""


def start(ctx: Context, conduit: str) -> None:
    ctx.heap["conduit"] = conduit
    ctx.heap["wheel"] = RunWheel(
        ctx.kernel,
        [sys.executable, "-c", CHILD],
        conduit=conduit,
        winsize=(24, 80) if conduit == "pty" else None,
        stdio_filter=LineFilter(),  # a terminal ends lines with CRLF
        stdout_event="child_said",
        close_event="child_closed",
        exit_event="child_exited",
    )
    ctx.heap.update(closed=False, status=None)


def child_said(ctx: Context, line: str, wheel_id: int) -> None:
    print(f"{ctx.heap['conduit']:>4}: child: {line}")
    if line == "password:":
        ctx.heap["wheel"].put("hunter2")


def child_closed(ctx: Context, wheel_id: int) -> None:
    ctx.heap["closed"] = True
    finish(ctx)


def child_exited(ctx: Context, signal: str, pid: int, status: int, wheel_id: int) -> None:
    ctx.heap["status"] = os.waitstatus_to_exitcode(status)
    finish(ctx)


def finish(ctx: Context) -> None:
    if ctx.heap["closed"] and ctx.heap["status"] is not None:
        print(f"{ctx.heap['conduit']:>4}: exit status {ctx.heap['status']}")
        del ctx.heap["wheel"]


kernel = Kernel()
for conduit in ("pipe", "pty"):
    Session.create(
        kernel,
        inline_states={
            "_start": start,
            "child_said": child_said,
            "child_closed": child_closed,
            "child_exited": child_exited,
        },
        args=(conduit,),
    )
    kernel.run()
