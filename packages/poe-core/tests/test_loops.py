"""Conformance tests of the loop backends (``poe.loop``), run against every available backend.

Only ordering and occurrence are asserted, never durations: a timer's "did not fire" is checked
against deadlines an hour away, and waits are bounded by :func:`pump` so a broken backend fails
instead of hanging.
"""

from __future__ import annotations

import asyncio
import functools
import os
import signal
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

import pytest

import poe.loop.asyncio_loop as asyncio_loop_module
from poe.loop import Loop, LoopHost, Mode, available_loops, get_loop
from poe.loop.asyncio_loop import AsyncioLoop, UvloopLoop
from poe.loop.select_loop import MECHANISMS, SelectLoop

# The backends, plus SelectLoop on each of its fallback mechanisms (all usable on Linux).
_FACTORIES: dict[str, Callable[[], Loop]] = {
    name: functools.partial(get_loop, name) for name in available_loops()
}
for _mechanism in MECHANISMS[1:]:
    _FACTORIES[f"select-{_mechanism}"] = functools.partial(SelectLoop, _mechanism)
_ASYNCIO_KINDS = [name for name in ("asyncio", "uvloop") if name in _FACTORIES]

_check_select: type[Loop] = SelectLoop  # mypy: each backend satisfies the Loop protocol
_check_asyncio: type[Loop] = AsyncioLoop
_check_uvloop: type[Loop] = UvloopLoop
_check_host: type[LoopHost]


class Recorder:
    """A LoopHost that records every callback, with optional hooks to act inside them."""

    def __init__(self) -> None:
        self.timers = 0
        self.io: list[tuple[int, Mode]] = []
        self.signals: list[int] = []
        self.threads: set[int] = set()
        self.timer_hook: Callable[[], None] | None = None
        self.io_hook: Callable[[int, Mode], None] | None = None

    def on_timer(self) -> None:
        self.threads.add(threading.get_ident())
        self.timers += 1
        if self.timer_hook is not None:
            self.timer_hook()

    def on_io(self, fd: int, mode: Mode) -> None:
        self.threads.add(threading.get_ident())
        self.io.append((fd, mode))
        if self.io_hook is not None:
            self.io_hook(fd, mode)

    def on_signal(self, signum: int) -> None:
        self.threads.add(threading.get_ident())
        self.signals.append(signum)


_check_host = Recorder


def pump(loop: Loop, until: Callable[[], bool], *, limit: float = 10.0) -> None:
    """Run iterations until ``until()`` holds; fail (rather than hang) after ``limit`` seconds."""
    give_up = time.monotonic() + limit
    while not until():
        if time.monotonic() > give_up:
            pytest.fail("the expected callback never came")
        loop.run_once(0.05)


def spin(loop: Loop, times: int = 3) -> None:
    """Run a few non-blocking iterations (for checking that nothing happens)."""
    for _ in range(times):
        loop.run_once(0.0)


