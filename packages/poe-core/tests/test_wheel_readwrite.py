"""POE::Wheel::ReadWrite: port of t/20_resources/... wheel_readwrite and t/90_regression 99_filterchange.

Constructor validation, input/flushed/error dispatch (EOF is ``("read", 0, "", id)``),
watermarks with a mock driver (with the documented deviation: HighEvent is emitted when ``put``
crosses the high mark), pause/resume, filter switching without losing input, shutdown_*.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import os
import socket
from collections.abc import Iterable, Iterator
from typing import Any

import pytest

from poe.errors import InvalidArgument, NotInSession
from poe.filter import LineFilter, StreamFilter
from poe.kernel import Kernel
from poe.session import Context, Session
from poe.wheel import ReadWriteWheel

Log = list[Any]


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    a, b = socket.socketpair()
    with a, b:
        yield a, b


def run_session(kernel: Kernel, start: Any, **states: Any) -> dict[str, Any]:
    heap: dict[str, Any] = {}
    Session.create(kernel, inline_states={"_start": start, **states}, heap=heap)
    kernel.run()
    return heap


class MockDriver:
    """A driver whose flush writes at most ``step`` octets, and that can be told to fail."""

    def __init__(self, step: int = 3) -> None:
        self.step = step
        self.out: list[bytes] = []
        self.written = b""
        self.read_error: OSError | None = None
        self.write_error: OSError | None = None
        self.flushes = 0

    def get(self, handle: Any) -> list[bytes] | None:
        if self.read_error is not None:
            raise self.read_error
        data = handle.recv(65536)
        return [data] if data else None

    def put(self, chunks: Iterable[bytes]) -> int:
        self.out.extend(chunk for chunk in chunks if chunk)
        return self.get_out_octets_buffered()

    def flush(self, handle: Any) -> int:
        self.flushes += 1
        if self.write_error is not None:
            raise self.write_error
        data = b"".join(self.out)
        self.written += data[: self.step]
        rest = data[self.step :]
        self.out = [rest] if rest else []
        return len(rest)

    def get_out_messages_buffered(self) -> int:
        return len(self.out)

    def get_out_octets_buffered(self) -> int:
        return sum(map(len, self.out))


# -- constructor validation -------------------------------------------------------------------


def test_constructor_validation(kernel: Kernel, pair: tuple[socket.socket, socket.socket]) -> None:
    a, _b = pair
    errors: Log = []

    def start(ctx: Context) -> None:
        k = ctx.kernel
        bad: list[dict[str, Any]] = [
            {},
            {"input_handle": a},
            {"handle": a, "input_handle": a, "output_handle": a},
            {"handle": a, "filter": LineFilter(), "input_filter": LineFilter()},
            {"handle": a, "high_mark": 10},
            {"handle": a, "high_mark": 10, "low_mark": 5},
            {"handle": a, "high_mark": 10, "low_mark": 5, "high_event": "h"},
            {"handle": a, "high_mark": 0, "low_mark": 0, "high_event": "h", "low_event": "l"},
            {"handle": a, "low_mark": 5, "low_event": "l"},
            {"handle": a, "high_event": "h"},
        ]
        for params in bad:
            with pytest.raises(InvalidArgument) as info:
                ReadWriteWheel(k, **params)
            errors.append(str(info.value))
        with pytest.raises(InvalidArgument):
            ReadWriteWheel("kernel", handle=a)  # type: ignore[arg-type]
        wheel = ReadWriteWheel(k, handle=a, high_mark=10, low_mark=5, high_event="h", low_event="l")
        assert isinstance(wheel.ID, int)
        assert wheel.get_input_handle() is a
        assert wheel.get_output_handle() is a
        # a missing filter defaults to one shared LineFilter
        assert wheel.get_input_filter() is wheel.get_output_filter()
        assert isinstance(wheel.get_input_filter(), LineFilter)
        with pytest.raises(InvalidArgument):
            wheel.set_high_mark(5)
        with pytest.raises(InvalidArgument):
            wheel.set_low_mark(10)
        wheel.set_high_mark(20)
        wheel.set_low_mark(15)
        with pytest.raises(InvalidArgument):
            wheel.event(bogus_event="x")
        wheel.close()
        plain = ReadWriteWheel(k, handle=a)
        with pytest.raises(InvalidArgument):
            plain.set_high_mark(100)
        with pytest.raises(InvalidArgument):
            plain.event(high_event="h")
        plain.close()

    run_session(kernel, start)
    assert len(errors) == 10
    assert all("Water mark errors" in e for e in errors[4:])


def test_outside_a_session_is_refused(
    kernel: Kernel, pair: tuple[socket.socket, socket.socket]
) -> None:
    with pytest.raises(NotInSession):
        ReadWriteWheel(kernel, handle=pair[0])


def test_wheel_ids_are_unique_and_increasing(
    kernel: Kernel, pair: tuple[socket.socket, socket.socket]
) -> None:
    ids: list[int] = []

    def start(ctx: Context) -> None:
        wheels = [ReadWriteWheel(ctx.kernel, handle=pair[0]) for _ in range(3)]
        ids.extend(w.ID for w in wheels)
        for w in wheels:
            w.close()

    run_session(kernel, start)
    assert ids == sorted(ids)
    assert len(set(ids)) == 3


# -- input, flushed, EOF --------------------------------------------------------------------


def test_lines_flushed_and_eof(kernel: Kernel, pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    log: Log = []

    def start(ctx: Context) -> None:
        k = ctx.kernel
        ctx.heap["a"] = ReadWriteWheel(k, handle=a, flushed_event="a_flushed")
        ctx.heap["b"] = ReadWriteWheel(k, handle=b, input_event="b_input", error_event="b_error")
        ctx.heap["ids"] = (ctx.heap["a"].ID, ctx.heap["b"].ID)
        assert ctx.heap["a"].put("one", "two") is False
        ctx.heap["a"].put("three")

    def a_flushed(ctx: Context, wheel_id: int) -> None:
        assert wheel_id == ctx.heap["ids"][0]
        log.append(("flushed",))
        if ctx.heap.get("done"):
            ctx.heap["a"].shutdown_output()
            ctx.heap.pop("a").close()

    def b_input(ctx: Context, line: str, wheel_id: int) -> None:
        assert wheel_id == ctx.heap["ids"][1]
        log.append(("input", line))
        if line == "three":
            ctx.heap["done"] = True
            ctx.heap["a"].put("four")

    def b_error(ctx: Context, op: str, code: int, text: str, wheel_id: int) -> None:
        log.append(("error", op, code, text, wheel_id == ctx.heap["ids"][1]))
        ctx.heap.pop("b").close()

    run_session(kernel, start, a_flushed=a_flushed, b_input=b_input, b_error=b_error)
    inputs = [entry[1] for entry in log if entry[0] == "input"]
    assert inputs == ["one", "two", "three", "four"]
    assert log[-1] == ("error", "read", 0, "", True)
    assert ("flushed",) in log


def test_input_event_none_does_not_read(
    kernel: Kernel, pair: tuple[socket.socket, socket.socket]
) -> None:
    a, b = pair
    log: Log = []

    def start(ctx: Context) -> None:
        ctx.heap["w"] = ReadWriteWheel(ctx.kernel, handle=a, flushed_event="flushed")
        b.sendall(b"ignored\r\n")
        ctx.heap["w"].put("x")

    def flushed(ctx: Context, wheel_id: int) -> None:
        log.append("flushed")
        # enabling input afterwards starts reading what was waiting
        ctx.heap["w"].event(input_event="got", flushed_event=None)

    def got(ctx: Context, line: str, wheel_id: int) -> None:
        log.append(line)
        ctx.heap.pop("w").close()

    run_session(kernel, start, flushed=flushed, got=got)
    assert log == ["flushed", "ignored"]
    assert b.recv(100) == b"x\r\n"


def test_dropping_the_wheel_closes_it(
    kernel: Kernel, pair: tuple[socket.socket, socket.socket]
) -> None:
    log: Log = []

    def start(ctx: Context) -> None:
        ctx.heap["w"] = ReadWriteWheel(ctx.kernel, handle=pair[0], input_event="got")
        ctx.kernel.yield_("drop")

    def drop(ctx: Context) -> None:
        del ctx.heap["w"]  # POE's idiom: the last reference goes, the wheel stops
        gc.collect()

    def stop(ctx: Context) -> None:
        log.append("stopped")

    run_session(kernel, start, drop=drop, _stop=stop)
    assert log == ["stopped"]


def test_context_manager_closes(kernel: Kernel, pair: tuple[socket.socket, socket.socket]) -> None:
    def start(ctx: Context) -> None:
        with ReadWriteWheel(ctx.kernel, handle=pair[0], input_event="got") as wheel:
            before = wheel.closed
        assert (before, wheel.closed) == (False, True)
        wheel.close()  # idempotent

    run_session(kernel, start)


def test_read_and_write_errors(kernel: Kernel, pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    log: Log = []
    driver = MockDriver()

    def start(ctx: Context) -> None:
        ctx.heap["w"] = ReadWriteWheel(
            ctx.kernel, handle=a, driver=driver, input_event="got", error_event="err"
        )
        driver.read_error = ConnectionResetError(errno.ECONNRESET, "Connection reset by peer")
        b.sendall(b"x\r\n")

    def err(ctx: Context, op: str, code: int, text: str, wheel_id: int) -> None:
        log.append((op, code, text))
        if op == "read":
            driver.write_error = BrokenPipeError(errno.EPIPE, "Broken pipe")
            ctx.heap["w"].put("data")
        else:
            ctx.heap.pop("w").close()

    run_session(kernel, start, err=err, got=lambda ctx, *a: log.append(a))
    assert log == [
        ("read", errno.ECONNRESET, "Connection reset by peer"),
        ("write", errno.EPIPE, "Broken pipe"),
    ]


# -- watermarks -------------------------------------------------------------------------------


def test_watermarks(kernel: Kernel, pair: tuple[socket.socket, socket.socket]) -> None:
    a, _b = pair
    log: Log = []
    driver = MockDriver(step=3)

    def start(ctx: Context) -> None:
        w = ctx.heap["w"] = ReadWriteWheel(
            ctx.kernel,
            handle=a,
            driver=driver,
            filter=StreamFilter(),
            high_mark=10,
            low_mark=4,
            high_event="high",
            low_event="low",
            flushed_event="flushed",
        )
        log.append(("put", w.put(b"12345")))
        log.append(("octets", w.get_driver_out_octets(), w.get_driver_out_messages()))
        # crossing the high mark in put() emits HighEvent at once (deviation from POE 1.370)
        log.append(("put", w.put(b"67890AB")))
        log.append(("put", w.put(b"")))

    def high(ctx: Context, wheel_id: int) -> None:
        log.append(("high", ctx.heap["w"].get_driver_out_octets()))

    def low(ctx: Context, wheel_id: int) -> None:
        log.append(("low", ctx.heap["w"].get_driver_out_octets()))

    def flushed(ctx: Context, wheel_id: int) -> None:
        log.append(("flushed",))
        ctx.heap.pop("w").close()

    run_session(kernel, start, high=high, low=low, flushed=flushed)
    assert log == [
        ("put", False),
        ("octets", 5, 1),
        ("high", 12),
        ("put", True),
        ("put", True),  # still high: a put below the mark does not reset the state
        ("low", 3),
        ("flushed",),
    ]
    assert driver.written == b"1234567890AB"


def test_auto_flush_writes_inside_put(
    kernel: Kernel, pair: tuple[socket.socket, socket.socket]
) -> None:
    a, b = pair
    seen: Log = []

    def start(ctx: Context) -> None:
        w = ReadWriteWheel(ctx.kernel, handle=a, auto_flush=True, flushed_event="flushed")
        ctx.heap["w"] = w
        w.put("now")
        seen.append(w.get_driver_out_octets())
        seen.append(b.recv(100))

    def flushed(ctx: Context, wheel_id: int) -> None:
        seen.append("flushed")
        ctx.heap.pop("w").close()

    run_session(kernel, start, flushed=flushed)
    assert seen == ["flushed", 0, b"now\r\n"]


def test_auto_flush_partial_write_resumes_the_writer(
    kernel: Kernel, pair: tuple[socket.socket, socket.socket]
) -> None:
    """auto_flush: when the socket takes only part of a put, the rest still goes out later
    (regression: the write watcher stayed paused after a partial flush inside put())."""
    a, b = pair
    data = bytes(range(256)) * 4096  # 1 MiB: more than one write can take
    received = bytearray()
    seen: Log = []

    def start(ctx: Context) -> None:
        w = ReadWriteWheel(
            ctx.kernel,
            handle=a,
            filter=StreamFilter(),
            auto_flush=True,
            flushed_event="flushed",
        )
        ctx.heap["w"] = w
        w.put(data)
        seen.append(0 < w.get_driver_out_octets() < len(data))
        ctx.heap["r"] = ReadWriteWheel(
            ctx.kernel, handle=b, filter=StreamFilter(), input_event="got"
        )

    def got(ctx: Context, chunk: bytes, wheel_id: int) -> None:
        received.extend(chunk)
        if len(received) == len(data):
            ctx.heap.pop("r").close()

    def flushed(ctx: Context, wheel_id: int) -> None:
        seen.append("flushed")
        ctx.heap.pop("w").close()

    run_session(kernel, start, got=got, flushed=flushed)
    assert seen == [True, "flushed"]
    assert bytes(received) == data


# -- pause / resume ---------------------------------------------------------------------------


def test_pause_and_resume_input(kernel: Kernel, pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    log: Log = []

    def start(ctx: Context) -> None:
        ctx.heap["w"] = ReadWriteWheel(ctx.kernel, handle=a, input_event="got")
        b.sendall(b"one\r\n")

    def got(ctx: Context, line: str, wheel_id: int) -> None:
        log.append(line)
        w = ctx.heap["w"]
        if line == "one":
            assert w.pause_input() is True
            b.sendall(b"two\r\n")
            ctx.kernel.yield_("tick", 10)
        else:
            ctx.heap.pop("w").close()

    def tick(ctx: Context, n: int) -> None:
        log.append("tick")
        if n:
            ctx.kernel.yield_("tick", n - 1)
        else:
            assert ctx.heap["w"].resume_input() is True

    run_session(kernel, start, got=got, tick=tick)
    assert log == ["one"] + ["tick"] * 11 + ["two"]


# -- filter changes (99_filterchange) ---------------------------------------------------------


def test_set_filter_mid_stream_loses_nothing(
    kernel: Kernel, pair: tuple[socket.socket, socket.socket]
) -> None:
    a, b = pair
    log: Log = []
    payload = (
        b"".join(b"line %d\r\n" % i for i in range(5)) + b"switch\r\n" + b"raw\x00bytes\r\nmore"
    )

    def start(ctx: Context) -> None:
        ctx.heap["w"] = ReadWriteWheel(ctx.kernel, handle=a, input_event="got")
        b.sendall(payload)
        b.shutdown(socket.SHUT_WR)
        ctx.heap["w"].event(error_event="err")

    def got(ctx: Context, record: Any, wheel_id: int) -> None:
        log.append(record)
        if record == "switch":
            ctx.heap["w"].set_filter(StreamFilter())
            log.append("switched")

    def err(ctx: Context, op: str, code: int, text: str, wheel_id: int) -> None:
        log.append((op, code))
        ctx.heap.pop("w").close()

    run_session(kernel, start, got=got, err=err)
    lines = [f"line {i}" for i in range(5)]
    # the pending input moved into the new filter and was dispatched inside set_filter()
    assert log == [*lines, "switch", b"raw\x00bytes\r\nmore", "switched", ("read", 0)]


def test_set_input_and_output_filters(
    kernel: Kernel, pair: tuple[socket.socket, socket.socket]
) -> None:
    a, b = pair
    log: Log = []

    def start(ctx: Context) -> None:
        w = ctx.heap["w"] = ReadWriteWheel(
            ctx.kernel, handle=a, input_event="got", flushed_event="flushed"
        )
        stream = StreamFilter()
        w.set_output_filter(stream)
        assert w.get_output_filter() is stream
        assert isinstance(w.get_input_filter(), LineFilter)
        w.put(b"raw out")
        b.sendall(b"first\r\nsecond")

    def got(ctx: Context, record: Any, wheel_id: int) -> None:
        log.append(record)
        w = ctx.heap["w"]
        if record == "first":
            w.set_input_filter(LineFilter(literal=b"d"))
        elif record == "secon":
            maybe_close(ctx)

    def flushed(ctx: Context, wheel_id: int) -> None:
        log.append(b.recv(100))
        maybe_close(ctx)

    def maybe_close(ctx: Context) -> None:
        if "secon" in log and b"raw out" in log:
            ctx.heap.pop("w").close()

    run_session(kernel, start, got=got, flushed=flushed)
    assert "first" in log
    assert "secon" in log
    assert b"raw out" in log


# -- shutdown_* and graceful close ------------------------------------------------------------


def test_shutdown_output_gives_the_peer_eof(
    kernel: Kernel, pair: tuple[socket.socket, socket.socket]
) -> None:
    a, b = pair
    log: Log = []

    def start(ctx: Context) -> None:
        ctx.heap["a"] = ReadWriteWheel(ctx.kernel, handle=a, input_event="a_got")
        ctx.heap["b"] = ReadWriteWheel(
            ctx.kernel, handle=b, input_event="b_got", error_event="b_err"
        )
        ctx.heap["a"].shutdown_output()
        ctx.heap["a"].shutdown_input()

    def b_err(ctx: Context, op: str, code: int, text: str, wheel_id: int) -> None:
        log.append((op, code, text))
        ctx.heap.pop("b").close()
        ctx.heap.pop("a").close()

    run_session(kernel, start, b_err=b_err, a_got=log.append, b_got=log.append)
    assert log == [("read", 0, "")]


def test_close_with_flush_writes_everything_first(
    kernel: Kernel, pair: tuple[socket.socket, socket.socket]
) -> None:
    a, b = pair
    data = bytes(range(256)) * 4096  # 1 MiB: more than the socket buffers hold
    received = bytearray()
    log: Log = []
    a_dup, b_dup = a.dup(), b.dup()
    a.close()  # only the dups keep the connection open
    b.close()

    def start(ctx: Context) -> None:
        w = ReadWriteWheel(ctx.kernel, handle=a_dup, filter=StreamFilter())
        w.put(data)
        assert w.get_driver_out_octets() == len(data)
        w.close(flush=True, close_handles=True)
        assert not w.closed  # still draining, kept alive by its handler
        ctx.heap["r"] = ReadWriteWheel(
            ctx.kernel, handle=b_dup, filter=StreamFilter(), input_event="got", error_event="err"
        )

    def got(ctx: Context, chunk: bytes, wheel_id: int) -> None:
        received.extend(chunk)

    def err(ctx: Context, op: str, code: int, text: str, wheel_id: int) -> None:
        log.append((op, code))
        ctx.heap.pop("r").close(close_handles=True)

    run_session(kernel, start, got=got, err=err)
    assert bytes(received) == data
    assert log == [("read", 0)]
    assert a_dup.fileno() == -1
    assert b_dup.fileno() == -1


def test_separate_input_and_output_handles(kernel: Kernel) -> None:
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    log: Log = []

    def start(ctx: Context) -> None:
        w = ctx.heap["w"] = ReadWriteWheel(
            ctx.kernel,
            input_handle=in_r,
            output_handle=out_w,
            input_event="got",
            error_event="err",
            flushed_event="flushed",
        )
        assert (w.get_input_handle(), w.get_output_handle()) == (in_r, out_w)
        os.write(in_w, b"ping\n")
        os.close(in_w)

    def got(ctx: Context, line: str, wheel_id: int) -> None:
        log.append(line)
        ctx.heap["w"].put(line.upper())

    def flushed(ctx: Context, wheel_id: int) -> None:
        log.append(os.read(out_r, 100))

    def err(ctx: Context, op: str, code: int, text: str, wheel_id: int) -> None:
        log.append((op, code))
        ctx.heap.pop("w").close(flush=True, close_handles=True)

    try:
        run_session(kernel, start, got=got, flushed=flushed, err=err)
        rest = os.read(out_r, 100)
        assert os.read(out_r, 100) == b""  # the wheel closed its output handle: EOF
    finally:
        os.close(out_r)
    # EOF may come before or after the flush; the echo is written either way (close(flush=True))
    written = b"".join(x for x in log if isinstance(x, bytes)) + rest
    assert written == b"PING\r\n"
    assert [x for x in log if not isinstance(x, bytes)] == ["ping", ("read", 0)]


def test_refused_input_is_a_read_error_and_later_records_arrive(
    kernel: Kernel, pair: tuple[socket.socket, socket.socket]
) -> None:
    """A line over max_length: ("read", EMSGSIZE, message) once; the lines around it arrive."""
    a, b = pair
    log: Log = []

    def start(ctx: Context) -> None:
        ctx.heap["w"] = ReadWriteWheel(
            ctx.kernel,
            handle=a,
            filter=LineFilter(literal=b"\n", max_length=8),
            input_event="got",
            error_event="err",
        )
        b.sendall(b"ok\n" + b"x" * 20 + b"\nafter\n")
        b.shutdown(socket.SHUT_WR)

    def got(ctx: Context, line: str, wheel_id: int) -> None:
        log.append(("got", line))

    def err(ctx: Context, op: str, code: int, text: str, wheel_id: int) -> None:
        log.append(("err", op, code, "maximum line length" in text))
        if code == 0:
            ctx.heap.pop("w").close()

    run_session(kernel, start, got=got, err=err)
    assert log == [
        ("got", "ok"),
        ("err", "read", errno.EMSGSIZE, True),
        ("got", "after"),
        ("err", "read", 0, False),
    ]


def test_refused_records_in_a_row_each_report_and_the_rest_arrive(
    kernel: Kernel, pair: tuple[socket.socket, socket.socket]
) -> None:
    """Three bad lines in one read: three errors, then the good line, with no more input."""
    a, b = pair
    log: Log = []

    def start(ctx: Context) -> None:
        ctx.heap["w"] = ReadWriteWheel(
            ctx.kernel,
            handle=a,
            filter=LineFilter(literal=b"\n", max_length=8),
            input_event="got",
            error_event="err",
        )
        b.sendall(b"x" * 20 + b"\n" + b"y" * 20 + b"\n" + b"z" * 20 + b"\nafter\n")

    def got(ctx: Context, line: str, wheel_id: int) -> None:
        log.append(("got", line))
        ctx.heap.pop("w").close()  # no end of file: only the first read can deliver "after"

    def err(ctx: Context, op: str, code: int, text: str, wheel_id: int) -> None:
        log.append(("err", op, code))

    run_session(kernel, start, got=got, err=err)
    assert log == [("err", "read", errno.EMSGSIZE)] * 3 + [("got", "after")]


def test_put_in_the_low_event_handler_keeps_writing(
    kernel: Kernel, pair: tuple[socket.socket, socket.socket]
) -> None:
    """The low handler refills the buffer: the write watcher must stay on until it drains."""
    a, b = pair
    b.setblocking(False)
    chunk = b"x" * 60_000
    total = 20
    received = bytearray()

    def fill(heap: dict[str, Any]) -> None:
        while heap["n"] < total:
            heap["n"] += 1
            if heap["w"].put(chunk):  # the high-water state: wait for the low event
                return

    def start(ctx: Context) -> None:
        ctx.heap["n"] = 0
        ctx.heap["w"] = ReadWriteWheel(
            ctx.kernel,
            handle=a,
            filter=StreamFilter(),
            high_mark=100_000,
            low_mark=50_000,
            high_event="high",
            low_event="low",
        )
        fill(ctx.heap)
        ctx.kernel.delay("drain", 0.001)

    def low(ctx: Context, wheel_id: int) -> None:
        ctx.heap["lows"] = ctx.heap.get("lows", 0) + 1
        fill(ctx.heap)

    def drain(ctx: Context) -> None:
        with contextlib.suppress(BlockingIOError):
            while data := b.recv(1 << 20):
                received.extend(data)
        if len(received) < total * len(chunk):
            ctx.kernel.delay("drain", 0.001)
        else:
            ctx.heap.pop("w").close()

    heap = run_session(kernel, start, low=low, drain=drain, high=lambda ctx, wid: None)
    assert heap["lows"] >= 2
    assert bytes(received) == chunk * total


def test_renaming_events_keeps_a_paused_or_finished_input_as_it_is(
    kernel: Kernel, pair: tuple[socket.socket, socket.socket]
) -> None:
    a, b = pair
    log: Log = []

    def start(ctx: Context) -> None:
        w = ctx.heap["w"] = ReadWriteWheel(
            ctx.kernel,
            handle=a,
            filter=LineFilter(literal=b"\n"),
            input_event="got",
            error_event="err",
        )
        w.pause_input()
        w.event(input_event="got2")  # renamed while paused: still paused
        b.sendall(b"one\n")
        ctx.kernel.delay("resume", 0.05)

    def resume(ctx: Context) -> None:
        log.append("resume")
        ctx.heap["w"].resume_input()
        b.shutdown(socket.SHUT_WR)

    def got2(ctx: Context, line: str, wheel_id: int) -> None:
        log.append(line)

    def err(ctx: Context, op: str, code: int, text: str, wheel_id: int) -> None:
        log.append((op, code))
        ctx.heap["w"].event(error_event="err2")  # renamed after EOF: no second EOF
        ctx.kernel.delay("done", 0.05)

    def done(ctx: Context) -> None:
        ctx.heap.pop("w").close()

    run_session(kernel, start, resume=resume, got2=got2, err=err, err2=err, done=done)
    assert log == ["resume", "one", ("read", 0)]


def _read_all(sock: socket.socket) -> bytes:
    sock.settimeout(5)
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def test_lines_put_during_a_read_are_counted_and_ordered_at_once(
    kernel: Kernel, pair: tuple[socket.socket, socket.socket]
) -> None:
    """Replies put by input handlers are serialized together at the end of the read, but
    nothing can tell: octet counts include them, a filter switch and a non-line put keep the
    order and each record's filter, and a handler's exception does not lose them."""
    a, b = pair
    counts: Log = []

    def start(ctx: Context) -> None:
        ctx.heap["w"] = ReadWriteWheel(
            ctx.kernel, handle=a, filter=LineFilter(literal=b"\n"), input_event="got"
        )
        b.sendall(b"one\ntwo\nswitch\nthree\nboom\n")

    def got(ctx: Context, line: str, wheel_id: int) -> None:
        wheel: ReadWriteWheel = ctx.heap["w"]
        if line == "switch":
            wheel.put("before switch")
            wheel.set_output_filter(LineFilter(literal=b"\r\n"))
            wheel.put("", "after switch")  # two records: the general path
            return
        if line == "bye":
            wheel.put("bye")
            wheel.close(flush=True, close_handles=True)
            return
        wheel.put(line.upper())
        counts.append(wheel.get_driver_out_octets())
        if line == "boom":
            msg = "handler failed after its put"
            raise RuntimeError(msg)

    def die(ctx: Context, name: str, info: Any) -> None:
        ctx.kernel.sig_handled()
        b.sendall(b"bye\n")  # the exception ended that read: what follows comes in another

    def start_with_die(ctx: Context) -> None:
        ctx.kernel.sig("DIE", "die")
        start(ctx)

    run_session(kernel, start_with_die, got=got, die=die)
    assert counts == [4, 8, 8 + 14 + 16 + 7, 8 + 14 + 16 + 7 + 6]
    assert _read_all(b) == (
        b"ONE\nTWO\nbefore switch\n\r\nafter switch\r\nTHREE\r\nBOOM\r\nbye\r\n"
    )


def test_a_put_that_fails_raises_in_the_handler_that_made_it(
    kernel: Kernel, pair: tuple[socket.socket, socket.socket]
) -> None:
    """Records a filter cannot serialize are not deferred: the error reaches the caller."""
    a, b = pair
    errors: Log = []

    def start(ctx: Context) -> None:
        ctx.heap["w"] = ReadWriteWheel(
            ctx.kernel,
            handle=a,
            input_filter=LineFilter(literal=b"\n"),
            output_filter=LineFilter(literal=b"\n", encoding="ascii", errors="strict"),
            input_event="got",
        )
        b.sendall(b"caf\xc3\xa9\nok\n")

    def got(ctx: Context, line: str, wheel_id: int) -> None:
        wheel: ReadWriteWheel = ctx.heap["w"]
        for record in (line, b"bytes are not lines"):
            try:
                wheel.put(record)
            except (UnicodeEncodeError, AttributeError) as exc:
                errors.append(type(exc).__name__)
        if line == "ok":
            wheel.close(flush=True, close_handles=True)

    run_session(kernel, start, got=got)
    assert errors == ["UnicodeEncodeError", "AttributeError", "AttributeError"]
    assert _read_all(b) == b"ok\n"
