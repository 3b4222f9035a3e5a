"""Running and stopping the kernel: run(), stop(), run_one_timeslice(), run_while().

Ports POE 1.370's ``t/30_loops/*/k_run_returns``, ``t/90_regression/ton-stop-corruption.t`` and
the ``run``/``stop`` rules of ``poe-api.md`` §2.1 (probe P15: ``stop()`` does deliver ``_stop``),
checked against Perl POE 1.370 on this machine.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from poe.kernel import Kernel
from poe.session import Context, Session

Log = list[Any]


class Pipe:
    """Both ends of an ``os.pipe()``; each end is closed at most once."""

    def __init__(self) -> None:
        self.rd, self.wr = os.pipe()
        self._open = {self.rd, self.wr}

    def close(self, fd: int) -> None:
        if fd in self._open:
            self._open.discard(fd)
            os.close(fd)

    def close_all(self) -> None:
        for fd in list(self._open):
            self.close(fd)


@pytest.fixture
def pipe() -> Iterator[Pipe]:
    """A pipe, closed after the test (fds closed by the test itself are never closed twice)."""
    made = Pipe()
    yield made
    made.close_all()


def test_k_run_returns_without_sessions(kernel: Kernel) -> None:
    """k_run_returns (P15): run() with no sessions returns at once, and can be called again."""
    kernel.run()
    kernel.run()
    assert kernel.get_event_count() == 0


def _tree(kernel: Kernel, log: Log) -> None:
    """P (-> C -> G) and a sibling S; every session has a far timer and logs ``_stop``."""

    def node(name: str, *children: str) -> None:
        def start(ctx: Context) -> None:
            ctx.kernel.delay("never", 3600)
            for child in children:
                node(child, *{"C": ("G",)}.get(child, ()))

        Session.create(
            kernel,
            inline_states={
                "_start": start,
                "never": lambda ctx: log.append(f"{name} timer fired"),
                "_child": lambda ctx, *a: None,
                "_stop": lambda ctx: log.append(f"{name} stop"),
            },
        )

    node("P", "C")
    node("S")


def test_stop_delivers_stop_children_before_parents(fake_kernel: Kernel) -> None:
    """P15 / poe-api §2.1 & §17.1: stop() stops every session, children before parents, and
    ``_stop`` IS delivered (the POD says otherwise; 1.370's code does it)."""
    log: Log = []
    _tree(fake_kernel, log)

    def halt(ctx: Context) -> None:
        log.append("halting")
        ctx.kernel.stop()
        log.append("after stop")

    Session.create(
        fake_kernel,
        inline_states={
            "_start": lambda ctx: ctx.kernel.yield_("halt"),
            "halt": halt,
            "_stop": lambda ctx: log.append("H stop"),
        },
    )
    fake_kernel.run()
    assert log[0] == "halting"
    assert log[-1] == "after stop"
    stops = log[1:-1]
    assert sorted(stops) == ["C stop", "G stop", "H stop", "P stop", "S stop"]
    assert stops.index("G stop") < stops.index("C stop") < stops.index("P stop")


def test_stop_from_a_handler_lets_the_handler_finish(fake_kernel: Kernel) -> None:
    """ton-stop-corruption (Perl: ``readable cstop child:lose stop1 stop2 after_stop``): the
    session calling stop() gets ``_stop`` inside stop() and its handler then finishes."""
    log: Log = []

    def go(ctx: Context) -> None:
        ctx.kernel.stop()
        log.append(("after stop", ctx.session.alive))
        ctx.kernel.yield_("ignored")  # a stopped session's events go nowhere

    Session.create(
        fake_kernel,
        inline_states={
            "_start": lambda ctx: ctx.kernel.yield_("go"),
            "go": go,
            "ignored": lambda ctx: log.append("dispatched after stop"),
            "_stop": lambda ctx: log.append("stop"),
        },
    )
    fake_kernel.run()
    assert log == ["stop", ("after stop", False)]


def test_ton_stop_corruption_stop_from_select_callback(kernel: Kernel, pipe: Pipe) -> None:
    """ton-stop-corruption: stop() from inside an I/O callback does not collect the calling
    session twice: ``_stop`` runs exactly once, run() returns, nothing leaks."""
    rd = pipe.rd
    log: Log = []

    def readable(ctx: Context, handle: int, mode: int) -> None:
        log.append("readable")
        ctx.kernel.select_read(handle)
        ctx.kernel.stop()

    Session.create(
        kernel,
        inline_states={
            "_start": lambda ctx: ctx.kernel.select_read(rd, "readable"),
            "readable": readable,
            "_stop": lambda ctx: log.append("stop"),
            "_parent": lambda ctx, *a: log.append("_parent"),
            "_child": lambda ctx, *a: log.append("_child"),
        },
    )
    pipe.close(pipe.wr)  # EOF makes the read end readable
    kernel.run()
    assert log == ["readable", "stop"]


def test_stop_from_select_callback_without_unwatching(kernel: Kernel, pipe: Pipe) -> None:
    """ton-stop-corruption variant: stop() while the fd is still watched releases the watcher."""
    rd, wr = pipe.rd, pipe.wr
    log: Log = []

    def readable(ctx: Context, handle: int, mode: int) -> None:
        log.append("readable")
        ctx.kernel.stop()

    Session.create(
        kernel,
        inline_states={
            "_start": lambda ctx: ctx.kernel.select_read(rd, "readable"),
            "readable": readable,
            "_stop": lambda ctx: log.append("stop"),
        },
    )
    os.write(wr, b"x")
    kernel.run()
    assert log == ["readable", "stop"]


def test_stop_from_one_of_several_ready_callbacks(kernel: Kernel) -> None:
    """ton-stop-corruption: two sessions whose fds are ready in the same loop iteration; the
    first callback calls stop(): the other callback never runs, each ``_stop`` runs once."""
    pipes = [Pipe(), Pipe()]
    log: Log = []
    try:

        def make(name: str, pipe: Pipe) -> None:
            def readable(ctx: Context, handle: int, mode: int) -> None:
                log.append(("readable", name))
                ctx.kernel.stop()

            Session.create(
                kernel,
                inline_states={
                    "_start": lambda ctx: ctx.kernel.select_read(pipe.rd, "readable"),
                    "readable": readable,
                    "_stop": lambda ctx: log.append(("stop", name)),
                },
            )

        for name, pipe in zip("AB", pipes, strict=True):
            make(name, pipe)
            os.write(pipe.wr, b"x")
        kernel.run()
    finally:
        for pipe in pipes:
            pipe.close_all()
    assert len(log) == 3
    assert log[0][0] == "readable"
    assert sorted(log[1:]) == [("stop", "A"), ("stop", "B")]


def test_stop_outside_run(fake_kernel: Kernel) -> None:
    """poe-api §2.1: stop() before run(): sessions get ``_stop``, queued events are dropped,
    run() then returns at once (Perl: ``start stop stopped``)."""
    log: Log = []

    def start(ctx: Context) -> None:
        log.append("start")
        ctx.kernel.yield_("x")

    Session.create(
        fake_kernel,
        inline_states={
            "_start": start,
            "x": lambda ctx: log.append("x"),
            "_stop": lambda ctx: log.append("stop"),
        },
    )
    fake_kernel.stop()
    log.append("stopped")
    fake_kernel.run()
    assert log == ["start", "stop", "stopped"]
    fake_kernel.stop()  # nothing left: harmless


def test_run_again_after_stop(fake_kernel: Kernel) -> None:
    """P15 (Perl: ``... after_stop again x stop3``): after stop() ended run(), new sessions run
    on the next run()."""
    log: Log = []
    Session.create(
        fake_kernel,
        inline_states={
            "_start": lambda ctx: ctx.kernel.yield_("halt"),
            "halt": lambda ctx: ctx.kernel.stop(),
            "_stop": lambda ctx: log.append("stop1"),
        },
    )
    fake_kernel.run()

    def again(ctx: Context) -> None:
        log.append("again")
        ctx.kernel.yield_("x")

    Session.create(
        fake_kernel,
        inline_states={
            "_start": again,
            "x": lambda ctx: log.append("x"),
            "_stop": lambda ctx: log.append("stop3"),
        },
    )
    fake_kernel.run()
    assert log == ["stop1", "again", "x", "stop3"]


def test_session_created_after_stop_in_the_same_handler_is_top_level(fake_kernel: Kernel) -> None:
    """poe-api §2.1 (POE's stop(): "So new sessions will not be child of the current defunct
    session"): after stop(), the active session is the kernel. Perl: ``stop new start
    active=POE::Kernel parent_is_kernel=1 new stop``; the stopped session gets no ``_child``."""
    log: Log = []
    made: list[Session] = []

    def go(ctx: Context) -> None:
        ctx.kernel.stop()
        made.append(
            Session.create(
                ctx.kernel,
                inline_states={
                    "_start": lambda ctx: log.append("new start"),
                    "_stop": lambda ctx: log.append("new stop"),
                },
            )
        )
        log.append(("active is kernel", ctx.kernel.get_active_session() is ctx.kernel))

    Session.create(
        fake_kernel,
        inline_states={
            "_start": lambda ctx: ctx.kernel.yield_("go"),
            "go": go,
            "_stop": lambda ctx: log.append("stop"),
            "_child": lambda ctx, *a: log.append(("_child", a[0])),
        },
    )
    fake_kernel.run()
    assert log == ["stop", "new start", ("active is kernel", True), "new stop"]


def test_session_created_after_run_returned_runs_on_next_run(fake_kernel: Kernel) -> None:
    """poe-api §2.1 ("re-runnable"): between runs, ``_start`` runs at create() but queued events
    wait for the next run()."""
    log: Log = []
    fake_kernel.run()

    def start(ctx: Context) -> None:
        log.append("start")
        ctx.kernel.yield_("work")
        ctx.kernel.delay("later", 5)

    Session.create(
        fake_kernel,
        inline_states={
            "_start": start,
            "work": lambda ctx: log.append("work"),
            "later": lambda ctx: log.append("later"),
            "_stop": lambda ctx: log.append("stop"),
        },
    )
    assert log == ["start"]
    assert fake_kernel.get_event_count() == 2
    fake_kernel.run()
    assert log == ["start", "work", "later", "stop"]


def test_run_is_not_reentrant(fake_kernel: Kernel) -> None:
    """Python-only: run() from inside a handler is refused (RuntimeError, here via DIE)."""
    errors: Log = []

    def nested(ctx: Context) -> None:
        try:
            ctx.kernel.run()
        except RuntimeError as exc:
            errors.append(str(exc))

    Session.create(
        fake_kernel, inline_states={"_start": lambda ctx: ctx.kernel.yield_("n"), "n": nested}
    )
    fake_kernel.run()
    assert errors == ["the kernel is already running"]


# ---------------------------------------------------------------------------------------------
# run_one_timeslice / run_while
# ---------------------------------------------------------------------------------------------


def _chain(kernel: Kernel, log: Log, length: int) -> Session:
    """A session that yields ``step`` ``length`` times, logging each."""

    def step(ctx: Context, n: int) -> None:
        log.append(n)
        if n + 1 < length:
            ctx.kernel.yield_("step", n + 1)

    return Session.create(
        kernel,
        inline_states={
            "_start": lambda ctx: ctx.kernel.yield_("step", 0),
            "step": step,
            "_stop": lambda ctx: log.append("stop"),
        },
    )


def test_run_one_timeslice_dispatches_one_generation(fake_kernel: Kernel) -> None:
    """poe-api §1.1 step 5 / §2.1: an event posted during a timeslice waits for the next one;
    run_one_timeslice() returns True while sessions exist and False afterwards."""
    log: Log = []
    _chain(fake_kernel, log, 3)
    snapshots = []
    results = []
    for _ in range(5):
        results.append(fake_kernel.run_one_timeslice())
        snapshots.append(list(log))
    assert results == [True, True, True, False, False]
    assert snapshots == [[0], [0, 1], [0, 1, 2, "stop"], [0, 1, 2, "stop"], [0, 1, 2, "stop"]]


def test_run_one_timeslice_without_sessions(kernel: Kernel) -> None:
    """poe-api §2.1: with no sessions run_one_timeslice() returns False at once."""
    assert kernel.run_one_timeslice() is False


def test_run_one_timeslice_waits_for_a_timer(fake_kernel: Kernel) -> None:
    """poe-api §2.1: a timeslice with only a pending timer waits for it, then dispatches it."""
    log: Log = []
    Session.create(
        fake_kernel,
        inline_states={
            "_start": lambda ctx: ctx.kernel.delay("tick", 30),
            "tick": lambda ctx: log.append("tick"),
        },
    )
    while not log:
        assert fake_kernel.run_one_timeslice() is True
    assert log == ["tick"]
    fake_kernel.run()


def test_run_while_stops_when_the_condition_fails(fake_kernel: Kernel) -> None:
    """poe-api §2.1 ``run_while``: timeslices run while the condition holds."""
    log: Log = []
    session = _chain(fake_kernel, log, 1000)
    fake_kernel.run_while(lambda: len(log) < 5)
    assert log == [0, 1, 2, 3, 4]
    assert session.alive
    fake_kernel.run()
    assert len(log) == 1001
    assert log[-1] == "stop"


def test_run_while_stops_when_sessions_run_out(fake_kernel: Kernel) -> None:
    """poe-api §2.1 ``run_while``: a true condition does not outlive the last session."""
    log: Log = []
    _chain(fake_kernel, log, 3)
    calls: list[int] = []

    def condition() -> bool:
        calls.append(1)
        return True

    fake_kernel.run_while(condition)
    assert log == [0, 1, 2, "stop"]
    assert len(calls) < 10
