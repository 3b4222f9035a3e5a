"""Postbacks and callbacks: plain callables that turn a call into a POE event."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from poe.kernel import Kernel
from poe.session import Context, Session

if TYPE_CHECKING:
    from collections.abc import Callable


# -- a service that knows nothing about the requester except a callable to call when done ----
def service_start(ctx: Context) -> None:
    ctx.kernel.alias_set("service")


def job(ctx: Context, when_done: Callable[..., Any]) -> None:
    print("service: got a job, will answer in 0.1 s")
    ctx.kernel.delay("finish", 0.1, when_done)


def finish(ctx: Context, when_done: Callable[..., Any]) -> None:
    print("service: calling the postback")
    when_done(42, "the answer")


# -- the requester -----------------------------------------------------------------------------
def requester_start(ctx: Context) -> None:
    pb = ctx.session.postback("answer", "request-1")
    ctx.heap["pb"] = pb
    ctx.kernel.post("service", "job", pb)

    cb = ctx.session.callback("compute", "calc")
    print(f"requester: callback returned {cb(3, 4)!r} synchronously")
    cb.release()
    print("requester: _start ends; the postback keeps me alive while I wait")


def compute(ctx: Context, request: tuple[Any, ...], args: tuple[Any, ...]) -> int:
    print(f"requester: compute{request} called with {args}")
    return sum(args)


def answer(ctx: Context, request: tuple[Any, ...], response: tuple[Any, ...]) -> None:
    print(f"requester: answer to {request} is {response}")
    ctx.heap.pop("pb").release()  # nothing else will come back: let the session go


def requester_stop(ctx: Context) -> None:
    print("requester: _stop")


kernel = Kernel()
Session.create(kernel, inline_states={"_start": service_start, "job": job, "finish": finish})
Session.create(
    kernel,
    inline_states={
        "_start": requester_start,
        "compute": compute,
        "answer": answer,
        "_stop": requester_stop,
    },
)
kernel.run()
