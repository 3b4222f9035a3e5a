"""Accept connections on a listening socket (POE::Wheel::ListenAccept).

Port of POE::Wheel::ListenAccept 1.370: one ``accept()`` per readable notification;
``accept_event(new_socket, peer_address, wheel_id)`` is ``call``-ed to the owner session; an
accept failure other than "would block" (and ``ECONNABORTED``, a connection the peer dropped
while queued) becomes ``error_event("accept", errno, errstr, wheel_id)``.

The peer address is what :meth:`socket.socket.accept` returns (``(host, port)`` for IPv4,
``(host, port, flowinfo, scope_id)`` for IPv6, a path or ``""`` for UNIX sockets) rather than
POE's packed ``sockaddr``. The accepted socket is non-blocking and belongs to the receiver,
who must close it. The listening socket stays the caller's: closing the wheel does not close it.
"""

from __future__ import annotations

import errno as _errno
from typing import TYPE_CHECKING, Any

from poe.errors import InvalidArgument
from poe.loop import Mode
from poe.wheel._base import WheelBase, error_of, rename_events

if TYPE_CHECKING:
    import socket

    from poe.kernel import Kernel

__all__ = ["ListenAcceptWheel"]

#: accept() failures that are not worth an event: nothing to accept after all.
IGNORED_ACCEPT_ERRORS = frozenset({_errno.EAGAIN, _errno.EWOULDBLOCK, _errno.ECONNABORTED})


class ListenAcceptWheel(WheelBase):
    """Accept connections on an already listening ``handle``.

    Args:
        kernel: the kernel; its active session owns the wheel.
        handle: a listening socket (required).
        accept_event: ``(socket, peer_address, wheel_id)`` per accepted connection (required).
        error_event: ``("accept", errno, errstr, wheel_id)``.

    Raises:
        InvalidArgument: ``handle`` or ``accept_event`` is missing.
        NotInSession: not created inside a session's handler.
    """

    def __init__(
        self,
        kernel: Kernel,
        *,
        handle: socket.socket,
        accept_event: str,
        error_event: str | None = None,
    ) -> None:
        given: tuple[object, object] = (handle, accept_event)  # callers may be untyped
        if given[0] is None:
            msg = "ListenAcceptWheel needs a listening handle"
            raise InvalidArgument(msg)
        if not isinstance(given[1], str):
            msg = "ListenAcceptWheel needs an accept_event"
            raise InvalidArgument(msg)
        super().__init__(kernel)
        self._handle = handle
        self._accept_event: str = accept_event
        self._error_event = error_event
        handle.setblocking(False)
        self._state = self._define("select accept", "_on_accept")
        try:
            self._watch(handle, Mode.READ, self._state)
        except BaseException:
            self.close()
            raise

    def _on_accept(self, handle: Any, mode: Mode, *args: Any) -> None:
        try:
            new_socket, peer = self._handle.accept()
        except OSError as exc:
            if exc.errno in IGNORED_ACCEPT_ERRORS:
                return
            code, text = error_of(exc)
            self._emit(self._error_event, "accept", code, text, self._id)
            return
        new_socket.setblocking(False)
        self._emit(self._accept_event, new_socket, peer, self._id)

    def event(self, **renames: str | None) -> None:
        """Rename events: ``accept_event`` (cannot be disabled), ``error_event``.

        Raises:
            InvalidArgument: an unknown event, or ``accept_event=None``.
        """
        if "accept_event" in renames and renames["accept_event"] is None:
            msg = "accept_event cannot be disabled"
            raise InvalidArgument(msg)
        rename_events(
            self, {"accept_event": "_accept_event", "error_event": "_error_event"}, renames
        )

    def get_handle(self) -> socket.socket:
        """The listening socket."""
        return self._handle
