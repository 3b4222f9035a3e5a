"""Twisted peer: the same work with the default (epoll) reactor.

``python bench/peers/twisted_peer.py BENCH N``. Benchmarks: ``dispatch`` (a ``callLater(0, f)``
chain), ``pingpong`` (two callbacks bouncing through ``callLater(0)``), ``timers`` (callLater),
``idle-sessions`` (coroutines awaiting a shared Deferred), ``startup`` (a minimal reactor run),
``filter-line`` (``LineReceiver`` parsing and ``sendLine``, no reactor), and the TCP benchmarks
``tcp-echo-pipelined``, ``tcp-echo-rr`` and ``tcp-idle`` against the C load client (see
``_tcp.py``): a ``LineReceiver`` (delimiter LF) that ``sendLine``s every line it gets. The
attack benchmarks (``attack-unterminated``, ``attack-nonreader``, ``attack-slowloris``, see
``_attack.py``) run the same ``LineReceiver`` with its defaults (``MAX_LENGTH`` 16,384);
``--variant 64MiB`` raises ``MAX_LENGTH`` to 64 MiB, ``--variant slowloris`` adds 1,000
slowloris connections.
"""

from __future__ import annotations

import gc
import sys
import time
import tracemalloc
from typing import TYPE_CHECKING, Any, cast

import _attack
import _tcp
from _common import chunked, emit, line_payload, parse_args, time_program, timer_delay

if TYPE_CHECKING:
    from collections.abc import Callable

    from twisted.internet.base import ReactorBase
    from twisted.internet.interfaces import ITransport
    from twisted.internet.posixbase import PosixReactorBase
    from twisted.python.failure import Failure

#: The minimal Twisted program of the ``startup`` benchmark: one callLater(0), then stop.
STARTUP_PROGRAM = """\
from twisted.internet import reactor

reactor.callLater(0, reactor.stop)
reactor.run()
"""


class _Reactor:
    """The global reactor, typed as the ``ReactorBase`` it is (the default epoll reactor)."""

    def __init__(self) -> None:
        from twisted.internet import reactor  # installs the default reactor

        self.time = cast("ReactorBase", reactor)
        self.core = self.time


def dispatch(n: int) -> None:
    """One callable re-scheduling itself with ``callLater(0, f)`` ``n`` times (events/s)."""
    reactor = _Reactor()
    call_later = reactor.time.callLater
    left = n
    end = 0.0

    def tick() -> None:
        nonlocal left, end
        left -= 1
        if left:
            call_later(0, tick)
        else:
            end = time.perf_counter()
            reactor.core.stop()

    start = time.perf_counter()
    call_later(0, tick)
    reactor.core.run()
    emit(n / (end - start), "events/s")


def pingpong(n: int) -> None:
    """Two callables bouncing a counter through ``callLater(0)``, ``n`` events (events/s)."""
    reactor = _Reactor()
    call_later = reactor.time.callLater
    end = 0.0

    def ping(count: int) -> None:
        nonlocal end
        if count >= n:
            end = time.perf_counter()
            reactor.core.stop()
        else:
            call_later(0, pong, count + 1)

    def pong(count: int) -> None:
        nonlocal end
        if count >= n:
            end = time.perf_counter()
            reactor.core.stop()
        else:
            call_later(0, ping, count + 1)

    start = time.perf_counter()
    call_later(0, ping, 1)
    reactor.core.run()
    emit(n / (end - start), "events/s")


def timers(n: int) -> None:
    """``n`` ``callLater`` timers over one second, all firing (CPU microseconds per timer)."""
    reactor = _Reactor()
    call_later = reactor.time.callLater
    fired = 0
    cpu_end = 0.0

    def ring() -> None:
        nonlocal fired, cpu_end
        fired += 1
        if fired == n:
            cpu_end = time.process_time()
            reactor.core.stop()

    cpu_start = time.process_time()
    wall_start = time.perf_counter()
    for i in range(n):
        call_later(timer_delay(i, n), ring)
    set_rate = n / (time.perf_counter() - wall_start)
    reactor.core.run()
    emit((cpu_end - cpu_start) / n * 1e6, "us/timer", f"set {set_rate / 1e3:.0f}k/s")


