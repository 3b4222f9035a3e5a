"""Running the kernel: run(), run_one_timeslice(), run_while(), stop(), and running again."""

from __future__ import annotations

from poe.kernel import Kernel
from poe.session import Context, Handler, Session


def counter(limit: int, log: list[int]) -> dict[str, Handler]:
    """Handlers for a session that counts to ``limit``, appending each number to ``log``."""

    def start(ctx: Context) -> None:
        ctx.heap["n"] = 0
        ctx.kernel.yield_("count")

    def count(ctx: Context) -> None:
        ctx.heap["n"] += 1
        log.append(ctx.heap["n"])
        if ctx.heap["n"] < limit:
            ctx.kernel.yield_("count")

    return {"_start": start, "count": count}


kernel = Kernel()

# 1. run(): dispatch until no session is left.
log: list[int] = []
Session.create(kernel, inline_states=counter(3, log))
kernel.run()
print(f"1. run() returned after counting {log}")

# 2. The same kernel runs again: create new work and call run() once more.
log = []
Session.create(kernel, inline_states=counter(2, log))
kernel.run()
print(f"2. run() again: counted {log}")

# 3. run_one_timeslice(): you drive the kernel, e.g. from another program's main loop.
#    It returns False once no session is left.
log = []
Session.create(kernel, inline_states=counter(4, log))
while kernel.run_one_timeslice():
    pass
print(f"3. run_one_timeslice() until False: counted {log}")

# 4. run_while(cond): timeslices while cond() is true (and sessions remain).
log = []
Session.create(kernel, inline_states=counter(10, log))
kernel.run_while(lambda: len(log) < 5)
print(f"4. run_while(len(log) < 5) returned with {len(log)} counted")
kernel.run()
print(f"   ...and run() finished the job: {len(log)} counted")


# 5. stop(): end everything now. Every session still gets its _stop.
def sleeper_start(ctx: Context, name: str) -> None:
    ctx.heap["name"] = name
    ctx.kernel.delay("wake_up", 3600)


def stopper_start(ctx: Context) -> None:
    ctx.kernel.yield_("pull_the_plug")


def pull_the_plug(ctx: Context) -> None:
    print("5. stopper: kernel.stop()")
    ctx.kernel.stop()


for name in ("sleeper A", "sleeper B"):
    Session.create(
        kernel,
        inline_states={
            "_start": sleeper_start,
            "_stop": lambda ctx: print(f"   {ctx.heap['name']}: _stop"),
        },
        args=(name,),
    )
Session.create(
    kernel,
    inline_states={
        "_start": stopper_start,
        "pull_the_plug": pull_the_plug,
        "_stop": lambda ctx: print("   stopper: _stop"),
    },
)
kernel.run()
print("   run() returned at once, although two timers were an hour away")
