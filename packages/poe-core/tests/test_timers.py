"""Timers: POE 1.370's ``k_alarms`` (all 11 paths and the id API), ``leolo-alarm-adjust``, and the
timer side of ``01_array`` (Queue::Array) re-expressed through the kernel's public API.

Every test runs on :class:`poe.testing.FakeClock` (``fake_kernel``): time jumps to the next timer,
so nothing sleeps and "how long did it take" is exact fake time. Deviations from POE used here
(documented): alarm_remove/alarm_remove_all return ``(name, epoch, args)`` tuples; failures raise
TimerNotFound (ESRCH), NotPermitted (EPERM), InvalidArgument (EINVAL), NotInSession; delay_adjust
on an unknown or foreign id raises (POE returns undef without setting errno).
"""

from __future__ import annotations

import errno
import random
import re
import time
from typing import TYPE_CHECKING, Any

import pytest

from poe.errors import InvalidArgument, NotInSession, NotPermitted, TimerNotFound
from poe.session import Session

if TYPE_CHECKING:
    from collections.abc import Callable

    from poe.kernel import Kernel
    from poe.session import Context
    from poe.testing import FakeClock


def _since(when: float | None, now: float) -> float | None:
    return None if when is None else when - now


def _recorder(log: list[Any]) -> Any:
    def record(ctx: Context, *args: Any) -> None:
        log.append((ctx.event, *args))

    return record


# ---------------------------------------------------------------------------------------------
# k_alarms: paths 1..11


