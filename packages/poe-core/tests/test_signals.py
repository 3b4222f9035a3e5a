"""Signals: propagation order, classes, sig_handled, IDLE/ZOMBIE, UIDESTROY and OS signals.

Ports POE 1.370's ``t/30_loops/*/z_kogman_sig_order``, ``z_steinert_signal_integrity`` and
``k_signals`` (the SIGCHLD part lives in ``test_children.py``), plus the signal rules of
``poe-api.md`` §5 checked against Perl POE 1.370 on this machine.
"""

from __future__ import annotations

import errno
import gc
import os
import signal
from collections.abc import Callable
from typing import Any

import pytest

from poe.errors import NotInSession, SessionNotFound
from poe.events import SignalClass, signal_class
from poe.kernel import Kernel
from poe.session import Context, Session

Log = list[Any]


# ---------------------------------------------------------------------------------------------
# z_kogman_sig_order: exact event logs for parent / child / grandchild trees
# ---------------------------------------------------------------------------------------------


def _logged(
    kernel: Kernel,
    log: Log,
    name: str,
    setup: Callable[[Context], None] | None = None,
    children: tuple[Callable[[], Any], ...] = (),
) -> Session:
    """A session shaped like kogman's: it logs _start entry/exit, _child, _stop, _default, foo.

    ``children`` are created first inside ``_start``, then ``setup`` runs.
    """

    def start(ctx: Context) -> None:
        log.append(("enter_start", name))
        for make_child in children:
            make_child()
        if setup is not None:
            setup(ctx)
        log.append(("leave_start", name))

    def child(ctx: Context, *args: Any) -> None:
        log.append(("child", name))

    def stop(ctx: Context) -> None:
        log.append(("stop", name))

    def default(ctx: Context, event: str, args: tuple[Any, ...]) -> None:
        log.append(("default", event, name))

    def foo(ctx: Context, *args: Any) -> None:
        log.append(("foo", name))

    return Session.create(
        kernel,
        inline_states={
            "_start": start,
            "_child": child,
            "_stop": stop,
            "_default": default,
            "foo": foo,
        },
    )


def test_kogman_simple_signal_on_one_session(fake_kernel: Kernel) -> None:
    """z_kogman_sig_order "simple signal on one session": the watcher runs, then the session ends."""
    log: Log = []

    def setup(ctx: Context) -> None:
        ctx.kernel.sig("foo", "foo")
        ctx.kernel.signal(ctx.session, "foo")

    _logged(fake_kernel, log, "P", setup)
    fake_kernel.run()
    assert log == [("enter_start", "P"), ("leave_start", "P"), ("foo", "P"), ("stop", "P")]


def test_kogman_signal_on_parent_oblivious_child(fake_kernel: Kernel) -> None:
    """z_kogman_sig_order "signal on parent, oblivious child": only the watcher gets it."""
    log: Log = []

    def child() -> None:
        _logged(fake_kernel, log, "C", lambda ctx: ctx.kernel.delay("bar", 0.1))

    def setup(ctx: Context) -> None:
        ctx.kernel.sig("foo", "foo")
        ctx.kernel.signal(ctx.session, "foo")

    _logged(fake_kernel, log, "P", setup, (child,))
    fake_kernel.run()
    assert log == [
        ("enter_start", "P"),
        ("enter_start", "C"),
        ("leave_start", "C"),
        ("child", "P"),
        ("leave_start", "P"),
        ("foo", "P"),
        ("default", "bar", "C"),
        ("stop", "C"),
        ("child", "P"),
        ("stop", "P"),
    ]


def test_kogman_signal_on_child_then_parent(fake_kernel: Kernel) -> None:
    """z_kogman_sig_order "signal on child, then parent": watchers run deepest first."""
    log: Log = []

    def child_setup(ctx: Context) -> None:
        ctx.kernel.delay("bar", 0.1)
        ctx.kernel.sig("foo", "foo")

    def child() -> None:
        _logged(fake_kernel, log, "C", child_setup)

    def setup(ctx: Context) -> None:
        ctx.kernel.sig("foo", "foo")
        ctx.kernel.signal(ctx.session, "foo")

    _logged(fake_kernel, log, "P", setup, (child,))
    fake_kernel.run()
    assert log == [
        ("enter_start", "P"),
        ("enter_start", "C"),
        ("leave_start", "C"),
        ("child", "P"),
        ("leave_start", "P"),
        ("foo", "C"),
        ("foo", "P"),
        ("default", "bar", "C"),
        ("stop", "C"),
        ("child", "P"),
        ("stop", "P"),
    ]


