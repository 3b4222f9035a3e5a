"""Port of POE 1.370 t/10_units/05_filters/99_filterchange.t: switching filters mid-stream.

A ReadWrite wheel reads a scripted stream whose records are framed by Line, fixed-size Block,
length-prefixed Block, Reference (JSON) and finally Stream filters. The input handler switches
the input filter when it sees a command record; the wheel's lazy ``get_one`` contract means the
old filter's pending input moves into the new one and nothing is lost, duplicated or mis-parsed
(checked as the exact list of record types and values). The stream goes over a socketpair and
over a pipe, written in one write (every framing in one read) and one byte at a time.

The output side: a wheel whose output filter is switched between puts (all queued at once, or one
step per flush); a raw reader checks the exact bytes on the wire.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from poe.filter import BlockFilter, Filter, LineFilter, ReferenceFilter, StreamFilter
from poe.kernel import Kernel
from poe.session import Context, Session
from poe.wheel import ReadWriteWheel

# -- the scripted input stream ----------------------------------------------------------------

_LINES_1 = [b"alpha", b"beta", b"gamma", b"switch block 4"]
_BLOCKS_4 = [b"ABCD", b"EF\nG", b"line"]  # b"line": back to the Line filter
_LINES_2 = [b"delta", b"switch block"]
_BLOCKS_P = [b"hello\x00world\n", b"", b"reference"]  # b"reference": to the Reference filter
_REFS: list[Any] = [{"k": [1, 2, {"n": None}]}, [1, "two", 3.5], "line"]  # "line": to Line
_LINES_3 = [b"epsilon", b"switch stream"]
_TAIL = b"tail \x00 bytes\n3\x00abc no framing"

STREAM = (
    b"".join(line + b"\n" for line in _LINES_1)
    + b"".join(_BLOCKS_4)
    + b"".join(line + b"\n" for line in _LINES_2)
    + b"".join(b"%d\x00%s" % (len(block), block) for block in _BLOCKS_P)
    + b"".join(ReferenceFilter().put(_REFS))
    + b"".join(line + b"\n" for line in _LINES_3)
    + _TAIL
)

#: Every framed record, typed, in order (the Stream tail is checked by concatenation).
EXPECTED: list[tuple[type, Any]] = [
    *((str, line.decode()) for line in _LINES_1),
    *((bytes, block) for block in _BLOCKS_4),
    *((str, line.decode()) for line in _LINES_2),
    *((bytes, block) for block in _BLOCKS_P),
    (dict, _REFS[0]),
    (list, _REFS[1]),
    (str, _REFS[2]),
    *((str, line.decode()) for line in _LINES_3),
]


def _next_filter(record: Any) -> Filter[Any, Any] | None:
    """The filter a command record asks for, or None for an ordinary record."""
    commands: dict[Any, Callable[[], Filter[Any, Any]]] = {
        "switch block 4": lambda: BlockFilter(block_size=4),
        "switch block": BlockFilter,
        "switch stream": StreamFilter,
        b"reference": ReferenceFilter,
        b"line": lambda: LineFilter(literal=b"\n"),
        "line": lambda: LineFilter(literal=b"\n"),
    }
    if isinstance(record, dict | list):
        return None
    factory = commands.get(record)
    return None if factory is None else factory()


# -- transports -------------------------------------------------------------------------------


@dataclass
class Transport:
    """The wheel's handles, the far ends a test writes to or reads from, and their cleanup."""

    wheel_args: dict[str, Any]
    write: Callable[[bytes], None]
    read: Callable[[], bytes]
    close_far_write: Callable[[], None]
    closers: list[Callable[[], None]] = field(default_factory=list)