def test_k_alarms_paths(fake_kernel: Kernel, fake_clock: FakeClock) -> None:
    """k_alarms paths 1-11: alarm/delay replace by name, *_add accumulate, clearing, time order.

    Path 9 really passes epoch 2 (the distant past) to alarm(), as POE's test does. Path 11 is
    re-expressed: instead of peeking at the queue, its alarms (all in the past) are allowed to
    fire, and the dispatch order must be the time order, with ties FIFO and micro-adjustments
    (+-0.01 s) moving timers among equal ones.
    """
    results: dict[str, Any] = {}
    rng = random.Random(20010601)

    def start(ctx: Context) -> None:
        k = ctx.kernel
        now = k.clock.wall()
        t = ctx.heap["test"] = {}

        t["path_one"] = 0
        k.alarm("path_one", now + 2, 1.1)

        t["path_two"] = 0
        k.alarm("path_two", now + 2, 2.1)
        k.alarm("path_two", now + 2, 2.2)

        t["path_three"] = 0
        k.alarm_add("path_three", now + 2, 3.1)
        k.alarm_add("path_three", now + 2, 3.2)

        t["path_four"] = 0
        k.alarm("path_four", now + 2, 4.1)
        k.alarm_add("path_four", now + 2, 4.2)
        k.alarm("path_four", now + 2, 4.3)
        k.alarm_add("path_four", now + 2, 4.4)

        t["path_five"] = 1
        k.alarm("path_five", now + 2, 5.1)
        k.alarm("path_five")

        t["path_six"] = 0
        k.delay("path_six", 2, 6.1)

        t["path_seven"] = 0
        k.delay("path_seven", 2, 7.1)
        k.delay("path_seven", 2, 7.2)

        t["path_eight"] = 0
        k.delay_add("path_eight", 2, 8.1)
        k.delay_add("path_eight", 2, 8.2)

        t["path_nine"] = 0
        k.alarm("path_nine", 2, 9.1)
        k.alarm_add("path_nine", 2, 9.2)
        k.alarm("path_nine", 2, 9.3)
        k.alarm_add("path_nine", 2, 9.4)

        t["path_ten"] = 1
        k.delay("path_ten", 2, 10.1)
        k.alarm("path_ten")

        # Path 11: duplicates and micro-updates on a small queue...
        id_25_3 = k.alarm_set("path_eleven_025_3", 25)
        k.alarm_set("path_eleven_025_2", 25)
        id_25_1 = k.alarm_set("path_eleven_025_1", 25)
        k.alarm_adjust(id_25_1, -0.01)
        k.alarm_adjust(id_25_3, 0.01)
        # ... then on a big queue.
        for count in range(600):
            k.alarm(f"path_eleven_fill_{count}", rng.randint(1, 299))
        for when in (100, 200, 300, 50, 150, 250, 350, 75, 175, 275, 325, 225, 125):
            k.alarm(f"path_eleven_{when:03d}", when)
        id_206 = k.alarm_set("path_eleven_206", 205)
        k.alarm_set("path_eleven_205", 205)
        id_204 = k.alarm_set("path_eleven_204", 205)
        k.alarm_adjust(id_204, -0.01)
        k.alarm_adjust(id_206, 0.01)
        for count in range(600):
            k.alarm(f"path_eleven_fill_{count}")
        ctx.heap["alarms_eleven"] = []
        ctx.heap["start_time"] = k.clock.wall()

    def path(
        name: str, single: float | None = None, pair: tuple[float, float] | None = None
    ) -> Any:
        def handler(ctx: Context, test_id: float) -> None:
            t = ctx.heap["test"]
            if single is not None:
                t[name] += 1 if test_id == single else 1000
            elif pair is not None:
                if test_id == pair[0] and t[name] == 0:
                    t[name] += 1
                elif test_id == pair[1] and t[name] == 1:
                    t[name] += 10
                else:
                    t[name] += 1000
            else:
                t[name] += 1

        return handler

    def default(ctx: Context, event: str, args: tuple[Any, ...]) -> None:
        if re.fullmatch(r"path_eleven_[0-9_]+", event):
            ctx.heap["alarms_eleven"].append(event)

    def stop(ctx: Context) -> None:
        results.update(ctx.heap["test"])
        results["elapsed"] = ctx.kernel.clock.wall() - ctx.heap["start_time"]
        results["alarms_eleven"] = ctx.heap["alarms_eleven"]

    Session.create(
        fake_kernel,
        inline_states={
            "_start": start,
            "_stop": stop,
            "_default": default,
            "path_one": path("path_one", single=1.1),
            "path_two": path("path_two", single=2.2),
            "path_three": path("path_three", pair=(3.1, 3.2)),
            "path_four": path("path_four", pair=(4.3, 4.4)),
            "path_five": path("path_five"),
            "path_six": path("path_six", single=6.1),
            "path_seven": path("path_seven", single=7.2),
            "path_eight": path("path_eight", pair=(8.1, 8.2)),
            "path_nine": path("path_nine", pair=(9.3, 9.4)),
            "path_ten": path("path_ten"),
        },
    )
    fake_kernel.run()
    alarms_eleven = results.pop("alarms_eleven")
    assert results == {
        "path_one": 1,
        "path_two": 1,
        "path_three": 11,
        "path_four": 11,
        "path_five": 1,
        "path_six": 1,
        "path_seven": 1,
        "path_eight": 11,
        "path_nine": 11,
        "path_ten": 1,
        "elapsed": 2.0,
    }
    assert alarms_eleven == [
        "path_eleven_025_1",
        "path_eleven_025_2",
        "path_eleven_025_3",
        "path_eleven_050",
        "path_eleven_075",
        "path_eleven_100",
        "path_eleven_125",
        "path_eleven_150",
        "path_eleven_175",
        "path_eleven_200",
        "path_eleven_204",
        "path_eleven_205",
        "path_eleven_206",
        "path_eleven_225",
        "path_eleven_250",
        "path_eleven_275",
        "path_eleven_300",
        "path_eleven_325",
        "path_eleven_350",
    ]
    assert fake_clock.now() == 2.0


# ---------------------------------------------------------------------------------------------
# k_alarms: the id-based API


