"""Queue properties: POE 1.370's ``01_array`` (Queue::Array) randomized stress, re-expressed against
the kernel's public timer/queue behaviour and checked against a naive model.

The model is a list of pending items ``(due, seq)``; every post, yield and timer gets the next
``seq``, and moving a timer (``alarm_adjust``/``delay_adjust``) gives it a fresh one (POE
re-inserts a moved item after the items of equal priority). Whatever the kernel dispatches must
come out in the model's sorted order, and what it reports (``get_event_count``,
``get_next_event_time``, the tuples returned by ``alarm_remove``/``alarm_remove_all``) must agree
with the model.

All times are multiples of a quarter second on a :class:`poe.testing.FakeClock`, so every due time
is exact in binary floating point and ties are real ties. Two degenerate moves keep the item's
place instead of moving it behind its equals: ``alarm_adjust`` by zero (Queue::Array's
adjust_priority returns early; modelled here, and pinned in ``test_timers.py``), and
``delay_adjust`` onto the very same due time (set_priority returns early in POE; unobservable
with a real clock, and the port moves the item, so random programs leave that case out).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from poe.errors import TimerNotFound
from poe.kernel import Kernel
from poe.session import Session
from poe.testing import FakeClock, leaks

if TYPE_CHECKING:
    from collections.abc import Callable

    from poe.session import Context

QUANTUM = 0.25
OFFSET = 1_000_000_000.0  # FakeClock's default epoch at monotonic time 0
NAMES = ("t0", "t1", "t2")

quarters = st.integers(min_value=-8, max_value=8)
positive_quarters = st.integers(min_value=0, max_value=8)
names = st.sampled_from(NAMES)
event_names = st.sampled_from(("ev", *NAMES))  # posts may share a timer's name


@dataclass
class Item:
    """One pending thing in the model."""

    token: int
    due: float
    seq: int
    name: str
    timer_id: int | None = None  # only timers made by *_set have ids
    is_timer: bool = False

    @property
    def key(self) -> tuple[float, int]:
        return (self.due, self.seq)


class QueueMachine(RuleBasedStateMachine):
    """Drive one session's queue with random operations and dispatch rounds."""

    loop_name = "asyncio"

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock(OFFSET)
        self.kernel = Kernel(loop=self.loop_name, clock=self.clock)
        self.pending: dict[int, Item] = {}
        self.dispatched: list[int] = []
        self.seen = 0
        self.seq = 0
        self.token = 0
        self.removed_ids: list[int] = []

        def start(ctx: Context) -> None:
            ctx.kernel.refcount_increment(ctx.session.ID, "model")

        def do(ctx: Context, action: Callable[[Context], Any]) -> Any:
            return action(ctx)

        def record(ctx: Context, token: int) -> None:
            self.dispatched.append(token)

        handlers: dict[str, Any] = {"_start": start, "do": do, "ev": record}
        handlers.update(dict.fromkeys(NAMES, record))
        self.driver = Session.create(self.kernel, inline_states=handlers)
        # Let the creation-time bookkeeping event go, so the model sees the whole queue.
        self.kernel.run_one_timeslice()

    # -- helpers ----------------------------------------------------------------------------

    def _in_session(self, action: Callable[[Context], Any]) -> Any:
        return self.kernel.call(self.driver, "do", action)

    def _now(self) -> float:
        return self.clock.now()

    def _add(self, due: float, name: str, *, is_timer: bool, timer_id: int | None = None) -> Item:
        self.seq += 1
        item = Item(self.token, due, self.seq, name, timer_id, is_timer)
        self.pending[self.token] = item
        return item

    def _next_token(self) -> int:
        self.token += 1
        return self.token

    def _timers_with_ids(self) -> list[Item]:
        return [i for i in self.pending.values() if i.timer_id is not None]

    def _sorted(self) -> list[Item]:
        return sorted(self.pending.values(), key=lambda i: i.key)

    # -- operations ---------------------------------------------------------------------------

    @rule(name=event_names)
    def post(self, name: str) -> None:
        token = self._next_token()
        self._in_session(lambda ctx: ctx.kernel.post(ctx.session, name, token))
        self._add(self._now(), name, is_timer=False)

    @rule(name=event_names)
    def yield_(self, name: str) -> None:
        token = self._next_token()
        self._in_session(lambda ctx: ctx.kernel.yield_(name, token))
        self._add(self._now(), name, is_timer=False)

    @rule(name=names, q=quarters, with_id=st.booleans())
    def alarm(self, name: str, q: int, with_id: bool) -> None:
        token = self._next_token()
        epoch = self.clock.wall() + q * QUANTUM
        if with_id:
            tid = self._in_session(lambda ctx: ctx.kernel.alarm_set(name, epoch, token))
            assert isinstance(tid, int)
        else:
            self._in_session(lambda ctx: ctx.kernel.alarm_add(name, epoch, token))
            tid = None
        self._add(self._now() + q * QUANTUM, name, is_timer=True, timer_id=tid)

    @rule(name=names, q=positive_quarters, with_id=st.booleans())
    def delay(self, name: str, q: int, with_id: bool) -> None:
        token = self._next_token()
        if with_id:
            tid = self._in_session(lambda ctx: ctx.kernel.delay_set(name, q * QUANTUM, token))
            assert isinstance(tid, int)
        else:
            self._in_session(lambda ctx: ctx.kernel.delay_add(name, q * QUANTUM, token))
            tid = None
        self._add(self._now() + q * QUANTUM, name, is_timer=True, timer_id=tid)

    @rule(name=names, q=st.none() | positive_quarters)
    def replace_named(self, name: str, q: int | None) -> None:
        """delay(name[, seconds]): every timer of that name goes; maybe a new one comes."""
        token = self._next_token()
        seconds = None if q is None else q * QUANTUM
        self._in_session(lambda ctx: ctx.kernel.delay(name, seconds, token))
        for item in list(self.pending.values()):
            if item.is_timer and item.name == name:
                del self.pending[item.token]
                if item.timer_id is not None:
                    self.removed_ids.append(item.timer_id)
        if q is not None:
            self._add(self._now() + q * QUANTUM, name, is_timer=True)

    @precondition(lambda self: self._timers_with_ids())
    @rule(data=st.data(), q=quarters)
    def alarm_adjust(self, data: st.DataObject, q: int) -> None:
        item = data.draw(st.sampled_from(self._timers_with_ids()), label="timer")
        tid = item.timer_id
        assert tid is not None
        new_epoch = self._in_session(lambda ctx: ctx.kernel.alarm_adjust(tid, q * QUANTUM))
        if q:  # a zero move keeps the item's place (POE's adjust_priority returns early)
            item.due += q * QUANTUM
            self.seq += 1
            item.seq = self.seq
        assert new_epoch == item.due + OFFSET

    @precondition(lambda self: self._timers_with_ids() and len(self.pending) > 1)
    @rule(data=st.data())
    def alarm_adjust_onto(self, data: st.DataObject) -> None:
        """Move a timer exactly onto another item's due time: it must go behind that item."""
        item = data.draw(st.sampled_from(self._timers_with_ids()), label="timer")
        other = data.draw(
            st.sampled_from([i for i in self.pending.values() if i is not item]), label="onto"
        )
        delta = other.due - item.due
        tid = item.timer_id
        assert tid is not None
        new_epoch = self._in_session(lambda ctx: ctx.kernel.alarm_adjust(tid, delta))
        if delta:  # a zero move keeps the item's place (POE's adjust_priority returns early)
            item.due = other.due
            self.seq += 1
            item.seq = self.seq
        assert new_epoch == item.due + OFFSET

    @precondition(lambda self: self._timers_with_ids())
    @rule(data=st.data(), q=quarters)
    def delay_adjust(self, data: st.DataObject, q: int) -> None:
        item = data.draw(st.sampled_from(self._timers_with_ids()), label="timer")
        new_due = self._now() + q * QUANTUM
        if new_due == item.due:
            return  # see the module docstring
        tid = item.timer_id
        assert tid is not None
        new_epoch = self._in_session(lambda ctx: ctx.kernel.delay_adjust(tid, q * QUANTUM))
        item.due = new_due
        self.seq += 1
        item.seq = self.seq
        assert new_epoch == new_due + OFFSET

    @precondition(lambda self: self._timers_with_ids())
    @rule(data=st.data())
    def alarm_remove(self, data: st.DataObject) -> None:
        item = data.draw(st.sampled_from(self._timers_with_ids()), label="timer")
        tid = item.timer_id
        assert tid is not None
        got = self._in_session(lambda ctx: ctx.kernel.alarm_remove(tid))
        del self.pending[item.token]
        self.removed_ids.append(tid)
        assert got == (item.name, item.due + OFFSET, (item.token,))

    @precondition(lambda self: self.removed_ids)
    @rule(data=st.data())
    def alarm_remove_gone(self, data: st.DataObject) -> None:
        tid = data.draw(st.sampled_from(self.removed_ids), label="gone id")

        def attempt(ctx: Context) -> str:
            try:
                ctx.kernel.alarm_remove(tid)
            except TimerNotFound:
                return "ESRCH"
            return "removed?!"

        assert self._in_session(attempt) == "ESRCH"

    @rule()
    def alarm_remove_all(self) -> None:
        got = self._in_session(lambda ctx: ctx.kernel.alarm_remove_all())
        timers = [i for i in self._sorted() if i.is_timer]
        assert got == [(i.name, i.due + OFFSET, (i.token,)) for i in timers]
        for item in timers:
            del self.pending[item.token]
            if item.timer_id is not None:
                self.removed_ids.append(item.timer_id)

    @rule(q=st.integers(min_value=1, max_value=4))
    def advance(self, q: int) -> None:
        self.clock.advance(q * QUANTUM)

    @precondition(lambda self: self.pending)
    @rule()
    def run_one_timeslice(self) -> None:
        expected = self._sorted()
        # (Never wait on an empty kernel: a timeslice would block until something happens.)
        assert self.kernel.get_event_count() > 0
        assert self.kernel.run_one_timeslice() is True
        new = self.dispatched[self.seen :]
        self.seen = len(self.dispatched)
        assert new == [i.token for i in expected[: len(new)]]
        for token in new:
            assert self.pending.pop(token).due <= self._now()

    # -- what the kernel reports ----------------------------------------------------------------

    @invariant()
    def counts_agree(self) -> None:
        assert self.kernel.get_event_count() == len(self.pending)
        head = min((i.due for i in self.pending.values()), default=None)
        expected = None if head is None else head + OFFSET
        assert self.kernel.get_next_event_time() == expected

    def teardown(self) -> None:
        try:
            for _ in range(1000):  # drain what is left, checking the order as usual
                if not self.pending or not self.kernel.get_event_count():
                    break
                self.run_one_timeslice()
            assert not self.pending
            self.kernel.refcount_decrement(self.driver.ID, "model")
            self.kernel.run()
            assert not self.driver.alive
            assert self.dispatched[self.seen :] == []
            assert leaks(self.kernel) == []
        finally:
            self.kernel.loop.close()


