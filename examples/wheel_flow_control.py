"""Flow control with watermarks: a fast producer, a slow consumer, bounded memory.

The producer could generate records far faster than the consumer reads them. Without flow
control, every record would pile up in the producer's output buffer. With ``high_mark`` and
``low_mark`` the wheel says when to stop: ``put()`` returns True (and ``high_event`` fires)
once ``high_mark`` octets are queued, and ``low_event`` fires when writing has drained the
buffer to ``low_mark``. The producer stops at the first and resumes at the second.

The consumer is slow on purpose: it reads small blocks and, after every 200 lines, pauses its
input for a few milliseconds with ``pause_input()`` / ``resume_input()``. Both socket buffers
are made small so the kernel's buffers fill quickly. How often the producer pauses depends on
timing, so the program prints facts that do not: the first pause and resume, and a summary.
"""

from __future__ import annotations

import socket

from poe.driver import SysRWDriver
from poe.kernel import Kernel
from poe.session import Context, Session
from poe.wheel import ReadWriteWheel

TOTAL = 5000  # lines to send, about 280 KiB
HIGH_MARK = 8192
LOW_MARK = 2048


def tcp_pair() -> tuple[socket.socket, socket.socket]:
    """A connected pair of TCP sockets on 127.0.0.1, with small kernel buffers."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        client = socket.socket()
        client.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        client.connect(listener.getsockname())
        server, _peer = listener.accept()
    return server, client


# -- the producer: puts lines until the high watermark, waits for the low one -------------------
def producer_start(ctx: Context, sock: socket.socket) -> None:
    ctx.heap.update(sock=sock, next=0, pauses=0, peak=0)
    ctx.heap["wheel"] = ReadWriteWheel(
        ctx.kernel,
        handle=sock,
        high_mark=HIGH_MARK,
        low_mark=LOW_MARK,
        high_event="producer_high",
        low_event="producer_low",
        flushed_event="producer_flushed",
    )
    ctx.kernel.yield_("produce")


def produce(ctx: Context) -> None:
    wheel: ReadWriteWheel = ctx.heap["wheel"]
    while ctx.heap["next"] < TOTAL:
        number = ctx.heap["next"]
        ctx.heap["next"] += 1
        full = wheel.put(f"record {number:05d} " + "." * 40)
        ctx.heap["peak"] = max(ctx.heap["peak"], wheel.get_driver_out_octets())
        if full:
            return  # stop producing; producer_low will restart us
    print(f"producer: all {TOTAL} lines queued")


def producer_high(ctx: Context, wheel_id: int) -> None:
    ctx.heap["pauses"] += 1
    if ctx.heap["pauses"] == 1:
        print(f"producer: high water at line {ctx.heap['next']}, pausing")


def producer_low(ctx: Context, wheel_id: int) -> None:
    if ctx.heap["pauses"] == 1:
        print("producer: low water, resuming")
    ctx.kernel.yield_("produce")


def producer_flushed(ctx: Context, wheel_id: int) -> None:
    if ctx.heap["next"] < TOTAL:
        return  # the buffer emptied while more is to come
    print(f"producer: everything written; paused at least once: {ctx.heap['pauses'] > 0}")
    ok = ctx.heap["peak"] < HIGH_MARK + 100
    print(f"producer: the buffer never held much more than high_mark: {ok}")
    del ctx.heap["wheel"]
    ctx.heap["sock"].close()  # the consumer reads end of file


# -- the consumer: reads slowly -----------------------------------------------------------------
def consumer_start(ctx: Context, sock: socket.socket) -> None:
    ctx.heap.update(sock=sock, count=0, in_order=True)
    ctx.heap["wheel"] = ReadWriteWheel(
        ctx.kernel,
        handle=sock,
        driver=SysRWDriver(block_size=1024),  # small reads
        input_event="consumer_input",
        error_event="consumer_error",
    )


def consumer_input(ctx: Context, line: str, wheel_id: int) -> None:
    if line != f"record {ctx.heap['count']:05d} " + "." * 40:
        ctx.heap["in_order"] = False
    ctx.heap["count"] += 1
    if ctx.heap["count"] % 200 == 0:
        ctx.heap["wheel"].pause_input()
        ctx.kernel.delay("consumer_resume", 0.005)


def consumer_resume(ctx: Context) -> None:
    if "wheel" in ctx.heap:
        ctx.heap["wheel"].resume_input()


def consumer_error(ctx: Context, operation: str, errno: int, errstr: str, wheel_id: int) -> None:
    print(
        f"consumer: end of file after {ctx.heap['count']} lines, in order: {ctx.heap['in_order']}"
    )
    del ctx.heap["wheel"]
    ctx.heap["sock"].close()
    ctx.kernel.delay("consumer_resume")  # no timer left behind


kernel = Kernel()
producer_sock, consumer_sock = tcp_pair()
Session.create(
    kernel,
    inline_states={
        "_start": producer_start,
        "produce": produce,
        "producer_high": producer_high,
        "producer_low": producer_low,
        "producer_flushed": producer_flushed,
    },
    args=(producer_sock,),
)
Session.create(
    kernel,
    inline_states={
        "_start": consumer_start,
        "consumer_input": consumer_input,
        "consumer_resume": consumer_resume,
        "consumer_error": consumer_error,
    },
    args=(consumer_sock,),
)
kernel.run()
