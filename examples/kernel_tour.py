"""poe kernel tour: a small, self-terminating tour of the kernel (about two seconds).

What happens, all in one thread and one kernel:

* a ``logger`` session, reached only through its alias ``"log"``, receives every narrated line;
* a ``director`` session starts children and traces their lives with ``_child`` events;
* three counter sessions count at different speeds, taking turns in one event queue;
* a named timer (``intermission``) and a timer moved by its id (``finale``);
* a worker that answers through a postback;
* a signal (``APPLAUSE``) broadcast to every session, deepest first;
* a child process watched with ``sig_child``;
* an exception in a handler, turned into a ``DIE`` signal and caught with ``sig_handled``;
* at the end only the logger's alias is left, so the kernel sends ``IDLE`` and everything stops.

Run it with ``python examples/kernel_tour.py``; set ``POE_EVENT_LOOP=select``
(or ``uvloop``) to run the same show on another loop backend.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any

from poe.kernel import Kernel
from poe.session import Context, Session

if TYPE_CHECKING:
    from poe.events import DieInfo

T0 = time.monotonic()


def emit(who: str, text: str) -> None:
    print(f"[{time.monotonic() - T0:5.2f}s] {who:>9} | {text}", flush=True)


def say(ctx: Context, text: str) -> None:
    """Send one narrated line to the logger, by alias."""
    ctx.kernel.post("log", "line", ctx.heap["name"], text)


def say_now(ctx: Context, text: str) -> None:
    """Narrate from ``_stop``: a stopping session's queued events are discarded, so call()."""
    ctx.kernel.call("log", "line", ctx.heap["name"], text)


def name_of(session: Any) -> str:
    return str(session.get_heap().get("name", f"session {session.ID}"))


# -- the logger ----------------------------------------------------------------------------------
def logger_start(ctx: Context) -> None:
    ctx.heap["name"] = "logger"
    ctx.kernel.alias_set("log")
    ctx.kernel.sig("APPLAUSE", "applause")
    ctx.kernel.sig("IDLE", "idle")
    emit("logger", "ready; everyone reaches me as 'log'")


def logger_line(ctx: Context, who: str, text: str) -> None:
    emit(who, text)


def logger_applause(ctx: Context, signal_name: str, *args: Any) -> None:
    ctx.kernel.yield_("line", "logger", f"hears {signal_name} too")


def logger_idle(ctx: Context, signal_name: str) -> None:
    emit("logger", f"{signal_name}: only my alias is left, nobody can ever post to me; bye")


# -- the counters ------------------------------------------------------------------------------
def counter_start(ctx: Context, name: str, interval: float, limit: int) -> None:
    ctx.heap.update(name=name, interval=interval, limit=limit, n=0)
    ctx.kernel.sig("APPLAUSE", "applause")
    ctx.kernel.delay("tick", interval)
    say(ctx, f"will count to {limit}, one every {interval} s")


def counter_tick(ctx: Context) -> None:
    ctx.heap["n"] += 1
    say(ctx, f"{'.' * ctx.heap['n']}{ctx.heap['n']}")
    if ctx.heap["n"] < ctx.heap["limit"]:
        ctx.kernel.delay("tick", ctx.heap["interval"])


def counter_applause(ctx: Context, signal_name: str, *args: Any) -> None:
    say(ctx, f"takes a bow ({signal_name} at {ctx.heap['n']})")


def counter_stop(ctx: Context) -> str:
    say_now(ctx, "_stop")
    return f"counted to {ctx.heap['n']}"


# -- the worker (answers through a postback) ----------------------------------------------------
def worker_start(ctx: Context, reply: Any) -> None:
    ctx.heap.update(name="worker", reply=reply)
    say(ctx, "rendering a thumbnail (0.5 s)")
    ctx.kernel.delay("done", 0.5)


def worker_done(ctx: Context) -> None:
    say(ctx, "done: calling the director's postback")
    ctx.heap.pop("reply")("120x80 px")


def worker_stop(ctx: Context) -> str:
    say_now(ctx, "_stop")
    return "1 thumbnail"  # the director sees this in _child("lose", ...)


# -- the fragile one (raises) --------------------------------------------------------------------
def fragile_start(ctx: Context) -> None:
    ctx.heap["name"] = "fragile"
    say(ctx, "will divide by zero at 1.2 s")
    ctx.kernel.delay("stumble", 1.2)


