"""Session core: POE's ``ses_session``, ``k_run_returns``, ``averell-callback-ret`` and ``rt14444-arg1``.

Every expectation was checked against Perl POE 1.370 (the behavioural oracle); the documented
deviations of the port are: failures raise instead of returning codes, handlers are
``handler(ctx, *args)``, ``_default``'s second argument is a tuple, and ``create()`` without a
``_start`` handler raises :class:`poe.errors.InvalidArgument` instead of returning undef.
"""

from __future__ import annotations

import gc
import re
import weakref
from typing import TYPE_CHECKING, Any

import pytest

from poe.errors import InvalidArgument, NotInSession
from poe.kernel import Kernel
from poe.session import Callback, Postback, Session
from poe.testing import FakeClock, leaks

if TYPE_CHECKING:
    from poe.session import Context

MACHINE_COUNT = 10
EVENT_COUNT = 5


# ---------------------------------------------------------------------------------------------
# k_run_returns


def test_run_without_sessions_returns_at_once(kernel: Kernel) -> None:
    """k_run_returns: run() with no sessions returns immediately, and can be called again."""
    kernel.run()
    kernel.run()
    assert kernel.run_one_timeslice() is False
    assert kernel.get_active_session() is kernel
    assert kernel.get_active_event() is None


def test_kernel_is_rerunnable_after_sessions_ran(fake_kernel: Kernel) -> None:
    """k_run_returns / POE 2.1: creating a session after run() returned lets run() go again."""
    ran: list[int] = []
    for round_no in range(3):

        def start(ctx: Context, n: int) -> None:
            ctx.kernel.yield_("tick", n)

        def tick(ctx: Context, n: int) -> None:
            ran.append(n)

        Session.create(fake_kernel, inline_states={"_start": start, "tick": tick}, args=(round_no,))
        fake_kernel.run()
    assert ran == [0, 1, 2]


# ---------------------------------------------------------------------------------------------
# ses_session: ten machines counting their own events


def test_ten_machines_count_their_own_events(fake_kernel: Kernel) -> None:
    """ses_session: N sessions each count events via yield/post/call; _default sees the bogus ones."""
    completions: dict[int, int] = {}
    counters = {"sender": 0, "default": 0, "got_heap": 0}

    def task_start(ctx: Context, task_id: int) -> None:
        ctx.heap["count"] = 0
        ctx.kernel.yield_("count", task_id)

    def task_run(ctx: Context, task_id: int) -> None:
        if ctx.sender is ctx.session:
            counters["sender"] += 1
        if ctx.heap["count"] & 1:
            ctx.kernel.yield_("bogus", task_id)
        else:
            ctx.kernel.post(ctx.session, "bogus", task_id)
        if ctx.kernel.call(ctx.session, "next_count", task_id) < EVENT_COUNT:
            if ctx.heap["count"] & 1:
                ctx.kernel.yield_("count", task_id)
            else:
                ctx.kernel.post(ctx.session, "count", task_id)
        else:
            ctx.heap["id"] = task_id

    def task_default(ctx: Context, event: str, args: tuple[Any, ...]) -> int:
        assert event == "bogus"
        if ctx.event == "_default":
            counters["default"] += 1
        return 0

    def task_next_count(ctx: Context, task_id: int) -> int:
        ctx.heap["count"] += 1
        result: int = ctx.heap["count"]
        return result

    def task_stop(ctx: Context) -> None:
        completions[ctx.heap["id"]] = ctx.heap["count"]
        if ctx.heap.get("got_heap") == ctx.heap["id"]:
            counters["got_heap"] += 1

    for i in range(MACHINE_COUNT):
        Session.create(
            fake_kernel,
            inline_states={
                "_start": task_start,
                "_stop": task_stop,
                "count": task_run,
                "next_count": task_next_count,
                "_default": task_default,
            },
            args=(i,),
            heap={"got_heap": i},
        )

    assert fake_kernel.get_active_session() is fake_kernel
    fake_kernel.run()
    assert fake_kernel.get_active_session() is fake_kernel

    assert completions == dict.fromkeys(range(MACHINE_COUNT), EVENT_COUNT)
    assert counters == {
        "sender": MACHINE_COUNT * EVENT_COUNT,
        "default": MACHINE_COUNT * EVENT_COUNT,
        "got_heap": MACHINE_COUNT,
    }