def test_k_alarms_id_api(fake_kernel: Kernel) -> None:
    """k_alarms (id API): alarm_set/delay_set/alarm_remove/alarm_remove_all/alarm_adjust.

    alarm_remove returns (name, due epoch, args); adjusting on small and big queues returns the
    new epoch; dispatch order of the adjusted alarms is 21, 18, 20, 19, 22.
    """
    checks: dict[str, Any] = {}
    dispatched: list[Any] = []

    def start(ctx: Context) -> None:
        k = ctx.kernel
        ctx.heap["test_13"] = k.alarm_set("test_13", 1, 13)
        test_14 = k.alarm_set("test_14", 1, 14)
        checks["remove_14"] = k.alarm_remove(test_14)
        now = k.clock.wall()
        test_15 = k.delay_set("test_15", 1, 15)
        name, when, args = k.alarm_remove(test_15)
        checks["remove_15"] = (name, now <= when <= now + 3, when - now, args)

    def on_test_13(ctx: Context, arg: int) -> None:
        k = ctx.kernel
        checks["test_13_arg"] = arg
        k.delay("test_16", 1)
        k.delay("test_17", 1)
        checks["remove_all"] = [(n, a) for n, _, a in k.alarm_remove_all()]

        adjusted: list[float] = []
        alarm_id = k.alarm_set("test_18", 50, 18)
        adjusted.append(k.alarm_adjust(alarm_id, -1))
        adjusted.append(k.alarm_adjust(alarm_id, 1))
        alarm_id = k.alarm_set("test_19", 52, 19)
        adjusted.append(k.alarm_adjust(alarm_id, -4))
        adjusted.append(k.alarm_adjust(alarm_id, 4))
        alarm_id = k.alarm_set("test_20", 49, 20)
        adjusted.append(k.alarm_adjust(alarm_id, 2))
        adjusted.append(k.alarm_adjust(alarm_id, 2))
        adjusted.append(k.alarm_adjust(alarm_id, -2))
        fillers = [k.alarm_set("filler", when) for when in range(1, 101)]
        alarm_id = k.alarm_set("test_21", 50, 21)
        adjusted.append(k.alarm_adjust(alarm_id, -10))
        adjusted.append(k.alarm_adjust(alarm_id, 20))
        adjusted.append(k.alarm_adjust(alarm_id, -100))
        alarm_id = k.alarm_set("test_22", 50, 22)
        adjusted.append(k.alarm_adjust(alarm_id, 100))
        for filler in fillers:
            k.alarm_remove(filler)
        checks["adjusted"] = adjusted

    def default(ctx: Context, event: str, args: tuple[Any, ...]) -> None:
        if re.search(r"test_\d+", event):
            dispatched.append(args[0])

    Session.create(
        fake_kernel,
        inline_states={
            "_start": start,
            "test_13": on_test_13,
            "test_14": lambda ctx, *a: dispatched.append("14 must not fire"),
            "test_15": lambda ctx, *a: dispatched.append("15 must not fire"),
            "test_16": lambda ctx, *a: dispatched.append("16 must not fire"),
            "test_17": lambda ctx, *a: dispatched.append("17 must not fire"),
            "_default": default,
        },
    )
    fake_kernel.run()
    assert checks == {
        "remove_14": ("test_14", 1, (14,)),
        "remove_15": ("test_15", True, 1.0, (15,)),
        "test_13_arg": 13,
        "remove_all": [("test_16", ()), ("test_17", ())],
        "adjusted": [49, 50, 48, 52, 51, 53, 51, 40, 60, -40, 150],
    }
    assert dispatched == [21, 18, 20, 19, 22]


# ---------------------------------------------------------------------------------------------
# leolo-alarm-adjust


def test_adjusting_far_timers_near_makes_them_fire_promptly(
    fake_kernel: Kernel, fake_clock: FakeClock
) -> None:
    """leolo-alarm-adjust: alarm_adjust(-9) and delay_adjust(1) pull 10 s timers to ~1 s.

    Sequence (POE::Test::Sequence in the original): _start, adjust_them, the_alarm, the_delay,
    _stop; each timer fires less than 2 s after start. The fake clock is nudged 10 ms between
    _start and adjust_them to model the real time that passes there (so the alarm, due at
    start+1, precedes the delay, due at adjust+1, as in POE).
    """
    sequence: list[tuple[str, float]] = []

    def start(ctx: Context) -> None:
        k = ctx.kernel
        now = ctx.heap["started"] = k.clock.wall()
        sequence.append(("_start", 0.0))
        ctx.heap["alarm"] = k.alarm_set("the_alarm", now + 10)
        ctx.heap["delay"] = k.delay_set("the_delay", 10)
        k.yield_("adjust_them")

    def adjust_them(ctx: Context) -> None:
        fake_clock.advance(0.01)
        k = ctx.kernel
        sequence.append(("adjust_them", k.clock.wall() - ctx.heap["started"]))
        new_delay = k.delay_adjust(ctx.heap["delay"], 1)
        new_alarm = k.alarm_adjust(ctx.heap["alarm"], -9)
        assert new_delay == pytest.approx(k.clock.wall() + 1)
        assert new_alarm == pytest.approx(ctx.heap["started"] + 1)

    def took(ctx: Context) -> None:
        sequence.append((ctx.event, ctx.kernel.clock.wall() - ctx.heap["started"]))

    Session.create(
        fake_kernel,
        inline_states={
            "_start": start,
            "adjust_them": adjust_them,
            "the_alarm": took,
            "the_delay": took,
            "_stop": lambda ctx: sequence.append(("_stop", -1.0)),
        },
    )
    fake_kernel.run()
    assert [name for name, _ in sequence] == [
        "_start",
        "adjust_them",
        "the_alarm",
        "the_delay",
        "_stop",
    ]
    timings = dict(sequence)
    assert timings["the_alarm"] < 2
    assert timings["the_delay"] < 2
    assert timings["the_alarm"] == pytest.approx(1.0)
    assert timings["the_delay"] == pytest.approx(1.01)


