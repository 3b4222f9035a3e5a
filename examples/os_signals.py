"""Operating-system signals and child processes (POSIX only).

* ``sig("USR1", ...)`` turns SIGUSR1 into an event. A signal watcher does not keep a session
  alive, so the session also sets a timeout timer, which it clears when the signal arrives.
* ``sig_child(pid, ...)`` watches one child process; the kernel reaps it and sends one event with
  the raw wait status. The watcher does keep the session alive until that event.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from poe.kernel import Kernel
from poe.session import Context, Session


def start(ctx: Context) -> None:
    ctx.kernel.sig("USR1", "got_usr1")
    ctx.kernel.delay("give_up", 5.0)
    print("sending SIGUSR1 to ourselves")
    os.kill(os.getpid(), signal.SIGUSR1)


def got_usr1(ctx: Context, signal_name: str) -> None:
    print(f"got_usr1: {signal_name} arrived as an ordinary event")
    ctx.kernel.sig("USR1")  # stop watching
    ctx.kernel.delay("give_up")  # clear the timeout

    proc = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    ctx.heap["proc"] = proc
    ctx.kernel.sig_child(proc.pid, "child_exited", "worker-1")
    print("started a child process; sig_child() watches its pid")


def child_exited(ctx: Context, signal_name: str, pid: int, status: int, label: str) -> None:
    proc = ctx.heap.pop("proc")
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code  # the kernel reaped it: tell the Popen object
    print(
        f"child_exited: {signal_name} for {label} (our child: {pid == proc.pid}), exit code {code}"
    )


def give_up(ctx: Context) -> None:
    print("give_up: SIGUSR1 never arrived")


def stop(ctx: Context) -> None:
    print("_stop: no timer, no child to wait for; signal watchers alone keep nobody alive")


kernel = Kernel()
Session.create(
    kernel,
    inline_states={
        "_start": start,
        "got_usr1": got_usr1,
        "child_exited": child_exited,
        "give_up": give_up,
        "_stop": stop,
    },
)
kernel.run()