def idle_sessions(n: int) -> None:
    """Bytes per idle coroutine (driven by ``ensureDeferred``) awaiting a shared Deferred."""
    from twisted.internet.defer import Deferred, ensureDeferred

    async def idle(wake: Deferred[None]) -> None:
        await wake

    tracemalloc.start()
    wake: Deferred[None] = Deferred()
    gc.collect()
    before = tracemalloc.get_traced_memory()[0]
    actors = [ensureDeferred(idle(wake)) for _ in range(n)]
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    wake.callback(None)
    tracemalloc.stop()
    del actors
    emit((after - before) / n, "bytes", "coroutine awaiting a shared Deferred (tracemalloc)")


def startup(n: int) -> None:
    """Median wall time of a minimal reactor program over ``n`` spawns (milliseconds)."""
    wall, rss = time_program([sys.executable, "-c", STARTUP_PROGRAM], n)
    emit(wall * 1e3, "ms", f"max RSS {rss:.1f} MiB")


class _Discard:
    """A transport whose writes go nowhere (``sendLine`` calls ``write``; ``dataReceived``
    checks ``disconnecting``)."""

    disconnecting = False

    def write(self, data: bytes) -> None:
        pass


def filter_line(n: int) -> None:
    """Lines per second through ``LineReceiver.dataReceived`` (delimiter LF), then ``sendLine``.

    The same chunks as poe's ``filter-line``; ``lineReceived`` keeps each line (bytes: Twisted
    does not decode) and ``sendLine`` writes it back to a transport that discards it.
    """
    from twisted.protocols.basic import LineReceiver

    records: list[bytes] = []

    class Lines(LineReceiver):
        delimiter = b"\n"

        def lineReceived(self, line: bytes) -> None:  # noqa: N802 - Twisted's name
            records.append(line)

    payload = line_payload(n)
    chunks = chunked(payload)
    proto = Lines()
    # LineReceiver's methods carry no annotations: give them their types.
    make_connection = cast("Callable[[ITransport], None]", proto.makeConnection)
    data_received = cast("Callable[[bytes], None]", proto.dataReceived)
    send_line = cast("Callable[[bytes], object]", proto.sendLine)
    make_connection(cast("ITransport", _Discard()))
    start = time.perf_counter()
    for chunk in chunks:
        data_received(chunk)
    middle = time.perf_counter()
    for line in records:
        send_line(line)
    end = time.perf_counter()
    if len(records) != n or b"\n".join(records) + b"\n" != payload:
        msg = f"got {len(records)} lines of {n}, or not the lines sent"
        raise AssertionError(msg)
    get_s, put_s = middle - start, end - middle
    emit(
        n / (get_s + put_s),
        "lines/s",
        f"bytes lines, no decode; get {n / get_s / 1e6:.2f}M/s, put {n / put_s / 1e6:.2f}M/s",
    )


def tcp(bench: str, n: int) -> None:
    """The TCP benchmarks (see ``_tcp.py``) against a ``LineReceiver`` echo server."""
    from twisted.internet.protocol import Factory
    from twisted.protocols.basic import LineReceiver

    class LineEcho(LineReceiver):
        delimiter = b"\n"

        def lineReceived(self, line: bytes) -> None:  # noqa: N802 - Twisted's name
            self.sendLine(line)  # type: ignore[no-untyped-call]

    reactor = _Reactor()
    # listenTCP and the port it returns carry no annotations in Twisted
    listen_tcp = cast("Callable[..., Any]", cast("PosixReactorBase", reactor.core).listenTCP)
    port = listen_tcp(0, Factory.forProtocol(LineEcho), interface="127.0.0.1")
    state: dict[str, _tcp.LoadRun] = {}

    def start() -> None:
        state["run"] = _tcp.LoadRun(bench, int(port.getHost().port), n)
        reactor.time.callLater(_tcp.TICK, watch)

    def watch() -> None:
        if state["run"].tick():
            reactor.core.stop()
        else:
            reactor.time.callLater(_tcp.TICK, watch)

    reactor.time.callLater(0, start)  # start the client from inside the running reactor
    reactor.core.run()
    state["run"].report("LineReceiver, sendLine per line")