# ---------------------------------------------------------------------------------------------
# ses_session: client/server with postbacks and callbacks


def test_client_server_postbacks_and_callbacks(fake_kernel: Kernel) -> None:
    """ses_session: a client passes postbacks (async) and callbacks (sync) to an aliased server."""
    results = {"postback": True, "callback": True, "stop_checks": False}

    def server_start(ctx: Context) -> None:
        ctx.kernel.alias_set("server")
        ctx.heap["response"] = 0

    def server_query(ctx: Context, reply: Postback) -> None:
        ctx.heap["response"] += 1
        reply(ctx.heap["response"])

    Session.create(
        fake_kernel,
        inline_states={
            "_start": server_start,
            "query": server_query,
            "sync_query": server_query,
            "_stop": lambda ctx: None,
        },
    )

    def client_start(ctx: Context) -> None:
        ctx.kernel.yield_("query")
        ctx.heap["cookie"] = 0

    def client_query(ctx: Context) -> None:
        ctx.heap["cookie"] += 1
        ctx.kernel.post("server", "query", ctx.session.postback("response", ctx.heap["cookie"]))
        ctx.heap["sync_called_back"] = False
        ctx.heap["cookie"] += 1
        ctx.kernel.call(
            "server", "sync_query", ctx.session.callback("sync_response", ctx.heap["cookie"])
        )
        if not ctx.heap["sync_called_back"]:
            results["callback"] = False

    def sync_response(ctx: Context, req: tuple[Any, ...], rsp: tuple[Any, ...]) -> None:
        if req[0] != rsp[0] + 1:
            results["callback"] = False
        ctx.heap["sync_called_back"] = True

    def response(ctx: Context, req: tuple[Any, ...], rsp: tuple[Any, ...]) -> None:
        if req[0] != rsp[0] - 1:
            results["postback"] = False
        if ctx.heap["cookie"] < 5:
            ctx.kernel.yield_("query")

    def client_stop(ctx: Context) -> None:
        results["stop_checks"] = (
            ctx.kernel.get_active_session() is ctx.session
            and ctx.kernel.get_active_session().get_heap() is ctx.heap
        )

    Session.create(
        fake_kernel,
        inline_states={
            "_start": client_start,
            "query": client_query,
            "sync_response": sync_response,
            "response": response,
            "_stop": client_stop,
        },
    )
    fake_kernel.run()
    assert results == {"postback": True, "callback": True, "stop_checks": True}


# ---------------------------------------------------------------------------------------------
# ses_session: object and package states, with and without event -> method maps

objpack: dict[int, int] = {}


class UnmappedObject:
    def _start(self, ctx: Context, ident: int) -> None:
        ctx.kernel.yield_("count")
        ctx.heap["count"] = 0
        ctx.heap["id"] = ident

    def count(self, ctx: Context) -> None:
        if type(self) is not UnmappedObject:
            return
        ctx.heap["count"] += 1
        if ctx.heap["count"] < EVENT_COUNT:
            ctx.kernel.yield_("count")

    def _stop(self, ctx: Context) -> None:
        objpack[ctx.heap["id"]] = ctx.heap["count"]


class MappedObject:
    def my_start(self, ctx: Context, ident: int) -> None:
        ctx.kernel.yield_("count")
        ctx.heap["count"] = 0
        ctx.heap["id"] = ident

    def my_count(self, ctx: Context) -> None:
        if type(self) is not MappedObject:
            return
        ctx.heap["count"] += 1
        if ctx.heap["count"] < EVENT_COUNT:
            ctx.kernel.yield_("count")

    def my_stop(self, ctx: Context) -> None:
        objpack[ctx.heap["id"]] = ctx.heap["count"]


