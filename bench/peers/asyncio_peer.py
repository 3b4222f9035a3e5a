"""asyncio peer: the same work as poe's benchmarks, written the way asyncio code does it.

``python bench/peers/asyncio_peer.py BENCH N``; ``uvloop_peer.py`` runs these very functions on a
uvloop loop. Benchmarks: ``dispatch`` (a call_soon chain), ``pingpong`` (two callbacks bouncing
through call_soon), ``timers`` (call_later), ``idle-sessions`` (Tasks waiting on a Future),
``startup`` (wall time of a minimal ``asyncio.run`` program), ``readwrite-echo`` (a line echo
server written as an ``asyncio.Protocol``), and the TCP benchmarks ``tcp-echo-pipelined``,
``tcp-echo-rr`` and ``tcp-idle`` against the C load client (see ``_tcp.py``) with
``--variant protocol`` (an ``asyncio.Protocol`` writing every chunk back as it comes, no per-line
work: the ceiling) or ``--variant streams`` (``asyncio.start_server``: ``readline``, ``write``,
``drain`` per line).
"""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
import time
import tracemalloc
from typing import TYPE_CHECKING, cast

import _tcp
from _common import (
    accept_echo_connection,
    echo_client_seconds,
    echo_listener,
    emit,
    parse_args,
    start_echo_client,
    time_program,
    timer_delay,
)

if TYPE_CHECKING:
    from collections.abc import Callable

#: The minimal asyncio program of the ``startup`` benchmark: one callback scheduled with call_soon.
STARTUP_PROGRAM = """\
import asyncio

async def main():
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    loop.call_soon(done.set_result, None)
    await done

asyncio.run(main())
"""


def dispatch(new_loop: Callable[[], asyncio.AbstractEventLoop], n: int) -> None:
    """One callback re-scheduling itself with ``call_soon`` ``n`` times (events/s)."""
    loop = new_loop()
    left = n
    end = 0.0

    def tick() -> None:
        nonlocal left, end
        left -= 1
        if left:
            loop.call_soon(tick)
        else:
            end = time.perf_counter()
            loop.stop()

    start = time.perf_counter()
    loop.call_soon(tick)
    loop.run_forever()
    loop.close()
    emit(n / (end - start), "events/s")


def pingpong(new_loop: Callable[[], asyncio.AbstractEventLoop], n: int) -> None:
    """Two callbacks bouncing a counter through ``call_soon``, ``n`` events in all (events/s)."""
    loop = new_loop()
    end = 0.0

    def ping(count: int) -> None:
        nonlocal end
        if count >= n:
            end = time.perf_counter()
            loop.stop()
        else:
            loop.call_soon(pong, count + 1)

    def pong(count: int) -> None:
        nonlocal end
        if count >= n:
            end = time.perf_counter()
            loop.stop()
        else:
            loop.call_soon(ping, count + 1)

    start = time.perf_counter()
    loop.call_soon(ping, 1)
    loop.run_forever()
    loop.close()
    emit(n / (end - start), "events/s")


def timers(new_loop: Callable[[], asyncio.AbstractEventLoop], n: int) -> None:
    """``n`` ``call_later`` timers over one second, all firing (CPU microseconds per timer)."""
    loop = new_loop()
    fired = 0
    cpu_end = 0.0

    def ring() -> None:
        nonlocal fired, cpu_end
        fired += 1
        if fired == n:
            cpu_end = time.process_time()
            loop.stop()

    cpu_start = time.process_time()
    wall_start = time.perf_counter()
    call_later = loop.call_later
    for i in range(n):
        call_later(timer_delay(i, n), ring)
    set_rate = n / (time.perf_counter() - wall_start)
    loop.run_forever()
    loop.close()
    emit((cpu_end - cpu_start) / n * 1e6, "us/timer", f"set {set_rate / 1e3:.0f}k/s")


def idle_sessions(new_loop: Callable[[], asyncio.AbstractEventLoop], n: int) -> None:
    """Bytes per idle Task waiting on a shared Future, by tracemalloc delta."""
    loop = new_loop()
    asyncio.set_event_loop(loop)

    async def idle(wake: asyncio.Future[None]) -> None:
        await wake

    async def main() -> float:
        wake: asyncio.Future[None] = loop.create_future()
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        tasks = [loop.create_task(idle(wake)) for _ in range(n)]
        await asyncio.sleep(0)  # let every task run up to its await
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
        wake.set_result(None)
        await asyncio.gather(*tasks)
        return (after - before) / n

    tracemalloc.start()
    per_task = loop.run_until_complete(main())
    tracemalloc.stop()
    loop.close()
    emit(per_task, "bytes", "Task awaiting a shared Future (tracemalloc)")


