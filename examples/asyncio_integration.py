"""Living with asyncio and threads: run_async(), ask(), await_into(), post_threadsafe()."""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING, Any

from poe.kernel import Kernel
from poe.session import Context, Session

if TYPE_CHECKING:
    from collections.abc import Callable


# -- a POE session offering a small service under the alias "calc" ------------------------------
def calc_start(ctx: Context) -> None:
    ctx.kernel.alias_set("calc")
    # An alias alone does not keep a session alive: hold an extra reference until "shutdown".
    ctx.kernel.refcount_increment(ctx.session.ID, "clients")


def double(ctx: Context, n: int, reply: Callable[[Any], None]) -> None:
    reply(n * 2)  # ask() passes a reply callable as the last argument


def nap(ctx: Context, seconds: float, reply: Callable[[Any], None]) -> None:
    # Await an asyncio awaitable from inside a handler; its result comes back as an event.
    ctx.heap["reply"] = reply
    ctx.kernel.await_into(asyncio.sleep(seconds, result=f"slept {seconds} s"), "woke")


def woke(ctx: Context, result: str) -> None:
    print(f"calc: await_into delivered {result!r} as the 'woke' event")
    ctx.heap.pop("reply")(result)


def from_thread(ctx: Context, n: int) -> None:
    print(f"calc: message {n} from a worker thread")


def shutdown(ctx: Context) -> None:
    print("calc: shutdown")
    ctx.kernel.alias_remove("calc")
    ctx.kernel.refcount_decrement(ctx.session.ID, "clients")


# -- asyncio code using the session ------------------------------------------------------------
def worker(kernel: Kernel) -> None:
    for n in (1, 2, 3):
        kernel.post_threadsafe("calc", "from_thread", n)
    kernel.post_threadsafe("calc", "shutdown")


async def client(kernel: Kernel) -> None:
    print(f"client: ask('calc', 'double', 21) -> {await kernel.ask('calc', 'double', 21)}")
    print(f"client: ask('calc', 'nap', 0.05) -> {await kernel.ask('calc', 'nap', 0.05)!r}")
    threading.Thread(target=worker, args=(kernel,)).start()


async def main() -> None:
    kernel = Kernel(loop="asyncio")  # runs on the asyncio loop that is already running
    Session.create(
        kernel,
        inline_states={
            "_start": calc_start,
            "double": double,
            "nap": nap,
            "woke": woke,
            "from_thread": from_thread,
            "shutdown": shutdown,
        },
    )
    task = asyncio.create_task(client(kernel))
    await kernel.run_async()  # returns when the last session has stopped
    await task
    print("main: run_async() returned")


asyncio.run(main())
