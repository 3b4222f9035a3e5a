"""POE::Driver::SysRW: unbuffered ``read(2)``/``write(2)`` on a non-blocking handle.

The handle must already be non-blocking: a blocking handle makes ``get`` and ``flush`` block,
exactly as ``sysread``/``syswrite`` do in POE. Octets only; no character encoding.
"""

from __future__ import annotations

import os
import socket
import sys
from typing import TYPE_CHECKING, Final

from poe.driver._base import fileno
from poe.driver._outqueue import OutputQueue
from poe.errors import InvalidArgument

if TYPE_CHECKING:
    from collections.abc import Iterable

    from poe.driver._base import Handle

__all__ = ["DEFAULT_BLOCK_SIZE", "SysRWDriver", "read_once", "write_once"]

#: POE::Driver::SysRW's default ``BlockSize``.
DEFAULT_BLOCK_SIZE: Final = 65536

# Windows sockets are not file descriptors: os.read/os.write fail on them there.
_SOCKETS_NEED_RECV: Final = sys.platform == "win32"


def read_once(handle: Handle, size: int) -> bytes:
    """One ``read(2)`` of up to ``size`` octets; ``BlockingIOError`` when it would block."""
    if _SOCKETS_NEED_RECV and isinstance(handle, socket.socket):
        return handle.recv(size)
    return os.read(fileno(handle), size)


def write_once(handle: Handle, data: memoryview) -> int:
    """One ``write(2)``; returns the octets written; ``BlockingIOError`` when it would block."""
    if _SOCKETS_NEED_RECV and isinstance(handle, socket.socket):
        return handle.send(data)
    return os.write(fileno(handle), data)


def check_block_size(block_size: int) -> int:
    """Validate a ``block_size`` argument (POE croaks "BlockSize must be greater than 0").

    Raises:
        InvalidArgument: ``block_size`` is not a positive ``int``.
    """
    if isinstance(block_size, bool) or not isinstance(block_size, int):
        raise InvalidArgument(f"block_size must be an int, not {type(block_size).__name__}")
    if block_size <= 0:
        raise InvalidArgument(f"block_size must be greater than 0, got {block_size}")
    return block_size


class SysRWDriver:
    """Buffered non-blocking I/O with one ``read``/``write`` system call per step.

    Args:
        block_size: The most octets one :meth:`get` reads (POE's ``BlockSize``).

    Raises:
        InvalidArgument: ``block_size`` is not a positive ``int``.
    """

    __slots__ = ("_out", "block_size")

    def __init__(self, block_size: int = DEFAULT_BLOCK_SIZE) -> None:
        self.block_size: Final = check_block_size(block_size)
        self._out = OutputQueue()

    def __repr__(self) -> str:
        return (
            f"<SysRWDriver block_size={self.block_size} "
            f"out={len(self._out)} chunks/{self._out.octets} octets>"
        )

    # Port of POE::Driver::SysRW::get (POE 1.370).
    def get(self, handle: Handle) -> list[bytes] | None:
        """Read once, up to ``block_size`` octets, without blocking.

        Returns:
            ``[data]``; ``[]`` if the read would block; ``None`` at end of file (POE: ``undef``
            with ``$!`` 0).

        Raises:
            OSError: the read failed (POE: ``undef`` with ``$!`` set).
        """
        try:
            data = read_once(handle, self.block_size)
        except BlockingIOError:
            return []
        return [data] if data else None

    # Port of POE::Driver::SysRW::put (POE 1.370).
    def put(self, chunks: Iterable[bytes]) -> int:
        """Queue the non-empty ``chunks``; return the octets buffered. Nothing is written."""
        return self._out.put(chunks)

    # Port of POE::Driver::SysRW::flush (POE 1.370).
    def flush(self, handle: Handle) -> int:
        """Write queued chunks until the handle would block or the queue is empty.

        Returns:
            The octets left; 0 when everything was written.

        Raises:
            OSError: a write failed (``BrokenPipeError`` when the reader is gone, ...). What
                was not written stays queued, as in POE.
        """
        out = self._out
        while out.octets:
            try:
                written = write_once(handle, out.head())
            except BlockingIOError:
                break
            if not written:
                # POE stops on a zero-length syswrite too (with $! 0): retrying would spin.
                break
            out.consume(written)
        return out.octets

    def get_out_messages_buffered(self) -> int:
        """Chunks still queued; a partly written chunk counts as one."""
        return len(self._out)

    def get_out_octets_buffered(self) -> int:
        """Octets still queued."""
        return self._out.octets