class UnmappedPackage:
    @classmethod
    def _start(cls, ctx: Context, ident: int) -> None:
        ctx.kernel.yield_("count")
        ctx.heap["count"] = 0
        ctx.heap["id"] = ident

    @classmethod
    def count(cls, ctx: Context) -> None:
        if cls is not UnmappedPackage:
            return
        ctx.heap["count"] += 1
        if ctx.heap["count"] < EVENT_COUNT:
            ctx.kernel.yield_("count")

    @staticmethod
    def _stop(ctx: Context) -> None:
        objpack[ctx.heap["id"]] = ctx.heap["count"]


class MappedPackage:
    @classmethod
    def my_start(cls, ctx: Context, ident: int) -> None:
        ctx.kernel.yield_("count")
        ctx.heap["count"] = 0
        ctx.heap["id"] = ident

    @classmethod
    def my_count(cls, ctx: Context) -> None:
        if cls is not MappedPackage:
            return
        ctx.heap["count"] += 1
        if ctx.heap["count"] < EVENT_COUNT:
            ctx.kernel.yield_("count")

    @staticmethod
    def my_stop(ctx: Context) -> None:
        objpack[ctx.heap["id"]] = ctx.heap["count"]


def test_object_and_package_states(fake_kernel: Kernel) -> None:
    """ses_session: object/package states dispatch to methods, with lists and with maps."""
    objpack.clear()
    mapping = {"_start": "my_start", "count": "my_count", "_stop": "my_stop"}
    Session.create(
        fake_kernel, object_states=[(UnmappedObject(), ["_start", "count", "_stop"])], args=(0,)
    )
    Session.create(fake_kernel, object_states=[(MappedObject(), mapping)], args=(1,))
    Session.create(
        fake_kernel, package_states=[(UnmappedPackage, ["_start", "count", "_stop"])], args=(2,)
    )
    Session.create(fake_kernel, package_states=[(MappedPackage, mapping)], args=(3,))
    fake_kernel.run()
    assert objpack == dict.fromkeys(range(4), EVENT_COUNT)


def test_states_can_mix_inline_object_and_package(fake_kernel: Kernel) -> None:
    """ses_session: one session may combine inline, object and package states; later ones win."""
    log: list[str] = []

    class Obj:
        def ping(self, ctx: Context) -> None:
            log.append(f"obj {ctx.event}")
            ctx.kernel.yield_("pong")

    class Pkg:
        @staticmethod
        def pong(ctx: Context) -> None:
            log.append(f"pkg {ctx.event}")

    Session.create(
        fake_kernel,
        inline_states={"_start": lambda ctx: ctx.kernel.yield_("ping"), "ping": lambda ctx: None},
        object_states=[(Obj(), ["ping"])],
        package_states=[(Pkg, ["pong"])],
    )
    fake_kernel.run()
    assert log == ["obj ping", "pkg pong"]


# ---------------------------------------------------------------------------------------------
# ses_session: options