def test_kogman_term_on_child_then_parent_via_default(fake_kernel: Kernel) -> None:
    """z_kogman_sig_order "TERM signal on child, then parent".

    The watchers name an event without a handler, so ``_default`` receives ``TERM``; nobody calls
    ``sig_handled``, so both sessions stop, child first.
    """
    log: Log = []

    def child_setup(ctx: Context) -> None:
        ctx.kernel.delay("bar", 1)
        ctx.kernel.sig("TERM", "TERM")

    def child() -> None:
        _logged(fake_kernel, log, "C", child_setup)

    def setup(ctx: Context) -> None:
        ctx.kernel.sig("TERM", "TERM")
        ctx.kernel.signal(ctx.session, "TERM")

    _logged(fake_kernel, log, "P", setup, (child,))
    fake_kernel.run()
    assert log == [
        ("enter_start", "P"),
        ("enter_start", "C"),
        ("leave_start", "C"),
        ("child", "P"),
        ("leave_start", "P"),
        ("default", "TERM", "C"),
        ("default", "TERM", "P"),
        ("stop", "C"),
        ("child", "P"),
        ("stop", "P"),
    ]


def test_kogman_term_without_handlers_on_child_then_parent(fake_kernel: Kernel) -> None:
    """z_kogman_sig_order "TERM signal with no handlers on child, then parent": still terminal."""
    log: Log = []

    def child() -> None:
        _logged(fake_kernel, log, "C", lambda ctx: ctx.kernel.delay("bar", 1))

    _logged(fake_kernel, log, "P", lambda ctx: ctx.kernel.signal(ctx.session, "TERM"), (child,))
    fake_kernel.run()
    assert log == [
        ("enter_start", "P"),
        ("enter_start", "C"),
        ("leave_start", "C"),
        ("child", "P"),
        ("leave_start", "P"),
        ("stop", "C"),
        ("child", "P"),
        ("stop", "P"),
    ]


def test_kogman_term_grandchild_child_with_handler_parent(fake_kernel: Kernel) -> None:
    """z_kogman_sig_order "TERM signal on grandchild, then child (with handler), then parent"."""
    log: Log = []

    def grandchild() -> None:
        _logged(fake_kernel, log, "G", lambda ctx: ctx.kernel.delay("bar", 1))

    def child_setup(ctx: Context) -> None:
        ctx.kernel.sig("TERM", "TERM")
        ctx.kernel.delay("bar", 1)

    def child() -> None:
        _logged(fake_kernel, log, "C", child_setup, (grandchild,))

    _logged(fake_kernel, log, "P", lambda ctx: ctx.kernel.signal(ctx.session, "TERM"), (child,))
    fake_kernel.run()
    assert log == [
        ("enter_start", "P"),
        ("enter_start", "C"),
        ("enter_start", "G"),
        ("leave_start", "G"),
        ("child", "C"),
        ("leave_start", "C"),
        ("child", "P"),
        ("leave_start", "P"),
        ("default", "TERM", "C"),
        ("stop", "G"),
        ("child", "C"),
        ("stop", "C"),
        ("child", "P"),
        ("stop", "P"),
    ]


def test_kogman_term_without_handlers_three_levels(fake_kernel: Kernel) -> None:
    """z_kogman_sig_order "TERM signal with no handlers on grandchild, then child, then parent"."""
    log: Log = []

    def grandchild() -> None:
        _logged(fake_kernel, log, "G", lambda ctx: ctx.kernel.delay("bar", 1))

    def child() -> None:
        _logged(fake_kernel, log, "C", lambda ctx: ctx.kernel.delay("bar", 1), (grandchild,))

    _logged(fake_kernel, log, "P", lambda ctx: ctx.kernel.signal(ctx.session, "TERM"), (child,))
    fake_kernel.run()
    assert log == [
        ("enter_start", "P"),
        ("enter_start", "C"),
        ("enter_start", "G"),
        ("leave_start", "G"),
        ("child", "C"),
        ("leave_start", "C"),
        ("child", "P"),
        ("leave_start", "P"),
        ("stop", "G"),
        ("child", "C"),
        ("stop", "C"),
        ("child", "P"),
        ("stop", "P"),
    ]


