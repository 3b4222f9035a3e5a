"""Handler exceptions: the DIE signal, sig_handled, run() re-raising, CATCH_EXCEPTIONS.

Ports POE 1.370's ``t/10_units/07_exceptions/{01_normal,02_turn_off,03_not_handled}.t``,
``t/90_regression/{whelan-dieprop,grinnz-die-in-die,rt19908-merlyn-stop}.t`` and
``t/30_loops/*/k_signals_rerun``. Documented deviations from Perl: the DIE payload is a
:class:`poe.events.DieInfo` passed after the signal name; ``run()`` raises the original exception
object; a second error is attached to it as a note (``__notes__``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import poe.kernel
from poe.events import DieInfo
from poe.kernel import Kernel
from poe.session import Context, Session

Log = list[Any]

SRC = str(Path(poe.kernel.__file__).resolve().parents[1])


class Boom(Exception):
    """A recognisable handler error."""


def _notes(exc: BaseException) -> list[str]:
    return list(getattr(exc, "__notes__", []))


def _full_text(exc: BaseException) -> str:
    return "\n".join([str(exc), *_notes(exc)])


# ---------------------------------------------------------------------------------------------
# 07_exceptions/01_normal: DIE payload, sig_handled recovers
# ---------------------------------------------------------------------------------------------


def test_01_normal_die_signal_handled(fake_kernel: Kernel) -> None:
    """07_exceptions/01_normal: a handler's exception becomes DIE; sig_handled keeps life going.

    The handler raising was yielded from ``_start``, so ``from_state == "_start"``; the watcher
    removes itself and handles the signal; a later timer still fires; run() returns normally.
    """
    log: Log = []

    def start(ctx: Context) -> None:
        log.append("started")
        ctx.kernel.sig("DIE", "avoid_death")
        ctx.kernel.yield_("death")
        ctx.kernel.delay("party", 0.5)

    def death(ctx: Context) -> None:
        raise Boom("OMG THEY CANCELLED FRIENDS")

    def avoid_death(ctx: Context, signal_name: str, info: DieInfo) -> None:
        log.append((signal_name, info.from_state, info.event))
        assert "OMG THEY CANCELLED FRIENDS" in info.error_str
        ctx.kernel.sig("DIE")
        ctx.kernel.sig_handled()

    Session.create(
        fake_kernel,
        inline_states={
            "_start": start,
            "_stop": lambda ctx: log.append("stopping"),
            "death": death,
            "avoid_death": avoid_death,
            "party": lambda ctx: log.append("party"),
        },
    )
    fake_kernel.run()
    assert log == ["started", ("DIE", "_start", "death"), "party", "stopping"]


def test_die_payload_fields(fake_kernel: Kernel) -> None:
    """poe-api §6.5: every DieInfo field, for an event posted from another session's handler.

    Perl's hash for the same program: ``dest_session`` = the dying session, ``event=boom``,
    ``source_session`` = the poster, ``from_state=go``, ``error_str`` = the message.
    """
    infos: list[tuple[str, DieInfo, Any]] = []
    raised: list[Boom] = []

    def boom(ctx: Context, n: int) -> None:
        exc = Boom(f"boom {n}")
        raised.append(exc)
        raise exc

    def on_die(ctx: Context, name: str, info: DieInfo, *extra: Any) -> None:
        infos.append((name, info, extra))
        ctx.kernel.sig_handled()

    def callee_start(ctx: Context) -> None:
        ctx.kernel.alias_set("callee")
        ctx.kernel.sig("DIE", "on_die", "watcher-arg")

    callee = Session.create(
        fake_kernel, inline_states={"_start": callee_start, "boom": boom, "on_die": on_die}
    )
    caller = Session.create(
        fake_kernel,
        inline_states={
            "_start": lambda ctx: ctx.kernel.yield_("go"),
            "go": lambda ctx: ctx.kernel.post("callee", "boom", 1),
        },
    )
    fake_kernel.run()
    assert len(infos) == 1
    name, info, extra = infos[0]
    assert name == "DIE"
    assert extra == ("watcher-arg",)
    assert isinstance(info, DieInfo)
    assert info.error is raised[0]
    assert info.error_str == "Boom: boom 1"
    assert info.dest_session is callee
    assert info.event == "boom"
    assert info.source_session is caller
    assert info.from_state == "go"
    assert info.file is not None
    assert Path(info.file).name == Path(__file__).name
    assert isinstance(info.line, int)
    assert info.line > 0


def test_die_in_start_is_caught(fake_kernel: Kernel) -> None:
    """grinnz-die-in-die (first half): an exception in ``_start`` is a DIE with ``event="_start"``."""
    events: list[str] = []

    def start(ctx: Context) -> None:
        ctx.kernel.sig("DIE", "on_die")
        raise Boom("in start")

    def on_die(ctx: Context, name: str, info: DieInfo) -> None:
        events.append(info.event)
        ctx.kernel.sig_handled()

    Session.create(fake_kernel, inline_states={"_start": start, "on_die": on_die})
    fake_kernel.run()
    assert events == ["_start"]


# ---------------------------------------------------------------------------------------------
# whelan-dieprop: DIE goes to the dying session, then up through its ancestors
# ---------------------------------------------------------------------------------------------


def test_whelan_dieprop_child_then_parent(fake_kernel: Kernel) -> None:
    """whelan-dieprop: the child's DIE watcher runs, then the parent's; the parent's
    ``sig_handled`` alone is enough, so run() returns normally."""
    log: Log = []

    def child_start(ctx: Context) -> None:
        ctx.kernel.sig("DIE", "child_exception")
        ctx.kernel.yield_("throw_exception")

    def throw(ctx: Context) -> None:
        raise Boom("goodbye sweet world")

    def parent_start(ctx: Context) -> None:
        ctx.kernel.sig("DIE", "parent_exception")
        Session.create(
            ctx.kernel,
            inline_states={
                "_start": child_start,
                "throw_exception": throw,
                "child_exception": lambda ctx, *a: log.append("child got exception"),
                "_stop": lambda ctx: log.append("child stop"),
            },
        )

    def parent_exception(ctx: Context, *args: Any) -> None:
        log.append("parent got exception")
        ctx.kernel.sig_handled()

    Session.create(
        fake_kernel,
        inline_states={
            "_start": parent_start,
            "parent_exception": parent_exception,
            "_child": lambda ctx, *a: None,
            "_stop": lambda ctx: log.append("parent stop"),
        },
    )
    fake_kernel.run()
    assert log == ["child got exception", "parent got exception", "child stop", "parent stop"]


def test_die_reaches_ancestors_but_not_siblings(fake_kernel: Kernel) -> None:
    """poe-api §5.2: DIE touches the dying session's subtree plus its ancestors, topmost last.

    Tree: root -> (mid -> grandchild, sibling); ``mid`` raises. Every session watches DIE and
    has an alias (so it lives until IDLE); only root calls ``sig_handled``.
    """
    log: Log = []

    def throw(ctx: Context) -> None:
        raise Boom("x")

    def node(name: str, *children: str, raises: bool = False) -> None:
        def start(ctx: Context) -> None:
            ctx.kernel.alias_set(name)
            ctx.kernel.sig("DIE", "on_die")
            for child in children:
                node(child, *tree.get(child, ()), raises=child == "mid")
            if raises:
                ctx.kernel.yield_("throw")

        def on_die(ctx: Context, *args: Any) -> None:
            log.append(name)
            if name == "root":
                ctx.kernel.sig_handled()

        Session.create(
            fake_kernel,
            inline_states={
                "_start": start,
                "on_die": on_die,
                "throw": throw,
                "_child": lambda ctx, *a: None,
            },
        )

    tree = {"root": ("mid", "sibling"), "mid": ("grandchild",)}
    node("root", *tree["root"])
    fake_kernel.run()
    assert log == ["grandchild", "mid", "root"]


# ---------------------------------------------------------------------------------------------
# 07_exceptions/03_not_handled: run() re-raises, everything stops
# ---------------------------------------------------------------------------------------------


def test_03_not_handled_run_reraises_and_stops_everyone(fake_kernel: Kernel) -> None:
    """07_exceptions/03_not_handled: a DIE nobody handles stops every session (the other one's
    ``_stop`` runs, its timer never fires) and ``run()`` raises the original exception."""
    log: Log = []
    raised: list[Boom] = []

    def start(ctx: Context) -> None:
        ctx.kernel.sig("DIE", "mock_death")
        ctx.kernel.yield_("death")

    def death(ctx: Context) -> None:
        exc = Boom("OMG THEY CANCELLED FRIENDS")
        raised.append(exc)
        raise exc

    Session.create(
        fake_kernel,
        inline_states={
            "_start": start,
            "death": death,
            "mock_death": lambda ctx, name, info: log.append(("mock_death", name)),
            "_stop": lambda ctx: log.append("stopping"),
        },
    )
    Session.create(
        fake_kernel,
        inline_states={
            "_start": lambda ctx: ctx.kernel.delay("last_breath", 0.5),
            "last_breath": lambda ctx: log.append("survived the uncaught exception"),
            "_stop": lambda ctx: log.append("other stopping"),
        },
    )
    with pytest.raises(Boom, match="OMG THEY CANCELLED FRIENDS") as caught:
        fake_kernel.run()
    assert caught.value is raised[0]
    assert log[0] == ("mock_death", "DIE")
    assert sorted(log[1:]) == ["other stopping", "stopping"]


def test_unhandled_die_without_any_watcher(fake_kernel: Kernel) -> None:
    """07_exceptions/03_not_handled: no DIE watcher at all behaves the same."""
    log: Log = []

    def death(ctx: Context) -> None:
        raise Boom("nobody listens")

    Session.create(
        fake_kernel,
        inline_states={
            "_start": lambda ctx: ctx.kernel.yield_("death"),
            "death": death,
            "_stop": lambda ctx: log.append("stop"),
        },
    )
    with pytest.raises(Boom, match="nobody listens"):
        fake_kernel.run()
    assert log == ["stop"]


# ---------------------------------------------------------------------------------------------
# grinnz-die-in-die and rt19908-merlyn-stop
# ---------------------------------------------------------------------------------------------


def test_grinnz_die_in_die_handler_reports_both_errors(fake_kernel: Kernel) -> None:
    """grinnz-die-in-die: an exception in the DIE handler ends run() with both messages.

    Perl 1.370 rethrows ``original error\\nAdditional error thrown in handler for previous
    error:\\nerror in error handler`` and stops the other session too.
    """
    log: Log = []

    def start(ctx: Context) -> None:
        ctx.kernel.sig("DIE", "sig_die")
        raise Boom("original error")

    def sig_die(ctx: Context, name: str, info: DieInfo) -> None:
        log.append(info.event)
        raise RuntimeError("error in error handler")

    Session.create(
        fake_kernel,
        inline_states={"_start": start, "sig_die": sig_die, "_stop": lambda ctx: log.append("s1")},
    )
    Session.create(
        fake_kernel,
        inline_states={
            "_start": lambda ctx: ctx.kernel.delay("x", 1),
            "x": lambda ctx: log.append("x fired"),
            "_stop": lambda ctx: log.append("s2"),
        },
    )
    with pytest.raises(Exception) as caught:  # noqa: PT011 - both errors are checked below
        fake_kernel.run()
    text = _full_text(caught.value)
    assert "original error" in text
    assert "error in error handler" in text
    assert log[0] == "_start"
    assert sorted(log[1:]) == ["s1", "s2"]


def test_grinnz_original_error_is_primary(fake_kernel: Kernel) -> None:
    """grinnz-die-in-die: the ORIGINAL error is what run() raises; the handler's error is the
    "Additional error thrown in handler for previous error" note (POE's message order)."""
    original = Boom("original error")

    def start(ctx: Context) -> None:
        ctx.kernel.sig("DIE", "sig_die")
        raise original

    def sig_die(ctx: Context, *args: Any) -> None:
        raise RuntimeError("error in error handler")

    Session.create(fake_kernel, inline_states={"_start": start, "sig_die": sig_die})
    with pytest.raises(Boom) as caught:
        fake_kernel.run()
    assert caught.value is original
    assert any(
        "Additional error thrown in handler for previous error" in note
        and "error in error handler" in note
        for note in _notes(caught.value)
    )


def test_rt19908_die_in_stop_propagates_once(fake_kernel: Kernel) -> None:
    """rt19908-merlyn-stop: an exception in ``_stop`` leaves run() once; ``_stop`` runs once.

    Perl: ``stop: n=1`` and the other session stopped too.
    """
    stops: Log = []

    def stop(ctx: Context) -> None:
        stops.append("stop")
        raise Boom("stop")

    Session.create(fake_kernel, inline_states={"_start": lambda ctx: None, "_stop": stop})
    Session.create(
        fake_kernel,
        inline_states={
            "_start": lambda ctx: ctx.kernel.delay("x", 1),
            "x": lambda ctx: stops.append("x fired"),
            "_stop": lambda ctx: stops.append("other stop"),
        },
    )
    with pytest.raises(Boom, match=r"^stop$"):
        fake_kernel.run()
    assert stops.count("stop") == 1
    assert "other stop" in stops


def test_rt19908_nothing_dispatched_after_die_in_stop(fake_kernel: Kernel) -> None:
    """rt19908-merlyn-stop: once ``_stop`` raised, the kernel stops before dispatching anything
    else (Perl 1.370: ``stop: n=1 log=other_stop``, the other session's timer never fires)."""
    log: Log = []

    def stop(ctx: Context) -> None:
        raise Boom("stop")

    Session.create(fake_kernel, inline_states={"_start": lambda ctx: None, "_stop": stop})
    Session.create(
        fake_kernel,
        inline_states={
            "_start": lambda ctx: ctx.kernel.delay("x", 1),
            "x": lambda ctx: log.append("x fired"),
            "_stop": lambda ctx: log.append("other stop"),
        },
    )
    with pytest.raises(Boom):
        fake_kernel.run()
    assert log == ["other stop"]


def test_die_in_stop_is_not_a_die_signal(fake_kernel: Kernel) -> None:
    """poe-api §4.4 / §6.5: exceptions in ``_stop`` are never turned into DIE signals."""
    seen: Log = []

    def start(ctx: Context) -> None:
        ctx.kernel.sig("DIE", "on_die")

    def on_die(ctx: Context, *args: Any) -> None:
        seen.append("on_die")
        ctx.kernel.sig_handled()

    def stop(ctx: Context) -> None:
        raise Boom("stop")

    Session.create(fake_kernel, inline_states={"_start": start, "on_die": on_die, "_stop": stop})
    with pytest.raises(Boom):
        fake_kernel.run()
    assert seen == []


# ---------------------------------------------------------------------------------------------
# call(): self-calls propagate, cross-session calls become DIE
# ---------------------------------------------------------------------------------------------


def test_self_call_exception_reaches_the_caller(fake_kernel: Kernel) -> None:
    """poe-api §2.2 (P11): ``call()`` into the active session bypasses the trap."""
    log: Log = []

    def go(ctx: Context) -> None:
        try:
            ctx.kernel.call(ctx.session, "selfboom")
        except Boom as exc:
            log.append(("caught", str(exc)))
        log.append("after")

    def selfboom(ctx: Context) -> None:
        raise Boom("self")

    def start(ctx: Context) -> None:
        ctx.kernel.sig("DIE", "on_die")
        ctx.kernel.yield_("go")

    Session.create(
        fake_kernel,
        inline_states={
            "_start": start,
            "go": go,
            "selfboom": selfboom,
            "on_die": lambda ctx, *a: log.append("DIE"),
        },
    )
    fake_kernel.run()
    assert log == [("caught", "self"), "after"]


def test_self_call_uncaught_is_the_callers_die(fake_kernel: Kernel) -> None:
    """poe-api §2.2: uncaught, a self-call's exception is the outer handler's: DIE names ``go``."""
    events: list[str] = []

    def on_die(ctx: Context, name: str, info: DieInfo) -> None:
        events.append(info.event)
        ctx.kernel.sig_handled()

    def selfboom(ctx: Context) -> None:
        raise Boom("self")

    def start(ctx: Context) -> None:
        ctx.kernel.sig("DIE", "on_die")
        ctx.kernel.yield_("go")

    Session.create(
        fake_kernel,
        inline_states={
            "_start": start,
            "go": lambda ctx: ctx.kernel.call(ctx.session, "selfboom"),
            "selfboom": selfboom,
            "on_die": on_die,
        },
    )
    fake_kernel.run()
    assert events == ["go"]


def test_cross_session_call_returns_none_and_callee_gets_die(fake_kernel: Kernel) -> None:
    """poe-api §2.2 (P16): ``call()`` into another session traps the exception: the caller gets
    None and carries on; the callee gets the DIE (Perl: ``call_ret=undef after_call``)."""
    log: Log = []

    def callee_start(ctx: Context) -> None:
        ctx.kernel.alias_set("callee")
        ctx.kernel.sig("DIE", "on_die")

    def boom(ctx: Context) -> str:
        raise Boom("boom 2")

    def on_die(ctx: Context, name: str, info: DieInfo) -> None:
        log.append(("callee DIE", info.event, info.from_state, info.source_session.ID))
        ctx.kernel.sig_handled()

    def go(ctx: Context) -> None:
        log.append(("call returned", ctx.kernel.call("callee", "boom")))
        log.append("after call")

    Session.create(
        fake_kernel, inline_states={"_start": callee_start, "boom": boom, "on_die": on_die}
    )
    caller = Session.create(
        fake_kernel, inline_states={"_start": lambda ctx: ctx.kernel.yield_("go"), "go": go}
    )
    fake_kernel.run()
    assert log == [
        ("call returned", None),
        "after call",
        ("callee DIE", "boom", "go", caller.ID),
    ]


# ---------------------------------------------------------------------------------------------
# k_signals_rerun: run() after an exception
# ---------------------------------------------------------------------------------------------


def test_run_works_again_after_an_exception(fake_kernel: Kernel) -> None:
    """k_signals_rerun: after run() raised, a new session runs on the next run().

    Perl: ``rerun1: err=[x] s1`` then ``rerun2: err=[] ok s2``.
    """
    log: Log = []

    def die(ctx: Context) -> None:
        raise Boom("x")

    Session.create(
        fake_kernel,
        inline_states={
            "_start": lambda ctx: ctx.kernel.yield_("d"),
            "d": die,
            "_stop": lambda ctx: log.append("s1"),
        },
    )
    with pytest.raises(Boom, match="x"):
        fake_kernel.run()
    Session.create(
        fake_kernel,
        inline_states={
            "_start": lambda ctx: ctx.kernel.yield_("ok"),
            "ok": lambda ctx: log.append("ok"),
            "_stop": lambda ctx: log.append("s2"),
        },
    )
    fake_kernel.run()  # no stale exception
    assert log == ["s1", "ok", "s2"]
    fake_kernel.run()  # no sessions: returns at once


def test_run_one_timeslice_raises_the_pending_exception(fake_kernel: Kernel) -> None:
    """poe-api §2.1: ``run_one_timeslice()`` rethrows an unhandled exception too."""

    def die(ctx: Context) -> None:
        raise Boom("slice")

    Session.create(
        fake_kernel, inline_states={"_start": lambda ctx: ctx.kernel.yield_("d"), "d": die}
    )
    with pytest.raises(Boom, match="slice"):  # noqa: PT012 - raised by one of the timeslices
        for _ in range(100):
            if not fake_kernel.run_one_timeslice():
                break
    assert not fake_kernel.run_one_timeslice()


# ---------------------------------------------------------------------------------------------
# Subprocesses: exit codes, CATCH_EXCEPTIONS=0
# ---------------------------------------------------------------------------------------------


def _run_script(code: str, loop: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(
        p for p in (SRC, environment.get("PYTHONPATH", "")) if p
    )
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), loop],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
    )