def test_option_get_set_reset(fake_kernel: Kernel) -> None:
    """ses_session: option() returns the previous value when setting; values normalise like POE.

    Oracle (POE 1.370): orig=1 get=1; Trace on -> prev undef, trace=1; trace OFF -> prev 1,
    trace=0; option(foo=yes, bar=False, default=undef) -> prev {bar: undef, default: 1,
    foo: undef}, then foo=1 bar=0 default=undef; unknown names are user storage.
    """
    seen: dict[str, Any] = {}

    def start(ctx: Context) -> None:
        s = ctx.session
        orig = s.option("default", 1)
        seen["orig"] = orig
        seen["get"] = s.option("default")
        seen["reset_prev"] = s.option("default", orig)
        seen["after_reset"] = s.option("default")
        seen["trace_prev"] = s.option("Trace", "on")
        seen["trace"] = s.option("trace")
        seen["trace_off_prev"] = s.option("trace", "OFF")
        seen["trace_off"] = s.option("trace")
        seen["multi_prev"] = s.option(foo="yes", bar="False", default=None)
        seen["multi"] = (s.option("foo"), s.option("bar"), s.option("default"))
        seen["custom_prev"] = s.option("custom", "Hello")
        seen["custom"] = s.option("custom")
        s.option("trace", None)
        ctx.kernel.yield_("idle")

    Session.create(
        fake_kernel,
        inline_states={"_start": start, "idle": lambda ctx: None, "_stop": lambda ctx: None},
        options={"default": 1},
    )
    fake_kernel.run()
    assert seen["orig"]
    assert seen["get"]
    assert seen["reset_prev"]
    assert not (bool(seen["after_reset"]) ^ bool(seen["orig"]))
    assert seen["trace_prev"] is None
    assert seen["trace"] == 1
    assert seen["trace_off_prev"] == 1
    assert seen["trace_off"] == 0
    assert seen["multi_prev"] == {"foo": None, "bar": None, "default": 1}
    assert seen["multi"] == (1, 0, None)
    assert seen["custom_prev"] is None
    assert seen["custom"] == "Hello"


# ---------------------------------------------------------------------------------------------
# ses_session: create() argument validation


def test_create_rejects_bad_arguments(fake_kernel: Kernel) -> None:
    """ses_session: create() rejects malformed arguments (POE croaks on an odd list, etc.)."""
    create: Any = Session.create
    with pytest.raises(TypeError):
        create(fake_kernel, "an", "odd", "number", "of", "elephants")
    with pytest.raises(TypeError):
        create(fake_kernel, inline_states={"_start": lambda ctx: None}, bogus_param=1)
    with pytest.raises(InvalidArgument):
        create(fake_kernel, inline_states={"_start": lambda ctx: None, "ev": "not callable"})
    with pytest.raises(InvalidArgument):
        create(fake_kernel, object_states=[(object(), ["_start"])])
    with pytest.raises(InvalidArgument):
        create(fake_kernel, inline_states={"_start": lambda ctx: None, "_signal": lambda ctx: None})
    # POE carps and returns undef without _start; the port raises (documented deviation).
    with pytest.raises(InvalidArgument):
        create(fake_kernel, inline_states={"other": lambda ctx: None})
    assert not hasattr(Session, "new"), "POE's deprecated new() has no counterpart"
    # Nothing was registered by the failed attempts: the first real session is still id 1.
    sid = Session.create(fake_kernel, inline_states={"_start": lambda ctx: None}).ID
    assert sid == 1
    fake_kernel.run()


def test_start_runs_inside_create_with_args(fake_kernel: Kernel) -> None:
    """ses_session / POE 6.1: _start runs before create() returns, with args, sender = creator."""
    log: list[Any] = []

    def start(ctx: Context, *args: Any) -> str:
        log.append(("start", args, ctx.sender is ctx.kernel, ctx.event))
        return "ret"

    session = Session.create(fake_kernel, inline_states={"_start": start}, args=("a", 1, None))
    log.append("created")
    assert log == [("start", ("a", 1, None), True, "_start"), "created"]
    assert session.alive
    fake_kernel.run()
    assert not session.alive


def test_heap_defaults_to_fresh_dict_and_can_be_anything(fake_kernel: Kernel) -> None:
    """ses_session: heap defaults to a new dict per session; any heap object is passed through."""
    heaps: list[Any] = []
    custom = ["my", "heap"]

    def start(ctx: Context) -> None:
        heaps.append(ctx.heap)
        assert ctx.heap is ctx.session.get_heap()

    a = Session.create(fake_kernel, inline_states={"_start": start})
    b = Session.create(fake_kernel, inline_states={"_start": start})
    c = Session.create(fake_kernel, inline_states={"_start": start}, heap=custom)
    assert heaps[0] == {}
    assert heaps[1] == {}
    assert heaps[0] is not heaps[1]
    assert heaps[2] is custom
    assert (a.heap, b.heap, c.heap) == (heaps[0], heaps[1], custom)
    fake_kernel.run()