def test_default_receives_watcher_event_without_handler(fake_kernel: Kernel) -> None:
    """z_kogman_sig_order: a watcher event with no handler goes to ``_default`` (event, args)."""
    seen: Log = []

    def start(ctx: Context) -> None:
        ctx.kernel.sig("FROB", "no_such_handler", "extra")
        ctx.kernel.signal(ctx.session, "FROB", 1, 2)

    def default(ctx: Context, event: str, args: tuple[Any, ...]) -> None:
        seen.append((ctx.event, event, args))

    Session.create(fake_kernel, inline_states={"_start": start, "_default": default})
    fake_kernel.run()
    assert seen == [
        ("_default", "no_such_handler", ("FROB", 1, 2, "extra")),
        ("_default", "_stop", ()),
    ]


# ---------------------------------------------------------------------------------------------
# Broadcast through the kernel, subtrees, argument integrity (z_steinert_signal_integrity)
# ---------------------------------------------------------------------------------------------


def _tree_watchers(kernel: Kernel, log: Log, signal_name: str) -> dict[str, Session]:
    """root -> (A -> A1, B); every session watches ``signal_name`` and logs it by name."""
    made: dict[str, Session] = {}

    def node(name: str, kids: tuple[str, ...] = ()) -> Session:
        def start(ctx: Context) -> None:
            ctx.kernel.alias_set(name)
            ctx.kernel.sig(signal_name, "got")
            for kid in kids:
                node(kid, {"A": ("A1",)}.get(kid, ()))

        def got(ctx: Context, *args: Any) -> None:
            log.append((name, *args))

        made[name] = Session.create(
            kernel, inline_states={"_start": start, "got": got, "_child": lambda ctx, *a: None}
        )
        return made[name]

    node("root", ("A", "B"))
    return made


def test_signal_to_kernel_reaches_every_session_deepest_first(fake_kernel: Kernel) -> None:
    """k_signals / poe-api §5.2: a signal to the kernel is a multicast, deeper sessions first."""
    log: Log = []
    _tree_watchers(fake_kernel, log, "PING")
    fake_kernel.signal(fake_kernel, "PING", "x")
    fake_kernel.run()
    names = [entry[0] for entry in log]
    assert sorted(names) == ["A", "A1", "B", "root"]
    assert all(entry[1:] == ("PING", "x") for entry in log)
    # Siblings come in an unspecified order (POE: hash order); levels do not.
    assert names.index("A1") < names.index("A") < names.index("root")
    assert names.index("A1") < names.index("B") < names.index("root")


def test_signal_to_a_session_touches_its_subtree_only(fake_kernel: Kernel) -> None:
    """poe-api §5.2: ``signal(A, ...)`` reaches A and its descendants, not siblings or parents.

    Perl POE 1.370 logs ``A1 A`` for the same tree.
    """
    log: Log = []
    _tree_watchers(fake_kernel, log, "FOO")
    fake_kernel.signal("A", "FOO")
    fake_kernel.run()
    assert [entry[0] for entry in log] == ["A1", "A"]


def test_steinert_signal_integrity(fake_kernel: Kernel) -> None:
    """z_steinert_signal_integrity: a signal raised while another is dispatched keeps its args.

    Three sessions watch ``KICK`` and ``MOO``; one KICK handler raises ``MOO`` with 99 through
    the kernel. Every MOO watcher gets ``("MOO", 99, <its own watcher args>)`` (Perl: each
    ``moo(MOO 99 wN)``), after every KICK watcher ran (signals are queued, not nested).
    """
    log: Log = []

    def make(n: int) -> None:
        def start(ctx: Context) -> None:
            ctx.kernel.alias_set(f"s{n}")  # sig() alone holds nothing
            ctx.kernel.sig("MOO", "moo", f"w{n}")
            ctx.kernel.sig("KICK", "kick")

        def kick(ctx: Context, *args: Any) -> None:
            log.append(("kick", n, args))
            if n == 2:
                ctx.kernel.signal(ctx.kernel, "MOO", 99)

        def moo(ctx: Context, *args: Any) -> None:
            log.append(("moo", n, args))
            ctx.kernel.sig("MOO")
            ctx.kernel.sig("KICK")

        Session.create(
            fake_kernel,
            inline_states={"_start": start, "kick": kick, "moo": moo},
            heap={"n": n},
        )

    def kicker(ctx: Context) -> None:
        ctx.kernel.signal(ctx.kernel, "KICK", 1)
        ctx.kernel.delay("done", 1)  # keeps the program from going idle before MOO

    for n in (1, 2, 3):
        make(n)
    Session.create(fake_kernel, inline_states={"_start": kicker, "done": lambda ctx: None})
    fake_kernel.run()
    kicks = [entry for entry in log if entry[0] == "kick"]
    moos = [entry for entry in log if entry[0] == "moo"]
    assert log == kicks + moos
    assert sorted(kicks) == [("kick", n, ("KICK", 1)) for n in (1, 2, 3)]
    assert sorted(moos) == [("moo", n, ("MOO", 99, f"w{n}")) for n in (1, 2, 3)]


