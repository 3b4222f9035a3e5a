"""Plain-Python baselines: no event loop at all.

``python bench/peers/python_peer.py BENCH N [--variant NAME]``.

``handler-convention``
    ns per call of a handler doing the same work as poe's ``work`` handler
    (``heap["acc"] += x``). ``--variant bare``: ``work(heap, 1)``, a plain function call.
    ``--variant ctx``: ``work(ctx, *args)`` with a fresh nine-field NamedTuple built per call
    with ``tuple.__new__``, exactly how ``poe.session`` builds its ``Context``; the difference
    between the two is what building and passing a context costs, with no kernel involved.
``startup``
    wall time of ``python -c pass``: the interpreter's own floor under every start-up figure.
``filter-line``
    the ceiling for a line filter: a ``bytes.split(b"\\n")`` loop over the chunks (keeping the
    partial last line), decoding each line to ``str`` and encoding it back with an LF, exactly
    the work ``LineFilter(literal=b"\\n")`` does, with no framework around it.
"""

from __future__ import annotations

import sys
import time
from typing import NamedTuple

from _common import chunked, emit, line_payload, parse_args, time_program


class _Context(NamedTuple):
    """A stand-in with the fields of ``poe.session.Context`` (a NamedTuple, see design.md)."""

    kernel: object
    session: object
    heap: dict[str, int]
    event: str
    sender: object
    args: tuple[int, ...]
    caller_state: str | None = None
    caller_file: str | None = None
    caller_line: int | None = None


def _work_bare(heap: dict[str, int], x: int) -> None:
    heap["acc"] += x


def _work_ctx(ctx: _Context, x: int) -> None:
    ctx.heap["acc"] += x


def handler_convention(n: int, variant: str) -> None:
    """ns per handler call, ``bare`` or through a per-call context object (``ctx``)."""
    heap = {"acc": 0}
    if variant == "bare":
        work_bare = _work_bare
        start = time.perf_counter()
        for _ in range(n):
            work_bare(heap, 1)
        elapsed = time.perf_counter() - start
        note = "handler(heap, x)"
    else:
        work_ctx = _work_ctx
        tuple_new = tuple.__new__
        kernel, session = object(), object()
        start = time.perf_counter()
        for _ in range(n):
            args = (1,)
            ctx = tuple_new(
                _Context,
                (kernel, session, heap, "work", session, args, "work", None, None),
            )
            work_ctx(ctx, *args)
        elapsed = time.perf_counter() - start
        note = "handler(ctx, *args), a fresh 9-field NamedTuple per call"
    if heap["acc"] != n:
        msg = f"did {heap['acc']} calls, expected {n}"
        raise AssertionError(msg)
    emit(elapsed / n * 1e9, "ns/event", note)


def startup(n: int) -> None:
    """Median wall time of ``python -c pass`` over ``n`` spawns (milliseconds)."""
    wall, rss = time_program([sys.executable, "-c", "pass"], n)
    emit(wall * 1e3, "ms", f"max RSS {rss:.1f} MiB")


def filter_line(n: int) -> None:
    """Lines per second split (and decoded) with ``bytes.split``, then encoded back."""
    payload = line_payload(n)
    chunks = chunked(payload)
    records: list[str] = []
    extend = records.extend
    start = time.perf_counter()
    buffer = b""
    for chunk in chunks:
        lines = (buffer + chunk).split(b"\n")
        buffer = lines.pop()
        extend([line.decode("utf-8", "replace") for line in lines])
    middle = time.perf_counter()
    out = [line.encode("utf-8", "replace") + b"\n" for line in records]
    end = time.perf_counter()
    if len(records) != n or b"".join(out) != payload:
        msg = f"got {len(records)} lines of {n}, or put did not give the input back"
        raise AssertionError(msg)
    get_s, put_s = middle - start, end - middle
    emit(
        n / (get_s + put_s),
        "lines/s",
        f"split + decode/encode per line; get {n / get_s / 1e6:.2f}M/s, put {n / put_s / 1e6:.2f}M/s",
    )


if __name__ == "__main__":
    args = parse_args(("filter-line", "handler-convention", "startup"), variants=("bare", "ctx"))
    if args.bench == "startup":
        startup(args.n)
    elif args.bench == "filter-line":
        filter_line(args.n)
    else:
        handler_convention(args.n, args.variant or "bare")