ATTACKS = ("attack-unterminated", "attack-nonreader", "attack-slowloris")


def attack(bench: str, n: int, variant: str | None) -> None:
    """The attack benchmarks (see ``_attack.py``) against a ``LineReceiver`` line server.

    ``attack-unterminated`` counts the bytes given to ``dataReceived``; the other two echo
    every line with ``sendLine``. ``connectionLost`` reports the cut.
    """
    from twisted.internet.protocol import Factory, connectionDone
    from twisted.protocols.basic import LineReceiver

    state: dict[str, Any] = {"connections": 0}
    max_length = 64 * _attack.MIB if variant == "64MiB" else LineReceiver.MAX_LENGTH

    class Lines(LineReceiver):
        delimiter = b"\n"
        MAX_LENGTH = max_length

        def connectionMade(self) -> None:  # noqa: N802 - Twisted's name
            state["connections"] += 1
            probe = state.get("probe")
            if probe is not None:
                probe.connected()

        def dataReceived(self, data: bytes) -> None:  # noqa: N802 - Twisted's name
            probe = state.get("probe")
            if isinstance(probe, _attack.Unterminated):
                probe.consumed(len(data))
            LineReceiver.dataReceived(self, data)  # type: ignore[no-untyped-call]

        def lineReceived(self, line: bytes) -> None:  # noqa: N802 - Twisted's name
            self.sendLine(line)  # type: ignore[no-untyped-call]
            probe = state.get("probe")
            if isinstance(probe, _attack.NonReader):
                probe.consumed()

        def lineLengthExceeded(self, line: bytes) -> object:  # noqa: N802 - Twisted's name
            state["exceeded"] = True
            return LineReceiver.lineLengthExceeded(self, line)  # type: ignore[no-untyped-call]

        def connectionLost(self, reason: Failure = connectionDone) -> None:  # noqa: N802
            state["connections"] -= 1
            probe = state.get("probe")
            if probe is not None:
                name = getattr(reason.type, "__name__", "?")
                why = "lineLengthExceeded" if state.get("exceeded") else name
                probe.lost(f"connectionLost: {why}")

    reactor = _Reactor()
    listen_tcp = cast("Callable[..., Any]", cast("PosixReactorBase", reactor.core).listenTCP)
    port = listen_tcp(0, Factory.forProtocol(Lines), interface="127.0.0.1")
    number = int(port.getHost().port)
    what = f"LineReceiver, MAX_LENGTH {max_length:,}"

    def start() -> None:
        if bench == "attack-unterminated":
            state["probe"] = _attack.Unterminated(number, n)
        elif bench == "attack-nonreader":
            state["probe"] = _attack.NonReader(number, n)
        else:
            slow = 1000 if variant == "slowloris" else 0
            state["run"] = _tcp.LoadRun(
                bench, number, n, slow=slow, accepted=lambda: int(state["connections"])
            )
        reactor.time.callLater(_tcp.TICK, watch)

    def watch() -> None:
        running = state.get("probe") or state["run"]
        if running.tick():
            reactor.core.stop()
        else:
            reactor.time.callLater(_tcp.TICK, watch)

    reactor.time.callLater(0, start)
    reactor.core.run()
    (state.get("probe") or state["run"]).report(what)


if __name__ == "__main__":
    args = parse_args(
        (
            "dispatch",
            "filter-line",
            "idle-sessions",
            "pingpong",
            "startup",
            "timers",
            *_tcp.BENCHES,
            *ATTACKS,
        ),
        variants=("64MiB", "slowloris"),
    )
    if args.bench in ATTACKS:
        attack(args.bench, args.n, args.variant)
        sys.exit(0)
    if args.bench in _tcp.BENCHES:
        tcp(args.bench, args.n)
        sys.exit(0)
    {
        "filter-line": filter_line,
        "dispatch": dispatch,
        "pingpong": pingpong,
        "timers": timers,
        "idle-sessions": idle_sessions,
        "startup": startup,
    }[args.bench](args.n)
