"""Loop backends: the same program on every available backend, and a custom Loop.

The kernel keeps its own queue and timers; a backend only reports readiness, runs ONE timer and
delivers OS signals. So any program behaves the same on every backend.
"""

from __future__ import annotations

import socket

from poe.kernel import Kernel
from poe.loop import Loop, LoopHost, Mode, available_loops, get_loop
from poe.session import Context, Session


def program(kernel: Kernel, trace: list[str]) -> None:
    """A small program using events, a timer and an I/O watcher."""

    def start(ctx: Context) -> None:
        a, b = socket.socketpair()
        ctx.heap.update(a=a, b=b)
        ctx.kernel.yield_("posted")
        ctx.kernel.delay("timer", 0.05)
        ctx.kernel.select_read(a, "readable")

    def posted(ctx: Context) -> None:
        trace.append("posted")

    def timer(ctx: Context) -> None:
        trace.append("timer")
        ctx.heap["b"].send(b"ping")

    def readable(ctx: Context, handle: socket.socket, mode: Mode) -> None:
        trace.append(f"readable:{handle.recv(16).decode()}")
        ctx.kernel.select_read(handle)
        handle.close()
        ctx.heap["b"].close()

    Session.create(
        kernel,
        inline_states={"_start": start, "posted": posted, "timer": timer, "readable": readable},
    )


# 1. Every available backend, chosen by name, produces the same trace.
traces = {}
for name in available_loops():
    trace: list[str] = []
    kernel = Kernel(loop=name)
    program(kernel, trace)
    kernel.run()
    traces[name] = trace
first = next(iter(traces.values()))
print(f"trace: {first}")
print(f"every available backend produced it: {all(t == first for t in traces.values())}")


# 2. A custom backend: anything that implements the Loop protocol. This one wraps the select
#    backend and counts how often the kernel re-arms the single timer.
class CountingLoop:
    name = "counting-select"

    def __init__(self) -> None:
        self.inner: Loop = get_loop("select")
        self.timer_calls = 0

    def set_timer(self, delay: float | None) -> None:
        self.timer_calls += 1
        self.inner.set_timer(delay)

    def attach(self, host: LoopHost) -> None:
        self.inner.attach(host)

    def close(self) -> None:
        self.inner.close()

    def watch(self, fd: int, mode: Mode) -> None:
        self.inner.watch(fd, mode)

    def unwatch(self, fd: int, mode: Mode) -> None:
        self.inner.unwatch(fd, mode)

    def wake(self) -> None:
        self.inner.wake()

    def watch_signal(self, signum: int) -> None:
        self.inner.watch_signal(signum)

    def unwatch_signal(self, signum: int) -> None:
        self.inner.unwatch_signal(signum)

    def run(self) -> None:
        self.inner.run()

    def run_once(self, timeout: float | None) -> None:
        self.inner.run_once(timeout)

    def halt(self) -> None:
        self.inner.halt()


custom = CountingLoop()
trace = []
kernel = Kernel(loop=custom)
program(kernel, trace)
kernel.run()
print(
    f"custom loop: same trace: {trace == first}; the kernel armed its timer: {custom.timer_calls > 0}"
)
