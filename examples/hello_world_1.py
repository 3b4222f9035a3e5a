"""Hello World 1: count to 10, with every construct spelled out.

This program is deliberately longer than it needs to be. Every value that has a default is
given explicitly, every object a handler uses is fetched by name, and every event is addressed
with the general-purpose ``post()``. ``hello_world_2.py`` is the same program with the shortcuts.
"""

from __future__ import annotations

from poe.kernel import Kernel
from poe.session import Context, Session


def start(ctx: Context, greeting: str) -> None:
    """Handle ``_start``: the first event of every session, dispatched inside create()."""
    kernel = ctx.kernel  # the kernel running this session
    session = ctx.session  # the session this handler belongs to
    heap = session.get_heap()  # the session's private data (the same object as ctx.heap)

    print(f"Session {session.ID} says: {greeting}")
    heap["count"] = 0
    kernel.post(session, "count")  # enqueue a "count" event, addressed to this session


def count(ctx: Context) -> None:
    """Handle ``count``: add one, and ask for another ``count`` until we reach 10."""
    kernel = ctx.kernel
    session = ctx.session
    heap = session.get_heap()

    heap["count"] += 1
    print(f"Session {session.ID} has counted to {heap['count']}.")
    if heap["count"] < 10:
        kernel.post(session, "count")


def stop(ctx: Context) -> None:
    """Handle ``_stop``: the last event a session receives, when it has nothing left to do."""
    print(f"Session {ctx.session.ID} has stopped.")


def main() -> None:
    kernel = Kernel(loop="asyncio", clock=None)

    Session.create(
        kernel,
        inline_states={
            "_start": start,
            "count": count,
            "_stop": stop,
        },
        heap={},
        args=("Hello, world!",),
        options={},
    )

    print("Running the kernel.")
    kernel.run()
    print("kernel.run() has returned: no session has anything left to do.")


if __name__ == "__main__":
    main()
