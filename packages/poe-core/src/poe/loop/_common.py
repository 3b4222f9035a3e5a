"""Small pieces shared by the loop backends (private: not part of the loop interface)."""

from __future__ import annotations

import errno
import signal
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import FrameType
    from typing import TypeAlias

    from poe.loop import Mode

    #: What :func:`signal.signal` accepts and :func:`signal.getsignal` returns. ``None`` means "a
    #: handler not installed from Python" and is what ``getsignal`` reports for such signals.
    SignalHandler: TypeAlias = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None

#: The ``errno`` with which epoll refuses an fd it cannot watch (a regular file, a directory).
#: ``select(2)`` reports such fds as always ready, so the backends emulate that instead of failing.
UNPOLLABLE_ERRNO: Final = errno.EPERM


class NullHost:
    """The host of a loop that is not attached: it ignores every callback.

    Holding this instead of ``None`` keeps the dispatch paths free of ``is None`` tests.
    """

    __slots__ = ()

    def on_timer(self) -> None:
        """Ignore a timer expiry."""

    def on_io(self, fd: int, mode: Mode) -> None:
        """Ignore fd readiness."""

    def on_signal(self, signum: int) -> None:
        """Ignore a signal."""


NULL_HOST: Final = NullHost()


def restore_signal(signum: int, previous: SignalHandler) -> None:
    """Put back the disposition ``signum`` had before a backend hooked it.

    Args:
        signum: the signal number.
        previous: what :func:`signal.signal` returned when the backend installed its handler.
            ``None`` (a handler installed from C, which Python cannot reinstall) restores
            ``SIG_DFL``, the closest thing Python can express.
    """
    signal.signal(signum, signal.SIG_DFL if previous is None else previous)
