"""Child processes: sig_child() watchers and CHLD signals, with os.fork and subprocess children.

Ports POE 1.370's ``t/30_loops/*/k_sig_child``, the SIGCHLD half of ``k_signals``,
``t/90_regression/rt23181-sigchld-rc.t`` and the exit-status half of ``hinrik-wheel-run-die.t``
(poe-api §2.5, §5.4; probe P13). Deviation: statuses are raw ``os.waitpid`` statuses, decoded
with :func:`os.waitstatus_to_exitcode`.

Children never sleep: each blocks on a pipe until the test tells it to exit.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from poe.kernel import Kernel
from poe.session import Context, Session

Log = list[Any]

#: Guard timers: only reached when a child's exit is never reported (the test then fails).
GUARD = 20.0

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


class Children:
    """Forked children that exit with a given code once released through a pipe."""

    def __init__(self) -> None:
        self.pids: list[int] = []
        self._gates: dict[int, int] = {}
        # Each child writes one byte here once its signal dispositions are reset (a signal
        # sent earlier could hit the parent's inherited handlers and be lost).
        self._ready_r, self._ready_w = os.pipe()
        self._ready_count = 0

    def fork(self, code: int) -> int:
        """Fork a child that waits for :meth:`release`, then ``os._exit(code)``."""
        gate_r, gate_w = os.pipe()
        with warnings.catch_warnings():
            # Python 3.12+ warns about fork() in a process that has threads.
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child
            try:
                # Like k_sig_child's children: signals are fatal again, and none of the parent's
                # signal plumbing (Python handlers, the loop's wake-up fd) is used here.
                signal.set_wakeup_fd(-1)
                for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD):
                    signal.signal(signum, signal.SIG_DFL)
                os.close(gate_w)
                os.write(self._ready_w, b"r")
                os.read(gate_r, 1)
            finally:
                os._exit(code)
        os.close(gate_r)
        self.pids.append(pid)
        self._gates[pid] = gate_w
        return pid

    def wait_ready(self) -> None:
        """Block until every forked child is ready for signals (a brief wait on the children)."""
        expected = len(self.pids)
        while self._ready_count < expected:
            self._ready_count += len(os.read(self._ready_r, expected - self._ready_count))

    def release(self, pid: int) -> None:
        """Let child ``pid`` exit."""
        gate = self._gates.pop(pid, None)
        if gate is not None:
            try:
                with contextlib.suppress(BrokenPipeError):  # the child is gone (killed)
                    os.write(gate, b"x")
            finally:
                os.close(gate)

    def cleanup(self) -> None:
        """Release and reap whatever the test left behind."""
        for pid in list(self._gates):
            self.release(pid)
        for pid in self.pids:
            with contextlib.suppress(ChildProcessError):  # the kernel reaped it
                os.waitpid(pid, 0)
        os.close(self._ready_r)
        os.close(self._ready_w)


@pytest.fixture
def children() -> Iterator[Children]:
    made = Children()
    yield made
    made.cleanup()


def _exit_code(status: int) -> int:
    return os.waitstatus_to_exitcode(status)


# ---------------------------------------------------------------------------------------------
# k_sig_child
# ---------------------------------------------------------------------------------------------

FORK_COUNT = 6


def test_k_sig_child_forked_children(kernel: Kernel, children: Children) -> None:
    """k_sig_child: every forked child is reported once to the forking session (sig_child), once
    to a catcher session that holds nothing but its sig_child watchers, and once as a CHLD
    signal; pids and exit statuses match; one child killed by SIGKILL reports the signal."""
    forker_log: Log = []
    catcher_log: Log = []

    def catcher_start(ctx: Context) -> None:
        ctx.kernel.alias_set("catcher")
        ctx.kernel.sig("CHLD", "got_sigchld")

    def catch(ctx: Context, pid: int) -> None:
        ctx.kernel.sig_child(pid, "got_chld", "catcher-arg")
        if ctx.kernel.alias_list():
            ctx.kernel.alias_remove("catcher")  # from now on only the pid watchers hold it

    def got_chld(ctx: Context, name: str, pid: int, status: int, *extra: Any) -> None:
        catcher_log.append(("sig_child", name, pid, _exit_code(status), extra))

    def got_sigchld(ctx: Context, name: str, pid: int, status: int, *extra: Any) -> None:
        catcher_log.append(("CHLD", name, pid, _exit_code(status), extra))

    catcher = Session.create(
        kernel,
        inline_states={
            "_start": catcher_start,
            "catch": catch,
            "got_chld": got_chld,
            "got_sigchld": got_sigchld,
            "_stop": lambda ctx: catcher_log.append("stop"),
        },
    )

    def forker_start(ctx: Context) -> None:
        for n in range(FORK_COUNT):
            pid = children.fork(10 + n)
            ctx.kernel.sig_child(pid, "catch_sigchld")
            ctx.kernel.call(catcher, "catch", pid)
        ctx.kernel.yield_("forking_time_is_up")

    def forking_time_is_up(ctx: Context) -> None:
        os.kill(children.pids[0], signal.SIGKILL)
        for pid in children.pids[1:]:
            children.release(pid)

    def catch_sigchld(ctx: Context, name: str, pid: int, status: int) -> None:
        forker_log.append((pid, _exit_code(status)))

    Session.create(
        kernel,
        inline_states={
            "_start": forker_start,
            "forking_time_is_up": forking_time_is_up,
            "catch_sigchld": catch_sigchld,
            "_stop": lambda ctx: forker_log.append("stop"),
        },
    )
    kernel.run()

    expected = {pid: 10 + n for n, pid in enumerate(children.pids)}
    expected[children.pids[0]] = -signal.SIGKILL
    assert forker_log[-1] == "stop"
    assert sorted(forker_log[:-1]) == sorted(expected.items())
    assert catcher_log[-1] == "stop"
    reports = catcher_log[:-1]
    assert sorted(r for r in reports if r[0] == "sig_child") == sorted(
        ("sig_child", "CHLD", pid, code, ("catcher-arg",)) for pid, code in expected.items()
    )
    assert sorted(r for r in reports if r[0] == "CHLD") == sorted(
        ("CHLD", "CHLD", pid, code, ()) for pid, code in expected.items()
    )
    for pid in expected:  # poe-api §5.4: sig_child events before the CHLD broadcast
        assert reports.index(("sig_child", "CHLD", pid, expected[pid], ("catcher-arg",))) < (
            reports.index(("CHLD", "CHLD", pid, expected[pid], ()))
        )


def test_sig_child_is_one_shot(kernel: Kernel, children: Children) -> None:
    """k_sig_child / poe-api §2.5: the watcher fires once and then no longer holds the session
    (it stops right after the event); args are ``("CHLD", pid, raw_status, *args)``."""
    log: Log = []

    def start(ctx: Context) -> None:
        pid = children.fork(3)
        ctx.kernel.sig_child(pid, "reaped", "a", "b")
        children.release(pid)

    def reaped(ctx: Context, *args: Any) -> None:
        log.append(args)

    Session.create(
        kernel,
        inline_states={"_start": start, "reaped": reaped, "_stop": lambda ctx: log.append("stop")},
    )
    kernel.run()
    pid = children.pids[0]
    assert len(log) == 2
    name, got_pid, status, *extra = log[0]
    assert (name, got_pid, extra) == ("CHLD", pid, ["a", "b"])
    assert os.WIFEXITED(status)
    assert os.WEXITSTATUS(status) == 3
    assert status == 3 << 8  # the raw wait status (Perl: ARG2 = $? = 768)
    assert log[1] == "stop"


def test_sig_child_keeps_the_session_alive(kernel: Kernel, children: Children) -> None:
    """k_sig_child (P13): a session whose only resource is a sig_child watcher lives until the
    child exits; the child is released by another session after a few events."""
    log: Log = []

    def start(ctx: Context) -> None:
        ctx.kernel.sig_child(children.fork(0), "reaped")

    watcher = Session.create(
        kernel,
        inline_states={
            "_start": start,
            "reaped": lambda ctx, *a: log.append(("reaped", a[1] == children.pids[0])),
            "_stop": lambda ctx: log.append("stop"),
        },
    )

    def step(ctx: Context, n: int) -> None:
        log.append(("step", n, watcher.alive))
        if n < 3:
            ctx.kernel.yield_("step", n + 1)
        else:
            children.release(children.pids[0])

    Session.create(
        kernel,
        inline_states={"_start": lambda ctx: ctx.kernel.yield_("step", 0), "step": step},
    )
    kernel.run()
    assert log == [
        ("step", 0, True),
        ("step", 1, True),
        ("step", 2, True),
        ("step", 3, True),
        ("reaped", True),
        "stop",
    ]


def test_several_sessions_watch_one_pid(kernel: Kernel, children: Children) -> None:
    """poe-api §2.5: several sessions may watch the same pid; each gets its own event and args."""
    log: Log = []

    def make_watcher(name: str) -> None:
        def watch(ctx: Context, pid: int) -> None:
            ctx.kernel.sig_child(pid, "reaped", name)
            ctx.kernel.alias_remove(name)

        Session.create(
            kernel,
            inline_states={
                "_start": lambda ctx: ctx.kernel.alias_set(name),
                "watch": watch,
                "reaped": lambda ctx, *a: log.append((name, a[1], _exit_code(a[2]), a[3:])),
            },
        )

    make_watcher("w1")
    make_watcher("w2")

    def start(ctx: Context) -> None:
        pid = children.fork(5)
        ctx.kernel.call("w1", "watch", pid)  # registered before this handler returns
        ctx.kernel.call("w2", "watch", pid)
        children.release(pid)

    Session.create(kernel, inline_states={"_start": start})
    kernel.run()
    pid = children.pids[0]
    assert sorted(log) == [("w1", pid, 5, ("w1",)), ("w2", pid, 5, ("w2",))]


def test_rt23181_clearing_an_unwatched_pid_is_harmless(kernel: Kernel) -> None:
    """rt23181-sigchld-rc: ``sig_child(pid)`` without a prior watch does not underflow the
    session's references: the session stops normally and ``_stop`` runs."""
    log: Log = []
    Session.create(
        kernel,
        inline_states={
            "_start": lambda ctx: ctx.kernel.yield_("test"),
            "test": lambda ctx: ctx.kernel.sig_child(12),
            "_stop": lambda ctx: log.append("didn't die"),
        },
    )
    kernel.run()
    assert log == ["didn't die"]


