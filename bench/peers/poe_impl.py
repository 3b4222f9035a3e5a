"""poe's side of every benchmark, written the way a poe program would be.

``python bench/peers/poe_impl.py BENCH N [--loop asyncio|uvloop|select] [--variant NAME]``

poe is imported from the installed distribution when there is one, else from
``packages/poe-core/src`` of this checkout. ``--loop`` picks the backend (``Kernel(loop=NAME)``);
without it the kernel's default is used (``POE_EVENT_LOOP``, else asyncio).

``python bench/peers/poe_impl.py probe 0`` prints where poe came from and which loops can be
built; the harness uses it to decide what is measurable.

The TCP benchmarks (``tcp-echo-pipelined``, ``tcp-echo-rr``, ``tcp-idle``) run a
``poe.tcp.TCPServer`` line echo (from the installed ``poe-tcp``, else ``packages/poe-tcp/src``)
against the C load client (see ``_tcp.py``). The attack benchmarks (``attack-unterminated``,
``attack-nonreader``, ``attack-slowloris``) run a ``TCPServer`` as the docs write it (the
default ``LineFilter()``, no limits given) against an attacker (see ``_attack.py``);
``--variant 64MiB`` raises ``max_length`` to 64 MiB (attack-unterminated: the parser's cost on
a long unterminated line), ``--variant slowloris`` adds 1,000 slowloris connections.

Every benchmark starts its clock in an event handler, once ``kernel.run()`` is dispatching, and
stops it in the handler that finishes the work, so neither kernel construction nor teardown is
counted (the peers do the same).
"""

from __future__ import annotations

import errno
import gc
import json
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import TYPE_CHECKING