# ---------------------------------------------------------------------------------------------
# Signal classes and sig_handled
# ---------------------------------------------------------------------------------------------


def test_signal_classes_table() -> None:
    """poe-api §5.1 (t/20_resources signals.pm type table): terminal, non-maskable, benign."""
    for name in ("QUIT", "INT", "KILL", "TERM", "HUP", "IDLE", "DIE"):
        assert signal_class(name) is SignalClass.TERMINAL, name
    for name in ("ZOMBIE", "UIDESTROY"):
        assert signal_class(name) is SignalClass.NONMASKABLE, name
    for name in ("USR1", "USR2", "CHLD", "PIPE", "WINCH", "ALRM", "FROB", "term"):
        assert signal_class(name) is SignalClass.BENIGN, name


def _class_run(kernel: Kernel, name: str, *, handle: bool) -> Log:
    """Parent P (watching ``name``) with child C, both with a pending timer; signal P."""
    log: Log = []

    def child_start(ctx: Context) -> None:
        ctx.kernel.delay("tick", 1)

    def start(ctx: Context) -> None:
        ctx.kernel.sig(name, "h")
        ctx.kernel.delay("tick", 1)
        Session.create(
            ctx.kernel,
            inline_states={
                "_start": child_start,
                "tick": lambda ctx: log.append(("C", "tick")),
                "_stop": lambda ctx: log.append(("C", "stop")),
            },
        )
        ctx.kernel.signal(ctx.session, name, "a1")

    def h(ctx: Context, *args: Any) -> None:
        log.append(("P", "h", args))
        if handle:
            ctx.kernel.sig_handled()

    Session.create(
        kernel,
        inline_states={
            "_start": start,
            "h": h,
            "tick": lambda ctx: log.append(("P", "tick")),
            "_child": lambda ctx, *a: None,
            "_stop": lambda ctx: log.append(("P", "stop")),
        },
    )
    kernel.run()
    return log


def test_terminal_signal_handled_stops_nobody(fake_kernel: Kernel) -> None:
    """poe-api §5.1: ``sig_handled`` keeps a terminal signal from stopping the touched sessions.

    Perl: ``p_h(TERM a1) p_tick c_tick c_stop p_stop``.
    """
    assert _class_run(fake_kernel, "TERM", handle=True) == [
        ("P", "h", ("TERM", "a1")),
        ("P", "tick"),
        ("C", "tick"),
        ("C", "stop"),
        ("P", "stop"),
    ]


def test_terminal_signal_unhandled_stops_touched_sessions(fake_kernel: Kernel) -> None:
    """poe-api §5.1: an unhandled terminal signal stops every touched session, children first."""
    assert _class_run(fake_kernel, "INT", handle=False) == [
        ("P", "h", ("INT", "a1")),
        ("C", "stop"),
        ("P", "stop"),
    ]


@pytest.mark.parametrize("name", ["ZOMBIE", "UIDESTROY"])
def test_nonmaskable_signal_stops_even_when_handled(fake_kernel: Kernel, name: str) -> None:
    """poe-api §5.1: non-maskable signals stop the touched sessions whatever the handlers say.

    Perl: ``p_h(ZOMBIE a1) c_stop p_stop``.
    """
    assert _class_run(fake_kernel, name, handle=True) == [
        ("P", "h", (name, "a1")),
        ("C", "stop"),
        ("P", "stop"),
    ]


def test_benign_signal_never_stops(fake_kernel: Kernel) -> None:
    """poe-api §5.1: benign signals (invented names included) stop nobody, handled or not."""
    assert _class_run(fake_kernel, "FROB", handle=False) == [
        ("P", "h", ("FROB", "a1")),
        ("P", "tick"),
        ("C", "tick"),
        ("C", "stop"),
        ("P", "stop"),
    ]