def fragile_stumble(ctx: Context) -> None:
    say(ctx, "dividing by zero...")
    ctx.kernel.delay("recover", 0.1)
    print(1 / 0)


def fragile_recover(ctx: Context) -> None:
    say(ctx, "still here: the exception did not stop me")


# -- the director --------------------------------------------------------------------------------
def director_start(ctx: Context) -> None:
    k = ctx.kernel
    ctx.heap["name"] = "director"
    say(ctx, "curtain up")
    k.sig("APPLAUSE", "applause")
    k.sig("DIE", "caught")

    for name, interval, limit in (("ant", 0.2, 6), ("bee", 0.3, 5), ("cat", 0.4, 4)):
        Session.create(
            k,
            inline_states={
                "_start": counter_start,
                "tick": counter_tick,
                "applause": counter_applause,
                "_stop": counter_stop,
            },
            args=(name, interval, limit),
        )

    ctx.heap["postback"] = pb = ctx.session.postback("job_done", "thumbnail")
    Session.create(
        k,
        inline_states={
            "_start": worker_start,
            "done": worker_done,
            "_stop": worker_stop,
        },
        args=(pb,),
    )

    Session.create(
        k,
        inline_states={
            "_start": fragile_start,
            "stumble": fragile_stumble,
            "recover": fragile_recover,
            "_stop": lambda ctx: say_now(ctx, "_stop"),
        },
    )

    proc = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(0.6); raise SystemExit(7)"]
    )
    ctx.heap["proc"] = proc
    k.sig_child(proc.pid, "reaped")
    say(ctx, f"started child process {proc.pid}; sig_child() watches it")

    k.delay("intermission", 0.9)
    finale = k.alarm_set("finale", time.time() + 10.0)
    due = k.alarm_adjust(finale, -8.0)
    say(ctx, f"finale set for +10 s, moved by id to +{due - time.time():.1f} s")


def director_child(ctx: Context, what: str, child: Any, value: Any) -> None:
    if what == "create":
        say(ctx, f"_child: {what} {name_of(child)}")
    else:
        say(ctx, f"_child: {what} {name_of(child)} -> {value!r}")


def director_job_done(ctx: Context, request: tuple[Any, ...], response: tuple[Any, ...]) -> None:
    say(ctx, f"postback: {request[0]} is ready: {response[0]}")
    ctx.heap.pop("postback").release()


def director_reaped(ctx: Context, signal_name: str, pid: int, status: int) -> None:
    code = os.waitstatus_to_exitcode(status)
    ctx.heap.pop("proc").returncode = code  # the kernel reaped it; tell the Popen object
    say(ctx, f"{signal_name}: child process {pid} exited with code {code}")


def director_intermission(ctx: Context) -> None:
    say(ctx, "intermission: broadcasting APPLAUSE to every session")
    ctx.kernel.signal(ctx.kernel, "APPLAUSE")


def director_applause(ctx: Context, signal_name: str, *args: Any) -> None:
    say(ctx, f"takes a bow ({signal_name} reached the deepest sessions first)")


def director_caught(ctx: Context, signal_name: str, info: DieInfo) -> None:
    who = name_of(info.dest_session)
    say(ctx, f"{signal_name}: {who} raised {info.error!r} in {info.event!r}; sig_handled()")
    ctx.kernel.sig_handled()


def director_finale(ctx: Context) -> None:
    say(ctx, "finale (the timer moved by id)")


def director_stop(ctx: Context) -> None:
    say_now(ctx, "_stop: all children are gone, no timers left")


def main() -> int:
    loop = os.environ.get("POE_EVENT_LOOP") or "asyncio"
    print(f"poe kernel tour on the {loop} loop\n", flush=True)
    kernel = Kernel()
    Session.create(
        kernel,
        inline_states={
            "_start": logger_start,
            "line": logger_line,
            "applause": logger_applause,
            "idle": logger_idle,
            "_stop": lambda ctx: emit("logger", "_stop"),
        },
    )
    Session.create(
        kernel,
        inline_states={
            "_start": director_start,
            "_child": director_child,
            "job_done": director_job_done,
            "reaped": director_reaped,
            "intermission": director_intermission,
            "applause": director_applause,
            "caught": director_caught,
            "finale": director_finale,
            "_stop": director_stop,
        },
    )
    kernel.run()
    print(f"\nkernel.run() returned after {time.monotonic() - T0:.2f} s: the show is over.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
