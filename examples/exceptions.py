"""Exceptions in handlers: the DIE signal, sig_handled(), call() semantics, run() re-raising."""

from __future__ import annotations

from typing import TYPE_CHECKING

from poe.kernel import Kernel
from poe.session import Context, Session

if TYPE_CHECKING:
    from poe.events import DieInfo


# -- a guardian with a fragile child -------------------------------------------------------------
def guardian_start(ctx: Context) -> None:
    ctx.kernel.sig("DIE", "on_die")  # DIE goes to the failing session and up to its ancestors
    child = Session.create(
        ctx.kernel,
        inline_states={
            "_start": fragile_start,
            "explode": explode,
            "boom": boom,
            "selfcall": selfcall,
            "_stop": lambda ctx: print("fragile: _stop (it lived on after each exception)"),
        },
    )
    ctx.kernel.delay("call_child", 0.1, child.ID)


def fragile_start(ctx: Context) -> None:
    ctx.kernel.yield_("explode")
    ctx.kernel.delay("selfcall", 0.2)


def call_child(ctx: Context, child_id: int) -> None:
    result = ctx.kernel.call(child_id, "boom")
    print(f"guardian: call() into the child returned {result!r}; the child gets a DIE signal")


def on_die(ctx: Context, signal_name: str, info: DieInfo) -> None:
    print(f"guardian: {signal_name}: {info.error!r} in {info.event!r}; sig_handled()")
    ctx.kernel.sig_handled()


def explode(ctx: Context) -> None:
    print("fragile: explode raises ValueError")
    raise ValueError("bad value")


def boom(ctx: Context) -> None:
    raise KeyError("boom")


def selfcall(ctx: Context) -> None:
    try:
        ctx.kernel.call(ctx.session, "boom")
    except KeyError as exc:
        print(f"fragile: call() to itself raised {exc!r} straight back at the caller")


# -- an exception nobody handles ---------------------------------------------------------------
def careless_start(ctx: Context) -> None:
    ctx.kernel.yield_("oops")


def oops(ctx: Context) -> None:
    raise RuntimeError("nobody catches this")


kernel = Kernel()
Session.create(
    kernel, inline_states={"_start": guardian_start, "on_die": on_die, "call_child": call_child}
)
kernel.run()
print("first run finished normally")

Session.create(kernel, inline_states={"_start": careless_start, "oops": oops})
try:
    kernel.run()
except RuntimeError as exc:
    print(f"second run: kernel.run() re-raised {exc!r}")

Session.create(kernel, inline_states={"_start": lambda ctx: print("third run: it works again")})
kernel.run()