def test_sig_handled_in_a_child_saves_the_whole_subtree(fake_kernel: Kernel) -> None:
    """poe-api §5.2: one handling watcher among the touched sessions is enough for all of them.

    Perl: ``c_h p_tick c_tick c_stop p_stop``.
    """
    log: Log = []

    def child_start(ctx: Context) -> None:
        ctx.kernel.sig("TERM", "h")
        ctx.kernel.delay("tick", 1)

    def child_h(ctx: Context, *args: Any) -> None:
        log.append(("C", "h"))
        ctx.kernel.sig_handled()

    def child_tick(ctx: Context) -> None:
        log.append(("C", "tick"))
        ctx.kernel.sig("TERM")

    def start(ctx: Context) -> None:
        ctx.kernel.delay("tick", 1)
        Session.create(
            ctx.kernel,
            inline_states={
                "_start": child_start,
                "h": child_h,
                "tick": child_tick,
                "_stop": lambda ctx: log.append(("C", "stop")),
            },
        )
        ctx.kernel.signal(ctx.session, "TERM")

    Session.create(
        fake_kernel,
        inline_states={
            "_start": start,
            "tick": lambda ctx: log.append(("P", "tick")),
            "_child": lambda ctx, *a: None,
            "_stop": lambda ctx: log.append(("P", "stop")),
        },
    )
    fake_kernel.run()
    assert log == [("C", "h"), ("P", "tick"), ("C", "tick"), ("C", "stop"), ("P", "stop")]


def test_sig_reregistering_replaces_the_watcher(fake_kernel: Kernel) -> None:
    """poe-api §2.5: one watcher per (session, signal); ``sig()`` again replaces event and args."""
    log: Log = []

    def start(ctx: Context) -> None:
        ctx.kernel.sig("FROB", "first", "a")
        ctx.kernel.sig("FROB", "second", "b")
        ctx.kernel.signal(ctx.session, "FROB")
        ctx.kernel.delay("later", 1)

    def later(ctx: Context) -> None:
        ctx.kernel.sig("FROB")  # removal
        ctx.kernel.signal(ctx.session, "FROB")

    Session.create(
        fake_kernel,
        inline_states={
            "_start": start,
            "first": lambda ctx, *a: log.append(("first", a)),
            "second": lambda ctx, *a: log.append(("second", a)),
            "later": later,
        },
    )
    fake_kernel.run()
    assert log == [("second", ("FROB", "b"))]


def test_sig_does_not_keep_a_session_alive(fake_kernel: Kernel) -> None:
    """k_sig_child / poe-api §4.1 (P13): ``sig()`` watchers hold no reference.

    Perl: ``start stop`` for a session that only watches USR1.
    """
    log: list[str] = []

    def start(ctx: Context) -> None:
        log.append("start")
        ctx.kernel.sig("USR1", "x")

    Session.create(
        fake_kernel,
        inline_states={
            "_start": start,
            "x": lambda ctx, *a: log.append("x"),
            "_stop": lambda ctx: log.append("stop"),
        },
    )
    fake_kernel.run()
    assert log == ["start", "stop"]


# ---------------------------------------------------------------------------------------------
# IDLE, ZOMBIE and UIDESTROY
# ---------------------------------------------------------------------------------------------


def _alias_only(kernel: Kernel, log: Log, name: str, states: dict[str, Any]) -> None:
    def start(ctx: Context) -> None:
        ctx.kernel.alias_set(name)
        log.append((name, "start"))
        if "setup" in states:
            states["setup"](ctx)

    handlers = {k: v for k, v in states.items() if k != "setup"}
    Session.create(
        kernel,
        inline_states={
            "_start": start,
            "_stop": lambda ctx: log.append((name, "stop")),
            **handlers,
        },
    )


