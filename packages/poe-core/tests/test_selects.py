"""File handle watchers: select_read/write/expedite, select(), pause/resume, lifetimes.

Ports POE 1.370's ``t/30_loops/*/k_selects`` (session pairs over socketpairs) and the watcher
rules of ``poe-api.md`` §2.4 (probe P4: re-registering keeps the first event name), checked
against Perl POE 1.370 on this machine.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from poe.errors import InvalidArgument
from poe.kernel import Kernel
from poe.loop import Mode
from poe.session import Context, Session

Log = list[Any]


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    """A connected AF_UNIX stream socket pair, closed after the test."""
    a, b = socket.socketpair()
    yield a, b
    a.close()
    b.close()


# ---------------------------------------------------------------------------------------------
# k_selects: session pairs talking over socketpairs
# ---------------------------------------------------------------------------------------------

PAIRS = 10
ROUNDS = 5


class _Peer:
    """One end of a k_selects conversation, written with object states.

    The writer side of each peer is a paused ``select_write`` watcher: queuing output resumes
    it, flushing pauses it again. The master sends ``ping N``; the slave answers ``pong N``.
    After ``ROUNDS`` exchanges the designated quitter unwatches and closes its end; the other
    side sees EOF and does the same.
    """

    def __init__(self, sock: socket.socket, role: str, quits: bool, log: Log, index: int) -> None:
        self.sock = sock
        self.role = role
        self.quits = quits
        self.log = log
        self.index = index
        self.inbuf = b""
        self.outbuf = b""
        self.rounds = 0

    def _start(self, ctx: Context) -> None:
        kernel = ctx.kernel
        kernel.select_read(self.sock, "readable")
        kernel.select_write(self.sock, "writable")
        assert kernel.select_pause_write(self.sock) is True
        if self.role == "master":
            self.send(ctx, "ping 0")

    def send(self, ctx: Context, line: str) -> None:
        self.outbuf += line.encode() + b"\n"
        assert ctx.kernel.select_resume_write(self.sock) is True

    def writable(self, ctx: Context, handle: socket.socket, mode: int) -> None:
        assert handle is self.sock
        assert mode == Mode.WRITE
        sent = handle.send(self.outbuf)
        self.outbuf = self.outbuf[sent:]
        if not self.outbuf:
            ctx.kernel.select_pause_write(handle)

    def readable(self, ctx: Context, handle: socket.socket, mode: int) -> None:
        assert mode == Mode.READ
        try:
            data = handle.recv(4096)
        except BlockingIOError:
            return
        if not data:
            self.log.append((self.index, self.role, "eof", self.rounds))
            self.shut_down(ctx)
            return
        self.inbuf += data
        while b"\n" in self.inbuf:
            line, self.inbuf = self.inbuf.split(b"\n", 1)
            self.on_line(ctx, line.decode())

    def on_line(self, ctx: Context, line: str) -> None:
        word, number = line.split()
        n = int(number)
        assert n == self.rounds
        self.rounds += 1
        if self.role == "slave":
            assert word == "ping"
            self.send(ctx, f"pong {n}")
            if self.quits and self.rounds == ROUNDS:
                self.log.append((self.index, self.role, "quits", self.rounds))
                self.flush_and_quit(ctx)
        else:
            assert word == "pong"
            if self.rounds == ROUNDS:
                if self.quits:
                    self.log.append((self.index, self.role, "quits", self.rounds))
                    self.shut_down(ctx)
                # else: wait for the slave's EOF
            else:
                self.send(ctx, f"ping {self.rounds}")

    def flush_and_quit(self, ctx: Context) -> None:
        # Blocking-free: the pong is tiny, a socketpair buffer takes it at once.
        self.sock.send(self.outbuf)
        self.outbuf = b""
        self.shut_down(ctx)

    def shut_down(self, ctx: Context) -> None:
        ctx.kernel.select(self.sock)  # clear read, write and expedite at once
        self.sock.close()

    def _stop(self, ctx: Context) -> None:
        self.log.append((self.index, self.role, "stop", self.rounds))


def test_k_selects_session_pairs(kernel: Kernel) -> None:
    """k_selects: 10 master/slave session pairs exchange messages over socketpairs using read
    watchers and paused/resumed write watchers; in even pairs the master quits first, in odd
    pairs the slave does; the other side sees EOF; every session stops and nothing leaks."""
    log: Log = []
    for index in range(PAIRS):
        a, b = socket.socketpair()
        master_quits = index % 2 == 0
        for sock, role, quits in ((a, "master", master_quits), (b, "slave", not master_quits)):
            peer = _Peer(sock, role, quits, log, index)
            Session.create(
                kernel,
                object_states=[(peer, ["_start", "readable", "writable", "_stop"])],
            )
    kernel.run()
    for index in range(PAIRS):
        events = [entry[1:] for entry in log if entry[0] == index]
        quitter, other = ("master", "slave") if index % 2 == 0 else ("slave", "master")
        assert events.index((quitter, "quits", ROUNDS)) < events.index((other, "eof", ROUNDS))
        assert sorted(events) == sorted(
            [
                (quitter, "quits", ROUNDS),
                (quitter, "stop", ROUNDS),
                (other, "eof", ROUNDS),
                (other, "stop", ROUNDS),
            ]
        )


# ---------------------------------------------------------------------------------------------
# Watcher rules (poe-api §2.4)
# ---------------------------------------------------------------------------------------------


def test_watcher_args_are_handle_mode_and_extra_args(
    kernel: Kernel, pair: tuple[socket.socket, socket.socket]
) -> None:
    """poe-api §2.4: handler args are ``(handle, mode, *args)``; the sender is the watcher."""
    a, b = pair
    seen: Log = []

    def readable(ctx: Context, handle: Any, mode: int, *extra: Any) -> None:
        seen.append((handle, mode, extra, ctx.sender is ctx.session, handle.recv(10)))
        ctx.kernel.select_read(handle)

    Session.create(
        kernel,
        inline_states={
            "_start": lambda ctx: ctx.kernel.select_read(a, "readable", "x", 2),
            "readable": readable,
        },
    )
    b.send(b"hi")
    kernel.run()
    assert seen == [(a, Mode.READ, ("x", 2), True, b"hi")]
    assert seen[0][1] == 0


def test_int_fd_handles_are_passed_back_as_given(kernel: Kernel) -> None:
    """poe-api §2.4: a bare file descriptor works as a handle and is passed back as is."""
    rd, wr = os.pipe()
    try:
        seen: Log = []

        def readable(ctx: Context, handle: int, mode: int) -> None:
            seen.append((handle, mode, os.read(handle, 10)))
            ctx.kernel.select_read(handle)

        Session.create(
            kernel,
            inline_states={
                "_start": lambda ctx: ctx.kernel.select_read(rd, "readable"),
                "readable": readable,
            },
        )
        os.write(wr, b"data")
        kernel.run()
        assert seen == [(rd, Mode.READ, b"data")]
    finally:
        os.close(rd)
        os.close(wr)


def test_reregistering_keeps_the_first_event_name(
    kernel: Kernel, pair: tuple[socket.socket, socket.socket]
) -> None:
    """P4 / poe-api §17.6: ``select_read`` again on a watched fd only resumes it; the first event
    name and args stay."""
    a, b = pair
    seen: Log = []

    def start(ctx: Context) -> None:
        ctx.kernel.select_read(a, "first", 1)
        ctx.kernel.select_pause_read(a)
        ctx.kernel.select_read(a, "second", 2)  # resumes; keeps "first" and (1,)

    def handler(name: str) -> Any:
        def on_read(ctx: Context, handle: socket.socket, mode: int, *extra: Any) -> None:
            seen.append((name, extra, handle.recv(10)))
            ctx.kernel.select_read(handle)

        return on_read

    Session.create(
        kernel,
        inline_states={"_start": start, "first": handler("first"), "second": handler("second")},
    )
    b.send(b"x")
    kernel.run()
    assert seen == [("first", (1,), b"x")]


def test_clear_then_set_changes_the_event(
    kernel: Kernel, pair: tuple[socket.socket, socket.socket]
) -> None:
    """P4: to change a watcher's event, clear it first."""
    a, b = pair
    seen: Log = []

    def start(ctx: Context) -> None:
        ctx.kernel.select_read(a, "first")
        ctx.kernel.select_read(a)
        ctx.kernel.select_read(a, "second")

    def second(ctx: Context, handle: socket.socket, mode: int) -> None:
        seen.append(("second", handle.recv(10)))
        ctx.kernel.select_read(handle)

    Session.create(
        kernel,
        inline_states={
            "_start": start,
            "first": lambda ctx, *a: seen.append("first"),
            "second": second,
        },
    )
    b.send(b"y")
    kernel.run()
    assert seen == [("second", b"y")]


