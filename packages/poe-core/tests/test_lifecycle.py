"""Session lifecycle: ``_start``/``_stop``/``_child``/``_parent``, detaching, ``_default``, CALLER_STATE, GC timing.

Ports POE 1.370's ``meh-startstop-return``, ``17_detach_start``, ``neyuki_detach``, ``k_detach``,
``caller_state`` and the lifecycle oracle probes. Expected sequences were recorded from Perl POE
1.370 on this machine (see each docstring).
"""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING, Any

import pytest

from poe.errors import NotInSession, NotPermitted, SessionNotFound
from poe.session import Session, SessionBase

if TYPE_CHECKING:
    from poe.kernel import Kernel
    from poe.session import Context


class Names:
    """Give sessions readable names in logs (the kernel prints as ``K``)."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.by_id: dict[int, str] = {}
        self.sessions: dict[str, SessionBase] = {}

    def register(self, ctx: Context, name: str) -> None:
        self.by_id[ctx.session.ID] = name
        self.sessions[name] = ctx.session

    def __call__(self, who: Any) -> str:
        if who is self.kernel:
            return "K"
        return self.by_id.get(who.ID, f"#{who.ID}")


# ---------------------------------------------------------------------------------------------
# meh-startstop-return and the P1 lifecycle oracle


class Fubar:
    def create_session(self, kernel: Kernel) -> Session:
        return Session.create(kernel, object_states=[(self, ["_start", "_stop"])])

    def _start(self, ctx: Context) -> str:
        return "_start"

    def _stop(self, ctx: Context) -> str:
        return "_stop"


def test_start_and_stop_return_values_reach_child_events(fake_kernel: Kernel) -> None:
    """meh-startstop-return: _child('create'|'lose', child, retval) carries _start/_stop returns."""
    results: list[tuple[str, Any]] = []

    def start(ctx: Context) -> None:
        Fubar().create_session(ctx.kernel)

    def child(ctx: Context, what: str, session: SessionBase, retval: Any) -> None:
        results.append((what, retval))

    Session.create(fake_kernel, inline_states={"_start": start, "_child": child})
    fake_kernel.run()
    assert results == [("create", "_start"), ("lose", "_stop")]


def test_lifecycle_event_order(fake_kernel: Kernel) -> None:
    """meh-startstop-return / oracle P1: child _start (sender = parent), _child create, child _stop, _child lose; no _parent.

    Oracle: ``child_start sender=1 child_create:startret child_stop child_lose:stopret parent_stop``.
    """
    log: list[str] = []

    def child_start(ctx: Context) -> str:
        log.append(f"child_start sender={ctx.sender.ID}")
        return "startret"

    def child_stop(ctx: Context) -> str:
        log.append("child_stop")
        return "stopret"

    def parent_start(ctx: Context) -> None:
        Session.create(
            ctx.kernel,
            inline_states={
                "_start": child_start,
                "_stop": child_stop,
                "_parent": lambda ctx, old, new: log.append("child_parent"),
            },
        )

    def parent_child(ctx: Context, what: str, child: SessionBase, retval: Any) -> None:
        log.append(f"child_{what}:{retval}")
        assert ctx.sender is ctx.kernel

    Session.create(
        fake_kernel,
        inline_states={
            "_start": parent_start,
            "_child": parent_child,
            "_stop": lambda ctx: log.append("parent_stop"),
        },
    )
    fake_kernel.run()
    assert log == [
        "child_start sender=1",
        "child_create:startret",
        "child_stop",
        "child_lose:stopret",
        "parent_stop",
    ]


def test_default_receives_internal_events(fake_kernel: Kernel) -> None:
    """rt14444-arg1 / POE 6.3 (oracle P10): without handlers, _child and _stop go to _default, whose value is used.

    Oracle: ``P _default _child [create,POE::Session,sr]``, ``P _default _child
    [lose,POE::Session,xr]``, ``P _default _stop []``.
    """
    log: list[tuple[str, tuple[Any, ...]]] = []

    def start(ctx: Context) -> None:
        Session.create(
            ctx.kernel, inline_states={"_start": lambda ctx: "sr", "_stop": lambda ctx: "xr"}
        )

    def default(ctx: Context, event: str, args: tuple[Any, ...]) -> str:
        shown = tuple("Session" if isinstance(a, Session) else a for a in args)
        log.append((event, shown))
        return "dflt"

    Session.create(fake_kernel, inline_states={"_start": start, "_default": default})
    fake_kernel.run()
    assert log == [
        ("_child", ("create", "Session", "sr")),
        ("_child", ("lose", "Session", "xr")),
        ("_stop", ()),
    ]


def test_default_return_becomes_stop_value(fake_kernel: Kernel) -> None:
    """meh-startstop-return / POE 6.3: a child's _default handling _stop provides the value of the parent's _child('lose').

    Oracle: ``child create undef``, ``child lose _stop``.
    """
    got: list[Any] = []

    def start(ctx: Context) -> None:
        Session.create(
            ctx.kernel,
            inline_states={"_start": lambda ctx: None, "_default": lambda ctx, ev, args: ev},
        )

    Session.create(
        fake_kernel,
        inline_states={
            "_start": start,
            "_child": lambda ctx, what, child, ret: got.append((what, ret)),
        },
    )
    fake_kernel.run()
    assert got == [("create", None), ("lose", "_stop")]


# ---------------------------------------------------------------------------------------------
# Garbage-collection timing


def test_empty_session_survives_until_first_dispatch(fake_kernel: Kernel) -> None:
    """events (intent) / POE 4.2: a session with an empty _start lives until the first dispatch, so its creator can post.

    Oracle: ``ping got x sender=POE::Kernel`` then ``empty _stop``.
    """
    log: list[Any] = []
    session = Session.create(
        fake_kernel,
        inline_states={
            "_start": lambda ctx: None,
            "ping": lambda ctx, x: log.append(("ping", x, ctx.sender is ctx.kernel)),
            "_stop": lambda ctx: log.append("stop"),
        },
    )
    fake_kernel.post(session, "ping", "x")
    assert session.alive
    fake_kernel.run()
    assert log == [("ping", "x", True), "stop"]
    assert not session.alive


def test_signal_watchers_do_not_keep_a_session_alive(fake_kernel: Kernel) -> None:
    """events (intent) / POE 4.1 (oracle P13): a session holding only sig() watchers stops right after start-up.

    Oracle: ``sigonly _stop``, ``other t``, ``other _stop``.
    """
    log: list[str] = []

    def sigonly_start(ctx: Context) -> None:
        ctx.kernel.sig("USR1", "u")

    def other_start(ctx: Context) -> None:
        ctx.kernel.delay("t", 0.2)

    Session.create(
        fake_kernel,
        inline_states={
            "_start": sigonly_start,
            "u": lambda ctx, *a: None,
            "_stop": lambda ctx: log.append("sigonly _stop"),
        },
    )
    Session.create(
        fake_kernel,
        inline_states={
            "_start": other_start,
            "t": lambda ctx: log.append("other t"),
            "_stop": lambda ctx: log.append("other _stop"),
        },
    )
    fake_kernel.run()
    assert log == ["sigonly _stop", "other t", "other _stop"]


def test_events_from_stop_are_discarded(fake_kernel: Kernel) -> None:
    """events (intent) / POE 4.4 step 5 (oracle P16): posts, yields and timers made in _stop are dropped with the session.

    Oracle: ``tx stop``, ``post from _stop ret=1`` (the post itself succeeds), ``rx stop`` (rx,
    held by an alias until IDLE, never gets the event).
    """
    log: list[str] = []

    def rx_start(ctx: Context) -> None:
        ctx.kernel.alias_set("rx")

    def tx_stop(ctx: Context) -> None:
        log.append("tx stop")
        ctx.kernel.post("rx", "ev")
        log.append("post from _stop ok")
        ctx.kernel.yield_("self")
        ctx.kernel.delay("later", 0.1)

    Session.create(
        fake_kernel,
        inline_states={
            "_start": rx_start,
            "ev": lambda ctx: log.append("rx got ev"),
            "_stop": lambda ctx: log.append("rx stop"),
        },
    )
    Session.create(
        fake_kernel,
        inline_states={
            "_start": lambda ctx: None,
            "_stop": tx_stop,
            "self": lambda ctx: log.append("self ev"),
            "later": lambda ctx: log.append("later"),
        },
    )
    fake_kernel.run()
    assert log == ["tx stop", "post from _stop ok", "rx stop"]


def test_children_keep_their_parent_alive(fake_kernel: Kernel) -> None:
    """sessions (intent) / POE 4.1: a parent with nothing to do lives while a child lives; it stops after the child."""
    log: list[str] = []

    def child_start(ctx: Context) -> None:
        ctx.kernel.delay("tick", 5)

    def parent_start(ctx: Context) -> None:
        Session.create(
            ctx.kernel,
            inline_states={
                "_start": child_start,
                "tick": lambda ctx: log.append("child tick"),
                "_stop": lambda ctx: log.append("child stop"),
            },
        )

    Session.create(
        fake_kernel,
        inline_states={
            "_start": parent_start,
            "_child": lambda ctx, what, child, ret: log.append(f"parent _child {what}"),
            "_stop": lambda ctx: log.append("parent stop"),
        },
    )
    fake_kernel.run()
    assert log == [
        "parent _child create",
        "child tick",
        "child stop",
        "parent _child lose",
        "parent stop",
    ]


# ---------------------------------------------------------------------------------------------
# 17_detach_start


def test_detach_myself_in_start(fake_kernel: Kernel) -> None:
    """17_detach_start: detach_myself() inside _start; the old parent never hears of that child.

    Oracle (POE 1.370, five runs): ``_start Parent, _start Child, _child Parent create Child,
    _start Detached, _parent Detached POE::Session->POE::Kernel, _stop Child, _child Parent
    lose Child``, then ``_stop Parent`` and ``_stop Detached`` in either order (hash order).
    """
    log: list[str] = []

    def parent_start(ctx: Context) -> None:
        ctx.kernel.alias_set("Parent")
        log.append("_start Parent")
        Session.create(
            ctx.kernel,
            inline_states={
                "_start": child_start,
                "_stop": lambda ctx: log.append("_stop Child"),
            },
        )
        Session.create(
            ctx.kernel,
            inline_states={
                "_start": detached_start,
                "_parent": detached_parent,
                "_stop": lambda ctx: log.append("_stop Detached"),
            },
        )

    def child_start(ctx: Context) -> None:
        ctx.kernel.alias_set("Child")
        log.append("_start Child")

    def detached_start(ctx: Context) -> None:
        ctx.kernel.alias_set("Detached")
        log.append("_start Detached")
        ctx.kernel.detach_myself()

    def detached_parent(ctx: Context, old: Any, new: Any) -> None:
        old_kind = "Session" if isinstance(old, Session) else "other"
        new_kind = "Kernel" if new is ctx.kernel else "other"
        log.append(f"_parent Detached {old_kind}->{new_kind}")

    def parent_child(ctx: Context, what: str, child: SessionBase, ret: Any) -> None:
        log.append(f"_child Parent {what} {','.join(ctx.kernel.alias_list(child))}")

    Session.create(
        fake_kernel,
        inline_states={
            "_start": parent_start,
            "_child": parent_child,
            "_stop": lambda ctx: log.append("_stop Parent"),
        },
    )
    fake_kernel.run()
    assert log[:7] == [
        "_start Parent",
        "_start Child",
        "_child Parent create Child",
        "_start Detached",
        "_parent Detached Session->Kernel",
        "_stop Child",
        "_child Parent lose Child",
    ]
    assert sorted(log[7:]) == ["_stop Detached", "_stop Parent"]


# ---------------------------------------------------------------------------------------------
# neyuki_detach


def test_detach_myself_after_start(fake_kernel: Kernel) -> None:
    """neyuki_detach: parent sees _child create then _child lose; the child sees _parent(old, kernel).

    Oracle: steps 1..10 in order (parent starts, spawns, child starts, _child create, child
    detaches, _child lose, _parent = kernel, parent stops, child done, child stops).
    """
    log: list[str] = []

    def parent_start(ctx: Context) -> None:
        log.append("starting parent")
        ctx.kernel.yield_("parent")

    def parent_child(ctx: Context, what: str, child: SessionBase, ret: Any) -> None:
        log.append(f"parent _child {what} {child.ID}")

    def parent_spawn(ctx: Context) -> None:
        log.append("parent spawning child")
        Session.create(
            ctx.kernel,
            inline_states={
                "_start": child_start,
                "_stop": lambda ctx: log.append("child stopping"),
                "_parent": child_parent,
                "_child": lambda ctx, *a: log.append(f"child received _child {a[0]}"),
                "child": child_detach,
                "done": lambda ctx: log.append("child is done"),
            },
        )

    def child_start(ctx: Context) -> None:
        log.append("child starting")
        ctx.kernel.yield_("child")

    def child_parent(ctx: Context, old: SessionBase, new: Any) -> None:
        log.append(f"child _parent {old.ID} -> {'kernel' if new is ctx.kernel else new}")

    def child_detach(ctx: Context) -> None:
        log.append("child detaching itself")
        ctx.kernel.detach_myself()
        ctx.kernel.yield_("done")

    Session.create(
        fake_kernel,
        inline_states={
            "_start": parent_start,
            "_stop": lambda ctx: log.append("stopping parent"),
            "_parent": lambda ctx, *a: log.append("parent received _parent"),
            "_child": parent_child,
            "parent": parent_spawn,
        },
    )
    fake_kernel.run()
    assert log == [
        "starting parent",
        "parent spawning child",
        "child starting",
        "parent _child create 2",
        "child detaching itself",
        "parent _child lose 2",
        "child _parent 1 -> kernel",
        "stopping parent",
        "child is done",
        "child stopping",
    ]


# ---------------------------------------------------------------------------------------------
# k_detach


def test_detach_child_and_detach_myself_with_grandchildren(fake_kernel: Kernel) -> None:
    """k_detach: detach_child/detach_myself event order, errors, and where everyone ends up.

    Oracle (POE 1.370; detach returns 1 on success, undef + EPERM/ESRCH on failure, which the
    port raises as NotPermitted/SessionNotFound)::

        P _start, C1 _start, G _start, C1 _child create G, P _child create C1, C2 _start,
        P _child create C2, P _child lose C1, C1 _parent P K, P detach_child(C1)=1,
        P detach_child(G)=EPERM, P detach_child(nope)=ESRCH, P _child lose C2, C2 _parent P K,
        C2 detach_myself=1, C2 again=EPERM, C2 tick, C2 _stop, C1 tick, G tick, G _stop,
        C1 _child lose G, C1 _stop, P tick, P _stop
    """
    log: list[str] = []
    names = Names(fake_kernel)

    def common(name: str) -> dict[str, Any]:
        return {
            "_parent": lambda ctx, old, new: log.append(
                f"{name} _parent {names(old)} {names(new)}"
            ),
            "_child": lambda ctx, what, child, ret: log.append(
                f"{name} _child {what} {names(child)}"
            ),
            "_stop": lambda ctx: log.append(f"{name} _stop"),
            "tick": lambda ctx: log.append(f"{name} tick"),
        }

    def g_start(ctx: Context) -> None:
        names.register(ctx, "G")
        log.append("G _start")
        ctx.kernel.delay("tick", 3)

    def c1_start(ctx: Context) -> None:
        names.register(ctx, "C1")
        log.append("C1 _start")
        Session.create(ctx.kernel, inline_states={**common("G"), "_start": g_start})
        ctx.kernel.delay("tick", 2)

    def c2_start(ctx: Context) -> None:
        names.register(ctx, "C2")
        log.append("C2 _start")
        ctx.kernel.delay("go", 0.5)

    def c2_go(ctx: Context) -> None:
        ctx.kernel.detach_myself()
        log.append("C2 detach_myself=1")
        try:
            ctx.kernel.detach_myself()
        except NotPermitted:
            log.append("C2 again=EPERM")
        ctx.kernel.delay("tick", 1)

    def p_start(ctx: Context) -> None:
        names.register(ctx, "P")
        log.append("P _start")
        Session.create(ctx.kernel, inline_states={**common("C1"), "_start": c1_start})
        Session.create(ctx.kernel, inline_states={**common("C2"), "_start": c2_start, "go": c2_go})
        ctx.kernel.yield_("go")

    def p_go(ctx: Context) -> None:
        ctx.kernel.detach_child(names.sessions["C1"])
        log.append("P detach_child(C1)=1")
        try:
            ctx.kernel.detach_child(names.sessions["G"])
        except NotPermitted:
            log.append("P detach_child(G)=EPERM")
        try:
            ctx.kernel.detach_child("nope")
        except SessionNotFound:
            log.append("P detach_child(nope)=ESRCH")
        ctx.kernel.delay("tick", 4)

    Session.create(fake_kernel, inline_states={**common("P"), "_start": p_start, "go": p_go})
    fake_kernel.run()
    assert log == [
        "P _start",
        "C1 _start",
        "G _start",
        "C1 _child create G",
        "P _child create C1",
        "C2 _start",
        "P _child create C2",
        "P _child lose C1",
        "C1 _parent P K",
        "P detach_child(C1)=1",
        "P detach_child(G)=EPERM",
        "P detach_child(nope)=ESRCH",
        "P _child lose C2",
        "C2 _parent P K",
        "C2 detach_myself=1",
        "C2 again=EPERM",
        "C2 tick",
        "C2 _stop",
        "C1 tick",
        "G tick",
        "G _stop",
        "C1 _child lose G",
        "C1 _stop",
        "P tick",
        "P _stop",
    ]


def test_detach_requires_a_session(fake_kernel: Kernel) -> None:
    """k_detach / POE 2.9: detach_myself/detach_child outside any handler are usage errors."""
    session = Session.create(fake_kernel, inline_states={"_start": lambda ctx: None})
    with pytest.raises(NotInSession):
        fake_kernel.detach_myself()
    with pytest.raises(NotInSession):
        fake_kernel.detach_child(session)
    fake_kernel.run()


def test_top_level_session_cannot_detach(fake_kernel: Kernel) -> None:
    """k_detach (oracle P14): a child of the kernel gets EPERM from detach_myself (NotPermitted)."""
    errors: list[int] = []

    def start(ctx: Context) -> None:
        with pytest.raises(NotPermitted) as info:
            ctx.kernel.detach_myself()
        errors.append(info.value.errno)

    Session.create(fake_kernel, inline_states={"_start": start})
    fake_kernel.run()
    assert errors == [errno.EPERM]


# ---------------------------------------------------------------------------------------------
# caller_state


def test_caller_state_through_post_yield_call_postback_callback(fake_kernel: Kernel) -> None:
    """caller_state: CALLER_STATE through post (_start), yield (check_1), self-call (check_2).

    A postback fired inside a self-called handler reports the *outer* event (check_2) because a
    self-call does not switch the active event; the callback it then fires reports check_4.
    """
    seen: list[tuple[str, str | None]] = []

    def start(ctx: Context) -> None:
        ctx.kernel.post(ctx.session, "check_1")
        ctx.heap["postback"] = ctx.session.postback("check_4")
        ctx.heap["callback"] = ctx.session.callback("check_5")

    def check_1(ctx: Context) -> None:
        seen.append(("check_1", ctx.caller_state))
        ctx.kernel.yield_("check_2")

    def check_2(ctx: Context) -> None:
        seen.append(("check_2", ctx.caller_state))
        ctx.kernel.call(ctx.session, "check_3")

    def check_3(ctx: Context) -> None:
        seen.append(("check_3", ctx.caller_state))
        assert ctx.event == "check_3"
        assert ctx.kernel.get_active_event() == "check_2"
        ctx.heap.pop("postback")()

    def check_4(ctx: Context, *args: Any) -> None:
        seen.append(("check_4", ctx.caller_state))
        ctx.heap.pop("callback")()

    def check_5(ctx: Context, *args: Any) -> None:
        seen.append(("check_5", ctx.caller_state))

    Session.create(
        fake_kernel,
        inline_states={
            "_start": start,
            "check_1": check_1,
            "check_2": check_2,
            "check_3": check_3,
            "check_4": check_4,
            "check_5": check_5,
            "_stop": lambda ctx: None,
        },
    )
    fake_kernel.run()
    assert seen == [
        ("check_1", "_start"),
        ("check_2", "check_1"),
        ("check_3", "check_2"),
        ("check_4", "check_2"),
        ("check_5", "check_4"),
    ]


def test_caller_state_of_timers_and_cross_session_posts(fake_kernel: Kernel) -> None:
    """caller_state / POE 6.2: timers and posts to other sessions carry the event that made them."""
    seen: list[tuple[str, str | None, str]] = []

    def rx_start(ctx: Context) -> None:
        ctx.kernel.alias_set("rx")
        ctx.kernel.delay("bye", 10)

    def rx_ev(ctx: Context) -> None:
        seen.append(("rx ev", ctx.caller_state, "sender=tx" if ctx.sender.ID == 2 else "?"))

    def rx_bye(ctx: Context) -> None:
        ctx.kernel.alias_remove("rx")

    Session.create(fake_kernel, inline_states={"_start": rx_start, "ev": rx_ev, "bye": rx_bye})

    def tx_start(ctx: Context) -> None:
        ctx.kernel.yield_("arm")

    def tx_arm(ctx: Context) -> None:
        ctx.kernel.delay("timer", 1)

    def tx_timer(ctx: Context) -> None:
        seen.append(
            ("tx timer", ctx.caller_state, "sender=self" if ctx.sender is ctx.session else "?")
        )
        ctx.kernel.post("rx", "ev")

    Session.create(
        fake_kernel, inline_states={"_start": tx_start, "arm": tx_arm, "timer": tx_timer}
    )
    fake_kernel.run()
    assert seen == [("tx timer", "arm", "sender=self"), ("rx ev", "timer", "sender=tx")]
