"""Extra references: keep a session alive while something outside the kernel owes it an answer.

"waiter" has no events, timers or handles of its own, so normally it would stop right after
_start. An extra reference (tag "answer") keeps it alive until "helper" delivers the answer.
"""

from __future__ import annotations

from poe.kernel import Kernel
from poe.session import Context, Session


def waiter_start(ctx: Context) -> None:
    n = ctx.kernel.refcount_increment(ctx.session.ID, "answer")
    print(f"waiter: refcount_increment(my ID, 'answer') -> {n}")


def answer(ctx: Context, value: int) -> None:
    print(f"waiter: got the answer {value}")
    n = ctx.kernel.refcount_decrement(ctx.session.ID, "answer")
    print(f"waiter: refcount_decrement(my ID, 'answer') -> {n}; nothing holds me now")


def waiter_stop(ctx: Context) -> None:
    print("waiter: _stop")


def helper_start(ctx: Context, waiter_id: int) -> None:
    ctx.heap["waiter"] = waiter_id
    ctx.kernel.delay("reply", 0.1)


def reply(ctx: Context) -> None:
    print("helper: replying")
    ctx.kernel.post(ctx.heap["waiter"], "answer", 42)


def loner_start(ctx: Context) -> None:
    print("loner: _start, with nothing to do")
    n = ctx.kernel.refcount_decrement(ctx.session.ID, "never-incremented")
    print(f"loner: refcount_decrement on a fresh tag -> {n} (a negative count holds nothing)")


def loner_stop(ctx: Context) -> None:
    print("loner: _stop")


kernel = Kernel()
waiter = Session.create(
    kernel, inline_states={"_start": waiter_start, "answer": answer, "_stop": waiter_stop}
)
Session.create(kernel, inline_states={"_start": helper_start, "reply": reply}, args=(waiter.ID,))
Session.create(kernel, inline_states={"_start": loner_start, "_stop": loner_stop})
kernel.run()