def _make_transport(kind: str) -> Transport:
    if kind == "socketpair":
        near, far = socket.socketpair()
        far.settimeout(10)

        def close_far_write() -> None:
            far.shutdown(socket.SHUT_WR)

        return Transport(
            {"handle": near}, far.sendall, lambda: far.recv(65536), close_far_write,
            [near.close, far.close],
        )  # fmt: skip
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    fds = {"in_w": in_w}

    def write(data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(in_w, view) :]

    def close_in_w() -> None:
        if fds.pop("in_w", None) is not None:
            os.close(in_w)

    def close_fd(fd: int) -> Callable[[], None]:
        def close() -> None:
            with contextlib.suppress(OSError):
                os.close(fd)

        return close

    return Transport(
        {"input_handle": in_r, "output_handle": out_w},
        write,
        lambda: os.read(out_r, 65536),
        close_in_w,
        [close_fd(in_r), close_in_w, close_fd(out_r), close_fd(out_w)],
    )


@pytest.fixture(params=["socketpair", "pipe"])
def transport(request: pytest.FixtureRequest) -> Iterator[Transport]:
    t = _make_transport(request.param)
    try:
        yield t
    finally:
        for close in t.closers:
            close()


#: Pause between the bytewise sender's one-byte writes, so the reader sees tiny reads.
_TICK = 0.0002


# -- input side -------------------------------------------------------------------------------


@pytest.mark.parametrize("writes", ["one_write", "bytewise"])
@pytest.mark.parametrize("setter", ["set_input_filter", "set_filter"])
def test_input_filter_changes_lose_nothing(
    kernel: Kernel, transport: Transport, writes: str, setter: str
) -> None:
    records: list[Any] = []
    errors: list[tuple[str, int]] = []

    def r_start(ctx: Context) -> None:
        ctx.heap["w"] = ReadWriteWheel(
            ctx.kernel,
            **transport.wheel_args,
            input_filter=LineFilter(literal=b"\n"),
            output_filter=StreamFilter(),
            input_event="got",
            error_event="err",
        )

    def got(ctx: Context, record: Any, wheel_id: int) -> None:
        records.append(record)
        new = _next_filter(record)
        if new is not None:
            # records the new filter finds in the pending input are dispatched (and may switch
            # again) inside this call, so the input filter afterwards need not be ``new``
            getattr(ctx.heap["w"], setter)(new)

    def err(ctx: Context, op: str, code: int, text: str, wheel_id: int) -> None:
        errors.append((op, code))
        ctx.heap.pop("w").close()

    def s_start(ctx: Context) -> None:
        if writes == "one_write":
            transport.write(STREAM)
            transport.close_far_write()
        else:
            ctx.heap["i"] = 0
            ctx.kernel.delay("tick", _TICK)

    def tick(ctx: Context) -> None:
        i = ctx.heap["i"]
        if i == len(STREAM):
            transport.close_far_write()
            return
        transport.write(STREAM[i : i + 1])
        ctx.heap["i"] = i + 1
        # a timer paces the sender; with yield_ it works too (I/O is polled between batches)
        ctx.kernel.delay("tick", _TICK)

    Session.create(kernel, inline_states={"_start": r_start, "got": got, "err": err})
    Session.create(kernel, inline_states={"_start": s_start, "tick": tick})
    kernel.run()

    framed = records[: len(EXPECTED)]
    assert [(type(r), r) for r in framed] == EXPECTED
    tail = records[len(EXPECTED) :]
    assert tail
    assert all(isinstance(chunk, bytes) and chunk for chunk in tail)
    assert b"".join(tail) == _TAIL
    assert errors == [("read", 0)]


# -- output side ------------------------------------------------------------------------------

#: (filter to switch to before the put, or None to keep the current one; records to put)
_OUT_STEPS: list[tuple[Callable[[], Filter[Any, Any]] | None, list[Any]]] = [
    (None, ["one", "two"]),
    (lambda: BlockFilter(block_size=4), [b"ABCD", b"EF"]),
    (BlockFilter, [b"xyz", b""]),
    (ReferenceFilter, [{"a": [1, None]}, "s"]),
    (StreamFilter, [b"raw\x00", b"bytes"]),
    (lambda: LineFilter(output_literal=b"|"), ["x", "y"]),
    (LineFilter, ["end"]),
]
_OUT_WIRE = (
    b"one\ntwo\n"
    + b"ABCDEF"
    + b"3\x00xyz0\x00"
    + b'14\x00{"a":[1,null]}3\x00"s"'
    + b"raw\x00bytes"
    + b"x|y|"
    + b"end\r\n"
)


