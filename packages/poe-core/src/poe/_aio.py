"""Bridges between the kernel and asyncio: awaitables as events, and coroutines asking sessions.

Handlers stay plain functions. A coroutine's outcome comes back as an ordinary event
(:func:`await_into`); a coroutine talks to a session by posting an event that carries a reply
callable (:func:`ask`).
"""

from __future__ import annotations

import asyncio
import inspect
from typing import TYPE_CHECKING, Any

from poe.errors import SessionNotFound

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from poe.kernel import Kernel

__all__ = ["ask", "await_into"]

#: The refcount tag that holds a session while it awaits.
AWAIT_TAG = "await_into"


def asyncio_loop(kernel: Kernel) -> asyncio.AbstractEventLoop:
    """The asyncio loop under ``kernel``.

    Raises:
        RuntimeError: the kernel's loop backend is not asyncio-based.
    """
    aloop = getattr(kernel.loop, "asyncio_loop", None)
    if aloop is None:
        msg = f"the {kernel.loop.name!r} loop has no asyncio loop: use loop='asyncio'"
        raise RuntimeError(msg)
    result: asyncio.AbstractEventLoop = aloop
    return result


def await_into(
    kernel: Kernel,
    awaitable: Awaitable[Any],
    event: str,
    error_event: str | None,
    args: tuple[Any, ...],
) -> asyncio.Future[Any] | None:
    """See :meth:`poe.kernel.Kernel.await_into`."""
    session = kernel._require_session()
    asyncio_loop(kernel)  # fail now, in the caller, if the backend has no asyncio loop
    sid = session.ID
    kernel._extref_add(session, AWAIT_TAG, 1)

    def done(fut: asyncio.Future[Any]) -> None:
        pending = kernel._futures.get(sid)
        if pending is not None:
            pending.discard(fut)
            if not pending:
                del kernel._futures[sid]
        target = kernel._lookup.get(sid)
        if target is None:
            return  # the session is gone, and its hold with it
        if fut.cancelled():
            # Cancelled by someone else (a wheel closing, say): no event, but release the hold.
            kernel._release_extref(sid, AWAIT_TAG)
            return
        outer = kernel._enter()
        try:
            exc = fut.exception()
            if exc is None:
                kernel.post(sid, event, fut.result(), *args)
            elif error_event is not None:
                kernel.post(sid, error_event, exc, *args)
            else:
                kernel._handler_failed(exc, target, kernel, event, None)
            kernel._extref_add(target, AWAIT_TAG, -1)
        finally:
            kernel._leave(outer)

    def schedule() -> asyncio.Future[Any] | None:
        if sid not in kernel._lookup:  # the session stopped before the loop ran
            if inspect.iscoroutine(awaitable):
                awaitable.close()
            return None
        future = asyncio.ensure_future(awaitable, loop=asyncio_loop(kernel))
        kernel._futures.setdefault(sid, set()).add(future)
        future.add_done_callback(done)
        return future

    if kernel._running:
        return schedule()
    # Before run() or run_async(): which asyncio loop will run the kernel is not known yet
    # (run_async() binds to the caller's), so the awaitable starts once the kernel runs.
    kernel._inbox.append(schedule)
    return None


async def ask(kernel: Kernel, dest: Any, event: str, args: tuple[Any, ...]) -> Any:
    """See :meth:`poe.kernel.Kernel.ask`."""
    aloop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = aloop.create_future()
    kernel.post(dest, event, *args, Reply(future))
    return await future


class Reply:
    """The reply callable :func:`ask` passes to a handler; call it once with the answer."""

    __slots__ = ("_future",)

    def __init__(self, future: asyncio.Future[Any]) -> None:
        self._future = future

    def __call__(self, value: Any = None) -> None:
        """Answer the waiting coroutine (later answers are ignored). Thread-safe."""
        future = self._future
        if not future.done():
            future.get_loop().call_soon_threadsafe(_settle, future, value, None)

    def __del__(self) -> None:
        future = self._future
        if not future.done() and not future.get_loop().is_closed():
            error = SessionNotFound("the handler dropped the reply without answering")
            future.get_loop().call_soon_threadsafe(_settle, future, None, error)


def _settle(future: asyncio.Future[Any], value: Any, error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(value)
    else:
        future.set_exception(error)
