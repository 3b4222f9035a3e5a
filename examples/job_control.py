"""Parent/child job control: _start, _child, _parent, _stop, _default, detach_myself()."""

from __future__ import annotations

from typing import Any

from poe.kernel import Kernel
from poe.session import Context, Session


def who(ctx: Context, thing: Any) -> str:
    """Name a session (or the kernel) for the trace."""
    if thing is ctx.kernel:
        return "kernel"
    heap = thing.get_heap()
    return str(heap.get("name", f"session {thing.ID}"))


# -- the parent ----------------------------------------------------------------------------------
def parent_start(ctx: Context) -> None:
    ctx.heap["name"] = "parent"
    print("parent: _start, creating two children")
    for child_name in ("worker", "rebel"):
        Session.create(
            ctx.kernel,
            inline_states={
                "_start": child_start,
                "work": work,
                "leave_home": leave_home,
                "_parent": child_parent,
                "_stop": child_stop,
            },
            args=(child_name,),
        )
    ctx.kernel.yield_("mystery", 1, 2)
    print("parent: _start ends")


def parent_child(ctx: Context, what: str, child: Any, value: Any) -> None:
    print(f"parent: _child {what!r} {who(ctx, child)} (value {value!r})")


def parent_default(ctx: Context, event: str, args: Any) -> None:
    print(f"parent: _default caught {event!r} with args {tuple(args)!r}")


def parent_stop(ctx: Context) -> None:
    print("parent: _stop")


# -- the children --------------------------------------------------------------------------------
def child_start(ctx: Context, name: str) -> str:
    ctx.heap["name"] = name
    print(f"{name}: _start, my parent is {who(ctx, ctx.sender)}")
    ctx.kernel.yield_("leave_home" if name == "rebel" else "work")
    return f"{name} ready"  # becomes the value of the parent's _child("create", ...)


def work(ctx: Context) -> None:
    print(f"{ctx.heap['name']}: working")


def leave_home(ctx: Context) -> None:
    print(f"{ctx.heap['name']}: detach_myself()")
    ctx.kernel.detach_myself()


def child_parent(ctx: Context, old: Any, new: Any) -> None:
    print(f"{ctx.heap['name']}: _parent changed from {who(ctx, old)} to {who(ctx, new)}")


def child_stop(ctx: Context) -> str:
    print(f"{ctx.heap['name']}: _stop")
    return f"{ctx.heap['name']} finished"  # becomes the value of the parent's _child("lose", ...)


kernel = Kernel()
Session.create(
    kernel,
    inline_states={
        "_start": parent_start,
        "_child": parent_child,
        "_default": parent_default,
        "_stop": parent_stop,
    },
)
kernel.run()
