"""Changing a session at run time: kernel.state() adds, replaces and removes handlers;
session.option() reads and writes session options."""

from __future__ import annotations

from poe.kernel import Kernel
from poe.session import Context, Session


class Shouter:
    def shout(self, ctx: Context, text: str) -> None:
        print(f"  Shouter.shout: {text.upper()}!")


def start(ctx: Context) -> None:
    s = ctx.session
    print(f"option('default') is {s.option('default')!r}")
    previous = s.option("default", True)  # set; returns the previous value
    print(f"option('default', True) returned the previous value {previous!r}")
    print(f"option(color='green', size=3) returned {s.option(color='green', size=3)!r}")
    print(f"option('color') is now {s.option('color')!r}")

    ctx.kernel.yield_("phase", 1)


def phase(ctx: Context, n: int) -> None:
    k = ctx.kernel
    if n == 1:
        print("1. add a handler for 'speak' with state(), then post 'speak'")
        k.state("speak", lambda ctx, text: print(f"  lambda: {text}"))
        k.yield_("speak", "hello")
    elif n == 2:
        print("2. replace it with an object's method, then post 'speak'")
        k.state("speak", Shouter(), "shout")
        k.yield_("speak", "hello")
    elif n == 3:
        print("3. remove it, then post 'speak' (nothing handles it: dropped, with a warning")
        print("   on stderr because the 'default' option is on)")
        k.state("speak")
        k.yield_("speak", "hello")
    if n < 3:
        k.yield_("phase", n + 1)


kernel = Kernel()
Session.create(kernel, inline_states={"_start": start, "phase": phase})
kernel.run()