def test_clearing_a_watch_releases_the_session(kernel: Kernel, children: Children) -> None:
    """poe-api §2.5: ``sig_child(pid)`` with no event clears this session's watcher: it no longer
    holds the session, and the child's exit is not reported to it."""
    log: Log = []

    def start(ctx: Context) -> None:
        pid = children.fork(0)
        ctx.kernel.sig_child(pid, "reaped")
        ctx.kernel.sig_child(pid)
        ctx.kernel.sig_child(pid)  # twice: still harmless

    Session.create(
        kernel,
        inline_states={
            "_start": start,
            "reaped": lambda ctx, *a: log.append("reaped"),
            "_stop": lambda ctx: log.append("stop"),
        },
    )
    kernel.run()
    assert log == ["stop"]


# ---------------------------------------------------------------------------------------------
# CHLD signal watchers (k_signals)
# ---------------------------------------------------------------------------------------------


def test_k_signals_chld_watcher_counts_every_child(kernel: Kernel, children: Children) -> None:
    """k_signals: with only ``sig("CHLD")`` (no sig_child), every forked child killed with a
    signal is reported as ``("CHLD", pid, status, *args)``; the watcher itself holds nothing, so
    a guard timer keeps the session alive until all are in."""
    log: Log = []
    count = 4

    def start(ctx: Context) -> None:
        ctx.kernel.sig("CHLD", "catch_sigchld", "extra")
        for n in range(count):
            children.fork(n)
        ctx.kernel.delay("guard", GUARD)
        ctx.kernel.yield_("kill_them")

    def kill_them(ctx: Context) -> None:
        children.wait_ready()
        for pid in children.pids:
            os.kill(pid, signal.SIGINT)

    def catch_sigchld(ctx: Context, name: str, pid: int, status: int, *extra: Any) -> None:
        log.append((name, pid, _exit_code(status), extra))
        if len(log) == count:
            ctx.kernel.delay("guard")
            ctx.kernel.sig("CHLD")

    Session.create(
        kernel,
        inline_states={
            "_start": start,
            "kill_them": kill_them,
            "catch_sigchld": catch_sigchld,
            "guard": lambda ctx: log.append("guard fired"),
        },
    )
    kernel.run()
    assert sorted(log) == sorted(("CHLD", pid, -signal.SIGINT, ("extra",)) for pid in children.pids)