def test_idle_handled_then_zombie_stops_alias_only_sessions(fake_kernel: Kernel) -> None:
    """k_aliases / poe-api §4.3 (P6): IDLE (handled) is followed by non-maskable ZOMBIE.

    Perl: ``a_start b_start a_idle(IDLE) a_zombie(ZOMBIE) b_stop a_stop`` (stop order between
    the two top-level sessions is hash order).
    """
    log: Log = []

    def setup(ctx: Context) -> None:
        ctx.kernel.sig("IDLE", "idle")
        ctx.kernel.sig("ZOMBIE", "zombie")

    def idle(ctx: Context, *args: Any) -> None:
        log.append(("a", "idle", args))
        ctx.kernel.sig_handled()

    def zombie(ctx: Context, *args: Any) -> None:
        log.append(("a", "zombie", args))
        ctx.kernel.sig_handled()

    _alias_only(fake_kernel, log, "a", {"setup": setup, "idle": idle, "zombie": zombie})
    _alias_only(fake_kernel, log, "b", {})
    fake_kernel.run()
    assert log[:4] == [
        ("a", "start"),
        ("b", "start"),
        ("a", "idle", ("IDLE",)),
        ("a", "zombie", ("ZOMBIE",)),
    ]
    assert sorted(log[4:]) == [("a", "stop"), ("b", "stop")]


def test_idle_unhandled_stops_alias_only_sessions(fake_kernel: Kernel) -> None:
    """poe-api §4.3: an unhandled IDLE is terminal. Perl: ``a_start a_idle a_stop``."""
    log: Log = []
    _alias_only(
        fake_kernel,
        log,
        "a",
        {
            "setup": lambda ctx: ctx.kernel.sig("IDLE", "idle"),
            "idle": lambda ctx, *a: log.append(("a", "idle")),
        },
    )
    fake_kernel.run()
    assert log == [("a", "start"), ("a", "idle"), ("a", "stop")]


def test_idle_handled_with_new_work_revives_the_program(fake_kernel: Kernel) -> None:
    """poe-api §4.3: IDLE handled and new work queued: no ZOMBIE; the next IDLE comes later.

    Perl: ``a_start a_idle work a_idle a_stop``.
    """
    log: Log = []

    def idle(ctx: Context, *args: Any) -> None:
        log.append(("a", "idle"))
        ctx.kernel.sig_handled()
        ctx.heap["n"] = ctx.heap.get("n", 0) + 1
        if ctx.heap["n"] == 1:
            ctx.kernel.yield_("work")

    _alias_only(
        fake_kernel,
        log,
        "a",
        {
            "setup": lambda ctx: ctx.kernel.sig("IDLE", "idle"),
            "idle": idle,
            "work": lambda ctx: log.append(("a", "work")),
        },
    )
    fake_kernel.run()
    assert log == [("a", "start"), ("a", "idle"), ("a", "work"), ("a", "idle"), ("a", "stop")]


class _Widget:
    """Something a GUI would destroy; here: an object that can be weakly referenced."""


def test_uidestroy_via_signal_ui_destroy(fake_kernel: Kernel) -> None:
    """poe-api §2.5 / §5.1: destroying the watched widget raises non-maskable UIDESTROY.

    Every session stops although the watcher calls ``sig_handled`` and has a pending timer.
    """
    log: Log = []

    def start(ctx: Context) -> None:
        ctx.heap["widget"] = _Widget()
        ctx.kernel.signal_ui_destroy(ctx.heap["widget"])
        ctx.kernel.sig("UIDESTROY", "destroyed")
        ctx.kernel.delay("never", 3600)
        ctx.kernel.yield_("close_window")

    def close_window(ctx: Context) -> None:
        log.append("close")
        del ctx.heap["widget"]
        gc.collect()

    def destroyed(ctx: Context, *args: Any) -> None:
        log.append(("destroyed", args))
        ctx.kernel.sig_handled()

    Session.create(
        fake_kernel,
        inline_states={
            "_start": start,
            "close_window": close_window,
            "destroyed": destroyed,
            "never": lambda ctx: log.append("timer fired"),
            "_stop": lambda ctx: log.append("stop"),
        },
    )
    Session.create(
        fake_kernel,
        inline_states={
            "_start": lambda ctx: ctx.kernel.delay("never", 3600),
            "never": lambda ctx: log.append("other timer fired"),
            "_stop": lambda ctx: log.append("other stop"),
        },
    )
    fake_kernel.run()
    assert log[:2] == ["close", ("destroyed", ("UIDESTROY",))]
    assert sorted(map(str, log[2:])) == ["other stop", "stop"]


# ---------------------------------------------------------------------------------------------
# OS signals (k_signals)
# ---------------------------------------------------------------------------------------------

#: Guard timers: only reached when an OS signal never arrives (the test then fails, not hangs).
GUARD = 10.0