def _release_later(kernel: Kernel, target: Session, log: Log, steps: int = 5) -> None:
    """A helper session: after ``steps`` yields it posts ``release`` to ``target``."""

    def step(ctx: Context, n: int) -> None:
        if n < steps:
            ctx.kernel.yield_("step", n + 1)
        else:
            log.append("posting release")
            ctx.kernel.post(target.ID, "release")

    Session.create(
        kernel,
        inline_states={"_start": lambda ctx: ctx.kernel.yield_("step", 0), "step": step},
    )


@pytest.mark.parametrize("paused", [False, True])
def test_a_watched_fd_keeps_the_session_alive(
    kernel: Kernel, pair: tuple[socket.socket, socket.socket], paused: bool
) -> None:
    """poe-api §2.4 / §4.1: a watched fd (even a paused one) is a reference: the session stays
    alive with nothing else to do, until the watcher is removed."""
    a, _b = pair
    log: Log = []

    def start(ctx: Context) -> None:
        ctx.kernel.select_read(a, "never")
        if paused:
            ctx.kernel.select_pause_read(a)

    def release(ctx: Context) -> None:
        log.append("release")
        ctx.kernel.select_read(a)

    watcher = Session.create(
        kernel,
        inline_states={
            "_start": start,
            "never": lambda ctx, *args: log.append("readable?"),
            "release": release,
            "_stop": lambda ctx: log.append("stop"),
        },
    )
    _release_later(kernel, watcher, log)
    kernel.run()
    assert log == ["posting release", "release", "stop"]


