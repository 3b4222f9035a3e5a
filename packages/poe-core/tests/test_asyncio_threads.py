"""The Python-only integration: run_async, await_into, ask, post_threadsafe.

POE 1.370 has no asyncio; these tests check the port's bridges (design card: "Kernel",
``run_async`` / ``post_threadsafe`` / ``await_into`` / ``ask``) against the same lifetime rules
POE uses for its own resources (poe-api §4.1: a pending request holds the session, §6.5: an
exception becomes a DIE signal). asyncio tests run on the asyncio-based backends only.
"""

from __future__ import annotations

import asyncio
import importlib
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import pytest

from poe.errors import SessionNotFound
from poe.events import DieInfo
from poe.kernel import Kernel
from poe.session import Context, Session

Log = list[Any]
T = TypeVar("T")

asyncio_loops = pytest.mark.poe_loops("asyncio", "uvloop")

#: Guard for awaits that only hang when something is broken (the test then fails, not hangs).
GUARD = 20.0


def _arun(poe_loop: str, main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """``asyncio.run(main())`` on the kind of loop the backend is made for."""
    if poe_loop == "uvloop":
        uvloop = importlib.import_module("uvloop")
        result: T = uvloop.run(main())
        return result
    return asyncio.run(main())


class Failure(Exception):
    """A recognisable coroutine error."""


async def _answer(value: Any, *, hops: int = 3) -> Any:
    for _ in range(hops):
        await asyncio.sleep(0)
    return value


async def _fail(message: str) -> Any:
    await asyncio.sleep(0)
    raise Failure(message)


# ---------------------------------------------------------------------------------------------
# run_async
# ---------------------------------------------------------------------------------------------


@asyncio_loops
def test_run_async_inside_asyncio_run(kernel: Kernel, poe_loop: str) -> None:
    """``await kernel.run_async()`` runs the sessions on the running asyncio loop, next to other
    tasks, and returns when the last session is gone (like run(), k_run_returns)."""
    log: Log = []

    def step(ctx: Context, n: int) -> None:
        log.append(("step", n))
        if n < 3:
            ctx.kernel.yield_("step", n + 1)

    async def other_task() -> None:
        await asyncio.sleep(0)
        log.append("other task ran")

    async def main() -> str:
        Session.create(
            kernel,
            inline_states={
                "_start": lambda ctx: ctx.kernel.yield_("step", 0),
                "step": step,
                "_stop": lambda ctx: log.append("stop"),
            },
        )
        task = asyncio.ensure_future(other_task())
        await kernel.run_async()
        await task
        return "returned"

    assert _arun(poe_loop, main) == "returned"
    assert [entry for entry in log if entry != "other task ran"] == [
        ("step", 0),
        ("step", 1),
        ("step", 2),
        ("step", 3),
        "stop",
    ]
    assert "other task ran" in log


@asyncio_loops
def test_run_async_without_sessions_returns(kernel: Kernel, poe_loop: str) -> None:
    """k_run_returns for run_async: nothing to do, it returns at once (and again)."""

    async def main() -> None:
        await kernel.run_async()
        await kernel.run_async()

    _arun(poe_loop, main)


@asyncio_loops
def test_run_async_raises_an_unhandled_handler_exception(kernel: Kernel, poe_loop: str) -> None:
    """07_exceptions/03_not_handled through run_async: the original exception comes out."""

    def die(ctx: Context) -> None:
        raise Failure("in handler")

    async def main() -> None:
        Session.create(
            kernel, inline_states={"_start": lambda ctx: ctx.kernel.yield_("d"), "d": die}
        )
        await kernel.run_async()

    with pytest.raises(Failure, match="in handler"):
        _arun(poe_loop, main)


@pytest.mark.poe_loops("select")
def test_asyncio_bridges_need_an_asyncio_backend(kernel: Kernel) -> None:
    """run_async and await_into refuse a backend without an asyncio loop (RuntimeError)."""
    errors: Log = []

    def start(ctx: Context) -> None:
        coro = _answer(1)
        try:
            ctx.kernel.await_into(coro, "done")
        except RuntimeError as exc:
            errors.append(type(exc))
        finally:
            coro.close()

    Session.create(kernel, inline_states={"_start": start})
    kernel.run()

    async def main() -> None:
        await kernel.run_async()

    with pytest.raises(RuntimeError):
        asyncio.run(main())
    assert errors == [RuntimeError]


# ---------------------------------------------------------------------------------------------
# await_into
# ---------------------------------------------------------------------------------------------


@asyncio_loops
@pytest.mark.parametrize("runner", ["run", "run_async"])
def test_await_into_delivers_the_result(kernel: Kernel, poe_loop: str, runner: str) -> None:
    """``await_into(coro, event, error_event, *args)``: the session gets ``event(result, *args)``
    from the kernel, under ``run()`` (the backend's own loop) and under ``run_async()`` alike.

    The program has the natural shape: sessions first, then ``kernel.run()`` or
    ``asyncio.run(kernel.run_async())``. ``_start`` calls await_into before the kernel runs (it
    returns None: the awaitable starts on whichever loop runs the kernel); a later handler calls
    it while running (it returns the asyncio future).
    """
    log: Log = []

    def start(ctx: Context) -> None:
        log.append(("early", ctx.kernel.await_into(_answer(42), "done", "failed", "early", 7)))
        ctx.kernel.yield_("later")

    def later(ctx: Context) -> None:
        future = ctx.kernel.await_into(_answer(43), "done", "failed", "later")
        log.append(("later", isinstance(future, asyncio.Future)))

    Session.create(
        kernel,
        inline_states={
            "_start": start,
            "later": later,
            "done": lambda ctx, *args: log.append(("done", args, ctx.sender is ctx.kernel)),
            "failed": lambda ctx, *args: log.append(("failed", args)),
            "_stop": lambda ctx: log.append("stop"),
        },
    )
    if runner == "run":
        kernel.run()
    else:

        async def main() -> None:
            # The guard only matters when the result never comes (the test then fails).
            await asyncio.wait_for(kernel.run_async(), GUARD)

        _arun(poe_loop, main)
    assert log[:2] == [("early", None), ("later", True)]
    assert sorted(log[2:4]) == [
        ("done", (42, "early", 7), True),
        ("done", (43, "later"), True),
    ]
    assert log[4:] == ["stop"]


@asyncio_loops
def test_await_into_error_event(kernel: Kernel) -> None:
    """``await_into``: an exception goes to ``error_event(exception, *args)``."""
    log: Log = []

    def failed(ctx: Context, exc: BaseException, *args: Any) -> None:
        log.append(("failed", type(exc), str(exc), args))

    Session.create(
        kernel,
        inline_states={
            "_start": lambda ctx: ctx.kernel.await_into(_fail("nope"), "done", "failed", "x"),
            "done": lambda ctx, *args: log.append(("done", args)),
            "failed": failed,
        },
    )
    kernel.run()
    assert log == [("failed", Failure, "nope", ("x",))]


@asyncio_loops
def test_await_into_exception_without_error_event_is_a_die(kernel: Kernel) -> None:
    """``await_into`` without an error event: the exception is raised in the session as a DIE
    signal (poe-api §6.5); ``sig_handled`` keeps the session going."""
    log: Log = []
    coroutine_error: list[BaseException] = []

    async def failing() -> None:
        try:
            await _fail("async boom")
        except Failure as exc:
            coroutine_error.append(exc)
            raise

    def start(ctx: Context) -> None:
        ctx.kernel.sig("DIE", "on_die")
        ctx.kernel.await_into(failing(), "done")

    def on_die(ctx: Context, name: str, info: DieInfo) -> None:
        log.append((name, info.error is coroutine_error[0], info.event, info.dest_session.ID))
        ctx.kernel.sig_handled()
        ctx.kernel.yield_("after")

    session = Session.create(
        kernel,
        inline_states={
            "_start": start,
            "done": lambda ctx, *a: log.append("done"),
            "on_die": on_die,
            "after": lambda ctx: log.append("after"),
        },
    )
    kernel.run()
    assert log == [("DIE", True, "done", session.ID), "after"]


@asyncio_loops
def test_await_into_unhandled_exception_ends_run(kernel: Kernel) -> None:
    """``await_into`` + no error event + no DIE handler: run() raises the coroutine's error."""
    Session.create(
        kernel,
        inline_states={"_start": lambda ctx: ctx.kernel.await_into(_fail("fatal"), "done")},
    )
    with pytest.raises(Failure, match="fatal"):
        kernel.run()


@asyncio_loops
def test_await_into_keeps_the_session_alive(kernel: Kernel, poe_loop: str) -> None:
    """poe-api §4.1 applied to awaitables: a session whose only resource is a pending
    ``await_into`` stays alive until the result arrives (here: set by another session)."""
    log: Log = []
    box: dict[str, asyncio.Future[str]] = {}

    async def wait_for_it() -> str:
        return await box["future"]

    def start(ctx: Context) -> None:
        box["future"] = asyncio.get_running_loop().create_future()
        ctx.kernel.await_into(wait_for_it(), "done")

    waiter = Session.create(
        kernel,
        inline_states={
            "_start": lambda ctx: None,
            "begin": start,
            "done": lambda ctx, value: log.append(("done", value)),
            "_stop": lambda ctx: log.append("waiter stop"),
        },
    )

    def step(ctx: Context, n: int) -> None:
        log.append(("step", n, waiter.alive))
        if n < 3:
            ctx.kernel.yield_("step", n + 1)
        else:
            box["future"].set_result("v")

    def helper_start(ctx: Context) -> None:
        ctx.kernel.call(waiter, "begin")
        ctx.kernel.yield_("step", 0)

    async def main() -> None:
        Session.create(kernel, inline_states={"_start": helper_start, "step": step})
        await kernel.run_async()

    _arun(poe_loop, main)
    assert log == [
        ("step", 0, True),
        ("step", 1, True),
        ("step", 2, True),
        ("step", 3, True),
        ("done", "v"),
        "waiter stop",
    ]


@asyncio_loops
def test_cancelling_an_awaited_future_releases_the_session(kernel: Kernel) -> None:
    """Cancelling the future ``await_into`` returned sends no event and lets the session end
    (regression: the hold it took was only released by a result or an error)."""
    log: Log = []

    def start(ctx: Context) -> None:
        ctx.kernel.yield_("go")

    def go(ctx: Context) -> None:
        never: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        future = ctx.kernel.await_into(never, "done", "failed")
        assert future is not None
        future.cancel()
        log.append("cancelled")

    Session.create(
        kernel,
        inline_states={
            "_start": start,
            "go": go,
            "done": lambda ctx, *a: log.append("done"),
            "failed": lambda ctx, *a: log.append("failed"),
            "_stop": lambda ctx: log.append("stop"),
        },
    )
    kernel.run()
    assert log == ["cancelled", "stop"]


@asyncio_loops
def test_await_into_is_cancelled_when_the_session_stops(kernel: Kernel, poe_loop: str) -> None:
    """A session stopped while awaiting (an unhandled TERM here) cancels its awaitable; the
    result event never comes."""
    log: Log = []
    tasks: list[asyncio.Future[Any] | None] = []

    async def forever() -> None:
        kernel.post("helper", "awaiting")  # the coroutine runs: now stop its session
        try:
            await asyncio.get_running_loop().create_future()
        except asyncio.CancelledError:
            log.append("coroutine cancelled")
            raise

    def waiter_start(ctx: Context) -> None:
        ctx.kernel.alias_set("waiter")
        ctx.kernel.yield_("begin")

    def begin(ctx: Context) -> None:
        tasks.append(ctx.kernel.await_into(forever(), "done"))

    Session.create(
        kernel,
        inline_states={
            "_start": waiter_start,
            "begin": begin,
            "done": lambda ctx, *a: log.append("done"),
            "_stop": lambda ctx: log.append("waiter stop"),
        },
    )
    Session.create(
        kernel,
        inline_states={
            "_start": lambda ctx: ctx.kernel.alias_set("helper"),
            "awaiting": lambda ctx: ctx.kernel.signal("waiter", "TERM"),
        },
    )

    async def main() -> None:
        await asyncio.wait_for(kernel.run_async(), GUARD)
        for _ in range(5):  # let the task see its cancellation
            await asyncio.sleep(0)

    _arun(poe_loop, main)
    assert log == ["waiter stop", "coroutine cancelled"]
    assert tasks[0] is not None
    assert tasks[0].cancelled()


# ---------------------------------------------------------------------------------------------
# ask
# ---------------------------------------------------------------------------------------------


def _server(kernel: Kernel, log: Log) -> Session:
    """Alias ``doubler``: ``double(x, reply)`` answers ``x*2``; ``ignore(reply)`` drops it."""

    def double(ctx: Context, x: int, reply: Callable[[Any], None]) -> None:
        log.append(("double", x))
        reply(x * 2)

    def ignore(ctx: Context, reply: Callable[[Any], None]) -> None:
        log.append("ignore")

    return Session.create(
        kernel,
        inline_states={
            "_start": lambda ctx: ctx.kernel.alias_set("doubler"),
            "double": double,
            "ignore": ignore,
            "_stop": lambda ctx: log.append("server stop"),
        },
    )


async def _with_kernel(kernel: Kernel, body: Callable[[], Awaitable[T]]) -> T:
    """Run ``body()`` while the kernel runs in the same asyncio loop; wait for both."""
    running = asyncio.ensure_future(kernel.run_async())
    try:
        return await body()
    finally:
        await running


@asyncio_loops
def test_ask_gets_the_reply(kernel: Kernel, poe_loop: str) -> None:
    """``await kernel.ask(alias, "ev", x)``: the handler gets a reply callable as its last arg;
    ``reply(x*2)`` resolves the await. The alias-only server is then IDLE-reaped."""
    log: Log = []
    server = _server(kernel, log)
    # Between two asks the alias-only server would be IDLE-reaped (poe-api §4.3): hold it.
    kernel.refcount_increment(server.ID, "asking")

    async def body() -> list[int]:
        answers = [
            await kernel.ask("doubler", "double", 21),
            await kernel.ask("doubler", "double", 5),
        ]
        kernel.refcount_decrement(server.ID, "asking")
        return answers

    assert _arun(poe_loop, lambda: _with_kernel(kernel, body)) == [42, 10]
    assert log == [("double", 21), ("double", 5), "server stop"]


@asyncio_loops
def test_ask_with_a_dropped_reply_raises(kernel: Kernel, poe_loop: str) -> None:
    """``ask``: a handler that drops the reply without answering makes the await raise
    SessionNotFound instead of hanging."""
    log: Log = []
    _server(kernel, log)

    async def body() -> str:
        with pytest.raises(SessionNotFound):
            await kernel.ask("doubler", "ignore")
        return "ok"

    assert _arun(poe_loop, lambda: _with_kernel(kernel, body)) == "ok"
    assert log == ["ignore", "server stop"]


@asyncio_loops
def test_ask_an_unknown_session_raises(kernel: Kernel, poe_loop: str) -> None:
    """``ask`` resolves its destination like post(): an unknown alias raises SessionNotFound."""

    async def main() -> None:
        with pytest.raises(SessionNotFound):
            await kernel.ask("nobody", "ev")

    _arun(poe_loop, main)


# ---------------------------------------------------------------------------------------------
# post_threadsafe
# ---------------------------------------------------------------------------------------------

THREADS = 4
POSTS = 1000


def test_post_threadsafe_from_threads_keeps_per_thread_order(kernel: Kernel) -> None:
    """``post_threadsafe`` from 4 threads x 1000 posts: every post is delivered, and each
    thread's posts arrive in the order it made them (posts are FIFO, poe-api §3)."""
    received: dict[int, list[int]] = {t: [] for t in range(THREADS)}
    threads: list[threading.Thread] = []

    def producer(t: int) -> None:
        for i in range(POSTS):
            kernel.post_threadsafe("sink", "msg", t, i)

    def start(ctx: Context) -> None:
        ctx.kernel.alias_set("sink")
        ctx.kernel.refcount_increment(ctx.session.ID, "producers")
        for t in range(THREADS):
            thread = threading.Thread(target=producer, args=(t,))
            threads.append(thread)
            thread.start()

    def msg(ctx: Context, t: int, i: int) -> None:
        received[t].append(i)
        if sum(map(len, received.values())) == THREADS * POSTS:
            ctx.kernel.refcount_decrement(ctx.session.ID, "producers")
            ctx.kernel.alias_remove("sink")

    Session.create(kernel, inline_states={"_start": start, "msg": msg})
    try:
        kernel.run()
    finally:
        for thread in threads:
            thread.join()
    assert received == {t: list(range(POSTS)) for t in range(THREADS)}


def test_post_threadsafe_to_an_unknown_session_is_dropped(
    kernel: Kernel, caplog: pytest.LogCaptureFixture
) -> None:
    """``post_threadsafe`` resolves on the kernel's thread; an unknown destination is logged and
    dropped, never raised in the posting thread."""
    log: Log = []

    def start(ctx: Context) -> None:
        ctx.kernel.refcount_increment(ctx.session.ID, "wait")
        thread = threading.Thread(target=lambda: kernel.post_threadsafe("nobody", "ev"))
        thread.start()
        thread.join()
        ctx.kernel.post_threadsafe(ctx.session.ID, "after")

    def after(ctx: Context) -> None:
        log.append("after")
        ctx.kernel.refcount_decrement(ctx.session.ID, "wait")

    with caplog.at_level("WARNING", logger="poe"):
        Session.create(kernel, inline_states={"_start": start, "after": after})
        kernel.run()
    assert log == ["after"]
    assert any("nobody" in record.getMessage() for record in caplog.records)
