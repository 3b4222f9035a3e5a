"""The narrow interface between the kernel and an event loop.

The kernel owns every piece of POE's semantics: the event queue, the timer heap, sessions and
their lifetimes. A loop backend only provides what an operating system or a host framework must:
file descriptor readiness, ONE timer, a thread-safe wake-up and OS signal delivery. This is
POE::Loop's contract (``loop_watch_filehandle``, ``loop_resume_time_watcher``, ...) expressed as two
:class:`typing.Protocol` classes.

Backends (selected by name with :func:`get_loop`, never by importing for side effects):

``"asyncio"``
    :class:`poe.loop.asyncio_loop.AsyncioLoop`, the default: runs on a stdlib asyncio loop, so
    asyncio libraries (aiohttp, dnspython, pysnmp, irc) work in the same thread.
``"uvloop"``
    The same bridge on a uvloop loop (needs the ``uvloop`` extra).
``"select"``
    :class:`poe.loop.select_loop.SelectLoop`: a pure ``selectors``/epoll loop with no asyncio.
"""

from __future__ import annotations

import enum
import importlib
import os
from typing import TYPE_CHECKING, Final, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["BACKENDS", "DEFAULT_BACKEND", "Loop", "LoopHost", "Mode", "available_loops", "get_loop"]


class Mode(enum.IntEnum):
    """What a file descriptor is watched for. The values are POE's ``MODE_RD/WR/EX`` numbers."""

    READ = 0
    WRITE = 1
    EXPEDITE = 2


class LoopHost(Protocol):
    """What a loop calls back into. The kernel implements it; a loop knows nothing else of it."""

    def on_timer(self) -> None:
        """The single timer expired, or :meth:`Loop.wake` was called."""

    def on_io(self, fd: int, mode: Mode) -> None:
        """``fd`` is ready for ``mode`` (level-triggered: called again while it stays ready)."""

    def on_signal(self, signum: int) -> None:
        """OS signal ``signum`` arrived. Called from the loop, never from a C signal handler."""


class Loop(Protocol):
    """An event loop backend.

    Rules every backend follows:

    * Callbacks into the host happen only on the thread that runs the loop, from :meth:`run` or
      :meth:`run_once`, never re-entrantly from inside a watch/unwatch/set_timer call.
    * ``set_timer(delay)`` arms one timer ``delay`` real seconds from now, replacing any earlier
      one; ``None`` cancels it. On expiry the host's ``on_timer`` is called once.
    * ``watch``/``unwatch`` are idempotent per ``(fd, mode)``.
    * ``halt()`` only affects a ``run()`` in progress; exceptions raised by host callbacks
      propagate out of ``run``/``run_once``.
    * After :meth:`close` the loop holds no fd, timer or signal hook, and may be attached again.
    """

    name: str

    def attach(self, host: LoopHost) -> None:
        """Start delivering callbacks to ``host``."""

    def close(self) -> None:
        """Drop every watch, the timer and every signal hook."""

    def watch(self, fd: int, mode: Mode) -> None:
        """Start watching ``fd`` for ``mode``."""

    def unwatch(self, fd: int, mode: Mode) -> None:
        """Stop watching ``fd`` for ``mode``."""

    def set_timer(self, delay: float | None) -> None:
        """Arm the single timer ``delay`` seconds from now (``None`` cancels it)."""

    def wake(self) -> None:
        """Thread-safe: make the loop call ``host.on_timer()`` soon on its own thread."""

    def watch_signal(self, signum: int) -> None:
        """Deliver OS signal ``signum`` to ``host.on_signal`` (main thread only)."""

    def unwatch_signal(self, signum: int) -> None:
        """Stop delivering ``signum``: restore the handler it had before :meth:`watch_signal`."""

    def run(self) -> None:
        """Dispatch callbacks until :meth:`halt` is called."""

    def run_once(self, timeout: float | None) -> None:
        """Wait up to ``timeout`` seconds (``None``: until something happens), dispatch, return."""

    def halt(self) -> None:
        """Make :meth:`run` return once the current callback returns."""


DEFAULT_BACKEND: Final = "asyncio"

#: backend name -> "module:factory"; the module is imported only when the backend is asked for.
BACKENDS: Final[dict[str, str]] = {
    "asyncio": "poe.loop.asyncio_loop:AsyncioLoop",
    "uvloop": "poe.loop.asyncio_loop:UvloopLoop",
    "select": "poe.loop.select_loop:SelectLoop",
}


def get_loop(name: str | None = None) -> Loop:
    """Build a fresh loop backend by name.

    Args:
        name: ``"asyncio"``, ``"uvloop"`` or ``"select"`` (POE's spellings such as
            ``"POE::Loop::Select"`` or ``"Loop::Select"`` are accepted). ``None`` reads the
            ``POE_EVENT_LOOP`` environment variable and falls back to ``"asyncio"``.

    Raises:
        ValueError: the name is not a known backend.
        ImportError: the backend needs a package that is not installed (uvloop).
    """
    if name is None:
        name = os.environ.get("POE_EVENT_LOOP") or DEFAULT_BACKEND
    key = name.lower().removeprefix("poe::").removeprefix("loop::").replace("_", "")
    if key not in BACKENDS:
        known = ", ".join(sorted(BACKENDS))
        msg = f"unknown event loop {name!r}: expected one of {known}"
        raise ValueError(msg)
    module_name, _, attr = BACKENDS[key].partition(":")
    factory: Callable[[], Loop] = getattr(importlib.import_module(module_name), attr)
    return factory()


def available_loops() -> list[str]:
    """The backend names that can be built here (uvloop only when it is installed)."""
    names = []
    for name in BACKENDS:
        try:
            get_loop(name).close()
        except ImportError:
            continue
        names.append(name)
    return names
