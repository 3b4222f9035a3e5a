"""Signals: delivery deepest first, benign and terminal signals, sig_handled(), IDLE.

The session tree is  parent -> child -> grandchild, and every one of them watches POKE.
"""

from __future__ import annotations

from poe.kernel import Kernel
from poe.session import Context, Session


def name(ctx: Context) -> str:
    return str(ctx.heap["name"])


def on_poke(ctx: Context, signal_name: str, *args: object) -> None:
    print(f"  {name(ctx)} got {signal_name}{args}")


def on_term(ctx: Context, signal_name: str) -> None:
    print(f"  {name(ctx)} got {signal_name} and lets it stand (no sig_handled)")


def on_int(ctx: Context, signal_name: str) -> None:
    print(f"  {name(ctx)} got {signal_name} and calls sig_handled(): it survives")
    ctx.kernel.sig_handled()


def on_idle(ctx: Context, signal_name: str) -> None:
    print(f"  {name(ctx)} got {signal_name}: only its alias is left, so it will stop")


def stop(ctx: Context) -> None:
    print(f"  {name(ctx)}: _stop")


def grandchild_start(ctx: Context) -> None:
    ctx.heap["name"] = "grandchild"
    ctx.kernel.sig("POKE", "on_poke")
    ctx.kernel.alias_set("grandchild")  # signal watchers alone would not keep it alive


def child_start(ctx: Context) -> None:
    ctx.heap["name"] = "child"
    ctx.kernel.sig("POKE", "on_poke")
    ctx.kernel.alias_set("child")
    ctx.kernel.sig("TERM", "on_term")
    Session.create(
        ctx.kernel,
        inline_states={"_start": grandchild_start, "on_poke": on_poke, "_stop": stop},
    )


def parent_start(ctx: Context) -> None:
    ctx.heap["name"] = "parent"
    ctx.kernel.sig("POKE", "on_poke")
    ctx.kernel.sig("INT", "on_int")
    child = Session.create(
        ctx.kernel,
        inline_states={
            "_start": child_start,
            "on_poke": on_poke,
            "on_term": on_term,
            "_stop": stop,
        },
    )
    ctx.heap["child"] = child.ID
    ctx.kernel.yield_("step", 1)


def step(ctx: Context, n: int) -> None:
    k = ctx.kernel
    if n == 1:
        print("1. POKE (benign) to the parent: its whole subtree hears it, deepest first")
        k.signal(ctx.session, "POKE", "extra", "args")
    elif n == 2:
        print("2. TERM (terminal) to the child: unhandled, so the child and its subtree stop")
        k.signal(ctx.heap["child"], "TERM")
    elif n == 3:
        print("3. INT (terminal) to everyone, via the kernel: handled, nobody stops")
        k.signal(k, "INT")
    elif n == 4:
        print("4. the parent keeps only an alias and an IDLE watcher, and waits")
        k.alias_set("parent")
        k.sig("IDLE", "on_idle")
        return
    k.yield_("step", n + 1)


kernel = Kernel()
Session.create(
    kernel,
    inline_states={
        "_start": parent_start,
        "step": step,
        "on_poke": on_poke,
        "on_int": on_int,
        "on_idle": on_idle,
        "_stop": stop,
    },
)
kernel.run()
print("kernel.run() returned")
