"""The event queue: post() and yield_() enqueue, call() runs the handler right away."""

from __future__ import annotations

from poe.kernel import Kernel
from poe.session import Context, Session


# -- an "adder" session, addressed by its alias ----------------------------------------------
def adder_start(ctx: Context) -> None:
    ctx.kernel.alias_set("adder")


def add(ctx: Context, a: int, b: int) -> int:
    print(f"  adder: add({a}, {b}) runs now, inside the caller's call()")
    return a + b


def ping(ctx: Context, note: str) -> None:
    print(
        f"  adder: ping {note!r} from session {ctx.sender.ID}, "
        f"posted while it handled {ctx.caller_state!r}"
    )


# -- the main session --------------------------------------------------------------------------
def main_start(ctx: Context) -> None:
    print("main: _start begins")
    ctx.kernel.yield_("first")
    ctx.kernel.yield_("second")
    ctx.kernel.post("adder", "ping", "hello")
    total = ctx.kernel.call("adder", "add", 2, 3)
    print(f"main: call() returned {total}")
    print("main: _start ends; nothing posted so far has run yet")


def first(ctx: Context) -> None:
    print("main: first")
    ctx.kernel.yield_("third")  # goes to the back of the queue, behind "second" and "ping"


def second(ctx: Context) -> None:
    print("main: second")


def third(ctx: Context) -> None:
    print("main: third (yielded by 'first', so it waited for everything queued before it)")


kernel = Kernel()
Session.create(kernel, inline_states={"_start": adder_start, "add": add, "ping": ping})
Session.create(
    kernel,
    inline_states={"_start": main_start, "first": first, "second": second, "third": third},
)
kernel.run()