@pytest.mark.parametrize(("signum", "name"), [(signal.SIGUSR1, "USR1"), (signal.SIGPIPE, "PIPE")])
def test_os_signal_reaches_watchers_by_name(kernel: Kernel, signum: int, name: str) -> None:
    """k_signals "See how SIGPIPE gets handled": ``os.kill(getpid(), SIG...)`` reaches the watcher.

    The watcher gets ``(name_without_SIG, *watcher_args)`` once; removing the watcher restores
    the process's previous disposition.
    """
    before = signal.getsignal(signum)
    log: Log = []

    def start(ctx: Context) -> None:
        ctx.kernel.sig(name, "got", "extra")
        ctx.kernel.delay("guard", GUARD)
        ctx.kernel.yield_("send")

    def send(ctx: Context) -> None:
        os.kill(os.getpid(), signum)

    def got(ctx: Context, *args: Any) -> None:
        log.append(args)
        ctx.kernel.sig(name)
        ctx.kernel.delay("guard")

    Session.create(
        kernel,
        inline_states={
            "_start": start,
            "send": send,
            "got": got,
            "guard": lambda ctx: log.append("guard fired: no signal"),
        },
    )
    kernel.run()
    assert log == [(name, "extra")]
    assert signal.getsignal(signum) == before


def test_os_sigterm_with_an_unhandling_watcher_stops_everything(kernel: Kernel) -> None:
    """k_signals / poe-api §5.3 (P16): SIGTERM watched but not handled stops every session.

    Sessions that do not watch TERM (and a child) stop too, and ``run()`` returns.
    """
    log: Log = []

    def watcher_start(ctx: Context) -> None:
        ctx.kernel.sig("TERM", "term")
        ctx.kernel.delay("guard", GUARD)
        Session.create(
            ctx.kernel,
            inline_states={
                "_start": lambda ctx: ctx.kernel.delay("guard", GUARD),
                "guard": lambda ctx: log.append("guard fired"),
                "_stop": lambda ctx: log.append("child stop"),
            },
        )
        ctx.kernel.yield_("send")

    Session.create(
        kernel,
        inline_states={
            "_start": watcher_start,
            "send": lambda ctx: os.kill(os.getpid(), signal.SIGTERM),
            "term": lambda ctx, *a: log.append(("term", a)),
            "guard": lambda ctx: log.append("guard fired"),
            "_child": lambda ctx, *a: None,
            "_stop": lambda ctx: log.append("watcher stop"),
        },
    )
    Session.create(
        kernel,
        inline_states={
            "_start": lambda ctx: ctx.kernel.delay("guard", GUARD),
            "guard": lambda ctx: log.append("guard fired"),
            "_stop": lambda ctx: log.append("bystander stop"),
        },
    )
    kernel.run()
    assert log[0] == ("term", ("TERM",))
    assert sorted(map(str, log[1:])) == ["bystander stop", "child stop", "watcher stop"]
    assert log.index("child stop") < log.index("watcher stop")
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


@pytest.mark.parametrize(
    ("signum", "name"), [(signal.SIGTERM, "TERM"), (signal.SIGINT, "INT"), (signal.SIGHUP, "HUP")]
)
def test_os_terminal_signal_handled_keeps_running(kernel: Kernel, signum: int, name: str) -> None:
    """k_signals: ``sig_handled`` in the watcher of a terminal OS signal prevents termination
    (and nothing of Python's own handling, e.g. KeyboardInterrupt for SIGINT, happens)."""
    before = signal.getsignal(signum)
    log: Log = []

    def start(ctx: Context) -> None:
        ctx.kernel.sig(name, "term")
        ctx.kernel.yield_("send")
        ctx.kernel.delay("guard", GUARD)

    def term(ctx: Context, *args: Any) -> None:
        log.append("term")
        ctx.kernel.sig_handled()
        ctx.kernel.delay("guard")
        ctx.kernel.yield_("still_alive")

    def still_alive(ctx: Context) -> None:
        log.append("alive")
        ctx.kernel.sig(name)

    Session.create(
        kernel,
        inline_states={
            "_start": start,
            "send": lambda ctx: os.kill(os.getpid(), signum),
            "term": term,
            "still_alive": still_alive,
            "guard": lambda ctx: log.append("guard fired"),
            "_stop": lambda ctx: log.append("stop"),
        },
    )
    kernel.run()
    assert log == ["term", "alive", "stop"]
    assert signal.getsignal(signum) == before