def test_queue_matches_model(poe_loop: str) -> None:
    """01_array randomized stress: random posts/yields/timers/adjusts/removes/clock moves and
    dispatch rounds; the dispatch order always equals the model's (due, seq) order."""

    class Machine(QueueMachine):
        loop_name = poe_loop

    run_state_machine_as_test(  # type: ignore[no-untyped-call,unused-ignore]
        Machine,
        settings=settings(
            max_examples=100,
            stateful_step_count=50,
            database=None,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


# ---------------------------------------------------------------------------------------------
# Single-handler programs


@st.composite
def programs(draw: st.DrawFn) -> list[tuple[str, int]]:
    """A list of ("post", 0) and ("past", quarters_before_now) operations."""
    ops = st.one_of(
        st.just(("post", 0)),
        st.tuples(st.just("past"), st.integers(min_value=0, max_value=400)),
    )
    return draw(st.lists(ops, min_size=1, max_size=60))


@settings(
    max_examples=80,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(program=programs())
def test_past_timers_fire_in_time_order(poe_loop: str, program: list[tuple[str, int]]) -> None:
    """k_alarms / oracle P2: a due time in the past jumps the queue; past timers fire in time order (ties FIFO),
    all before the posts queued with them, which keep their own order."""
    clock = FakeClock(OFFSET)
    kernel = Kernel(loop=poe_loop, clock=clock)
    fired: list[int] = []
    try:

        def start(ctx: Context) -> None:
            ctx.kernel.yield_("go")  # so nothing else is in the queue

        def go(ctx: Context) -> None:
            k = ctx.kernel
            now = k.clock.wall()
            for index, (kind, q) in enumerate(program):
                if kind == "post":
                    k.yield_("ev", index)
                else:
                    k.alarm_add("ev", now - q * QUANTUM, index)

        Session.create(
            kernel,
            inline_states={"_start": start, "go": go, "ev": lambda ctx, i: fired.append(i)},
        )
        kernel.run()
        # Posts are due "now" (q = 0); each item's key is (due, position in the program).
        expected = sorted(range(len(program)), key=lambda i: (-program[i][1], i))
        assert fired == expected
        assert leaks(kernel) == []
    finally:
        kernel.loop.close()


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(delays=st.lists(st.integers(min_value=0, max_value=40), min_size=1, max_size=40))
def test_timers_fire_in_due_order_at_their_time(poe_loop: str, delays: list[int]) -> None:
    """01_array priority order: timers fire sorted by due time (ties FIFO), each exactly at its
    due time on the fake clock, and a yield chain started alongside is not starved by them."""
    clock = FakeClock(OFFSET)
    kernel = Kernel(loop=poe_loop, clock=clock)
    fired: list[tuple[int, float]] = []
    chain: list[int] = []
    try:

        def start(ctx: Context) -> None:
            for index, q in enumerate(delays):
                ctx.kernel.delay_add("tick", q * QUANTUM, index)
            ctx.kernel.yield_("chain", 0)

        def tick(ctx: Context, index: int) -> None:
            fired.append((index, clock.now()))

        def step(ctx: Context, n: int) -> None:
            chain.append(n)
            if n < 5:
                ctx.kernel.yield_("chain", n + 1)

        Session.create(kernel, inline_states={"_start": start, "tick": tick, "chain": step})
        kernel.run()
        order = sorted(range(len(delays)), key=lambda i: (delays[i], i))
        assert fired == [(i, delays[i] * QUANTUM) for i in order]
        assert chain == [0, 1, 2, 3, 4, 5]
        assert leaks(kernel) == []
    finally:
        kernel.loop.close()


@pytest.mark.parametrize("count", [1, 600])
def test_big_queue_adjust_keeps_order(fake_kernel: Kernel, count: int) -> None:
    """01_array large-queue adjust: shuffled priorities, evens moved -1000, odds +1000; the
    dispatch order is sorted and every item moved by exactly its delta."""
    rng = random.Random(count)
    fired: list[tuple[int, float]] = []

    def start(ctx: Context) -> None:
        k = ctx.kernel
        base = k.clock.wall()
        values = list(range(count))
        rng.shuffle(values)
        ids = {v: k.alarm_set("tick", base + 2000 + v, v) for v in values}
        for v in values:
            if v % 2 == 0:
                k.alarm_adjust(ids[v], -1000)
        for v in values:
            if v % 2 == 1:
                k.alarm_adjust(ids[v], +1000)

    def tick(ctx: Context, v: int) -> None:
        fired.append((v, ctx.kernel.clock.now()))

    Session.create(fake_kernel, inline_states={"_start": start, "tick": tick})
    fake_kernel.run()
    expected = sorted(range(count), key=lambda v: 2000 + v + (-1000 if v % 2 == 0 else 1000))
    assert [v for v, _ in fired] == expected
    assert all(when == 2000 + v + (-1000 if v % 2 == 0 else 1000) for v, when in fired)
