"""Who watches which file descriptor, in which mode (POE::Resource::FileHandles).

Rules:

* One ``(session, fd, mode)`` is one watcher. Watching again only resumes it: POE keeps the
  first event name and arguments.
* A session gains one reference per distinct fd it watches in any mode (paused included), so a
  watched fd keeps it alive.
* Pausing is per fd and mode: the loop stops reporting, the watchers and references stay.
* Two different handle objects on one fd is an error: it means a handle was closed while still
  watched and its number was reused.
"""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING, Any

from poe import _trace
from poe.errors import InvalidArgument
from poe.loop import Mode

if TYPE_CHECKING:
    from collections.abc import Callable

    from poe.loop import Loop
    from poe.session import SessionBase

__all__ = ["FdEntry", "FileHandles", "fileno", "find_watcher"]

#: The watchers of one fd in one mode, flat: ``(session, event, args, session, event, ...)``.
Watchers = tuple[Any, ...]


def _add_fd(session: SessionBase, fd: int, delta: int) -> int:
    """Add ``delta`` to the modes ``session`` watches ``fd`` in; return the new count.

    ``session._k_fds`` is a flat tuple ``(fd, count, ...)``: a session watches one fd or two,
    and a tuple of two ints is a third of an empty dict. At 0 the fd is dropped from it.
    """
    fds = session._k_fds
    for index in range(0, len(fds), 2):
        if fds[index] == fd:
            count = fds[index + 1] + delta
            rest = fds[:index] + fds[index + 2 :]
            session._k_fds = (*rest, fd, count) if count else rest
            return count
    if delta > 0:
        session._k_fds = (*fds, fd, delta)
    return delta


def find_watcher(watchers: Watchers, session: SessionBase) -> int:
    """Index of ``session``'s watcher in a flat ``watchers`` tuple, or -1 (one is the rule)."""
    for index in range(0, len(watchers), 3):
        if watchers[index] is session:
            return index
    return -1


def fileno(handle: Any) -> int:
    """The descriptor behind ``handle``: an ``int``, or anything with ``fileno()``."""
    return handle if isinstance(handle, int) else int(handle.fileno())


class FdEntry:
    """The watchers of one file descriptor, per mode."""

    __slots__ = ("handle", "paused", "watched", "watchers")

    def __init__(self, handle: Any) -> None:
        self.handle = handle
        # Per mode, a flat tuple (see Watchers), replaced when it changes: one watcher is the
        # rule, and a dict with one entry costs four times as much (every connection pays it).
        self.watchers: list[Watchers] = [(), (), ()]
        # Bit ``1 << mode``: paused by a program / watched by the loop (ints: no lists to keep).
        self.paused = 0
        self.watched = 0


class FileHandles:
    """The kernel's fd watcher table. ``mark`` is called for sessions that lost a reference."""

    __slots__ = ("_loop", "_mark", "pairs", "table")

    def __init__(self, loop: Loop, mark: Callable[[SessionBase], None]) -> None:
        self._loop = loop
        self._mark = mark
        self.table: dict[int, FdEntry] = {}
        #: How many (session, fd) pairs are watched: non-zero means the kernel is not idle.
        self.pairs = 0

    def watch(
        self,
        session: SessionBase,
        handle: Any,
        mode: Mode,
        event: str,
        args: tuple[Any, ...],
    ) -> None:
        """Add a watcher (or resume the existing one).

        Raises:
            InvalidArgument: another handle object already watches the same fd.
        """
        fd = fileno(handle)
        entry = self.table.get(fd)
        if entry is None:
            entry = self.table[fd] = FdEntry(handle)
            with contextlib.suppress(OSError):
                os.set_blocking(fd, False)  # POE conditions every watched handle
        elif entry.handle is not handle and not (
            isinstance(handle, int) or isinstance(entry.handle, int)
        ):
            msg = (
                f"two different handles watch file descriptor {fd}: {entry.handle!r} and "
                f"{handle!r}; stop watching the old one before it is closed"
            )
            raise InvalidArgument(msg)
        watchers = entry.watchers[mode]
        if find_watcher(watchers, session) >= 0:
            self.pause(handle, mode, paused=False)
            return
        entry.watchers[mode] = (*watchers, session, event, args)
        if _add_fd(session, fd, 1) == 1:
            session._k_rc += 1
            self.pairs += 1
        bit = 1 << mode
        if not (entry.watched | entry.paused) & bit:
            entry.watched |= bit
            self._loop.watch(fd, mode)
        if _trace.TRACE_FILES:
            _trace.log.debug("<fh> %r watches fd %d for %s", session, fd, mode.name)

    def rebind(
        self, session: SessionBase, fd: int, mode: Mode, event: str, args: tuple[Any, ...]
    ) -> None:
        """Change the event and args of an existing watcher.

        For wheels only: ``select_read`` on a watched handle keeps the first event, as in POE.
        """
        entry = self.table.get(fd)
        if entry is None:
            return
        watchers = entry.watchers[mode]
        index = find_watcher(watchers, session)
        if index >= 0:
            entry.watchers[mode] = (*watchers[:index], session, event, args, *watchers[index + 3 :])

    def unwatch(self, session: SessionBase, fd: int, mode: Mode) -> None:
        """Remove ``session``'s watcher of ``fd`` in ``mode``, if any."""
        entry = self.table.get(fd)
        if entry is None:
            return
        watchers = entry.watchers[mode]
        index = find_watcher(watchers, session)
        if index < 0:
            return
        watchers = entry.watchers[mode] = watchers[:index] + watchers[index + 3 :]
        if not watchers:
            bit = 1 << mode
            if entry.watched & bit:
                entry.watched &= ~bit
                self._loop.unwatch(fd, mode)
            entry.paused &= ~bit
        if not _add_fd(session, fd, -1):
            session._k_rc -= 1
            self.pairs -= 1
            if session._k_rc <= 0:
                self._mark(session)
        if not any(entry.watchers):
            del self.table[fd]

    def pause(self, handle: Any, mode: Mode, *, paused: bool) -> bool:
        """Pause or resume reporting of ``handle`` in ``mode``; True if anyone watches it."""
        fd = fileno(handle)
        entry = self.table.get(fd)
        if entry is None or not entry.watchers[mode]:
            return False
        bit = 1 << mode
        if paused:
            entry.paused |= bit
            if entry.watched & bit:
                entry.watched &= ~bit
                self._loop.unwatch(fd, mode)
        else:
            entry.paused &= ~bit
            if not entry.watched & bit:
                entry.watched |= bit
                self._loop.watch(fd, mode)
        return True

    def clear_session(self, session: SessionBase) -> None:
        """Remove every watcher of a stopping session."""
        for fd in session._k_fds[::2]:
            for mode in Mode:
                self.unwatch(session, fd, mode)