def test_os_signal_sent_before_run_is_delivered_by_run(kernel: Kernel) -> None:
    """k_signals / poe-api §5.3: a watched OS signal that arrives before ``run()`` (the handler
    exists from ``sig()`` on) is delivered once the kernel runs (Perl: ``killed usr1(USR1)``)."""
    log: Log = []

    def start(ctx: Context) -> None:
        ctx.kernel.sig("USR1", "usr1")
        ctx.kernel.delay("guard", GUARD)

    def usr1(ctx: Context, *args: Any) -> None:
        log.append(("usr1", args))
        ctx.kernel.delay("guard")
        ctx.kernel.sig("USR1")

    Session.create(
        kernel,
        inline_states={
            "_start": start,
            "usr1": usr1,
            "guard": lambda ctx: log.append("guard fired"),
        },
    )
    os.kill(os.getpid(), signal.SIGUSR1)
    log.append("killed")
    kernel.run()
    assert log == ["killed", ("usr1", ("USR1",))]


def test_k_signals_nested_sessions_and_idle(kernel: Kernel) -> None:
    """k_signals (mstevens): a server child answering its parent never trips IDLE early."""
    log: Log = []

    def server_start(ctx: Context) -> None:
        ctx.kernel.alias_set("server")

    def do_thing(ctx: Context, value: int) -> None:
        ctx.kernel.post(ctx.sender, "thing_done", value)

    def client_start(ctx: Context) -> None:
        Session.create(
            ctx.kernel,
            inline_states={
                "_start": server_start,
                "do_thing": do_thing,
                "_stop": lambda ctx: log.append("server stop"),
            },
        )
        ctx.kernel.post("server", "do_thing", 1)

    Session.create(
        kernel,
        inline_states={
            "_start": client_start,
            "thing_done": lambda ctx, v: log.append(("done", v)),
            "_child": lambda ctx, *a: None,
            "_stop": lambda ctx: log.append("client stop"),
        },
    )
    kernel.run()
    assert log == [("done", 1), "server stop", "client stop"]


# ---------------------------------------------------------------------------------------------
# Watcher event context, errors
# ---------------------------------------------------------------------------------------------


def test_signal_watcher_sender_is_the_kernel(fake_kernel: Kernel) -> None:
    """poe-api §5.2 step 3: watcher events are dispatched with sender = the kernel."""
    seen: Log = []

    def start(ctx: Context) -> None:
        ctx.kernel.sig("FOO", "foo")
        ctx.kernel.signal(ctx.session, "FOO")

    Session.create(
        fake_kernel,
        inline_states={
            "_start": start,
            "foo": lambda ctx, *a: seen.append((ctx.sender is ctx.kernel, ctx.event)),
        },
    )
    fake_kernel.run()
    assert seen == [(True, "foo")]


def test_signal_watcher_caller_state_is_the_signalling_event(fake_kernel: Kernel) -> None:
    """poe-api §6.2 CALLER_STATE for signals: the event being handled when the signal was
    raised (Perl 1.370 prints ``sig caller_state=send`` for this program)."""
    seen: Log = []

    def register(ctx: Context) -> None:
        ctx.kernel.sig("FOO", "foo")
        ctx.kernel.yield_("send")

    def foo(ctx: Context, *args: Any) -> None:
        seen.append(ctx.caller_state)
        ctx.kernel.sig("FOO")

    Session.create(
        fake_kernel,
        inline_states={
            "_start": lambda ctx: ctx.kernel.yield_("register"),
            "register": register,
            "send": lambda ctx: ctx.kernel.signal(ctx.session, "FOO"),
            "foo": foo,
        },
    )
    fake_kernel.run()
    assert seen == ["send"]


def test_signal_to_an_unknown_session_raises(fake_kernel: Kernel) -> None:
    """poe-api §2.5 (P12): ``signal()`` to nothing alive fails with ESRCH (SessionNotFound)."""
    with pytest.raises(SessionNotFound) as caught:
        fake_kernel.signal("nobody", "FOO")
    assert caught.value.errno == errno.ESRCH


def test_sig_outside_a_session_is_refused(fake_kernel: Kernel) -> None:
    """poe-api §2.10 ASSERT_USAGE ("must call sig() from a running session"): NotInSession."""
    with pytest.raises(NotInSession):
        fake_kernel.sig("USR1", "x")