def test_pause_and_resume_return_whether_a_watcher_exists(
    kernel: Kernel, pair: tuple[socket.socket, socket.socket]
) -> None:
    """poe-api §2.4: pause/resume return True iff the fd is watched in that mode."""
    a, _b = pair
    results: Log = []

    def start(ctx: Context) -> None:
        k = ctx.kernel
        results.append(("unwatched", k.select_pause_read(a), k.select_resume_read(a)))
        results.append(("unwatched w", k.select_pause_write(a), k.select_resume_write(a)))
        k.select_read(a, "r")
        results.append(("read", k.select_pause_read(a), k.select_resume_read(a)))
        results.append(("no write", k.select_pause_write(a), k.select_resume_write(a)))
        k.select_read(a)
        results.append(("cleared", k.select_pause_read(a), k.select_resume_read(a)))

    Session.create(kernel, inline_states={"_start": start})
    kernel.run()
    assert results == [
        ("unwatched", False, False),
        ("unwatched w", False, False),
        ("read", True, True),
        ("no write", False, False),
        ("cleared", False, False),
    ]


def test_paused_read_watcher_gets_nothing_until_resumed(
    kernel: Kernel, pair: tuple[socket.socket, socket.socket]
) -> None:
    """k_selects: data arriving on a paused fd is reported only after resume."""
    a, b = pair
    log: Log = []

    def start(ctx: Context) -> None:
        ctx.kernel.select_read(a, "readable")
        ctx.kernel.select_pause_read(a)
        b.send(b"early")
        ctx.kernel.yield_("tick", 0)

    def tick(ctx: Context, n: int) -> None:
        log.append(("tick", n))
        if n < 3:
            ctx.kernel.yield_("tick", n + 1)
        else:
            ctx.kernel.select_resume_read(a)

    def readable(ctx: Context, handle: socket.socket, mode: int) -> None:
        log.append(("read", handle.recv(10)))
        ctx.kernel.select_read(handle)

    Session.create(kernel, inline_states={"_start": start, "tick": tick, "readable": readable})
    kernel.run()
    assert log == [("tick", 0), ("tick", 1), ("tick", 2), ("tick", 3), ("read", b"early")]


def test_select_sets_and_clears_all_modes(
    kernel: Kernel, pair: tuple[socket.socket, socket.socket]
) -> None:
    """poe-api §2.4: ``select(handle, r, w, e, *args)`` sets or clears the three watchers at once;
    the args go to each of them."""
    a, b = pair
    log: Log = []

    def start(ctx: Context) -> None:
        ctx.kernel.select(a, "r", "w", None, "arg")

    def on_write(ctx: Context, handle: socket.socket, mode: int, *extra: Any) -> None:
        log.append(("w", mode, extra))
        ctx.kernel.select_write(handle)
        b.send(b"z")

    def on_read(ctx: Context, handle: socket.socket, mode: int, *extra: Any) -> None:
        log.append(("r", mode, extra, handle.recv(10)))
        ctx.kernel.select(handle)  # everything off: the session can end

    Session.create(
        kernel,
        inline_states={
            "_start": start,
            "r": on_read,
            "w": on_write,
            "_stop": lambda ctx: log.append("stop"),
        },
    )
    kernel.run()
    assert log == [("w", Mode.WRITE, ("arg",)), ("r", Mode.READ, ("arg",), b"z"), "stop"]


def test_first_watch_makes_the_fd_non_blocking(kernel: Kernel) -> None:
    """poe-api §2.4: the first watch conditions the handle: the fd becomes non-blocking."""
    rd, wr = os.pipe()
    try:
        assert os.get_blocking(rd)
        seen: Log = []

        def start(ctx: Context) -> None:
            ctx.kernel.select_read(rd, "r")
            seen.append(os.get_blocking(rd))
            ctx.kernel.select_read(rd)

        Session.create(kernel, inline_states={"_start": start})
        kernel.run()
        assert seen == [False]
    finally:
        os.close(rd)
        os.close(wr)


