"""The three kinds of handlers: inline (functions), object (bound methods), package (class methods).

Every handler is called the same way, ``handler(ctx, *args)``: the context first, then the
event's own arguments, which the handler names in its signature.
"""

from __future__ import annotations

from poe.kernel import Kernel
from poe.session import Context, Session


# -- inline states: plain functions (lambdas and closures work too) ---------------------------
def inline_start(ctx: Context, who: str, times: int) -> None:
    print(f"[inline]  _start got who={who!r} times={times}")
    ctx.kernel.yield_("greet", who, times)


def inline_greet(ctx: Context, who: str, times: int) -> None:
    print(f"[inline]  {ctx.event}: " + ", ".join([f"hello {who}"] * times))


# -- object states: methods of an instance; the event name may differ from the method name ----
class Greeter:
    def __init__(self, greeting: str) -> None:
        self.greeting = greeting

    def on_start(self, ctx: Context) -> None:
        print(f"[object]  _start is handled by {type(self).__name__}.on_start")
        ctx.kernel.yield_("greet", "world")

    def greet(self, ctx: Context, who: str) -> None:
        print(f"[object]  {ctx.event}: {self.greeting}, {who}!")


# -- package states: class attributes (classmethods or staticmethods) --------------------------
class Census:
    population = 0

    @classmethod
    def _start(cls, ctx: Context, newcomers: int) -> None:
        cls.population += newcomers
        print(f"[package] _start: {cls.__name__}.population is now {cls.population}")
        ctx.kernel.yield_("report")

    @staticmethod
    def report(ctx: Context) -> None:
        print(f"[package] {ctx.event}: sender is session {ctx.sender.ID} (ourselves)")


kernel = Kernel()

Session.create(
    kernel,
    inline_states={"_start": inline_start, "greet": inline_greet},
    args=("Ada", 2),
)

greeter = Greeter("Good morning")
Session.create(
    kernel,
    # a dict maps event -> method name; a list means "the method has the event's name"
    object_states=[(greeter, {"_start": "on_start"}), (greeter, ["greet"])],
)

Session.create(kernel, package_states=[(Census, ["_start", "report"])], args=(3,))

# Styles can be mixed in one session: an inline _start with an object's method for "greet".
Session.create(
    kernel,
    inline_states={"_start": lambda ctx: ctx.kernel.yield_("greet", "mixed company")},
    object_states=[(Greeter("Hi"), ["greet"])],
)

kernel.run()
