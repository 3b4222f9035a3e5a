"""ReadWriteWheel's limits (issue #11): ``max_output``, ``input_meter``, the input counters.

Also: a strict codec's error is a ``"read"`` error event, never a traceback, and the
watermarks still stop a handler that puts until :meth:`~ReadWriteWheel.put` says "high"
while its lines are batched. Real socketpairs; every scenario ends by itself (the watchdog
fails it otherwise) and asserts behaviour, never timings.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from poe.errors import InvalidArgument
from poe.filter import LineFilter, MapFilter, StackableFilter, pending_octets
from poe.kernel import Kernel
from poe.session import Context, Session
from poe.testing.watchdog import Watchdog
from poe.wheel import ReadWriteWheel

Log = list[Any]


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    a, b = socket.socketpair()
    with a, b:
        yield a, b


def run_session(kernel: Kernel, watchdog: Watchdog, start: Any, **states: Any) -> None:
    Session.create(kernel, inline_states={"_start": start, **states})
    watchdog.run()


def received(sock: socket.socket) -> bytes:
    """What the peer can read now, without waiting."""
    sock.setblocking(False)
    chunks = []
    try:
        while chunk := sock.recv(1 << 20):
            chunks.append(chunk)
    except BlockingIOError:
        pass
    return b"".join(chunks)


def test_max_output_is_validated(kernel: Kernel, pair: tuple[socket.socket, socket.socket]) -> None:
    a, _b = pair

    def start(ctx: Context) -> None:
        for bad in (0, -1, 1.5, True, "10"):
            with pytest.raises(InvalidArgument, match="max_output"):
                ReadWriteWheel(ctx.kernel, handle=a, max_output=bad)  # type: ignore[arg-type]
        ReadWriteWheel(ctx.kernel, handle=a, max_output=1).close()

    Session.create(kernel, inline_states={"_start": start})
    kernel.run()


def test_put_past_max_output_drops_the_queue_and_posts_enobufs(
    kernel: Kernel, watchdog: Watchdog, pair: tuple[socket.socket, socket.socket]
) -> None:
    a, b = pair
    log: Log = []

    def start(ctx: Context) -> None:
        w = ctx.heap["w"] = ReadWriteWheel(
            ctx.kernel, handle=a, max_output=1000, input_event="got", error_event="err"
        )
        log.append(("put", w.put("x" * 500)))  # 502 octets with the CRLF: under the cap
        log.append(("put", w.put("y" * 600)))  # 1104: over it
        log.append(("queued", w.get_driver_out_octets()))
        log.append(("put", w.put("z")))  # dropped too
        log.append(("queued", w.get_driver_out_octets()))
        b.sendall(b"not read\n")

    def err(ctx: Context, operation: str, errnum: int, errstr: str, wheel_id: int) -> None:
        log.append((operation, errnum, wheel_id == ctx.heap["w"].ID, "max_output" in errstr))
        ctx.kernel.delay("later", 0.1)  # time for the input above to arrive, if it were read

    def got(ctx: Context, line: str, wheel_id: int) -> None:
        log.append(("input", line))

    def later(ctx: Context) -> None:
        log.append("the session goes on")
        ctx.heap.pop("w").close()
        watchdog.done()

    run_session(kernel, watchdog, start, err=err, got=got, later=later)
    assert log == [
        ("put", False),
        ("put", True),
        ("queued", 0),
        ("put", True),
        ("queued", 0),
        ("write", errno.ENOBUFS, True, True),  # posted: after the handler that put
        "the session goes on",
    ]
    assert received(b) == b""  # nothing of the dropped queue was written


def test_overflow_in_an_input_handler_stops_the_batch_and_the_input(
    kernel: Kernel, watchdog: Watchdog, pair: tuple[socket.socket, socket.socket]
) -> None:
    a, b = pair
    log: Log = []

    def start(ctx: Context) -> None:
        ctx.heap["w"] = ReadWriteWheel(
            ctx.kernel, handle=a, max_output=1000, input_event="got", error_event="err"
        )
        b.sendall(b"go\nafter\n")  # one read: "after" is already in the filter at the overflow

    def got(ctx: Context, line: str, wheel_id: int) -> None:
        log.append(("input", line))
        w = ctx.heap["w"]
        puts = 0
        while puts < 100 and not w.put("x" * 400):  # batched, but put() still says "stop"
            puts += 1
        log.append(("puts before True", puts))

    def err(ctx: Context, operation: str, errnum: int, errstr: str, wheel_id: int) -> None:
        log.append((operation, errnum))
        ctx.heap.pop("w").close()
        watchdog.done()

    run_session(kernel, watchdog, start, got=got, err=err)
    assert log == [("input", "go"), ("puts before True", 2), ("write", errno.ENOBUFS)]
    assert received(b) == b""


def test_input_meter_and_counters(
    kernel: Kernel, watchdog: Watchdog, pair: tuple[socket.socket, socket.socket]
) -> None:
    a, b = pair
    deltas: Log = []
    lines: Log = []
    looks: Log = []

    def start(ctx: Context) -> None:
        w = ctx.heap["w"] = ReadWriteWheel(
            ctx.kernel,
            handle=a,
            input_event="got",
            input_meter=lambda wheel, delta: deltas.append((wheel is ctx.heap.get("w"), delta)),
        )
        looks.append((w.get_read_count(), w.get_input_pending_octets()))
        b.sendall(b"abc")
        ctx.kernel.delay("poll", 0.01)

    def poll(ctx: Context) -> None:
        w = ctx.heap["w"]
        if w.get_read_count() == 1 and len(looks) == 1:
            looks.append((w.get_read_count(), w.get_input_pending_octets()))
            b.sendall(b"def\nxy")
        elif w.get_read_count() == 2:
            looks.append((w.get_read_count(), w.get_input_pending_octets()))
            w.close()
            watchdog.done()
            return
        ctx.kernel.delay("poll", 0.01)

    def got(ctx: Context, line: str, wheel_id: int) -> None:
        lines.append(line)

    run_session(kernel, watchdog, start, poll=poll, got=got)
    assert lines == ["abcdef"]
    assert looks == [(0, 0), (1, 3), (2, 2)]
    # +3 for "abc", -1 when "def\n" took those 3 and left "xy", -2 given back at close
    assert deltas == [(True, 3), (True, -1), (True, -2)]


def test_input_pending_octets_without_a_meter(
    kernel: Kernel, watchdog: Watchdog, pair: tuple[socket.socket, socket.socket]
) -> None:
    a, b = pair
    looks: Log = []

    def start(ctx: Context) -> None:
        ctx.heap["w"] = ReadWriteWheel(ctx.kernel, handle=a, input_event="got")
        b.sendall(b"line\npart")
        ctx.kernel.delay("poll", 0.01)

    def poll(ctx: Context) -> None:
        w = ctx.heap["w"]
        if not w.get_read_count():
            ctx.kernel.delay("poll", 0.01)
            return
        looks.append(w.get_input_pending_octets())
        looks.append(pending_octets(w.get_input_filter()))
        ctx.heap.pop("w").close()
        watchdog.done()

    run_session(kernel, watchdog, start, poll=poll, got=lambda ctx, line, wheel_id: None)
    assert looks == [4, 4]
    # a filter without pending_octets() is measured through get_pending()
    stack = StackableFilter([LineFilter()])
    stack.get_one_start([b"abc"])
    assert pending_octets(stack) == 3


def test_strict_codec_errors_are_read_errors(
    kernel: Kernel, watchdog: Watchdog, pair: tuple[socket.socket, socket.socket]
) -> None:
    """LineFilter(errors="strict") and a map that decodes strictly: "read" errors, not tracebacks."""
    a, b = pair
    c, d = socket.socketpair()
    log: Log = []

    def strict_map(raw: bytes) -> str:
        return raw.decode("utf-8")  # raises UnicodeDecodeError on bad input

    def start(ctx: Context) -> None:
        ctx.heap["line"] = ReadWriteWheel(
            ctx.kernel,
            handle=a,
            filter=LineFilter(errors="strict"),
            input_event="got",
            error_event="err",
        )
        ctx.heap["map"] = ReadWriteWheel(
            ctx.kernel,
            handle=c,
            filter=MapFilter(get=strict_map, put=str.encode),
            input_event="got",
            error_event="err",
        )
        b.sendall(b"\xff\xfe\nok\n")
        d.sendall(b"\xff")

    def got(ctx: Context, record: str, wheel_id: int) -> None:
        log.append(("input", wheel_id == ctx.heap["line"].ID, record))
        done(ctx)

    def err(ctx: Context, operation: str, errnum: int, errstr: str, wheel_id: int) -> None:
        log.append((operation, errnum, wheel_id == ctx.heap["line"].ID))
        done(ctx)

    def done(ctx: Context) -> None:
        if len(log) == 3:
            ctx.heap.pop("line").close()
            ctx.heap.pop("map").close()
            watchdog.done()

    try:
        run_session(kernel, watchdog, start, got=got, err=err)
    finally:
        c.close()
        d.close()
    assert ("read", errno.EILSEQ, True) in log
    assert ("input", True, "ok") in log  # the line after the bad one is still delivered
    assert ("read", errno.EILSEQ, False) in log


def test_watermarks_stop_a_batching_handler_and_drain(
    kernel: Kernel, watchdog: Watchdog, pair: tuple[socket.socket, socket.socket]
) -> None:
    a, b = pair
    log: Log = []

    def start(ctx: Context) -> None:
        ctx.heap["w"] = ReadWriteWheel(
            ctx.kernel,
            handle=a,
            input_event="got",
            high_mark=1000,
            low_mark=100,
            high_event="high",
            low_event="low",
            max_output=10_000,
        )
        b.sendall(b"go\n")

    def got(ctx: Context, line: str, wheel_id: int) -> None:
        w = ctx.heap["w"]
        puts = 1
        while puts < 100 and not w.put(f"{puts:03d}" + "x" * 97):  # 102 octets a line
            puts += 1
        log.append(("puts", puts))

    def high(ctx: Context, wheel_id: int) -> None:
        log.append("high")

    def low(ctx: Context, wheel_id: int) -> None:
        log.append("low")
        ctx.heap.pop("w").close()
        watchdog.done()

    run_session(kernel, watchdog, start, got=got, high=high, low=low)
    assert log == ["high", ("puts", 10), "low"]  # 10 lines reach 1020 >= 1000
    data = received(b).decode()
    assert data.split("\r\n")[:-1] == [f"{i:03d}" + "x" * 97 for i in range(1, 11)]
