"""The driver interface: buffered, non-blocking reads and writes of octets (POE::Driver).

A driver owns the bytes-on-the-wire half of a wheel; filters own the framing half. A driver
does no framing and keeps no kernel state: a wheel calls :meth:`Driver.get` when its handle is
readable and :meth:`Driver.flush` when it is writable.

Rules (POE::Driver 1.370, with ``undef`` + ``$!`` replaced by return values and ``OSError``):

* ``get`` does ONE read of at most the block size: ``[data]``, ``[]`` when the read would block,
  ``None`` at end of file, ``OSError`` for anything else.
* ``put`` queues chunks (empty ones are dropped) and returns the octets now buffered; it never
  writes. Drivers and filters share the ``put`` shape so that they stack.
* ``flush`` writes queued chunks until the handle would block, and returns the octets left.
  A real write error raises ``OSError``; the chunks that were not written stay queued.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, TypeAlias

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["Driver", "Handle", "HasFileno", "fileno"]


class HasFileno(Protocol):
    """Anything backed by a file descriptor: files, sockets, pipes' file objects."""

    def fileno(self) -> int:
        """The descriptor number."""


#: What drivers read from and write to: a descriptor number or an object that has one.
Handle: TypeAlias = int | HasFileno


def fileno(handle: Handle) -> int:
    """The descriptor behind ``handle``: an ``int``, or anything with ``fileno()``."""
    return handle if isinstance(handle, int) else handle.fileno()


class Driver(Protocol):
    """Buffered non-blocking I/O on a handle (POE::Driver).

    The handle is passed on every call rather than bound at construction, as in POE: a wheel
    may read one handle and write another (Wheel::ReadWrite's ``InputHandle`` and
    ``OutputHandle``) with two drivers, or one driver per direction.
    """

    def get(self, handle: Handle) -> list[bytes] | None:
        """Read once, without blocking.

        Returns:
            ``[data]`` with the octets read; ``[]`` if nothing could be read without blocking
            (``EAGAIN``/``EWOULDBLOCK``); ``None`` at end of file.

        Raises:
            OSError: the read failed (POE: ``undef`` with ``$!`` set).
        """

    def put(self, chunks: Iterable[bytes]) -> int:
        """Queue ``chunks`` for writing (empty chunks are dropped); nothing is written yet.

        Returns:
            The octets buffered after queueing, written or not by later flushes.
        """

    def flush(self, handle: Handle) -> int:
        """Write queued octets until the handle would block or the queue is empty.

        Returns:
            The octets still buffered: 0 means everything was written.

        Raises:
            OSError: a write failed for another reason than blocking; the unwritten octets
                stay queued.
        """

    def get_out_messages_buffered(self) -> int:
        """Chunks still queued; a partly written chunk counts as one."""

    def get_out_octets_buffered(self) -> int:
        """Octets still queued (what ``put`` and ``flush`` return)."""