def test_handlers_can_be_added_and_removed_with_state(fake_kernel: Kernel) -> None:
    """ses_session / POE 2.8: kernel.state() adds, replaces and removes the active session's handlers."""
    log: list[str] = []

    class Obj:
        def meth(self, ctx: Context) -> None:
            log.append(f"obj.meth as {ctx.event}")

        def dyn2(self, ctx: Context) -> None:
            log.append("obj.dyn2")

    obj = Obj()

    def start(ctx: Context) -> None:
        ctx.kernel.state("dyn", lambda c: log.append("coderef"))
        ctx.kernel.yield_("dyn")
        ctx.kernel.yield_("swap")

    def swap(ctx: Context) -> None:
        ctx.kernel.state("dyn", obj, "meth")
        ctx.kernel.state("dyn2", obj)
        ctx.kernel.yield_("dyn")
        ctx.kernel.yield_("dyn2")
        ctx.kernel.yield_("remove")

    def remove(ctx: Context) -> None:
        ctx.kernel.state("dyn")
        ctx.kernel.yield_("dyn")

    def default(ctx: Context, event: str, args: tuple[Any, ...]) -> None:
        log.append(f"_default {event}")

    Session.create(
        fake_kernel,
        inline_states={"_start": start, "swap": swap, "remove": remove, "_default": default},
    )
    with pytest.raises(NotInSession):
        fake_kernel.state("outside", lambda c: None)
    fake_kernel.run()
    assert log == [
        "coderef",
        "obj.meth as dyn",
        "obj.dyn2",
        "_default dyn",
        "_default _stop",
    ]


# ---------------------------------------------------------------------------------------------
# ses_session: stop() with a nested tree of aliased sessions holding timers


def test_stop_stops_every_session_children_first(fake_kernel: Kernel) -> None:
    """ses_session (stop part): kernel.stop() stops a 4-deep tree held by aliases and timers.

    Oracle (POE 1.370; the POD and the test's "_stop wasn't called" differ from the code):
    ``4 _stop, 3 _child lose, 3 _stop, 2 _child lose, 2 _stop, 1 _child lose, 1 _stop``, all
    inside the stop() call; no ``_parent`` event; run() then returns; heaps are freed.
    """
    log: list[str] = []
    heap_refs: list[weakref.ref[Any]] = []

    class Thing:
        pass

    def level(n: int) -> dict[str, Any]:
        def start(ctx: Context) -> None:
            thing = Thing()
            heap_refs.append(weakref.ref(thing))
            ctx.heap["object"] = thing
            if n < 4:
                Session.create(ctx.kernel, inline_states=level(n + 1))
            ctx.kernel.delay("nonexistent", 3600)
            ctx.kernel.alias_set(f"test{n}")
            if n == 1:
                ctx.kernel.yield_("stop")

        def stop_all(ctx: Context) -> None:
            log.append("stop() called")
            ctx.kernel.stop()
            log.append("stop() returned")

        return {
            "_start": start,
            "_parent": lambda ctx, old, new: log.append(f"{n} _parent"),
            "_child": lambda ctx, what, child, ret: log.append(f"{n} _child {what}"),
            "_stop": lambda ctx: log.append(f"{n} _stop"),
            "stop": stop_all,
        }

    Session.create(fake_kernel, inline_states=level(1))
    fake_kernel.run()
    log.append("run returned")
    assert log == [
        "3 _child create",
        "2 _child create",
        "1 _child create",
        "stop() called",
        "4 _stop",
        "3 _child lose",
        "3 _stop",
        "2 _child lose",
        "2 _stop",
        "1 _child lose",
        "1 _stop",
        "stop() returned",
        "run returned",
    ]
    gc.collect()
    assert len(heap_refs) == 4
    assert all(ref() is None for ref in heap_refs), "stopped sessions' heaps were not freed"