class _SameFd:
    """A second handle object for a descriptor already watched through another object."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def fileno(self) -> int:
        return self.fd


def test_two_handle_objects_on_one_fd_are_refused(
    kernel: Kernel, pair: tuple[socket.socket, socket.socket]
) -> None:
    """poe-api §2.4: a different handle object with an already-watched fd is an error (POE dies
    with "caught watching two different file handles")."""
    a, _b = pair
    errors: Log = []

    def start(ctx: Context) -> None:
        ctx.kernel.select_read(a, "r")
        try:
            ctx.kernel.select_write(_SameFd(a.fileno()), "w")
        except InvalidArgument as exc:
            errors.append(exc.errno)
        ctx.kernel.select_read(a)

    Session.create(kernel, inline_states={"_start": start})
    kernel.run()
    assert len(errors) == 1


def test_two_sessions_on_one_fd_both_get_events(
    kernel: Kernel, pair: tuple[socket.socket, socket.socket]
) -> None:
    """poe-api §2.4: one watcher per (session, fd, mode); two sessions watching the same handle
    are both dispatched, each with its own event."""
    a, _b = pair
    log: Log = []

    def make(name: str) -> None:
        def writable(ctx: Context, handle: socket.socket, mode: int) -> None:
            log.append(name)
            ctx.kernel.select_write(handle)

        Session.create(
            kernel,
            inline_states={
                "_start": lambda ctx: ctx.kernel.select_write(a, "w_" + name),
                "w_" + name: writable,
            },
        )

    make("one")
    make("two")
    kernel.run()
    assert sorted(log) == ["one", "two"]


# ---------------------------------------------------------------------------------------------
# Expedite (out-of-band data)
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def tcp_pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    """A connected TCP pair on 127.0.0.1 (client, server side)."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        server, _ = listener.accept()
    yield client, server
    client.close()
    server.close()


def test_select_expedite_gets_tcp_urgent_data(
    kernel: Kernel, tcp_pair: tuple[socket.socket, socket.socket]
) -> None:
    """poe-api §2.4 (mode 2): ``send(MSG_OOB)`` on TCP makes the peer's expedite watcher fire
    with ``(handle, 2, *args)`` (Perl: ``oob(s 2 extra)``)."""
    client, server = tcp_pair
    log: Log = []

    def start(ctx: Context) -> None:
        ctx.kernel.select_expedite(server, "oob", "extra")
        client.send(b"!", socket.MSG_OOB)

    def oob(ctx: Context, handle: socket.socket, mode: int, *extra: Any) -> None:
        log.append((handle is server, mode, extra, handle.recv(1, socket.MSG_OOB)))
        ctx.kernel.select_expedite(handle)

    Session.create(kernel, inline_states={"_start": start, "oob": oob})
    kernel.run()
    assert log == [(True, Mode.EXPEDITE, ("extra",), b"!")]


def test_select_callback_caller_state_is_none(
    kernel: Kernel, pair: tuple[socket.socket, socket.socket]
) -> None:
    """poe-api §2.4: select events are dispatched by the loop, not created by an event: Perl
    1.370 prints ``caller_state=undef`` for a watcher registered in event ``reg``."""
    a, b = pair
    seen: Log = []

    def readable(ctx: Context, handle: socket.socket, mode: int) -> None:
        seen.append(ctx.caller_state)
        handle.recv(10)
        ctx.kernel.select_read(handle)

    Session.create(
        kernel,
        inline_states={
            "_start": lambda ctx: ctx.kernel.yield_("reg"),
            "reg": lambda ctx: ctx.kernel.select_read(a, "readable"),
            "readable": readable,
        },
    )
    b.send(b"x")
    kernel.run()
    assert seen == [None]


def test_exception_in_a_select_callback_is_a_die(
    kernel: Kernel, pair: tuple[socket.socket, socket.socket]
) -> None:
    """poe-api §6.5: a select callback's exception becomes DIE for the watching session (Perl:
    ``die(event=rd src=self)``); handled, the program ends normally."""
    a, b = pair
    log: Log = []

    class Broken(Exception):
        pass

    def start(ctx: Context) -> None:
        ctx.kernel.sig("DIE", "on_die")
        ctx.kernel.select_read(a, "rd")

    def rd(ctx: Context, handle: socket.socket, mode: int) -> None:
        log.append("rd")
        ctx.kernel.select_read(handle)
        raise Broken("in rd")

    def on_die(ctx: Context, name: str, info: Any) -> None:
        log.append((info.event, info.source_session is ctx.session, type(info.error)))
        ctx.kernel.sig_handled()

    Session.create(
        kernel,
        inline_states={
            "_start": start,
            "rd": rd,
            "on_die": on_die,
            "_stop": lambda ctx: log.append("stop"),
        },
    )
    b.send(b"x")
    kernel.run()
    assert log == ["rd", ("rd", True, Broken), "stop"]
