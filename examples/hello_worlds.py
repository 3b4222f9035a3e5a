"""Hello Worlds: three sessions count to 10 at the same time, taking turns."""

from __future__ import annotations

from poe.kernel import Kernel
from poe.session import Context, Session


def start(ctx: Context, name: str) -> None:
    ctx.heap["name"] = name
    ctx.heap["count"] = 0
    print(f"{name} (session {ctx.session.ID}) has started.")
    ctx.kernel.yield_("count")


def count(ctx: Context) -> None:
    ctx.heap["count"] += 1
    print(f"{ctx.heap['name']} has counted to {ctx.heap['count']}.")
    if ctx.heap["count"] < 10:
        ctx.kernel.yield_("count")


def stop(ctx: Context) -> None:
    print(f"{ctx.heap['name']} has stopped.")


kernel = Kernel()
for name in ("Alice", "Bob", "Carol"):
    Session.create(
        kernel,
        inline_states={"_start": start, "count": count, "_stop": stop},
        args=(name,),
    )
print("All three sessions exist; running the kernel.")
kernel.run()
print("Everyone has finished.")