def test_stop_resets_active_session_to_kernel(fake_kernel: Kernel) -> None:
    """ses_session (stop part): after stop() inside a handler the active session is the kernel.

    POE 1.370's stop() "forces the active session back to the kernel"; oracle:
    ``stop() returned; active=other`` (get_active_session() is the kernel).
    """
    seen: list[Any] = []

    def stop_all(ctx: Context) -> None:
        ctx.kernel.stop()
        seen.append(ctx.kernel.get_active_session())

    Session.create(
        fake_kernel,
        inline_states={"_start": lambda ctx: ctx.kernel.yield_("stop"), "stop": stop_all},
    )
    fake_kernel.run()
    assert seen == [fake_kernel]


def test_session_created_after_stop_in_a_handler_runs(poe_loop: str) -> None:
    """ses_session (stop part) / POE 2.1: stop() then create() in the same handler: the new
    session is a child of the kernel and run() carries on with it.

    Oracle (POE 1.370): ``old stop, stopped, new start parent=POE::Kernel, created, new t,
    new stop, run returned``. The fake clock jumps after 1 ms of real idleness rather than at
    once, so that no backend can fire the new timer inside the loop iteration that was asked to
    halt (uvloop runs zero-delay timers there, which hides the bug).
    """
    log: list[str] = []
    kernel = Kernel(loop=poe_loop, clock=FakeClock(autojump=0.001))

    def new_start(ctx: Context) -> None:
        log.append(f"new start parent={'K' if ctx.sender is ctx.kernel else ctx.sender}")
        ctx.kernel.delay("t", 0.1)

    def stop_all(ctx: Context) -> None:
        ctx.kernel.stop()
        log.append("stopped")
        Session.create(
            ctx.kernel,
            inline_states={
                "_start": new_start,
                "t": lambda ctx: log.append("new t"),
                "_stop": lambda ctx: log.append("new stop"),
            },
        )
        log.append("created")

    try:
        Session.create(
            kernel,
            inline_states={
                "_start": lambda ctx: ctx.kernel.yield_("stop"),
                "stop": stop_all,
                "_child": lambda ctx, what, child, ret: log.append(f"old _child {what}"),
                "_stop": lambda ctx: log.append("old stop"),
            },
        )
        kernel.run()
        log.append("run returned")
        first_run = list(log)
        kernel.run()  # drain whatever the first run left behind, so the kernel ends clean
        assert leaks(kernel) == []
    finally:
        kernel.loop.close()
    assert first_run == [
        "old stop",
        "stopped",
        "new start parent=K",
        "created",
        "new t",
        "new stop",
        "run returned",
    ]


# ---------------------------------------------------------------------------------------------
# ses_session / averell-callback-ret: postback and callback return values


def test_callback_returns_handler_value(fake_kernel: Kernel) -> None:
    """averell-callback-ret: a callback returns its handler's return value (42)."""
    results: list[Any] = []

    def start(ctx: Context) -> None:
        ctx.heap["callback"] = ctx.session.callback("callback_event")
        ctx.kernel.yield_("try_callback")

    def try_callback(ctx: Context) -> None:
        callback = ctx.heap.pop("callback")
        results.append(callback())

    Session.create(
        fake_kernel,
        inline_states={
            "_start": start,
            "try_callback": try_callback,
            "callback_event": lambda ctx, cb_ctx, cb_args: 42,
            "_stop": lambda ctx: None,
        },
    )
    fake_kernel.run()
    assert results == [42]