@pytest.mark.parametrize("timing", ["all_queued", "one_per_flush"])
def test_output_filter_changes_frame_each_put(
    kernel: Kernel, transport: Transport, timing: str
) -> None:
    flushes: list[int] = []

    def step(ctx: Context) -> bool:
        """Do the next switch-and-put; False when the script is done."""
        i = ctx.heap["step"]
        if i == len(_OUT_STEPS):
            return False
        factory, records = _OUT_STEPS[i]
        w = ctx.heap["w"]
        if factory is not None:
            new = factory()
            w.set_output_filter(new)
            assert w.get_output_filter() is new
        w.put(*records)
        ctx.heap["step"] = i + 1
        return True

    def start(ctx: Context) -> None:
        ctx.heap["w"] = ReadWriteWheel(
            ctx.kernel,
            **transport.wheel_args,
            input_filter=StreamFilter(),
            output_filter=LineFilter(literal=b"\n"),
            flushed_event="flushed",
        )
        ctx.heap["step"] = 0
        if timing == "all_queued":
            while step(ctx):
                pass
        else:
            step(ctx)

    def flushed(ctx: Context, wheel_id: int) -> None:
        flushes.append(ctx.heap["step"])
        if timing == "all_queued" or not step(ctx):
            ctx.heap.pop("w").close()

    Session.create(kernel, inline_states={"_start": start, "flushed": flushed})
    kernel.run()

    wire = b""
    while len(wire) < len(_OUT_WIRE):
        chunk = transport.read()
        assert chunk
        wire += chunk
    assert wire == _OUT_WIRE
    if timing == "all_queued":
        assert flushes == [len(_OUT_STEPS)]
    else:
        assert flushes == list(range(1, len(_OUT_STEPS) + 1))


# -- a yield_ loop does not starve I/O (POE polls between timeslices) -------------------------


def test_yield_loop_does_not_starve_reads(kernel: Kernel) -> None:
    """A session that keeps yielding while a wheel reads: the reads interleave with the yields.

    Perl POE 1.370 prints ``t0 in1 t1 in1 ... t19 in1`` for the same program: I/O is polled
    between timeslices, so one byte arrives after each tick.
    """
    near, far = socket.socketpair()
    far.setblocking(False)
    log: list[str] = []

    def r_start(ctx: Context) -> None:
        ctx.heap["w"] = ReadWriteWheel(
            ctx.kernel, handle=near, filter=StreamFilter(), input_event="got", error_event="err"
        )

    def got(ctx: Context, chunk: bytes, wheel_id: int) -> None:
        log.append("in")

    def err(ctx: Context, op: str, code: int, text: str, wheel_id: int) -> None:
        ctx.heap.pop("w").close()

    def s_start(ctx: Context) -> None:
        ctx.heap["i"] = 0
        ctx.kernel.yield_("tick")

    def tick(ctx: Context) -> None:
        if ctx.heap["i"] == 20:
            far.shutdown(socket.SHUT_WR)
            return
        far.send(b"x")
        log.append("tick")
        ctx.heap["i"] += 1
        ctx.kernel.yield_("tick")

    with near, far:
        Session.create(kernel, inline_states={"_start": r_start, "got": got, "err": err})
        Session.create(kernel, inline_states={"_start": s_start, "tick": tick})
        kernel.run()
    # POE 1.370 logs t0 in t1 in ... t19 in: each one-byte write is read before the next tick
    assert log.index("in") < log.index("tick") + 3
