"""POE::NFA port: POE's t/30_loops/ses_nfa and t/10_units/03_base/16_nfa_usage, and more.

Every expected order below was checked against Perl POE 1.370's NFA where POE has the feature.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import pytest

from poe.errors import InvalidArgument, SessionNotFound
from poe.events import DieInfo
from poe.kernel import Kernel
from poe.nfa import NFA, NFAContext, UnhandledEvent
from poe.session import Context, Session
from poe.testing import leaks

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture(params=["select", "asyncio"])
def kernel(request: pytest.FixtureRequest) -> Iterator[Kernel]:
    k = Kernel(loop=request.param)
    try:
        yield k
        assert leaks(k) == []
    finally:
        k.loop.close()


def noop(ctx: NFAContext, *args: Any) -> None:
    return None


# ------------------------------------------------------------------ ses_nfa: the light switch


def test_light_switch_toggles_with_entry_events(kernel: Kernel) -> None:
    seen: list[tuple[int, int]] = []

    def switch_start(ctx: NFAContext) -> None:
        ctx.kernel.alias_set("switch")
        ctx.machine.goto_state("off")

    def make_pushed(target: str) -> Any:
        def pushed(ctx: NFAContext) -> None:
            ctx.machine.goto_state(target, "enter", ctx.sender)

        return pushed

    def make_enter(visible: int) -> Any:
        def enter(ctx: NFAContext, requester: Any) -> None:
            ctx.kernel.post(requester, "visibility", visible)

        return enter

    NFA.spawn(
        kernel,
        inline_states={
            "initial": {"start": switch_start, "_default": noop},
            "off": {"enter": make_enter(0), "pushed": make_pushed("on"), "_default": noop},
            "on": {"enter": make_enter(1), "pushed": make_pushed("off"), "_default": noop},
        },
    ).goto_state("initial", "start")

    # The machine that stops itself (POE's regression test for stop()).
    NFA.spawn(
        kernel, inline_states={"initial": {"start": lambda ctx: ctx.machine.stop()}}
    ).goto_state("initial", "start")

    def op_start(ctx: Context) -> None:
        ctx.kernel.alias_set("operator")
        ctx.kernel.yield_("push")
        ctx.heap["push_count"] = 0

    def op_push(ctx: Context) -> None:
        ctx.heap["push_count"] += 1
        ctx.kernel.post("switch", "pushed")

    def op_visibility(ctx: Context, visible: int) -> None:
        seen.append((ctx.heap["push_count"] & 1, visible))
        if ctx.heap["push_count"] < 10:
            ctx.kernel.yield_("push")

    Session.create(
        kernel,
        inline_states={
            "_start": op_start,
            "push": op_push,
            "visibility": op_visibility,
            "_stop": lambda ctx: 0,
        },
    )
    kernel.run()
    assert len(seen) == 10
    assert all(expected == got for expected, got in seen)
    assert [got for _, got in seen] == [1, 0] * 5


# ------------------------------------------------------------------ ses_nfa: Fibonacci


FIB_CASES = [
    (0, 0),
    (1, 1),
    (2, 1),
    (3, 2),
    (4, 3),
    (5, 5),
    (17, 1597),
    (23, 28657),
    (43, 433494437),
]


def test_fibonacci_server_uses_call_state_and_return_state(kernel: Kernel) -> None:
    results: list[tuple[int, int]] = []

    def start(ctx: NFAContext) -> None:
        ctx.kernel.alias_set("server")
        ctx.machine.goto_state("listen")

    def request(ctx: NFAContext, n: int) -> None:
        ctx.runstate["client"] = ctx.sender
        ctx.machine.call_state("answer", "calculate", "start", n)

    def answer(ctx: NFAContext, value: int) -> None:
        ctx.kernel.post(ctx.runstate.pop("client"), "fib", value)

    def calc_start(ctx: NFAContext, n: int) -> None:
        # As in POE's test: return_state() is queued, so the handler goes on (and its
        # yielded 'next' later lands in 'listen', where _default swallows it).
        if n == 0:
            ctx.machine.return_state(0)
        if n == 1:
            ctx.machine.return_state(1)
        ctx.runstate.update(f=[0, 1], n=1, target=n)
        ctx.kernel.yield_("next")

    def calc_next(ctx: NFAContext) -> None:
        rs = ctx.runstate
        rs["n"] += 1
        rs["f"] = [rs["f"][1], rs["f"][0] + rs["f"][1]]
        if rs["n"] == rs["target"]:
            ctx.machine.return_state(rs["f"][1])
        else:
            ctx.kernel.yield_("next")

    NFA.spawn(
        kernel,
        inline_states={
            "initial": {"start": start, "_default": noop},
            "listen": {"request": request, "answer": answer, "_default": noop},
            "calculate": {"start": calc_start, "next": calc_next, "_default": noop},
        },
    ).goto_state("initial", "start")

    pending = list(FIB_CASES)

    def client_start(ctx: Context) -> None:
        ctx.kernel.alias_set("client")
        ctx.kernel.yield_("next_test")

    def next_test(ctx: Context) -> None:
        ctx.kernel.post("server", "request", pending[0][0])

    def fib(ctx: Context, value: int) -> None:
        results.append((pending.pop(0)[0], value))
        if pending:
            ctx.kernel.yield_("next_test")
        else:
            ctx.kernel.alias_remove("client")
            ctx.kernel.post("server", "done")

    Session.create(
        kernel, inline_states={"_start": client_start, "next_test": next_test, "fib": fib}
    )
    # 'done' reaches the server in 'listen': its _default swallows it; then only the alias
    # keeps it, so the kernel goes idle and IDLE stops it.
    kernel.run()
    assert results == FIB_CASES


# ------------------------------------------------------------------ ses_nfa: DynamicStates


def test_kernel_state_handlers_options_callbacks_and_postbacks(kernel: Kernel) -> None:
    log: list[Any] = []

    def start(ctx: NFAContext) -> None:
        ctx.machine.goto_state("listen", "send")  # queued: the callback below runs first
        ctx.kernel.state("test_wheel_event", lambda c: c.kernel.yield_("happened"))
        orig = ctx.machine.option("default", True)
        log.append(("set", ctx.machine.option("default")))
        log.append(("reset", ctx.machine.option("default", orig)))
        log.append(("after", ctx.machine.option("default")))
        log.append(("cb_ret", ctx.machine.callback("callback", "c")(1, 2)))
        log.append(("pb_ret", ctx.machine.postback("postback", "p")(3)))

    def callback_in_initial(ctx: NFAContext, c: tuple[Any, ...], a: tuple[Any, ...]) -> str:
        log.append(("callback in initial", c, a))
        return "cbval"

    def happened(ctx: NFAContext) -> None:
        log.append(("happened", ctx.state))
        assert ctx.machine.get_current_state() == ctx.state
        assert ctx.machine.get_runstate() is ctx.runstate

    NFA.spawn(
        kernel,
        inline_states={
            "initial": {
                "start": start,
                "_default": noop,
                "callback": callback_in_initial,
                "postback": lambda ctx, c, a: log.append(("postback in initial", c, a)),
            },
            "listen": {
                "send": lambda ctx: ctx.kernel.yield_("test_wheel_event"),
                "happened": happened,
                "callback": lambda ctx, c, a: log.append(("callback in listen", c, a)),
                "postback": lambda ctx, c, a: log.append(("postback in listen", c, a)),
            },
        },
    ).goto_state("initial", "start")
    kernel.run()
    assert log == [
        ("set", True),
        ("reset", True),
        ("after", None),
        ("callback in initial", ("c",), (1, 2)),
        ("cb_ret", "cbval"),
        ("pb_ret", None),
        ("postback in listen", ("p",), (3,)),
        ("happened", "listen"),
    ]


def test_postback_holds_machine_alive_and_callback_does_not(kernel: Kernel) -> None:
    got: list[Any] = []
    machine = NFA.spawn(kernel, inline_states={"s": {"ev": lambda ctx, c, a: got.append((c, a))}})
    machine.goto_state("s")
    callback = machine.callback("ev")
    assert machine._k_extrefs == {}  # POE::NFA callbacks hold no refcount
    postback = machine.postback("ev", "ctx")
    assert machine._k_extrefs == {"postback": 1}
    kernel.run_one_timeslice()  # creation hold released; the postback keeps it
    assert kernel.ID_id_to_session(machine.ID) is machine
    postback("later")
    postback.release()
    kernel.run()
    assert got == [(("ctx",), ("later",))]
    assert not machine.alive
    del callback


# ------------------------------------------------------------------ object and package states


class Lamp:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def turn_on(self, ctx: NFAContext) -> None:
        self.calls.append(f"on:{ctx.state}:{ctx.event}")
        ctx.machine.goto_state("lit", "glow", 7)

    def glow(self, ctx: NFAContext, level: int) -> None:
        self.calls.append(f"glow:{ctx.state}:{level}")


class Meter:
    readings: list[Any] = []  # noqa: RUF012 - class-level recorder for package states

    @classmethod
    def measure(cls, ctx: NFAContext, value: int) -> None:
        cls.readings.append((ctx.state, ctx.event, value))

    @staticmethod
    def stop(ctx: NFAContext) -> None:
        Meter.readings.append(("stop", ctx.state))


def test_object_and_package_states(kernel: Kernel) -> None:
    lamp = Lamp()
    Meter.readings = []
    machine = NFA.spawn(
        kernel,
        object_states={
            "dark": [(lamp, {"switch": "turn_on"})],
            "lit": [(lamp, ["glow"])],
        },
        package_states={"lit": [(Meter, ["measure", "stop"])]},
    )
    machine.goto_state("dark", "switch")
    kernel.post(machine, "measure", 5)  # queued behind the (posted) goto to 'lit'
    kernel.post(machine, "stop")
    kernel.run()
    assert lamp.calls == ["on:dark:switch", "glow:lit:7"]
    assert Meter.readings == [("lit", "measure", 5), ("stop", "lit")]


def test_inline_and_object_tables_of_one_state_merge(kernel: Kernel) -> None:
    lamp = Lamp()
    machine = NFA.spawn(
        kernel,
        inline_states={"lit": {"extra": noop}},
        object_states={"lit": [(lamp, ["glow"])]},
    )
    assert set(machine._states["lit"]) == {"extra", "glow"}
    kernel.run()


# ------------------------------------------------------------------ runstate and context


def test_runstate_defaults_to_a_fresh_dict_and_keeps_falsy_values(kernel: Kernel) -> None:
    a = NFA.spawn(kernel, inline_states={"s": {}})
    b = NFA.spawn(kernel, inline_states={"s": {}})
    assert a.runstate == {}
    assert a.runstate is not b.runstate
    listy: list[int] = []
    c = NFA.spawn(kernel, inline_states={"s": {}}, runstate=listy)
    assert c.runstate is listy
    assert c.get_runstate() is listy
    assert c.get_heap() is listy
    kernel.run()


def test_context_fields_and_positional_unpacking(kernel: Kernel) -> None:
    seen: list[Any] = []

    def ev(ctx: NFAContext, *args: Any) -> None:
        kernel_, machine, runstate, event, sender, state, ctx_args, caller_state, _, _ = ctx
        seen.append((kernel_ is kernel, machine is ctx.session, runstate is ctx.heap))
        seen.append((event, state, ctx_args, caller_state, sender is kernel))

    machine = NFA.spawn(kernel, inline_states={"s": {"ev": ev}}, runstate={"k": 1})
    assert machine.get_current_state() is None
    assert repr(machine) == f"<NFA {machine.ID} in no state>"
    machine.goto_state("s")
    assert repr(machine) == f"<NFA {machine.ID} in state 's'>"
    kernel.post(machine, "ev", 1, 2)
    kernel.run()
    assert seen == [(True, True, True), ("ev", "s", (1, 2), None, True)]


def test_call_returns_the_handler_value(kernel: Kernel) -> None:
    machine = NFA.spawn(kernel, inline_states={"s": {"ask": lambda ctx, x: x * 2}})
    machine.goto_state("s")
    assert kernel.call(machine, "ask", 21) == 42
    kernel.run()


# ------------------------------------------------------------------ transition ordering


def _ordering_machine(kernel: Kernel, log: list[str], **options: Any) -> NFA:
    def go(ctx: NFAContext) -> None:
        ctx.kernel.yield_("probe")  # queued before the transition
        ctx.machine.goto_state("second", "enter")
        log.append(f"after goto: {ctx.machine.get_current_state()}")
        ctx.kernel.yield_("probe")  # queued after it

    def probe(ctx: NFAContext) -> None:
        log.append(f"probe in {ctx.state}")

    return NFA.spawn(
        kernel,
        inline_states={
            "first": {"go": go, "probe": probe, "leave": lambda ctx: log.append("leave first")},
            "second": {"enter": lambda ctx: log.append("enter second"), "probe": probe},
        },
        options=options or None,
    )


def test_goto_state_is_queued_behind_pending_events(kernel: Kernel) -> None:
    log: list[str] = []
    machine = _ordering_machine(kernel, log)
    machine.goto_state("first", "go")  # no current state yet: synchronous
    assert machine.get_current_state() == "first"
    kernel.run()
    assert log == [
        "after goto: first",
        "probe in first",
        "leave first",
        "enter second",
        "probe in second",
    ]


def test_immediate_option_switches_at_once(kernel: Kernel) -> None:
    log: list[str] = []
    machine = _ordering_machine(kernel, log, immediate=True)
    assert machine.option("immediate") is True
    machine.goto_state("first", "go")
    kernel.run()
    assert log == [
        "leave first",
        "enter second",
        "after goto: second",
        "probe in second",
        "probe in second",
    ]


def test_immediate_call_state_and_return_state(kernel: Kernel) -> None:
    log: list[Any] = []

    def ask(ctx: NFAContext) -> None:
        ctx.machine.call_state("back", "sub", "work", 3)
        log.append(("after call_state", ctx.machine.get_current_state()))

    def work(ctx: NFAContext, n: int) -> None:
        ctx.machine.return_state(n + 1)
        log.append(("after return_state", ctx.machine.get_current_state()))

    machine = NFA.spawn(
        kernel,
        inline_states={
            "main": {"ask": ask, "back": lambda ctx, v: log.append(("back", ctx.state, v))},
            "sub": {"work": work},
        },
        options={"immediate": "on"},
    )
    machine.goto_state("main", "ask")
    kernel.run()
    assert log == [
        ("back", "main", 4),
        ("after return_state", "main"),
        ("after call_state", "main"),
    ]


def test_leave_handlers_run_on_every_transition_but_the_first(kernel: Kernel) -> None:
    log: list[Any] = []

    def leave(ctx: NFAContext) -> None:
        log.append(("leave", ctx.state, ctx.event, ctx.args, ctx.sender is ctx.machine))

    machine = NFA.spawn(
        kernel,
        inline_states={
            "a": {
                "leave": leave,
                "start": lambda ctx: ctx.machine.goto_state("a", "again"),
                "again": lambda ctx: ctx.machine.call_state("back", "b", "inb"),
                "back": lambda ctx: log.append(("back", ctx.state)),
            },
            "b": {"leave": leave, "inb": lambda ctx: ctx.machine.return_state()},
        },
    )
    machine.goto_state("a", "start")
    kernel.run()
    assert log == [
        ("leave", "a", "leave", (), True),  # a -> a: re-entering still leaves
        ("leave", "a", "leave", (), True),  # a -> b (call_state)
        ("leave", "b", "leave", (), True),  # b -> a (return_state)
        ("back", "a"),
    ]
    assert machine._stack == []


# ------------------------------------------------------------------ _default and errors


def test_default_is_per_state(kernel: Kernel) -> None:
    log: list[Any] = []
    died: list[DieInfo] = []

    def a_default(ctx: NFAContext, event: str, args: tuple[Any, ...]) -> str:
        log.append((ctx.event, ctx.state, event, args))
        return "dflt"

    def watch(ctx: NFAContext) -> None:
        ctx.kernel.sig("DIE", "died")

    def on_die(ctx: NFAContext, name: str, info: DieInfo) -> None:
        died.append(info)
        ctx.kernel.sig_handled()

    machine = NFA.spawn(
        kernel,
        inline_states={
            "a": {"_default": a_default, "watch": watch, "died": on_die},
            "b": {"died": on_die},
        },
    )
    machine.goto_state("a", "watch")
    assert kernel.call(machine, "mystery", 1, 2) == "dflt"
    machine.goto_state("b")
    kernel.post(machine, "mystery", 3)
    kernel.run()
    assert log == [("_default", "a", "mystery", (1, 2))]
    assert len(died) == 1
    info = died[0]
    assert isinstance(info.error, UnhandledEvent)
    assert info.event == "mystery"
    assert info.dest_session is machine
    assert (
        f"to session {machine.ID}, but session {machine.ID} has neither a handler for it nor "
        "one for _default in its current state, 'b'" in str(info.error)
    )


def test_unhandled_event_without_sig_handled_ends_run(kernel: Kernel) -> None:
    machine = NFA.spawn(kernel, inline_states={"only": {}})
    machine.goto_state("only")
    kernel.post(machine, "nobody_home")
    with pytest.raises(UnhandledEvent, match="'nobody_home' event was sent to session"):
        kernel.run()
    assert not machine.alive


def test_internal_poe_events_reach_the_machine_like_any_event(kernel: Kernel) -> None:
    # As in POE::NFA, _child is looked up like any event: without a handler (or _default) a
    # machine that creates sessions dies. Here _default absorbs it.
    seen: list[Any] = []

    def spawn_child(ctx: NFAContext) -> None:
        Session.create(ctx.kernel, inline_states={"_start": lambda c: "child started"})

    machine = NFA.spawn(
        kernel,
        inline_states={
            "s": {
                "spawn": spawn_child,
                "_default": lambda ctx, ev, args: seen.append((ev, args[0], args[2])),
                "_start": lambda ctx: seen.append("user _start"),
                "_stop": lambda ctx: seen.append("user _stop"),
            }
        },
    )
    machine.goto_state("s", "spawn")
    kernel.run()
    assert seen == [("_child", "create", "child started"), ("_child", "lose", None)]


def test_goto_state_validates_its_target(kernel: Kernel) -> None:
    machine = NFA.spawn(kernel, inline_states={"a": {"in": noop}})
    with pytest.raises(InvalidArgument, match="nonexistent state 'nowhere'"):
        machine.goto_state("nowhere")
    with pytest.raises(InvalidArgument, match="nonexistent enter event 'out' in state 'a'"):
        machine.goto_state("a", "out")
    with pytest.raises(InvalidArgument, match="nonexistent state 'nowhere'"):
        machine.call_state("back", "nowhere")
    assert machine.get_current_state() is None
    kernel.run()


def test_return_state_with_an_empty_stack(kernel: Kernel) -> None:
    died: list[DieInfo] = []

    def start(ctx: NFAContext) -> None:
        ctx.kernel.sig("DIE", "died")
        ctx.machine.return_state("x")

    def on_die(ctx: NFAContext, name: str, info: DieInfo) -> None:
        died.append(info)
        ctx.kernel.sig_handled()

    machine = NFA.spawn(kernel, inline_states={"s": {"start": start, "died": on_die}})
    machine.goto_state("s", "start")
    kernel.run()
    assert len(died) == 1
    assert isinstance(died[0].error, InvalidArgument)
    assert "empty state stack" in str(died[0].error)
    assert died[0].event == "poe_nfa_pop_state"

    # Synchronously (immediate, from the machine's own handler) the caller gets the error.
    caught: list[BaseException] = []

    def start2(ctx: NFAContext) -> None:
        try:
            ctx.machine.return_state()
        except InvalidArgument as exc:
            caught.append(exc)

    other = NFA.spawn(kernel, inline_states={"s": {"start": start2}}, options={"immediate": 1})
    other.goto_state("s", "start")
    kernel.run()
    assert len(caught) == 1


# ------------------------------------------------------------------ stop()


def test_stop_force_stops_the_machine(kernel: Kernel) -> None:
    log: list[str] = []

    def start(ctx: NFAContext) -> None:
        ctx.kernel.alias_set("held")
        ctx.kernel.delay("never", 3600)
        ctx.kernel.yield_("before")
        ctx.machine.stop()
        ctx.kernel.yield_("after")

    machine = NFA.spawn(
        kernel,
        inline_states={
            "s": {
                "start": start,
                "before": lambda ctx: log.append("before"),
                "after": lambda ctx: log.append("after"),
                "never": lambda ctx: log.append("never"),
            }
        },
    )
    machine.goto_state("s", "start")
    kernel.run()  # returns: the alias and the timer did not keep the machine
    assert log == ["before"]
    assert not machine.alive
    with pytest.raises(SessionNotFound):
        kernel.alias_resolve("held")


def test_stop_from_another_session_is_queued_and_drops_later_events(kernel: Kernel) -> None:
    log: list[str] = []
    machine = NFA.spawn(
        kernel,
        inline_states={
            "s": {
                "start": lambda ctx: ctx.kernel.alias_set("m"),
                "ping": lambda ctx, n: log.append(f"ping {n}"),
            }
        },
    )
    machine.goto_state("s", "start")

    def kill(ctx: Context) -> None:
        ctx.kernel.post("m", "ping", 1)
        machine.stop()
        ctx.kernel.post("m", "ping", 2)  # queued behind the stop: purged with the machine

    Session.create(
        kernel, inline_states={"_start": lambda ctx: ctx.kernel.yield_("kill"), "kill": kill}
    )
    kernel.run()
    assert log == ["ping 1"]
    assert not machine.alive


# ------------------------------------------------------------------ kernel.state() and options


def test_kernel_state_rejects_reserved_names(kernel: Kernel) -> None:
    errors: list[str] = []

    def start(ctx: NFAContext) -> None:
        for name in ("poe_nfa_mine", "_signal"):
            try:
                ctx.kernel.state(name, noop)
            except InvalidArgument as exc:
                errors.append(str(exc))
        ctx.kernel.state("temp", noop)
        ctx.kernel.state("temp")  # removal
        assert "temp" not in ctx.machine._internals

    NFA.spawn(kernel, inline_states={"s": {"start": start}}).goto_state("s", "start")
    kernel.run()
    assert len(errors) == 2
    assert "reserved" in errors[0]
    assert "deprecated" in errors[1]


def test_trace_option_logs_events(kernel: Kernel, caplog: pytest.LogCaptureFixture) -> None:
    machine = NFA.spawn(kernel, inline_states={"s": {"_default": noop}}, options={"TRACE": "yes"})
    machine.goto_state("s")
    kernel.post(machine, "odd")
    with caplog.at_level(logging.INFO, logger="poe"):
        kernel.run()
    text = caplog.text
    assert f"{machine.ID} -> odd" in text
    assert "redirected to _default in state 's'" in text


# ------------------------------------------------------------------ 16_nfa_usage: spawn checks


class Foo:
    @staticmethod
    def foo(ctx: NFAContext) -> None:
        return None

    @staticmethod
    def bar(ctx: NFAContext) -> None:
        return None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "requires at least one of the following parameters"),
        ({"package_states": {"initial": "foo"}}, "the data for state 'initial'"),
        ({"package_states": {"initial": [Foo]}}, "the array for state 'initial'"),
        ({"package_states": {"initial": [(Foo, "bar")]}}, "need to be a mapping"),
        ({"package_states": {"initial": [(Foo, ["nope"])]}}, "no method 'nope'"),
        ({"package_states": ["initial"]}, "package_states must be a mapping"),
        ({"inline_states": {"initial": [noop]}}, "the data for state 'initial'"),
        ({"inline_states": {"initial": {"ev": "noop"}}}, "is not callable"),
        ({"inline_states": {"s": {"poe_nfa_goto_state": noop}}}, "reserved for POE::NFA"),
        ({"inline_states": {"s": {}}, "options": ["trace"]}, "options must be a mapping"),
    ],
)
def test_spawn_rejects_bad_shapes(kernel: Kernel, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        NFA.spawn(kernel, **kwargs)
    kernel.run()


def test_spawn_needs_a_kernel_and_known_parameters(kernel: Kernel) -> None:
    with pytest.raises(InvalidArgument, match="requires a working Kernel"):
        NFA.spawn(None, inline_states={"initial": {"start": noop}})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="crap"):
        NFA.spawn(kernel, inline_states={"initial": {"start": noop}}, crap="foo")  # type: ignore[call-arg]
    basic = NFA.spawn(kernel, inline_states={"initial": {"start": noop}})
    assert isinstance(basic, NFA)
    packaged = NFA.spawn(kernel, package_states={"initial": [(Foo, ["foo", "bar"])]})
    assert set(packaged._states["initial"]) == {"foo", "bar"}
    with_runstate = NFA.spawn(
        kernel, package_states={"initial": [(Foo, {"a": "foo"})]}, runstate=[]
    )
    assert with_runstate.runstate == []
    kernel.run()
