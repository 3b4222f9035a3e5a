"""Wheels: the layer that ties the kernel, file descriptors, drivers and filters (POE::Wheel::*).

* :class:`ReadWriteWheel`: filtered, buffered, non-blocking I/O on a handle.
* :class:`ListenAcceptWheel`: accept connections on a listening socket.
* :class:`SocketFactoryWheel`: create client and server sockets without blocking.
* :class:`FollowTailWheel`: follow a growing file through truncation and rotation.
* :class:`RunWheel`: run a child process and talk to it through pipes or a pty.
* :class:`CursesWheel`: full-screen keystroke input (:mod:`poe.wheel.curses`).
* :class:`ReadLineWheel`: an editing prompt with history on prompt_toolkit
  (:mod:`poe.wheel.readline`, extra ``poe-core[readline]``).

The two terminal wheels are imported on first use, so ``import poe.wheel`` needs neither
``curses`` nor prompt_toolkit.

A wheel is created inside a handler of the session that will own it, with the kernel as first
argument (``ReadWriteWheel(ctx.kernel, handle=sock, input_event="got_line")``), and emits its
events to that session with ``call``. Keep a reference to it (usually in the heap): dropping it,
or calling ``close()``, stops it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from poe.wheel._base import WheelBase, allocate_wheel_id, free_wheel_id
from poe.wheel.followtail import FollowTailWheel
from poe.wheel.listenaccept import ListenAcceptWheel
from poe.wheel.readwrite import ReadWriteWheel
from poe.wheel.run import RunWheel
from poe.wheel.socketfactory import SocketFactoryWheel

if TYPE_CHECKING:
    from poe.wheel.curses import CursesWheel
    from poe.wheel.readline import ReadLineWheel

__all__ = [
    "CursesWheel",
    "FollowTailWheel",
    "ListenAcceptWheel",
    "ReadLineWheel",
    "ReadWriteWheel",
    "RunWheel",
    "SocketFactoryWheel",
    "WheelBase",
    "allocate_wheel_id",
    "free_wheel_id",
]


def __getattr__(name: str) -> Any:
    # The terminal wheels load curses or prompt_toolkit: only when asked for.
    if name == "CursesWheel":
        from poe.wheel.curses import CursesWheel

        return CursesWheel
    if name == "ReadLineWheel":
        from poe.wheel.readline import ReadLineWheel

        return ReadLineWheel
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)