# ---------------------------------------------------------------------------------------------
# subprocess.Popen children and exit statuses (hinrik-wheel-run-die)
# ---------------------------------------------------------------------------------------------


def _popen(args: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(args, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["/bin/sh", "-c", "exit 0"], 0),
        (["/bin/sh", "-c", "exit 7"], 7),
        (["/bin/sh", "-c", "kill -KILL $$"], -signal.SIGKILL),
        ([sys.executable, "-c", "raise RuntimeError('child died')"], 1),
    ],
    ids=["exit0", "exit7", "killed", "python-raises"],
)
def test_sig_child_with_subprocess_popen(kernel: Kernel, argv: list[str], code: int) -> None:
    """hinrik-wheel-run-die / k_sig_child: a ``subprocess.Popen`` child's exit (a clean exit,
    an exit code, a signal, a Python program that raised) reaches ``sig_child`` with its pid
    and the raw status; ``os.waitstatus_to_exitcode`` decodes it."""
    log: Log = []
    procs: list[subprocess.Popen[bytes]] = []

    def start(ctx: Context) -> None:
        proc = _popen(argv)
        procs.append(proc)
        ctx.kernel.sig_child(proc.pid, "reaped")

    Session.create(
        kernel,
        inline_states={
            "_start": start,
            "reaped": lambda ctx, name, pid, status: log.append((name, pid, status)),
        },
    )
    try:
        kernel.run()
    finally:
        for proc in procs:
            proc.wait()  # already reaped by the kernel: settles the Popen object
    assert len(log) == 1
    name, pid, status = log[0]
    assert (name, pid) == ("CHLD", procs[0].pid)
    assert _exit_code(status) == code


def test_child_reaped_elsewhere_reports_status_minus_one(kernel: Kernel) -> None:
    """Documented deviation (``Kernel.sig_child``): when something else reaps the child first
    (here ``Popen.wait()``), the watcher still fires, with status -1, instead of holding the
    session forever."""
    log: Log = []
    procs: list[subprocess.Popen[bytes]] = []

    def start(ctx: Context) -> None:
        proc = _popen(["/bin/sh", "-c", "exit 4"])
        procs.append(proc)
        ctx.kernel.sig_child(proc.pid, "reaped")
        log.append(("popen says", proc.wait()))

    Session.create(
        kernel,
        inline_states={
            "_start": start,
            "reaped": lambda ctx, *args: log.append(args),
            "_stop": lambda ctx: log.append("stop"),
        },
    )
    kernel.run()
    assert log == [("popen says", 4), ("CHLD", procs[0].pid, -1), "stop"]
