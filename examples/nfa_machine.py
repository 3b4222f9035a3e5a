"""A state machine session (POE::NFA): a coin-operated turnstile.

The same event ("coin", "push") means different things in different machine states. Handlers are
called ``handler(ctx, *args)`` with an ``NFAContext``: ``ctx.machine``, ``ctx.runstate``,
``ctx.event``, and ``ctx.state``, the machine's current state.
"""

from __future__ import annotations

from typing import Any

from poe.kernel import Kernel
from poe.nfa import NFA, NFAContext
from poe.session import Context, Session


def say(ctx: NFAContext, text: str) -> None:
    print(f"  [{ctx.state}] {ctx.event}: {text}")


def reply(ctx: NFAContext) -> None:
    """Tell the driver we are ready for the next event."""
    ctx.kernel.post(ctx.sender, "next")


# -- state "locked" ------------------------------------------------------------------------------
def locked_enter(ctx: NFAContext) -> None:
    say(ctx, "the bar is locked")


def locked_push(ctx: NFAContext) -> None:
    say(ctx, "the bar does not move")
    reply(ctx)


def locked_coin(ctx: NFAContext) -> None:
    ctx.runstate["coins"] += 1
    say(ctx, f"coin accepted ({ctx.runstate['coins']} so far)")
    ctx.machine.goto_state("unlocked", "enter")  # queued: the switch happens after this handler
    reply(ctx)


def locked_service(ctx: NFAContext) -> None:
    say(ctx, "call_state('serviced', 'maintenance', 'enter')")
    ctx.machine.call_state("serviced", "maintenance", "enter")
    reply(ctx)


def locked_serviced(ctx: NFAContext) -> None:
    say(ctx, "back from maintenance, in the state we left")


def locked_leave(ctx: NFAContext) -> None:
    say(ctx, "leaving")


def locked_default(ctx: NFAContext, event: str, args: tuple[Any, ...]) -> None:
    say(ctx, f"{event!r} means nothing here")
    reply(ctx)


# -- state "unlocked" ----------------------------------------------------------------------------
def unlocked_enter(ctx: NFAContext) -> None:
    say(ctx, "the bar turns freely")


def unlocked_coin(ctx: NFAContext) -> None:
    say(ctx, "already unlocked: coin returned")
    reply(ctx)


def unlocked_push(ctx: NFAContext) -> None:
    say(ctx, "you pass")
    ctx.machine.goto_state("locked", "enter")
    reply(ctx)


# -- state "maintenance" -------------------------------------------------------------------------
def maintenance_enter(ctx: NFAContext) -> None:
    say(ctx, "out of order")


def maintenance_coin(ctx: NFAContext) -> None:
    say(ctx, "coin rejected")
    reply(ctx)


def maintenance_done(ctx: NFAContext) -> None:
    say(ctx, "return_state()")
    ctx.machine.return_state()
    reply(ctx)


# -- a driver session feeding the machine one event at a time ------------------------------------
STEPS = ["push", "coin", "coin", "push", "kick", "service", "coin", "done", "push"]


def driver_start(ctx: Context, machine_id: int) -> None:
    ctx.heap.update(machine=machine_id, steps=list(STEPS))
    ctx.kernel.yield_("next")


def driver_next(ctx: Context) -> None:
    if ctx.heap["steps"]:
        event = ctx.heap["steps"].pop(0)
        print(f"driver: {event}")
        ctx.kernel.post(ctx.heap["machine"], event)


kernel = Kernel()
turnstile = NFA.spawn(
    kernel,
    inline_states={
        "locked": {
            "enter": locked_enter,
            "push": locked_push,
            "coin": locked_coin,
            "service": locked_service,
            "serviced": locked_serviced,
            "leave": locked_leave,
            "_default": locked_default,
        },
        "unlocked": {"enter": unlocked_enter, "coin": unlocked_coin, "push": unlocked_push},
        "maintenance": {
            "enter": maintenance_enter,
            "coin": maintenance_coin,
            "done": maintenance_done,
        },
    },
    runstate={"coins": 0},
)
print(f"spawned: current state {turnstile.get_current_state()!r}; first goto_state is immediate")
turnstile.goto_state("locked", "enter")
Session.create(
    kernel, inline_states={"_start": driver_start, "next": driver_next}, args=(turnstile.ID,)
)
kernel.run()
print(f"machine stopped after {turnstile.get_runstate()['coins']} coins")