@pytest.fixture(params=sorted(_FACTORIES))
def kind(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def host() -> Recorder:
    return Recorder()


@pytest.fixture
def loop(kind: str, host: Recorder) -> Iterator[Loop]:
    backend = _FACTORIES[kind]()
    backend.attach(host)
    yield backend
    backend.close()


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    a, b = socket.socketpair()
    yield a, b
    a.close()
    b.close()


@pytest.fixture(params=_ASYNCIO_KINDS)
def aloop(request: pytest.FixtureRequest, host: Recorder) -> Iterator[AsyncioLoop]:
    backend = get_loop(request.param)
    assert isinstance(backend, AsyncioLoop)
    backend.attach(host)
    yield backend
    backend.close()


# ---------------------------------------------------------------------------------- timer


def test_timer_fires_once_and_is_replaced(loop: Loop, host: Recorder) -> None:
    loop.set_timer(0.0)
    loop.set_timer(3600.0)  # replaces the due one
    spin(loop)
    assert host.timers == 0
    loop.set_timer(3600.0)
    loop.set_timer(0.001)  # replaced by an earlier one
    pump(loop, lambda: host.timers > 0)
    spin(loop)
    loop.run_once(0.01)
    assert host.timers == 1  # once: not re-armed until the host says so
    loop.set_timer(0.0)
    pump(loop, lambda: host.timers > 1)
    assert host.timers == 2
    assert host.threads == {threading.get_ident()}


def test_set_timer_none_cancels(loop: Loop, host: Recorder) -> None:
    loop.set_timer(0.0)
    loop.set_timer(None)
    spin(loop)
    loop.run_once(0.01)
    assert host.timers == 0
    loop.set_timer(None)  # cancelling nothing is fine
    spin(loop, 1)
    assert host.timers == 0


def test_timer_rearmed_from_on_timer(loop: Loop, host: Recorder) -> None:
    def rearm() -> None:
        if host.timers < 5:
            loop.set_timer(0.0)

    host.timer_hook = rearm
    loop.set_timer(0.0)
    pump(loop, lambda: host.timers >= 5)
    spin(loop)
    assert host.timers == 5


def test_same_deadline_keeps_the_timer_handle(aloop: AsyncioLoop) -> None:
    """A re-arm to (nearly) the same deadline must not churn TimerHandles."""
    bound = aloop.asyncio_loop  # bind, so set_timer makes handles
    assert bound is not None
    now = bound.time()
    # Freeze the loop's clock: on a loaded machine two calls can be more than the slack apart.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bound, "time", lambda: now)
        aloop.set_timer(60.0)
        handle = aloop._timer
        aloop.set_timer(60.0)
        assert aloop._timer is handle
        aloop.set_timer(30.0)
        assert aloop._timer is not handle


# ---------------------------------------------------------------------------------- wake


def test_wake_from_another_thread(loop: Loop, host: Recorder) -> None:
    for round_ in (1, 2):  # a consumed wake-up must not block the next one
        waker = threading.Timer(0.01, loop.wake)
        waker.start()
        loop.run_once(30.0)  # returns as soon as the wake-up arrives
        waker.join()

        def reached(target: int = round_) -> bool:
            return host.timers >= target

        pump(loop, reached)
    assert host.timers == 2
    assert host.threads == {threading.get_ident()}


def test_wakes_coalesce(loop: Loop, host: Recorder) -> None:
    threads = [threading.Thread(target=loop.wake) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    pump(loop, lambda: host.timers > 0)
    spin(loop)
    assert 1 <= host.timers <= 8


def test_wake_before_running(loop: Loop, host: Recorder) -> None:
    loop.wake()
    pump(loop, lambda: host.timers > 0)
    assert host.timers == 1


# ---------------------------------------------------------------------------------- fds


def test_readable_is_level_triggered(
    loop: Loop, host: Recorder, pair: tuple[socket.socket, socket.socket]
) -> None:
    a, b = pair
    fd = a.fileno()
    loop.watch(fd, Mode.READ)
    loop.watch(fd, Mode.READ)  # idempotent
    spin(loop)
    assert host.io == []
    b.send(b"x")
    pump(loop, lambda: (fd, Mode.READ) in host.io)
    host.io.clear()
    pump(loop, lambda: (fd, Mode.READ) in host.io)  # still ready: reported again
    assert a.recv(1) == b"x"
    spin(loop)
    host.io.clear()
    spin(loop)
    assert host.io == []
    loop.unwatch(fd, Mode.READ)
    loop.unwatch(fd, Mode.READ)  # idempotent
    b.send(b"y")
    spin(loop)
    loop.run_once(0.01)
    assert host.io == []


def test_writable(loop: Loop, host: Recorder, pair: tuple[socket.socket, socket.socket]) -> None:
    a, _ = pair
    fd = a.fileno()
    loop.watch(fd, Mode.WRITE)
    pump(loop, lambda: (fd, Mode.WRITE) in host.io)
    assert {mode for _, mode in host.io} == {Mode.WRITE}
    loop.unwatch(fd, Mode.WRITE)
    spin(loop)
    host.io.clear()
    spin(loop)
    assert host.io == []


def test_read_and_write_on_one_fd(
    loop: Loop, host: Recorder, pair: tuple[socket.socket, socket.socket]
) -> None:
    a, b = pair
    fd = a.fileno()
    b.send(b"x")
    loop.watch(fd, Mode.READ)
    loop.watch(fd, Mode.WRITE)
    pump(loop, lambda: {(fd, Mode.READ), (fd, Mode.WRITE)} <= set(host.io))
    loop.unwatch(fd, Mode.WRITE)
    spin(loop)
    host.io.clear()
    spin(loop)
    assert set(host.io) == {(fd, Mode.READ)}


def test_unwatch_and_close_during_dispatch(loop: Loop, host: Recorder) -> None:
    """Two fds ready in one batch: the first callback unwatches and closes both."""
    pairs = [socket.socketpair() for _ in range(2)]
    try:
        for _, writer in pairs:
            writer.send(b"x")
        readers = [reader for reader, _ in pairs]
        fds = [reader.fileno() for reader in readers]

        def drop_all(fd: int, mode: Mode) -> None:
            for reader in readers:
                if reader.fileno() >= 0:
                    loop.unwatch(reader.fileno(), Mode.READ)
                    reader.close()

        host.io_hook = drop_all
        for fd in fds:
            loop.watch(fd, Mode.READ)
        pump(loop, lambda: bool(host.io))
        spin(loop)
        assert len(host.io) == 1
        assert host.io[0] in {(fd, Mode.READ) for fd in fds}
    finally:
        for reader, writer in pairs:
            reader.close()
            writer.close()


def test_unwatch_other_mode_during_dispatch(
    loop: Loop, host: Recorder, pair: tuple[socket.socket, socket.socket]
) -> None:
    """READ and WRITE ready together: whichever comes first unwatches the other."""
    a, b = pair
    fd = a.fileno()
    b.send(b"x")

    def drop_other(fd: int, mode: Mode) -> None:
        loop.unwatch(fd, Mode.WRITE if mode == Mode.READ else Mode.READ)

    host.io_hook = drop_other
    loop.watch(fd, Mode.READ)
    loop.watch(fd, Mode.WRITE)
    pump(loop, lambda: bool(host.io))
    spin(loop)
    # One mode only (uvloop's run_once may take two iterations: READ can come twice).
    assert len({mode for _, mode in host.io}) == 1


def test_unwatch_after_the_host_closed_the_fd(loop: Loop, host: Recorder) -> None:
    a, b = socket.socketpair()
    fd = a.fileno()
    loop.watch(fd, Mode.READ)
    loop.watch(fd, Mode.WRITE)
    loop.watch(fd, Mode.EXPEDITE)
    spin(loop, 1)
    a.close()
    b.close()
    loop.unwatch(fd, Mode.READ)
    loop.unwatch(fd, Mode.WRITE)
    loop.unwatch(fd, Mode.EXPEDITE)
    host.io.clear()
    spin(loop)
    assert host.io == []


def test_select_mode_groups(pair: tuple[socket.socket, socket.socket]) -> None:
    """SelectLoop dispatches a batch grouped by mode: every READ, then WRITE, then EXPEDITE."""
    a, b = pair
    c, d = socket.socketpair()
    try:
        b.send(b"x")
        d.send(b"x")
        for mechanism in MECHANISMS:
            backend = SelectLoop(mechanism)
            host = Recorder()
            backend.attach(host)
            for fd in (a.fileno(), c.fileno()):
                backend.watch(fd, Mode.WRITE)
                backend.watch(fd, Mode.READ)
            backend.run_once(0.0)
            backend.close()
            assert [mode for _, mode in host.io] == [Mode.READ, Mode.READ, Mode.WRITE, Mode.WRITE]
    finally:
        c.close()
        d.close()


def test_regular_file_is_always_ready(loop: Loop, host: Recorder) -> None:
    """As with select(2): readable and writable every time, never exceptional."""
    with tempfile.TemporaryFile() as file:
        fd = file.fileno()
        loop.watch(fd, Mode.READ)
        loop.watch(fd, Mode.WRITE)
        loop.watch(fd, Mode.EXPEDITE)
        pump(loop, lambda: {(fd, Mode.READ), (fd, Mode.WRITE)} <= set(host.io))
        host.io.clear()
        pump(loop, lambda: (fd, Mode.READ) in host.io)  # again
        assert (fd, Mode.EXPEDITE) not in host.io
        loop.unwatch(fd, Mode.READ)
        loop.unwatch(fd, Mode.WRITE)
        spin(loop)
        host.io.clear()
        spin(loop)
        assert host.io == []
        loop.unwatch(fd, Mode.EXPEDITE)


@pytest.fixture
def tcp() -> Iterator[tuple[socket.socket, socket.socket]]:
    """A connected 127.0.0.1 TCP pair: (client, server side)."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        client = socket.create_connection(server.getsockname()[:2])
        conn, _ = server.accept()
    yield client, conn
    client.close()
    conn.close()


def _expect_oob(loop: Loop, host: Recorder, tcp: tuple[socket.socket, socket.socket]) -> None:
    client, conn = tcp
    fd = conn.fileno()
    received: list[bytes] = []

    def read_oob(ready_fd: int, mode: Mode) -> None:
        if mode == Mode.EXPEDITE:
            received.append(conn.recv(1, socket.MSG_OOB))

    host.io_hook = read_oob
    loop.watch(fd, Mode.EXPEDITE)
    spin(loop)
    assert host.io == []
    client.send(b"!", socket.MSG_OOB)
    pump(loop, lambda: bool(received))
    assert received == [b"!"]
    assert set(host.io) == {(fd, Mode.EXPEDITE)}
    loop.unwatch(fd, Mode.EXPEDITE)
    client.send(b"?", socket.MSG_OOB)
    host.io.clear()
    spin(loop)
    loop.run_once(0.01)
    assert host.io == []


def test_expedite_is_tcp_urgent_data(
    loop: Loop, host: Recorder, tcp: tuple[socket.socket, socket.socket]
) -> None:
    _expect_oob(loop, host, tcp)


def test_expedite_without_epoll(
    monkeypatch: pytest.MonkeyPatch, host: Recorder, tcp: tuple[socket.socket, socket.socket]
) -> None:
    """AsyncioLoop's fallback where select.epoll is missing: periodic select() checks."""
    monkeypatch.setattr(asyncio_loop_module, "_HAVE_EPOLL", False)
    backend = AsyncioLoop()
    backend.attach(host)
    try:
        _expect_oob(backend, host, tcp)
    finally:
        backend.close()


# ---------------------------------------------------------------------------------- signals


def test_watch_signal(loop: Loop, host: Recorder) -> None:
    caught: list[int] = []

    def previous_handler(signum: int, frame: FrameType | None) -> None:
        caught.append(signum)

    original = signal.signal(signal.SIGUSR1, previous_handler)
    try:
        loop.watch_signal(signal.SIGUSR1)
        loop.watch_signal(signal.SIGUSR1)  # idempotent
        os.kill(os.getpid(), signal.SIGUSR1)
        pump(loop, lambda: bool(host.signals))
        os.kill(os.getpid(), signal.SIGUSR1)  # and again, once the loop is running
        pump(loop, lambda: len(host.signals) >= 2)
        assert host.signals == [signal.SIGUSR1, signal.SIGUSR1]
        assert host.threads == {threading.get_ident()}
        assert caught == []
        loop.unwatch_signal(signal.SIGUSR1)
        assert signal.getsignal(signal.SIGUSR1) is previous_handler
        loop.unwatch_signal(signal.SIGUSR1)  # idempotent
        os.kill(os.getpid(), signal.SIGUSR1)
        spin(loop)
        assert caught == [signal.SIGUSR1]
        assert len(host.signals) == 2
    finally:
        signal.signal(signal.SIGUSR1, original)


def test_unwatched_signal_is_not_reported(loop: Loop, host: Recorder) -> None:
    original = signal.signal(signal.SIGUSR2, lambda signum, frame: None)
    try:
        loop.watch_signal(signal.SIGUSR1)
        os.kill(os.getpid(), signal.SIGUSR2)  # goes through the wakeup fd, but is not ours
        os.kill(os.getpid(), signal.SIGUSR1)
        pump(loop, lambda: bool(host.signals))
        spin(loop)
        assert host.signals == [signal.SIGUSR1]
    finally:
        loop.unwatch_signal(signal.SIGUSR1)
        signal.signal(signal.SIGUSR2, original)


# ---------------------------------------------------------------------------------- lifecycle


def test_close_then_attach_again(
    loop: Loop, host: Recorder, pair: tuple[socket.socket, socket.socket]
) -> None:
    a, b = pair
    fd = a.fileno()
    before = signal.getsignal(signal.SIGUSR2)
    b.send(b"x")
    loop.watch(fd, Mode.READ)
    loop.set_timer(0.0)
    loop.watch_signal(signal.SIGUSR2)
    loop.close()
    assert signal.getsignal(signal.SIGUSR2) == before
    loop.close()  # idempotent

    second = Recorder()
    loop.attach(second)
    spin(loop)
    assert second.io == []
    assert second.timers == 0
    loop.set_timer(0.0)
    loop.watch(fd, Mode.READ)
    pump(loop, lambda: second.timers > 0 and (fd, Mode.READ) in second.io)
    assert host.timers == 0
    assert host.io == []


def test_run_returns_after_halt(loop: Loop, host: Recorder) -> None:
    loop.halt()  # no run() in progress: does nothing, and does not leak into run()

    def tick() -> None:
        if host.timers < 3:
            loop.set_timer(0.0)
        else:
            loop.halt()

    host.timer_hook = tick
    loop.set_timer(0.0)
    loop.run()
    assert host.timers == 3
    loop.set_timer(0.0)  # and run() can run again
    loop.run()
    assert host.timers == 4


def test_halt_from_another_thread(loop: Loop, host: Recorder) -> None:
    stopper = threading.Timer(0.01, loop.halt)
    loop.set_timer(0.0)  # make sure run() is running before the halt can matter
    host.timer_hook = stopper.start
    loop.run()
    stopper.join()
    assert host.timers == 1


def test_callback_exception_propagates(loop: Loop, host: Recorder) -> None:
    def boom() -> None:
        raise ValueError("boom")

    host.timer_hook = boom
    loop.set_timer(0.0)
    with pytest.raises(ValueError, match="boom"):
        loop.run()
    loop.set_timer(0.0)
    with pytest.raises(ValueError, match="boom"):
        pump(loop, lambda: False)
    host.timer_hook = None
    loop.set_timer(0.0)
    pump(loop, lambda: host.timers == 3)  # still usable


# ---------------------------------------------------------------------------------- asyncio


def test_run_async(aloop: AsyncioLoop, host: Recorder) -> None:
    seen: list[asyncio.AbstractEventLoop] = []

    def tick() -> None:
        seen.append(asyncio.get_running_loop())
        aloop.halt()

    host.timer_hook = tick
    aloop.set_timer(0.0)  # before any asyncio loop exists

    async def main() -> asyncio.AbstractEventLoop:
        await aloop.run_async()
        return asyncio.get_running_loop()

    running = asyncio.run(main())
    assert seen == [running]
    assert host.timers == 1


def test_run_async_then_run(
    aloop: AsyncioLoop, host: Recorder, pair: tuple[socket.socket, socket.socket]
) -> None:
    """Registrations move from the running loop (run_async) to the own loop (run)."""
    a, b = pair
    fd = a.fileno()
    b.send(b"x")
    aloop.watch(fd, Mode.READ)
    host.io_hook = lambda fd, mode: aloop.halt()

    async def main() -> None:
        await aloop.run_async()

    asyncio.run(main())
    assert set(host.io) == {(fd, Mode.READ)}
    count = len(host.io)
    aloop.run()  # the fd is still readable (level-triggered) and still watched
    assert len(host.io) > count
    assert set(host.io) == {(fd, Mode.READ)}


def test_run_inside_a_running_loop_raises(aloop: AsyncioLoop) -> None:
    async def main() -> None:
        with pytest.raises(RuntimeError, match="run_async"):
            aloop.run()
        with pytest.raises(RuntimeError, match="run_async"):
            aloop.run_once(0.0)

    asyncio.run(main())


def test_own_loop_is_current_during_run(aloop: AsyncioLoop, host: Recorder) -> None:
    seen: list[Any] = []

    def tick() -> None:
        seen.append(asyncio_loop_module._current_event_loop())
        aloop.halt()

    before = asyncio_loop_module._current_event_loop()
    host.timer_hook = tick
    aloop.set_timer(0.0)
    aloop.run()
    assert seen == [aloop.asyncio_loop]
    assert asyncio_loop_module._current_event_loop() is before
    first = aloop.asyncio_loop
    aloop.set_timer(0.0)
    aloop.run()
    assert aloop.asyncio_loop is first  # kept open and reused


def test_asyncio_loop_property_binds_to_the_running_loop(aloop: AsyncioLoop) -> None:
    async def main() -> bool:
        return aloop.asyncio_loop is asyncio.get_running_loop()

    assert asyncio.run(main())
    own = aloop.asyncio_loop  # that loop is closed now: rebinds to the own loop
    assert not own.is_closed()
    assert not own.is_running()


def test_await_inside_handlers(aloop: AsyncioLoop, host: Recorder) -> None:
    """asyncio code started from a callback runs on the same loop, in the same thread."""
    results: list[int] = []

    async def work() -> int:
        await asyncio.sleep(0)
        return 42

    def done(task: asyncio.Task[int]) -> None:
        results.append(task.result())
        aloop.wake()

    def start() -> None:
        asyncio.ensure_future(work()).add_done_callback(done)

    host.timer_hook = lambda: start() if host.timers == 1 else aloop.halt()
    aloop.set_timer(0.0)
    aloop.run()
    assert results == [42]
    assert host.timers == 2


def test_uvloop_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # makes `import uvloop` fail
    with pytest.raises(ImportError, match=r"pip install poe-core\[uvloop\]"):
        UvloopLoop()


# ---------------------------------------------------------------------------------- registry


def test_get_loop_names(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("select", "POE::Loop::Select", "Loop::Select", "SELECT"):
        backend = get_loop(name)
        assert isinstance(backend, SelectLoop)
        assert backend.name == "select"
        backend.close()
    with pytest.raises(ValueError, match="nope"):
        get_loop("nope")
    monkeypatch.setenv("POE_EVENT_LOOP", "select")
    assert isinstance(get_loop(), SelectLoop)
    monkeypatch.delenv("POE_EVENT_LOOP")
    default = get_loop()
    assert isinstance(default, AsyncioLoop)
    assert default.name == "asyncio"
    assert "select" in available_loops()
    assert "asyncio" in available_loops()


def test_select_mechanism_must_exist() -> None:
    with pytest.raises(ValueError, match="kqueue"):
        SelectLoop("kqueue")