# ---------------------------------------------------------------------------------------------
# Queue order: past timers jump the queue, FIFO ties


def test_queue_order_oracle(fake_kernel: Kernel) -> None:
    """POE oracle P2: ``past y1 y2 d0 y1child tA tB``.

    yield y1, yield y2, alarm_add(now+0.2) tA and tB, alarm_add(now-10) past, delay_add(0) d0;
    y1's handler yields y1child. A past due time jumps ahead of already-queued posts; a zero
    delay queues behind them; equal due times keep insertion order; what a handler posts waits
    for the next round.
    """
    order: list[str] = []

    def start(ctx: Context) -> None:
        k = ctx.kernel
        now = k.clock.wall()
        k.yield_("y1")
        k.yield_("y2")
        k.alarm_add("tA", now + 0.2)
        k.alarm_add("tB", now + 0.2)
        k.alarm_add("past", now - 10)
        k.delay_add("d0", 0)

    def y1(ctx: Context) -> None:
        order.append("y1")
        ctx.kernel.yield_("y1child")

    def other(ctx: Context) -> None:
        order.append(ctx.event)

    Session.create(
        fake_kernel,
        inline_states={
            "_start": start,
            "y1": y1,
            **dict.fromkeys(["y2", "tA", "tB", "past", "d0", "y1child"], other),
        },
    )
    fake_kernel.run()
    assert order == ["past", "y1", "y2", "d0", "y1child", "tA", "tB"]


def test_past_timers_fire_in_time_order_before_posts(fake_kernel: Kernel) -> None:
    """k_alarms / oracle P2: several past timers all jump ahead of queued posts, among themselves by due time."""
    order: list[Any] = []

    def start(ctx: Context) -> None:
        k = ctx.kernel
        now = k.clock.wall()
        k.yield_("post", 1)
        k.alarm_add("timer", now - 5, -5)
        k.yield_("post", 2)
        k.alarm_add("timer", now - 10, -10)
        k.alarm_add("timer", now - 1, -1)
        k.alarm_add("timer", now - 10, "-10 again")
        k.alarm_add("timer", 0, "epoch 0")

    Session.create(
        fake_kernel,
        inline_states={"_start": start, "post": _recorder(order), "timer": _recorder(order)},
    )
    fake_kernel.run()
    assert order == [
        ("timer", "epoch 0"),
        ("timer", -10),
        ("timer", "-10 again"),
        ("timer", -5),
        ("timer", -1),
        ("post", 1),
        ("post", 2),
    ]


def test_equal_due_times_are_fifo(fake_kernel: Kernel) -> None:
    """01_array "colliding priorities are FIFO" / oracle P2 ``tA tB``: ties keep insertion order,
    whichever API set them."""
    order: list[Any] = []

    def start(ctx: Context) -> None:
        k = ctx.kernel
        when = k.clock.wall() + 3
        k.alarm_add("t", when, 1)
        k.delay_add("t", 3, 2)
        k.alarm_set("t", when, 3)
        k.delay_set("t", 3, 4)
        k.alarm("u", when, 5)
        k.delay("v", 3, 6)
        k.alarm_add("t", when, 7)

    Session.create(
        fake_kernel,
        inline_states={
            "_start": start,
            "t": _recorder(order),
            "u": _recorder(order),
            "v": _recorder(order),
        },
    )
    fake_kernel.run()
    assert [args[1] for args in order] == [1, 2, 3, 4, 5, 6, 7]