class _LineEcho(asyncio.Protocol):
    """Split the stream into LF-terminated lines and write each one back as it comes.

    The per-line work matches poe's ReadWriteWheel + ``LineFilter(literal=b"\\n")``: each line is
    decoded to ``str`` (UTF-8, ``"replace"``) and encoded again before it is written.
    """

    def __init__(self, lost: asyncio.Future[None]) -> None:
        self.lost = lost
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast("asyncio.Transport", transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        lines = (self.buffer + data).split(b"\n")
        self.buffer = lines.pop()
        assert self.transport is not None
        write = self.transport.write
        for line in lines:
            text = line.decode("utf-8", "replace")
            write(text.encode("utf-8", "replace") + b"\n")

    def eof_received(self) -> bool:
        return False  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.lost.done():
            self.lost.set_result(None)


def readwrite_echo(new_loop: Callable[[], asyncio.AbstractEventLoop], n: int) -> None:
    """Line echo server as an ``asyncio.Protocol``; the client process times ``n`` lines."""
    loop = new_loop()
    listener, port = echo_listener()

    async def main() -> subprocess.Popen[str]:
        client: subprocess.Popen[str] = start_echo_client(port, n)
        conn = accept_echo_connection(listener)
        lost: asyncio.Future[None] = loop.create_future()
        await loop.connect_accepted_socket(lambda: _LineEcho(lost), conn)
        await lost
        return client

    client = loop.run_until_complete(main())
    loop.close()
    emit(n / echo_client_seconds(client), "lines/s", "Protocol: split in data_received, write each")


class _ChunkEcho(asyncio.Protocol):
    """Write every chunk back as it arrives: no line splitting at all (the TCP echo ceiling)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast("asyncio.Transport", transport)

    def data_received(self, data: bytes) -> None:
        self.transport.write(data)


async def _stream_echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Echo line by line the way stream code does: readline, write, drain."""
    try:
        while line := await reader.readline():
            writer.write(line)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


TCP_NOTES = {
    "protocol": "Protocol, chunks written back, no per-line work",
    "streams": "streams: readline, write, drain",
}


def tcp(
    new_loop: Callable[[], asyncio.AbstractEventLoop], bench: str, n: int, variant: str
) -> None:
    """The TCP benchmarks (see ``_tcp.py``) against a ``Protocol`` or a streams echo server."""
    loop = new_loop()
    asyncio.set_event_loop(loop)

    async def main() -> _tcp.LoadRun:
        if variant == "streams":
            server = await asyncio.start_server(_stream_echo, "127.0.0.1", 0)
        else:
            server = await loop.create_server(_ChunkEcho, "127.0.0.1", 0)
        port = int(server.sockets[0].getsockname()[1])
        run = _tcp.LoadRun(bench, port, n)
        done: asyncio.Future[None] = loop.create_future()

        def watch() -> None:
            if run.tick():
                done.set_result(None)
            else:
                loop.call_later(_tcp.TICK, watch)

        loop.call_later(_tcp.TICK, watch)
        await done
        server.close()
        return run

    run = loop.run_until_complete(main())
    run.report(TCP_NOTES[variant])


def startup(program: str, n: int) -> None:
    """Median wall time of ``python -c program`` over ``n`` spawns (milliseconds)."""
    wall, rss = time_program([sys.executable, "-c", program], n)
    emit(wall * 1e3, "ms", f"max RSS {rss:.1f} MiB")


BENCHES = (
    "dispatch",
    "idle-sessions",
    "pingpong",
    "readwrite-echo",
    "startup",
    "timers",
    *_tcp.BENCHES,
)


def main(new_loop: Callable[[], asyncio.AbstractEventLoop], startup_program: str) -> None:
    """Entry point shared with ``uvloop_peer.py``: parse ``BENCH N`` and run it on ``new_loop``."""
    args = parse_args(BENCHES, variants=tuple(TCP_NOTES))
    if args.bench == "dispatch":
        dispatch(new_loop, args.n)
    elif args.bench == "pingpong":
        pingpong(new_loop, args.n)
    elif args.bench == "timers":
        timers(new_loop, args.n)
    elif args.bench == "idle-sessions":
        idle_sessions(new_loop, args.n)
    elif args.bench == "readwrite-echo":
        readwrite_echo(new_loop, args.n)
    elif args.bench in _tcp.BENCHES:
        tcp(new_loop, args.bench, args.n, args.variant or "protocol")
    else:
        startup(startup_program, args.n)


if __name__ == "__main__":
    main(asyncio.new_event_loop, STARTUP_PROGRAM)
