"""The output queue shared by the drivers: chunks plus an offset into the first one.

A partial write only moves the offset, so writing a large queue through a small pipe costs
no copies: the writer is handed a ``memoryview`` of what is left of the first chunk.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["OutputQueue"]


class OutputQueue:
    """Queued output chunks; ``octets`` counts what is left, partial head included."""

    __slots__ = ("_chunks", "_head", "octets")

    def __init__(self) -> None:
        self._chunks: deque[bytes] = deque()
        #: What is left of ``_chunks[0]``; None when the queue is empty.
        self._head: memoryview | None = None
        self.octets = 0

    def __len__(self) -> int:
        return len(self._chunks)

    def put(self, chunks: Iterable[bytes]) -> int:
        """Append the non-empty chunks; return the octets now queued.

        Mutable buffers (``bytearray``, ``memoryview``) are copied, as Perl copies strings, so
        the caller may reuse them after ``put``.
        """
        for chunk in chunks:
            if not chunk:
                continue
            data = chunk if type(chunk) is bytes else bytes(chunk)
            self._chunks.append(data)
            self.octets += len(data)
        if self._head is None and self._chunks:
            self._head = memoryview(self._chunks[0])
        return self.octets

    def head(self) -> memoryview:
        """The unwritten rest of the first chunk. Only valid while the queue is not empty."""
        assert self._head is not None, "head() of an empty OutputQueue"
        return self._head

    def consume(self, count: int) -> None:
        """Mark ``count`` octets of the first chunk written (``0 < count <= len(head())``)."""
        head = self.head()
        self.octets -= count
        if count < len(head):
            self._head = head[count:]
            return
        self._chunks.popleft()
        self._head = memoryview(self._chunks[0]) if self._chunks else None
