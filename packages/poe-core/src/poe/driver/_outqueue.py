"""The output queue shared by the drivers: chunks plus an offset into the first one.

A partial write only moves the offset, so writing a large queue through a small pipe costs
no copies: the writer is handed a ``memoryview`` of what is left of the first chunk.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["COALESCE", "OutputQueue"]

#: Most octets :meth:`OutputQueue.head` joins from small queued chunks into one write.
COALESCE = 64 * 1024

#: Chunks shorter than this are joined; longer ones are written as they are (never copied).
SMALL = 4 * 1024


def _small(chunk: bytes | memoryview) -> bool:
    return len(chunk) < SMALL


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
        """The unwritten rest of the first chunk. Only valid while the queue is not empty.

        Small chunks queued behind it are joined into it first (each under :data:`SMALL`, up
        to :data:`COALESCE` octets), so that a writer makes one system call for many records:
        a line protocol queues one chunk per line. Large chunks are never copied. Joined chunks count as one message
        afterwards (``get_out_messages_buffered``), the one visible difference from POE.
        """
        head = self._head
        assert head is not None, "head() of an empty OutputQueue"
        chunks = self._chunks
        # Only a whole first chunk: a partly written one stays one message, as in POE.
        if len(chunks) > 1 and len(head) == len(chunks[0]) and _small(head) and _small(chunks[1]):
            parts: list[bytes | memoryview] = [head]
            size = len(head)
            chunks.popleft()
            while chunks and _small(chunks[0]) and size + len(chunks[0]) <= COALESCE:
                chunk = chunks.popleft()
                parts.append(chunk)
                size += len(chunk)
            joined = b"".join(parts)
            chunks.appendleft(joined)
            self._head = head = memoryview(joined)
        return head

    def consume(self, count: int) -> None:
        """Mark ``count`` octets of the first chunk written (``0 < count <= len(head())``)."""
        head = self._head
        assert head is not None, "consume() on an empty OutputQueue"
        self.octets -= count
        if count < len(head):
            self._head = head[count:]
            return
        self._chunks.popleft()
        self._head = memoryview(self._chunks[0]) if self._chunks else None