def test_adjusted_timer_goes_behind_equal_ones(fake_kernel: Kernel) -> None:
    """01_array adjust_priority: e (50-15) and b (20+15) collide at 35: e got there first.

    Queue::Array expectation: ``a10 c30 e35 b35 d40 f60``.
    """
    order: list[str] = []

    def start(ctx: Context) -> None:
        k = ctx.kernel
        now = k.clock.wall()
        ids = {
            name: k.alarm_set(name, now + when)
            for name, when in zip("abcdef", range(10, 70, 10), strict=True)
        }
        assert k.alarm_adjust(ids["e"], -15) == now + 35
        assert k.alarm_adjust(ids["b"], +15) == now + 35

    Session.create(
        fake_kernel,
        inline_states={
            "_start": start,
            **{name: lambda ctx: order.append(ctx.event) for name in "abcdef"},
        },
    )
    fake_kernel.run()
    assert order == ["a", "c", "e", "b", "d", "f"]


def test_zero_adjust_keeps_fifo_position(fake_kernel: Kernel) -> None:
    """01_array / k_alarms: adjusting by 0 returns the due time and leaves the timer in place.

    Oracle (POE 1.370): alarm_set ta, tb, tc at T; alarm_adjust(ta, 0) returns T; order
    ``ta tb tc``.
    """
    order: list[str] = []
    returned: list[float] = []

    def start(ctx: Context) -> None:
        k = ctx.kernel
        when = k.clock.wall() + 0.25
        first = k.alarm_set("ta", when)
        k.alarm_set("tb", when)
        k.alarm_set("tc", when)
        returned.append(k.alarm_adjust(first, 0) - when)

    Session.create(
        fake_kernel,
        inline_states={
            "_start": start,
            **{n: lambda ctx: order.append(ctx.event) for n in ("ta", "tb", "tc")},
        },
    )
    fake_kernel.run()
    assert returned == [0]
    assert order == ["ta", "tb", "tc"]


# ---------------------------------------------------------------------------------------------
# Named timers: alarm()/delay() replace every timer of that name


def test_named_delay_replaces_every_timer_of_that_name(fake_kernel: Kernel) -> None:
    """k_alarms paths 2/4/7/9 generalised: delay(name) and alarm(name) clear every timer of this
    session named so, whichever API set it; other names, posts and other sessions are untouched."""
    fired: list[Any] = []
    errors: list[str] = []

    def other_start(ctx: Context) -> None:
        ctx.kernel.delay("x", 4, "other session")

    def start(ctx: Context) -> None:
        k = ctx.kernel
        now = k.clock.wall()
        x_ids = [k.alarm_set("x", now + 1, "alarm_set"), k.delay_set("x", 2, "delay_set")]
        k.alarm_add("x", now + 3, "alarm_add")
        k.delay_add("x", 4, "delay_add")
        k.delay_add("y", 1, "y kept")
        k.yield_("x", "posted x kept")
        k.delay("x", 5, "final")
        for tid in x_ids:
            try:
                k.alarm_remove(tid)
            except TimerNotFound:
                errors.append("gone")

    Session.create(fake_kernel, inline_states={"_start": other_start, "x": _recorder(fired)})
    Session.create(
        fake_kernel,
        inline_states={"_start": start, "x": _recorder(fired), "y": _recorder(fired)},
    )
    fake_kernel.run()
    assert errors == ["gone", "gone"]
    assert fired == [
        ("x", "posted x kept"),
        ("y", "y kept"),
        ("x", "other session"),
        ("x", "final"),
    ]


def test_alarm_and_delay_without_time_only_clear(fake_kernel: Kernel) -> None:
    """k_alarms paths 5/10: alarm(name) and delay(name) without a time clear and set nothing."""
    fired: list[Any] = []

    def start(ctx: Context) -> None:
        k = ctx.kernel
        k.delay("a", 1)
        k.alarm_add("b", k.clock.wall() + 1)
        k.delay("a")
        k.alarm("b")
        k.alarm("never_set")
        fired.append(("count", k.get_event_count()))

    Session.create(
        fake_kernel,
        inline_states={"_start": start, "a": _recorder(fired), "b": _recorder(fired)},
    )
    fake_kernel.run()
    assert fired == [("count", 0)]