def test_postback_and_callback_argument_shapes(fake_kernel: Kernel) -> None:
    """ses_session / POE 6.4: postback posts (ctx, args) later and returns nothing; callback is inline.

    Oracle (POE 1.370): ``pb_ret=0 cb:[3][b] cb_ret=cbval pb:[1 2][a]``.
    """
    log: list[Any] = []

    def start(ctx: Context) -> None:
        pb = ctx.session.postback("pb", 1, 2)
        cb = ctx.session.callback("cb", 3)
        assert isinstance(pb, Postback)
        assert isinstance(cb, Callback)
        fire: Any = pb  # POE's postback returns 0; the port's returns nothing
        log.append(("pb_ret", fire("a")))
        log.append(("cb_ret", cb("b")))

    def on_pb(ctx: Context, pb_ctx: tuple[Any, ...], pb_args: tuple[Any, ...]) -> None:
        log.append(("pb", pb_ctx, pb_args, ctx.sender is ctx.session))

    def on_cb(ctx: Context, cb_ctx: tuple[Any, ...], cb_args: tuple[Any, ...]) -> str:
        log.append(("cb", cb_ctx, cb_args))
        return "cbval"

    Session.create(fake_kernel, inline_states={"_start": start, "pb": on_pb, "cb": on_cb})
    fake_kernel.run()
    assert log == [
        ("pb_ret", None),
        ("cb", (3,), ("b",)),
        ("cb_ret", "cbval"),
        ("pb", (1, 2), ("a",), True),
    ]


# ---------------------------------------------------------------------------------------------
# rt14444-arg1: _default gets (event, args)


def test_default_receives_event_and_args(fake_kernel: Kernel) -> None:
    """rt14444-arg1: _default gets ARG0 = original event, ARG1 = its args; they survive re-posting."""
    test_state = "some_random_state"
    test_args = ("some", "random", "args")
    checks: list[tuple[str, Any]] = []

    def start(ctx: Context) -> None:
        ctx.kernel.yield_(test_state, *test_args)

    def default(ctx: Context, orig_state: str, orig_args: tuple[Any, ...]) -> None:
        if orig_state == test_state:
            checks.append(("default", orig_args))
        ctx.kernel.yield_("check_ref", orig_args)
        ctx.kernel.yield_("check_copy", tuple(orig_args))

    Session.create(
        fake_kernel,
        inline_states={
            "_start": start,
            "_default": default,
            "check_ref": lambda ctx, args: checks.append(("ref", args)),
            "check_copy": lambda ctx, args: checks.append(("copy", args)),
        },
    )
    fake_kernel.run()
    assert checks == [("default", test_args), ("ref", test_args), ("copy", test_args)]


def test_call_returns_values_and_none_when_unhandled(fake_kernel: Kernel) -> None:
    """ses_session / POE 2.2: call() returns the handler's value; unhandled without _default -> None."""
    results: dict[str, Any] = {}

    def other_start(ctx: Context) -> None:
        ctx.kernel.alias_set("other")

    Session.create(
        fake_kernel,
        inline_states={
            "_start": other_start,
            "answer": lambda ctx, x: ("other", x * 2, ctx.sender.ID),
            "done": lambda ctx: ctx.kernel.alias_remove("other"),
        },
    )

    def start(ctx: Context) -> None:
        results["self"] = ctx.kernel.call(ctx.session, "mine", 5)
        results["cross"] = ctx.kernel.call("other", "answer", 21)
        results["unhandled_self"] = ctx.kernel.call(ctx.session, "nothing")
        results["unhandled_cross"] = ctx.kernel.call("other", "nothing")
        results["me"] = ctx.session.ID
        ctx.kernel.post("other", "done")

    Session.create(
        fake_kernel,
        inline_states={"_start": start, "mine": lambda ctx, x: x + 1},
    )
    fake_kernel.run()
    assert results == {
        "self": 6,
        "cross": ("other", 42, results["me"]),
        "unhandled_self": None,
        "unhandled_cross": None,
        "me": 2,
    }


def test_kernel_id_format(kernel: Kernel) -> None:
    """sids / POE 2.1 ID(): hostname-XXXXXXXX-XXXXXXXX-XXXXXXXX, stable, distinct per kernel."""
    assert re.fullmatch(r".+-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}", kernel.ID)
    assert kernel.ID == kernel.ID