import _attack
import _tcp
from _common import (
    SESSION_BATCH,
    accept_echo_connection,
    chunked,
    echo_client_seconds,
    echo_listener,
    emit,
    line_payload,
    parse_args,
    start_echo_client,
    time_program,
    timer_delay,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from poe.kernel import Kernel
    from poe.session import Context

#: Where the in-tree poe lives: bench/peers/poe_impl.py -> <root>/packages/poe-core/src
SRC = Path(__file__).resolve().parents[2] / "packages" / "poe-core" / "src"

#: Where the in-tree poe.tcp lives (a namespace portion of ``poe`` next to poe-core's).
TCP_SRC = SRC.parents[1] / "poe-tcp" / "src"

LOOPS = ("asyncio", "uvloop", "select")

#: The minimal poe program of the ``startup`` benchmark: one session that yields once.
STARTUP_PROGRAM = """\
import poe.kernel, poe.session
k = poe.kernel.Kernel(loop={loop!r})
poe.session.Session.create(k, inline_states={{
    "_start": lambda ctx: ctx.kernel.yield_("once"),
    "once": lambda ctx: None,
}})
k.run()
"""

#: Set by :func:`_import_poe`: True when poe is not installed and comes from :data:`SRC`.
_ORIGIN = {"from_tree": False}


def _import_poe() -> None:
    """Make ``import poe.kernel`` work: the installed poe, else this checkout's source."""
    try:
        import poe.kernel
    except ImportError:
        for name in [m for m in sys.modules if m == "poe" or m.startswith("poe.")]:
            del sys.modules[name]
        sys.path.insert(0, str(SRC))
        _ORIGIN["from_tree"] = True
    try:
        import poe.tcp  # noqa: F401
    except ImportError:
        # poe is a namespace package: a path added now is picked up by the next import
        sys.path.insert(1, str(TCP_SRC))


def _kernel(loop: str | None) -> Kernel:
    from poe.kernel import Kernel

    return Kernel(loop=loop)


def _session(
    kernel: Kernel,
    states: Mapping[str, Callable[..., object]],
    args: tuple[object, ...] = (),
) -> None:
    from poe.session import Session

    Session.create(kernel, inline_states=states, args=args)


def dispatch(loop: str | None, n: int) -> None:
    """One handler re-scheduling itself with ``yield_`` ``n`` times (events/s)."""
    kernel = _kernel(loop)
    clock: dict[str, float] = {}

    def start(ctx: Context) -> None:
        ctx.kernel.yield_("go")

    def go(ctx: Context) -> None:
        ctx.heap["left"] = n
        clock["start"] = time.perf_counter()
        ctx.kernel.yield_("tick")

    def tick(ctx: Context) -> None:
        heap = ctx.heap
        left = heap["left"] - 1
        heap["left"] = left
        if left:
            ctx.kernel.yield_("tick")
        else:
            clock["end"] = time.perf_counter()

    _session(kernel, {"_start": start, "go": go, "tick": tick})
    kernel.run()
    emit(n / (clock["end"] - clock["start"]), "events/s")


def pingpong(loop: str | None, n: int) -> None:
    """Two sessions bouncing an event with ``post`` to the sender, ``n`` events (events/s)."""
    kernel = _kernel(loop)
    clock: dict[str, float] = {}

    def bounce(ctx: Context, count: int, reply: str) -> None:
        if count >= n:
            clock["end"] = time.perf_counter()
            ctx.kernel.stop()
        else:
            ctx.kernel.post(ctx.sender, reply, count + 1)

    def pong_start(ctx: Context) -> None:
        ctx.kernel.alias_set("pong")

    def on_ping(ctx: Context, count: int) -> None:
        bounce(ctx, count, "pong")

    def ping_start(ctx: Context) -> None:
        ctx.kernel.alias_set("ping")
        ctx.kernel.yield_("go")

    def go(ctx: Context) -> None:
        clock["start"] = time.perf_counter()
        ctx.kernel.post("pong", "ping", 1)

    def on_pong(ctx: Context, count: int) -> None:
        bounce(ctx, count, "ping")

    _session(kernel, {"_start": pong_start, "ping": on_ping})
    _session(kernel, {"_start": ping_start, "go": go, "pong": on_pong})
    kernel.run()
    emit(n / (clock["end"] - clock["start"]), "events/s")


def call(loop: str | None, n: int) -> None:
    """Synchronous ``kernel.call`` into another session, ``n`` times (calls/s)."""
    kernel = _kernel(loop)
    clock: dict[str, float] = {}

    def callee_start(ctx: Context) -> None:
        ctx.kernel.alias_set("callee")

    def add(ctx: Context, x: int) -> int:
        return x + 1

    def caller_start(ctx: Context) -> None:
        ctx.kernel.yield_("go")

    def go(ctx: Context) -> None:
        k = ctx.kernel
        callee = k.alias_resolve("callee")
        kcall = k.call
        start = time.perf_counter()
        for i in range(n):
            kcall(callee, "add", i)
        clock["rate"] = n / (time.perf_counter() - start)
        if kcall(callee, "add", 41) != 42:  # the return value makes it back
            msg = "kernel.call did not return the handler's value"
            raise AssertionError(msg)
        k.stop()

    _session(kernel, {"_start": callee_start, "add": add})
    _session(kernel, {"_start": caller_start, "go": go})
    kernel.run()
    emit(clock["rate"], "calls/s")


def timers(loop: str | None, n: int) -> None:
    """``n`` ``delay_set`` timers over one second, all firing (CPU microseconds per timer)."""
    kernel = _kernel(loop)
    clock: dict[str, float] = {}
    fired = 0

    def start(ctx: Context) -> None:
        ctx.kernel.yield_("go")

    def go(ctx: Context) -> None:
        delay_set = ctx.kernel.delay_set
        clock["cpu_start"] = time.process_time()
        wall = time.perf_counter()
        for i in range(n):
            delay_set("ring", timer_delay(i, n))
        clock["set_rate"] = n / (time.perf_counter() - wall)

    def ring(ctx: Context) -> None:
        nonlocal fired
        fired += 1
        if fired == n:
            clock["cpu_end"] = time.process_time()

    _session(kernel, {"_start": start, "go": go, "ring": ring})
    kernel.run()
    if fired != n:
        msg = f"{fired} of {n} timers fired"
        raise AssertionError(msg)
    per_timer = (clock["cpu_end"] - clock["cpu_start"]) / n * 1e6
    emit(per_timer, "us/timer", f"set {clock['set_rate'] / 1e3:.0f}k/s")


def sessions(loop: str | None, n: int) -> None:
    """Sessions created and destroyed per second: batches of children that yield once each."""
    kernel = _kernel(loop)
    clock: dict[str, float] = {}
    made = 0
    stopped = 0

    def child_start(ctx: Context) -> None:
        ctx.kernel.yield_("work")

    def child_work(ctx: Context) -> None:
        pass

    def child_stop(ctx: Context) -> None:
        nonlocal stopped
        stopped += 1
        if stopped == n:
            clock["end"] = time.perf_counter()

    child_states = {"_start": child_start, "work": child_work, "_stop": child_stop}

    def start(ctx: Context) -> None:
        ctx.kernel.yield_("batch")

    def batch(ctx: Context) -> None:
        nonlocal made
        clock.setdefault("start", time.perf_counter())
        count = min(SESSION_BATCH, n - made)
        for _ in range(count):
            _session(ctx.kernel, child_states)
        made += count
        if made < n:
            ctx.kernel.yield_("batch")

    _session(kernel, {"_start": start, "batch": batch})
    kernel.run()
    if stopped != n:
        msg = f"{stopped} of {n} sessions stopped"
        raise AssertionError(msg)
    emit(
        n / (clock["end"] - clock["start"]),
        "sessions/s",
        f"one yield each, batches of {SESSION_BATCH}",
    )


def idle_sessions(loop: str | None, n: int) -> None:
    """Bytes per idle session that holds only an alias, by tracemalloc delta."""
    tracemalloc.start()
    kernel = _kernel(loop)
    result: dict[str, float] = {}

    def child_start(ctx: Context, alias: str) -> None:
        ctx.kernel.alias_set(alias)

    child_states = {"_start": child_start}

    def start(ctx: Context) -> None:
        ctx.kernel.yield_("build")

    def build(ctx: Context) -> None:
        gc.collect()
        ctx.heap["before"] = tracemalloc.get_traced_memory()[0]
        for i in range(n):
            _session(ctx.kernel, child_states, args=(f"idle-{i}",))
        ctx.kernel.yield_("measure")  # measure once the kernel is back in its loop

    def measure(ctx: Context) -> None:
        gc.collect()
        result["per_session"] = (tracemalloc.get_traced_memory()[0] - ctx.heap["before"]) / n
        ctx.kernel.stop()

    _session(kernel, {"_start": start, "build": build, "measure": measure})
    kernel.run()
    tracemalloc.stop()
    emit(result["per_session"], "bytes", "alias-only session (tracemalloc)")


def handler_convention(loop: str | None, n: int, variant: str) -> None:
    """ns per dispatched event whose handler does ``ctx.heap["acc"] += x``.

    Variants: ``call`` (``kernel.call`` to the session itself, synchronous, no queue) and
    ``yield`` (a ``yield_`` chain through the queue and the loop).
    """
    kernel = _kernel(loop)
    clock: dict[str, float] = {}

    def start(ctx: Context) -> None:
        ctx.heap["acc"] = 0
        ctx.heap["left"] = n
        ctx.kernel.yield_("go")

    def work(ctx: Context, x: int) -> None:
        ctx.heap["acc"] += x

    def chained(ctx: Context, x: int) -> None:
        heap = ctx.heap
        heap["acc"] += x
        left = heap["left"] - 1
        heap["left"] = left
        if left:
            ctx.kernel.yield_("chained", 1)
        else:
            clock["end"] = time.perf_counter()

    def go(ctx: Context) -> None:
        if variant == "yield":
            clock["start"] = time.perf_counter()
            ctx.kernel.yield_("chained", 1)
            return
        me = ctx.session
        kcall = ctx.kernel.call
        start = time.perf_counter()
        for _ in range(n):
            kcall(me, "work", 1)
        clock["end"] = time.perf_counter()
        clock["start"] = start

    _session(kernel, {"_start": start, "go": go, "work": work, "chained": chained})
    kernel.run()
    emit((clock["end"] - clock["start"]) / n * 1e9, "ns/event", NOTES[variant])


NOTES = {
    "call": "kernel.call(self) -> handler(ctx, x)",
    "yield": "yield_ chain -> handler(ctx, x)",
}


def filter_line(n: int, variant: str) -> None:
    """Lines per second through ``LineFilter.get()`` then ``put()``; no event loop involved.

    Variants: ``literal`` (``LineFilter(literal=b"\\n")``) and ``default`` (``LineFilter()``: any
    of CR, LF, CRLF, LFCR in, CRLF out). The same ``n`` lines arrive in ~64 KiB chunks; every
    record comes back through ``put``. The figure is ``n`` over get time plus put time.
    """
    from poe.filter import LineFilter

    payload = line_payload(n)
    chunks = chunked(payload)
    filt = LineFilter(literal=b"\n") if variant == "literal" else LineFilter()
    get, put = filt.get, filt.put
    records: list[str] = []
    start = time.perf_counter()
    for chunk in chunks:
        records.extend(get([chunk]))
    middle = time.perf_counter()
    out = put(records)
    end = time.perf_counter()
    if len(records) != n:
        msg = f"got {len(records)} lines, expected {n}"
        raise AssertionError(msg)
    expected = payload if variant == "literal" else payload.replace(b"\n", b"\r\n")
    if b"".join(out) != expected:
        msg = "put did not give the input back"
        raise AssertionError(msg)
    get_s, put_s = middle - start, end - middle
    emit(
        n / (get_s + put_s),
        "lines/s",
        f"{FILTER_NOTES[variant]}; get {n / get_s / 1e6:.2f}M/s, put {n / put_s / 1e6:.2f}M/s",
    )


FILTER_NOTES = {
    "literal": 'LineFilter(literal=b"\\n")',
    "default": "LineFilter(): CR|LF|CRLF|LFCR in, CRLF out",
}


def readwrite_echo(loop: str | None, n: int) -> None:
    """Echo server: a ReadWriteWheel with a LineFilter puts back every line it gets (lines/s).

    The load driver (``_echo_client.py``) is a separate process started from inside the
    running kernel; it sends ``n`` lines over 127.0.0.1 TCP and times the whole exchange.
    """
    from poe.filter import LineFilter
    from poe.wheel import ReadWriteWheel

    kernel = _kernel(loop)
    listener, port = echo_listener()
    state: dict[str, object] = {}

    def start(ctx: Context) -> None:
        ctx.kernel.yield_("go")

    def go(ctx: Context) -> None:
        state["client"] = start_echo_client(port, n)
        conn = accept_echo_connection(listener)
        ctx.heap["conn"] = conn
        ctx.heap["wheel"] = ReadWriteWheel(
            ctx.kernel,
            handle=conn,
            input_event="line",
            error_event="error",
            filter=LineFilter(literal=b"\n"),
        )

    def line(ctx: Context, text: str, wheel_id: int) -> None:
        ctx.heap["wheel"].put(text)

    def error(ctx: Context, operation: str, code: int, text: str, wheel_id: int) -> None:
        ctx.heap.pop("wheel").close()
        ctx.heap.pop("conn").close()

    _session(kernel, {"_start": start, "go": go, "line": line, "error": error})
    kernel.run()
    client = state["client"]
    assert isinstance(client, subprocess.Popen)
    emit(n / echo_client_seconds(client), "lines/s", 'ReadWriteWheel + LineFilter(literal=b"\\n")')


def _echo_input(ctx: Context, line: str) -> None:
    """The per-line callback of the TCP echo server: put the line back."""
    ctx.heap["client"].put(line)


def tcp(loop: str | None, bench: str, n: int) -> None:
    """The TCP benchmarks (see ``_tcp.py``) against a ``TCPServer`` line echo.

    ``client_filter`` is ``LineFilter(literal=b"\\n")`` (the default ``LineFilter()`` would put
    the lines back with CRLF, and the client checks the echo byte for byte), as Perl's peer
    gives ``POE::Filter::Line`` ``Literal => "\\n"``.
    """
    from poe.filter import LineFilter
    from poe.tcp import TCPServer

    kernel = _kernel(loop)
    server = TCPServer(
        kernel,
        port=0,
        address="127.0.0.1",
        client_input=_echo_input,
        client_filter=LineFilter(literal=b"\n"),
    )
    state: dict[str, _tcp.LoadRun] = {}

    def start(ctx: Context) -> None:
        ctx.kernel.yield_("go")

    def go(ctx: Context) -> None:
        if server.port is None:
            msg = "TCPServer did not bind"
            raise RuntimeError(msg)
        state["run"] = _tcp.LoadRun(bench, server.port, n)
        ctx.kernel.delay("tick", _tcp.TICK)

    def tick(ctx: Context) -> None:
        if state["run"].tick():
            ctx.kernel.stop()
        else:
            ctx.kernel.delay("tick", _tcp.TICK)

    _session(kernel, {"_start": start, "go": go, "tick": tick})
    kernel.run()
    state["run"].report("TCPServer, LineFilter(LF), client_input puts")


ATTACKS = ("attack-unterminated", "attack-nonreader", "attack-slowloris")


def attack(loop: str | None, bench: str, n: int, variant: str | None) -> None:
    """The attack benchmarks (see ``_attack.py``) against a ``TCPServer`` line server.

    The server is the one ``docs/components/tcp_server.rst`` writes: ``TCPServer(kernel,
    address=..., port=0, client_input=...)`` with the default ``LineFilter()``; the callbacks
    only record what happened (``client_connected``, ``client_error``,
    ``client_disconnected``). ``attack-unterminated`` counts the bytes fed to the filter (a
    ``LineFilter`` subclass adding one addition per read); ``attack-nonreader`` echoes every
    line; ``attack-slowloris`` echoes every line back (LF) under the C load client.
    """
    from poe.filter import LineFilter
    from poe.tcp import TCPServer

    kernel = _kernel(loop)
    probe: _attack.Unterminated | _attack.NonReader | None = None
    runs: dict[str, _tcp.LoadRun] = {}

    class CountingLineFilter(LineFilter):
        """The default LineFilter, counting what it is fed (a clone counts into the same probe)."""

        __slots__ = ()

        def get_one_start(self, chunks: Iterable[bytes]) -> None:
            chunks = list(chunks)
            assert isinstance(probe, _attack.Unterminated)
            probe.consumed(sum(map(len, chunks)))
            super().get_one_start(chunks)

    def connected(ctx: Context) -> None:
        if probe is not None:
            probe.connected()

    def client_error(ctx: Context, operation: str, errnum: int, errstr: str) -> None:
        if probe is not None and errnum:
            probe.lost(f"client_error {operation} {errno.errorcode.get(errnum, errnum)}")

    def disconnected(ctx: Context) -> None:
        if probe is not None:
            probe.lost("closed")

    def nonreader_input(ctx: Context, line: str) -> None:
        ctx.heap["client"].put(line)
        assert isinstance(probe, _attack.NonReader)
        probe.consumed()

    if bench == "attack-unterminated":
        raised = variant == "64MiB"
        what = "TCPServer, LineFilter(" + ("max_length=64 MiB" if raised else "") + ")"
        server = TCPServer(
            kernel,
            address="127.0.0.1",
            port=0,
            client_input=lambda ctx, line: None,
            client_filter=CountingLineFilter(max_length=64 * _attack.MIB)
            if raised
            else CountingLineFilter(),
            client_connected=connected,
            client_error=client_error,
            client_disconnected=disconnected,
        )
    elif bench == "attack-nonreader":
        what = "TCPServer, LineFilter(), client_input puts"
        server = TCPServer(
            kernel,
            address="127.0.0.1",
            port=0,
            client_input=nonreader_input,
            client_connected=connected,
            client_error=client_error,
            client_disconnected=disconnected,
        )
    else:
        slow = 1000 if variant == "slowloris" else 0
        what = "TCPServer, LineFilter(LF), client_input puts"
        server = TCPServer(
            kernel,
            address="127.0.0.1",
            port=0,
            client_input=_echo_input,
            client_filter=LineFilter(literal=b"\n"),
        )

    def start(ctx: Context) -> None:
        ctx.kernel.yield_("go")

    def go(ctx: Context) -> None:
        nonlocal probe
        port = server.port
        if port is None:
            msg = "TCPServer did not bind"
            raise RuntimeError(msg)
        if bench == "attack-unterminated":
            probe = _attack.Unterminated(port, n)
        elif bench == "attack-nonreader":
            probe = _attack.NonReader(port, n)
        else:
            runs["run"] = _tcp.LoadRun(
                bench, port, n, slow=slow, accepted=lambda: server.connections
            )
        ctx.kernel.delay("tick", _tcp.TICK)

    def tick(ctx: Context) -> None:
        done = probe.tick() if probe is not None else runs["run"].tick()
        if done:
            ctx.kernel.stop()
        else:
            ctx.kernel.delay("tick", _tcp.TICK)

    _session(kernel, {"_start": start, "go": go, "tick": tick})
    kernel.run()
    if probe is not None:
        probe.report(what)
    else:
        runs["run"].report(what)


def startup(loop: str | None, n: int) -> None:
    """Median wall time of the minimal poe program over ``n`` spawns (milliseconds)."""
    env = dict(os.environ)
    if _ORIGIN["from_tree"]:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), env.get("PYTHONPATH")) if p)
    program = STARTUP_PROGRAM.format(loop=loop)
    wall, rss = time_program([sys.executable, "-c", program], n, env)
    emit(wall * 1e3, "ms", f"max RSS {rss:.1f} MiB")