# ---------------------------------------------------------------------------------------------
# alarm_remove / alarm_remove_all / adjust errors


def test_alarm_remove_all_returns_own_timers_in_due_order(fake_kernel: Kernel) -> None:
    """k_alarms / POE 2.3: alarm_remove_all() removes only this session's timers, in queue order.

    Oracle (POE 1.370; flattened ``[name, due, *args]`` items there, tuples here):
    ``z a b c``, ``count after=1``, ``posted delivered``.
    """
    log: list[Any] = []

    def other_start(ctx: Context) -> None:
        ctx.kernel.delay("mine", 50)

    def start(ctx: Context) -> None:
        ctx.kernel.yield_("go")  # run after the creation-time bookkeeping event is gone

    def go(ctx: Context) -> None:
        k = ctx.kernel
        now = k.clock.wall()
        k.alarm_set("c", now + 30, "C")
        k.alarm_set("a", now + 10, "A1", "A2")
        k.delay_set("b", 20, "B")
        k.alarm_set("z", 5, "Z")
        k.yield_("posted")
        removed = k.alarm_remove_all()
        log.append([(name, when - now, args) for name, when, args in removed])
        log.append(("count after", k.get_event_count()))
        log.append(("again", k.alarm_remove_all()))

    Session.create(
        fake_kernel,
        inline_states={"_start": other_start, "mine": lambda ctx: log.append("other fired")},
    )
    Session.create(
        fake_kernel,
        inline_states={
            "_start": start,
            "go": go,
            "posted": lambda ctx: log.append("posted delivered"),
        },
    )
    now = fake_kernel.clock.wall()
    fake_kernel.run()
    assert log == [
        [
            ("z", 5 - now, ("Z",)),
            ("a", 10.0, ("A1", "A2")),
            ("b", 20.0, ("B",)),
            ("c", 30.0, ("C",)),
        ],
        ("count after", 2),  # the yield, and the other session's timer
        ("again", []),
        "posted delivered",
        "other fired",
    ]


def test_timer_errors(fake_kernel: Kernel) -> None:
    """k_alarms / POE 2.3: ESRCH for unknown ids, EPERM for another session's timer (raised here).

    delay_adjust raises too -- POE returns undef there without setting errno (documented
    deviation, reference section 17 item 4).
    """
    outcomes: list[str] = []
    foreign: list[int] = []

    def owner_start(ctx: Context) -> None:
        foreign.append(ctx.kernel.delay_set("owned", 10))

    def start(ctx: Context) -> None:
        k = ctx.kernel
        own = k.delay_set("mine", 1)
        for label, action, error in (
            ("remove unknown", lambda: k.alarm_remove(987654), TimerNotFound),
            ("adjust unknown", lambda: k.alarm_adjust(987654, 1), TimerNotFound),
            ("delay_adjust unknown", lambda: k.delay_adjust(987654, 1), TimerNotFound),
            ("remove foreign", lambda: k.alarm_remove(foreign[0]), NotPermitted),
            ("adjust foreign", lambda: k.alarm_adjust(foreign[0], 1), NotPermitted),
            ("delay_adjust foreign", lambda: k.delay_adjust(foreign[0], 1), NotPermitted),
        ):
            with pytest.raises(error):
                action()
            outcomes.append(label)
        ctx.heap["own"] = own

    def mine(ctx: Context) -> None:
        with pytest.raises(TimerNotFound):
            ctx.kernel.alarm_remove(ctx.heap["own"])  # already fired
        outcomes.append("remove fired")

    Session.create(
        fake_kernel,
        inline_states={"_start": owner_start, "owned": lambda ctx: outcomes.append("owned fired")},
    )
    Session.create(fake_kernel, inline_states={"_start": start, "mine": mine})
    fake_kernel.run()
    assert outcomes == [
        "remove unknown",
        "adjust unknown",
        "delay_adjust unknown",
        "remove foreign",
        "adjust foreign",
        "delay_adjust foreign",
        "remove fired",
        "owned fired",
    ]
    assert TimerNotFound.errno == errno.ESRCH
    assert NotPermitted.errno == errno.EPERM