_PRELUDE = """
import sys
from poe.kernel import Kernel
from poe.session import Session
kernel = Kernel(loop=sys.argv[1])
log = []
"""


def test_k_signals_rerun_exit_statuses(poe_loop: str) -> None:
    """k_signals_rerun: an unhandled exception ends the program with a traceback and status 1;
    ``sys.exit(n)`` in a handler is honoured; rerunning in between works."""
    code = (
        _PRELUDE
        + """
def die(ctx):
    raise ValueError("first failure")

Session.create(kernel, inline_states={"_start": lambda ctx: ctx.kernel.yield_("d"), "d": die})
try:
    kernel.run()
except ValueError as exc:
    log.append(str(exc))
Session.create(kernel, inline_states={"_start": lambda ctx: ctx.kernel.yield_("e"),
                                      "e": lambda ctx: sys.exit(int(sys.argv[2]))})
print(log, flush=True)
kernel.run()
print("not reached")
"""
    )
    for status in ("0", "3"):
        result = _run_script(code.replace("sys.argv[2]", status), poe_loop)
        assert result.returncode == int(status), result.stderr
        assert result.stdout == "['first failure']\n"
    unhandled = _run_script(
        _PRELUDE
        + """
def die(ctx):
    raise ValueError("nobody handles this")
Session.create(kernel, inline_states={"_start": lambda ctx: ctx.kernel.yield_("d"), "d": die})
kernel.run()
""",
        poe_loop,
    )
    assert unhandled.returncode == 1
    assert "ValueError: nobody handles this" in unhandled.stderr


