"""Many child processes per session: a static pool of workers, and a dynamic pool.

**Static pool.** One session starts three long-lived worker processes and feeds them from a
job queue: each worker gets a job, answers on stdout, and gets the next job the moment it
answers. When the queue is empty an idle worker's stdin is closed (``shutdown_stdin()``); it
reads end of file and exits. The wheels live in the heap, keyed by wheel id, which every event
carries.

**Dynamic pool.** Another session starts one child per job, at most three at a time, and
starts the next as soon as one finishes. These children run a Python function
(``program=callable``: forked, no new interpreter).

Which worker does which job, and when results arrive, depend on scheduling, so results are
sorted before they are printed.
"""

from __future__ import annotations

import os
import sys
import time

from poe.kernel import Kernel
from poe.session import Context, Session
from poe.wheel import RunWheel

WORKER = """
import sys
for line in sys.stdin:
    n = int(line)
    print(f"{n} squared is {n * n}", flush=True)
"""
POOL_SIZE = 3
LIMIT = 3


# -- a static pool: POOL_SIZE workers, fed from a queue -------------------------------------------
def static_start(ctx: Context, jobs: list[int]) -> None:
    ctx.heap.update(queue=list(jobs), workers={}, results=[], statuses=[])
    for _ in range(POOL_SIZE):
        wheel = RunWheel(
            ctx.kernel,
            [sys.executable, "-c", WORKER],
            stdout_event="worker_result",
            exit_event="worker_exited",
        )
        ctx.heap["workers"][wheel.ID] = wheel
        give_job(ctx, wheel)
    print(f"static pool: {len(ctx.heap['workers'])} workers started for {len(jobs)} jobs")


def give_job(ctx: Context, wheel: RunWheel) -> None:
    if ctx.heap["queue"]:
        wheel.put(str(ctx.heap["queue"].pop(0)))
    else:
        wheel.shutdown_stdin()  # no more work: the worker reads end of file and exits


def worker_result(ctx: Context, line: str, wheel_id: int) -> None:
    ctx.heap["results"].append(line)
    give_job(ctx, ctx.heap["workers"][wheel_id])


def worker_exited(ctx: Context, signal: str, pid: int, status: int, wheel_id: int) -> None:
    ctx.heap["statuses"].append(os.waitstatus_to_exitcode(status))
    del ctx.heap["workers"][wheel_id]
    if not ctx.heap["workers"]:
        for result in sorted(ctx.heap["results"], key=lambda r: int(r.split()[0])):
            print(f"static pool: {result}")
        print(f"static pool: all workers exited, statuses {ctx.heap['statuses']}")


# -- a dynamic pool: one child per job, at most LIMIT at a time -----------------------------------
def cube(n: int) -> None:
    """Runs in the forked child: its stdout is the wheel's stdout pipe."""
    time.sleep(0.05)  # pretend to work, so that children overlap
    print(f"{n} cubed is {n**3}")


def dynamic_start(ctx: Context, jobs: list[int]) -> None:
    ctx.heap.update(queue=list(jobs), children={}, results=[], peak=0, exits=0)
    print(f"dynamic pool: {len(jobs)} jobs, at most {LIMIT} children at a time")
    spawn(ctx)


def spawn(ctx: Context) -> None:
    while ctx.heap["queue"] and len(ctx.heap["children"]) < LIMIT:
        n = ctx.heap["queue"].pop(0)
        wheel = RunWheel(
            ctx.kernel,
            cube,
            program_args=[n],
            stdout_event="child_result",
            close_event="child_closed",
            exit_event="child_exited",
        )
        ctx.heap["children"][wheel.ID] = wheel
        ctx.heap["peak"] = max(ctx.heap["peak"], len(ctx.heap["children"]))


def child_result(ctx: Context, line: str, wheel_id: int) -> None:
    ctx.heap["results"].append(line)


def child_closed(ctx: Context, wheel_id: int) -> None:
    del ctx.heap["children"][wheel_id]  # all its output is read: the slot is free
    spawn(ctx)


def child_exited(ctx: Context, signal: str, pid: int, status: int, wheel_id: int) -> None:
    ctx.heap["exits"] += 1


def dynamic_stop(ctx: Context) -> None:
    for result in sorted(ctx.heap["results"], key=lambda r: int(r.split()[0])):
        print(f"dynamic pool: {result}")
    print(f"dynamic pool: {ctx.heap['exits']} children exited, at most {ctx.heap['peak']} at once")


kernel = Kernel()
Session.create(
    kernel,
    inline_states={
        "_start": static_start,
        "worker_result": worker_result,
        "worker_exited": worker_exited,
    },
    args=(list(range(1, 11)),),
)
kernel.run()

Session.create(
    kernel,
    inline_states={
        "_start": dynamic_start,
        "child_result": child_result,
        "child_closed": child_closed,
        "child_exited": child_exited,
        "_stop": dynamic_stop,
    },
    args=(list(range(1, 9)),),
)
kernel.run()
