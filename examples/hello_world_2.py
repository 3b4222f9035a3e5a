"""Hello World 2: the same program as hello_world_1.py, with the shortcuts."""

from __future__ import annotations

from poe.kernel import Kernel
from poe.session import Context, Session


def start(ctx: Context, greeting: str) -> None:
    print(f"Session {ctx.session.ID} says: {greeting}")
    ctx.heap["count"] = 0
    ctx.kernel.yield_("count")


def count(ctx: Context) -> None:
    ctx.heap["count"] += 1
    print(f"Session {ctx.session.ID} has counted to {ctx.heap['count']}.")
    if ctx.heap["count"] < 10:
        ctx.kernel.yield_("count")


kernel = Kernel()
Session.create(kernel, inline_states={"_start": start, "count": count}, args=("Hello, world!",))
kernel.run()