def test_02_turn_off_catch_exceptions(poe_loop: str) -> None:
    """07_exceptions/02_turn_off: with ``POE_CATCH_EXCEPTIONS=0`` the exception is not a DIE
    signal: watchers never see it, later events are not dispatched, every session gets
    ``_stop``, and run() raises it (Perl: ``log=start stop2 stop``; rerun works)."""
    result = _run_script(
        _PRELUDE
        + """
def start(ctx):
    log.append("start")
    ctx.kernel.sig("DIE", "ondie")
    ctx.kernel.yield_("death")
    ctx.kernel.yield_("after")

def death(ctx):
    raise ValueError("OMG THEY CANCELLED FRIENDS")

Session.create(kernel, inline_states={
    "_start": start, "death": death,
    "after": lambda ctx: log.append("after"),
    "ondie": lambda ctx, *a: log.append("ondie"),
    "_stop": lambda ctx: log.append("stop"),
})
Session.create(kernel, inline_states={
    "_start": lambda ctx: ctx.kernel.delay("x", 1),
    "x": lambda ctx: log.append("x"),
    "_stop": lambda ctx: log.append("stop2"),
})
try:
    kernel.run()
except ValueError as exc:
    log.append("raised: " + str(exc))
Session.create(kernel, inline_states={"_start": lambda ctx: log.append("again"),
                                      "_stop": lambda ctx: log.append("stop3")})
kernel.run()
print(sorted(log[1:3]), log[:1] + log[3:])
""",
        poe_loop,
        POE_CATCH_EXCEPTIONS="0",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "['stop', 'stop2'] ['start', 'raised: OMG THEY CANCELLED FRIENDS', 'again', 'stop3']\n"
    )
