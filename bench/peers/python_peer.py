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
"""

from __future__ import annotations

import sys
import time
from typing import NamedTuple

from _common import emit, parse_args, time_program


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


if __name__ == "__main__":
    args = parse_args(("handler-convention", "startup"), variants=("bare", "ctx"))
    if args.bench == "startup":
        startup(args.n)
    else:
        handler_convention(args.n, args.variant or "bare")