def test_timer_arguments_are_validated(fake_kernel: Kernel) -> None:
    """k_alarms / ASSERT_USAGE: undefined names or times are EINVAL (InvalidArgument)."""
    outcomes: list[str] = []

    def start(ctx: Context) -> None:
        k: Any = ctx.kernel
        actions: tuple[tuple[str, Callable[[], Any]], ...] = (
            ("alarm(None)", lambda: k.alarm(None)),
            ("alarm_add no time", lambda: k.alarm_add("x", None)),
            ("alarm_add(None, t)", lambda: k.alarm_add(None, 1)),
            ("alarm_set no time", lambda: k.alarm_set("x", None)),
            ("delay(None)", lambda: k.delay(None, 1)),
            ("delay_add no time", lambda: k.delay_add("x", None)),
            ("delay_set no time", lambda: k.delay_set("x", None)),
            ("delay_set(None, s)", lambda: k.delay_set(None, 1)),
        )
        for label, action in actions:
            with pytest.raises(InvalidArgument):
                action()
            outcomes.append(label)
        outcomes.append(f"nothing queued: {k.get_event_count()}")

    Session.create(fake_kernel, inline_states={"_start": start})
    fake_kernel.run()
    assert outcomes[-1] == "nothing queued: 0"
    assert len(outcomes) == 9


def test_timer_api_outside_a_session(fake_kernel: Kernel) -> None:
    """11_assert_usage "must call X() from a running session": NotInSession in the port."""
    k = fake_kernel
    for action in (
        lambda: k.alarm("x", 1),
        lambda: k.alarm_add("x", 1),
        lambda: k.alarm_set("x", 1),
        lambda: k.delay("x", 1),
        lambda: k.delay_add("x", 1),
        lambda: k.delay_set("x", 1),
        lambda: k.alarm_adjust(1, 1),
        lambda: k.delay_adjust(1, 1),
        lambda: k.alarm_remove(1),
        k.alarm_remove_all,
        lambda: k.yield_("x"),
    ):
        with pytest.raises(NotInSession):
            action()
    assert k.get_event_count() == 0
    assert k.get_next_event_time() is None


# ---------------------------------------------------------------------------------------------
# Introspection and misc


def test_next_event_time_and_count(fake_kernel: Kernel) -> None:
    """events (intent) / POE 2.1: get_next_event_time() is the due epoch of the queue head; get_event_count() the size."""
    seen: list[Any] = []

    def start(ctx: Context) -> None:
        # Two rounds in: the creation-time bookkeeping event (POE's _garbage_collect) is gone.
        ctx.kernel.yield_("warm_up")

    def go(ctx: Context) -> None:
        k = ctx.kernel
        now = k.clock.wall()
        seen.append(("empty", k.get_next_event_time(), k.get_event_count()))
        k.delay("later", 5)
        seen.append(("one timer", _since(k.get_next_event_time(), now), k.get_event_count()))
        tid = k.alarm_set("sooner", now + 2)
        seen.append(("two timers", _since(k.get_next_event_time(), now), k.get_event_count()))
        k.yield_("now")
        seen.append(("plus a post", _since(k.get_next_event_time(), now), k.get_event_count()))
        k.alarm_set("past", now - 3)
        seen.append(
            ("plus a past timer", _since(k.get_next_event_time(), now), k.get_event_count())
        )
        k.alarm_adjust(tid, -10)
        seen.append(
            ("sooner moved earliest", _since(k.get_next_event_time(), now), k.get_event_count())
        )

    def later(ctx: Context) -> None:
        seen.append(("later fires at", ctx.kernel.clock.wall() - 1_000_000_000.0))
        seen.append(("last", ctx.kernel.get_next_event_time(), ctx.kernel.get_event_count()))

    assert fake_kernel.get_next_event_time() is None
    Session.create(
        fake_kernel,
        inline_states={
            "_start": start,
            "warm_up": lambda ctx: ctx.kernel.yield_("go"),
            "go": go,
            "later": later,
            "_default": lambda ctx, ev, a: None,
        },
    )
    fake_kernel.run()
    assert seen == [
        ("empty", None, 0),
        ("one timer", pytest.approx(5), 1),
        ("two timers", pytest.approx(2), 2),
        ("plus a post", pytest.approx(0), 3),
        ("plus a past timer", pytest.approx(-3), 4),
        ("sooner moved earliest", pytest.approx(-8), 4),
        ("later fires at", 5.0),
        ("last", None, 0),
    ]


