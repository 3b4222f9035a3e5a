"""Timers: named delays, timers by id (adjust, remove), clearing, and past-due timers.

Due times are spaced 100 ms or more apart so the order never depends on scheduling noise.
"""

from __future__ import annotations

import time

from poe.kernel import Kernel
from poe.session import Context, Session


def start(ctx: Context) -> None:
    k = ctx.kernel
    now = time.time()

    # A named, repeating timer: each "tick" arms the next one.
    k.delay("tick", 0.2, 1)

    # Named timers are replaced by name: only the second "reminder" survives.
    k.delay("reminder", 0.1, "first")
    k.delay("reminder", 0.3, "second")

    # delay(name) with no time clears every timer of that name.
    k.delay("cancelled", 0.1)
    k.delay("cancelled")

    # A timer by id, set 10 s ahead, then pulled forward with alarm_adjust().
    late_id = k.alarm_set("late", now + 10.0, "moved by alarm_adjust()")
    new_due = k.alarm_adjust(late_id, -9.3)
    print(f"start: 'late' is now due at +{new_due - now:.1f} s")

    # A timer by id, removed before it fires: alarm_remove() returns what it was.
    doomed = k.delay_set("doomed", 0.2, "x", "y")
    name, _due, args = k.alarm_remove(doomed)
    print(f"start: removed timer {name!r} with args {args}")

    # An ordinary event, then an alarm whose time has already passed:
    # the past-due alarm jumps ahead of the queued event.
    k.yield_("queued")
    k.alarm_add("from_the_past", now - 10.0)


def from_the_past(ctx: Context) -> None:
    print("from_the_past: due 10 s ago, so it ran before 'queued'")


def queued(ctx: Context) -> None:
    print("queued: an ordinary yield_()")


def tick(ctx: Context, n: int) -> None:
    print(f"tick {n}  (+{0.2 * n:.1f} s)")
    if n < 3:
        ctx.kernel.delay("tick", 0.2, n + 1)


def reminder(ctx: Context, which: str) -> None:
    print(f"reminder: the {which} one (+0.3 s)")


def late(ctx: Context, how: str) -> None:
    print(f"late: {how} (+0.7 s)")
    ctx.kernel.delay_add("bulk", 1.0, "a")
    ctx.kernel.delay_add("bulk", 2.0, "b")
    removed = ctx.kernel.alarm_remove_all()
    print(f"late: alarm_remove_all() removed {[item[0] for item in removed]}")


def never(ctx: Context, *args: object) -> None:
    print(f"{ctx.event}: this never runs")


kernel = Kernel()
Session.create(
    kernel,
    inline_states={
        "_start": start,
        "from_the_past": from_the_past,
        "queued": queued,
        "tick": tick,
        "reminder": reminder,
        "late": late,
        "cancelled": never,
        "doomed": never,
        "bulk": never,
    },
)
kernel.run()