def probe() -> None:
    """Print where poe comes from and which loop backends can be built (JSON)."""
    import poe.kernel
    import poe.session
    from poe.loop import available_loops

    del poe.session  # imported only to prove that it imports
    origin = str(Path(poe.kernel.__file__ or "?").resolve().parent)
    loops = available_loops()
    sys.stdout.write(
        json.dumps({"origin": origin, "from_tree": _ORIGIN["from_tree"], "loops": loops}) + "\n",
    )


BENCHES: dict[str, Callable[[str | None, int], None]] = {
    "dispatch": dispatch,
    "pingpong": pingpong,
    "call": call,
    "timers": timers,
    "sessions": sessions,
    "idle-sessions": idle_sessions,
    "startup": startup,
    "readwrite-echo": readwrite_echo,
}


def main() -> None:
    """Parse ``BENCH N [--loop NAME] [--variant NAME]`` and run it."""
    args = parse_args(
        [*BENCHES, *_tcp.BENCHES, *ATTACKS, "handler-convention", "filter-line", "probe"],
        loops=LOOPS,
        variants=(*NOTES, *FILTER_NOTES, "64MiB", "slowloris"),
    )
    _import_poe()
    if args.bench == "probe":
        probe()
    elif args.bench == "filter-line":
        filter_line(args.n, args.variant or "literal")
    elif args.bench in _tcp.BENCHES:
        tcp(args.loop, args.bench, args.n)
    elif args.bench in ATTACKS:
        attack(args.loop, args.bench, args.n, args.variant)
    elif args.bench == "handler-convention":
        handler_convention(args.loop, args.n, args.variant or "call")
    else:
        BENCHES[args.bench](args.loop, args.n)


if __name__ == "__main__":
    main()