def test_timer_event_context(fake_kernel: Kernel) -> None:
    """k_alarms / POE 2.3: a timer's event comes from its own session, with the args exactly as given."""
    seen: list[Any] = []
    payload = {"mutable": [1, 2]}

    def start(ctx: Context) -> None:
        ctx.kernel.delay("tick", 1, payload, "two")

    def tick(ctx: Context, obj: Any, two: str) -> None:
        seen.append((ctx.sender is ctx.session, obj is payload, two, ctx.args == (payload, "two")))

    Session.create(fake_kernel, inline_states={"_start": start, "tick": tick})
    fake_kernel.run()
    assert seen == [(True, True, "two", True)]


def test_timers_of_a_stopped_session_never_fire(fake_kernel: Kernel) -> None:
    """events (intent) / POE 4.4: stopping a session drops its timers."""
    log: list[str] = []

    def victim_start(ctx: Context) -> None:
        ctx.kernel.alias_set("victim")
        ctx.kernel.delay("late", 10)

    def killer_start(ctx: Context) -> None:
        ctx.kernel.delay("kill", 1)

    Session.create(
        fake_kernel,
        inline_states={
            "_start": victim_start,
            "late": lambda ctx: log.append("late fired"),
            "_stop": lambda ctx: log.append(f"victim stop at {ctx.kernel.clock.now():g}"),
        },
    )
    Session.create(
        fake_kernel,
        inline_states={
            "_start": killer_start,
            "kill": lambda ctx: ctx.kernel.signal("victim", "TERM"),
        },
    )
    fake_kernel.run()
    assert log == ["victim stop at 1"]


def test_alarm_ids_are_unique_and_increasing(fake_kernel: Kernel) -> None:
    """01_array: queue ids 1, 2, 3... -- the port's alarm ids are unique, increasing positive ints.

    (POE's alarm ids are queue item ids shared with every other event, so their exact values
    are not part of the contract.)
    """
    ids: list[int] = []

    def start(ctx: Context) -> None:
        k = ctx.kernel
        now = k.clock.wall()
        ids.extend(k.alarm_set("t", now + 3 - i) for i in range(3))
        ids.append(k.delay_set("t", 1))
        k.alarm_remove(ids[1])
        ids.append(k.delay_set("t", 1))
        k.alarm_remove_all()

    Session.create(fake_kernel, inline_states={"_start": start})
    fake_kernel.run()
    assert all(i > 0 for i in ids)
    assert ids == sorted(set(ids))


def test_delay_adjust_rebases_on_now(fake_kernel: Kernel, fake_clock: FakeClock) -> None:
    """leolo-alarm-adjust / POE 2.3: delay_adjust(id, s) moves the timer to now + s (not relative to its old time)."""
    seen: list[Any] = []

    def start(ctx: Context) -> None:
        ctx.heap["far"] = ctx.kernel.delay_set("far", 100)
        ctx.kernel.delay("mid", 4)

    def mid(ctx: Context) -> None:
        k = ctx.kernel
        seen.append(("adjust returns", k.delay_adjust(ctx.heap["far"], 3) - k.clock.wall()))

    def far(ctx: Context) -> None:
        seen.append(("far fires at", fake_clock.now()))

    Session.create(fake_kernel, inline_states={"_start": start, "mid": mid, "far": far})
    fake_kernel.run()
    assert seen == [("adjust returns", 3.0), ("far fires at", 7.0)]


def test_alarms_at_one_epoch_stay_fifo_on_the_real_clock(kernel: Kernel) -> None:
    """POE converts epochs with one offset: alarms set for the same epoch fire in the order set.

    Regression: each alarm read the monotonic and wall clocks afresh, so two alarms for the same
    epoch could get due times a few nanoseconds apart, in either order.
    """
    fired: list[int] = []

    def start(ctx: Context) -> None:
        at = time.time() + 0.05
        for n in range(50):
            ctx.kernel.alarm_add("ring", at, n)

    Session.create(kernel, inline_states={"_start": start, "ring": lambda ctx, n: fired.append(n)})
    kernel.run()
    assert fired == list(range(50))
