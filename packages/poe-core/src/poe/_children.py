"""Child processes the kernel waits for (POE's ``sig_child`` and ``CHLD`` handling).

How a child's exit is noticed, in order of preference:

1. A pidfd (Linux 5.3+): the kernel watches ``os.pidfd_open(pid)`` for readability and reaps
   exactly that pid. No SIGCHLD handler is installed, so ``subprocess`` keeps working.
2. Polling every :data:`CHILD_POLLING_INTERVAL` seconds (POE without ``USE_SIGCHLD``), where
   pidfds are missing.
3. When a session watches the ``CHLD`` signal itself, POE's behaviour: SIGCHLD reaps every child
   with ``waitpid(-1)`` and broadcasts ``CHLD`` for each. That competes with ``subprocess`` for
   exit statuses, as it does in POE.

Each reaped pid gives every session watching it a one-shot event
``(event, "CHLD", pid, raw_wait_status, *args)``, then a benign ``CHLD`` signal for ``sig()``
watchers.
"""

from __future__ import annotations

import errno
import os
from typing import TYPE_CHECKING, Any, Final

from poe.loop import Mode
from poe.session import EMPTY

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from poe._core import KernelCore
    from poe.session import SessionBase

__all__ = ["CHILD_POLLING_INTERVAL", "Children"]

#: Seconds between polls where pidfds are not available.
CHILD_POLLING_INTERVAL: Final = 1.0

#: The status reported when something else reaped the child first (subprocess, os.wait).
STATUS_LOST: Final = -1


class Children:
    """The pids sessions wait for, and the fds or polls that notice their exits."""

    __slots__ = ("_kernel", "_poll_armed", "internal_fds", "pidfds", "watchers")

    def __init__(self, kernel: KernelCore) -> None:
        self._kernel = kernel
        self.watchers: dict[int, dict[SessionBase, None]] = {}
        #: pid -> pidfd (or -1 while polled).
        self.pidfds: dict[int, int] = {}
        #: pidfd -> what to run when it becomes readable.
        self.internal_fds: dict[int, Callable[[], None]] = {}
        self._poll_armed = False

    def watch(self, session: SessionBase, pid: int, event: str, args: tuple[Any, ...]) -> None:
        """Watch ``pid`` for ``session`` (replacing its event if it already watches it)."""
        if pid not in session._k_pids:
            session._k_rc += 1
            self.watchers.setdefault(pid, {})[session] = None
        if session._k_pids is EMPTY:
            session._k_pids = {}
        session._k_pids[pid] = (event, args)
        self._notice(pid)

    def unwatch(self, session: SessionBase, pid: int) -> None:
        """Stop watching ``pid`` for ``session``; harmless when it did not (POE rt23181)."""
        if session._k_pids.pop(pid, None) is None:
            return
        session._k_rc -= 1
        if session._k_rc <= 0:
            self._kernel._gc_marks_append(session)
        watchers = self.watchers.get(pid)
        if watchers is not None:
            watchers.pop(session, None)
            if not watchers:
                del self.watchers[pid]
                self._forget(pid)

    def clear_session(self, session: SessionBase) -> None:
        """Drop every watch of a stopping session."""
        for pid in list(session._k_pids):
            self.unwatch(session, pid)

    def _notice(self, pid: int) -> None:
        if pid in self.pidfds:
            return
        pidfd_open = getattr(os, "pidfd_open", None)
        try:
            if pidfd_open is None:
                raise OSError(errno.ENOSYS, "pidfd_open is not available")
            fd = pidfd_open(pid)
        except OSError:
            # No pidfd (old kernel, or the pid is already gone): poll like POE without SIGCHLD.
            self.pidfds[pid] = -1
            self._poll_later()
            return
        self.pidfds[pid] = fd
        self.internal_fds[fd] = lambda: self.reap(pid)
        self._kernel._loop.watch(fd, Mode.READ)

    def _forget(self, pid: int) -> None:
        fd = self.pidfds.pop(pid, None)
        if fd is not None and fd >= 0:
            self._kernel._loop.unwatch(fd, Mode.READ)
            del self.internal_fds[fd]
            os.close(fd)

    def _poll_later(self) -> None:
        if self._poll_armed:
            return
        self._poll_armed = True
        self._kernel._internal_timer(CHILD_POLLING_INTERVAL, self._poll)

    def _poll(self) -> None:
        self._poll_armed = False
        self.reap(None)
        if any(fd < 0 for fd in self.pidfds.values()):
            self._poll_later()

    def reap(self, pid: int | None) -> None:
        """Reap ``pid``, or (``None``) every watched pid, or every child when CHLD is watched."""
        if pid is not None:
            candidates: Iterable[int] = [pid]
        elif self._kernel._signal_watched("CHLD"):
            candidates = [-1]
        else:
            candidates = list(self.watchers)
        for candidate in candidates:
            while True:
                try:
                    reaped, status = os.waitpid(candidate, os.WNOHANG)
                except ChildProcessError:
                    if candidate > 0 and candidate in self.watchers:
                        self._exited(candidate, STATUS_LOST)
                    break
                if reaped == 0:
                    break
                self._exited(reaped, status)
                if candidate > 0:
                    break

    def _exited(self, pid: int, status: int) -> None:
        watchers = self.watchers.pop(pid, {})
        self._forget(pid)
        kernel = self._kernel
        for session in watchers:
            event, args = session._k_pids.pop(pid)
            session._k_rc -= 1
            kernel._enqueue(session, kernel, event, ("CHLD", pid, status, *args), 0)
        if kernel._signal_watched("CHLD"):
            kernel._enqueue(kernel, kernel, "CHLD", (pid, status), 1)
