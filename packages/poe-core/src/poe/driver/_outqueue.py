"""The output queue shared by the drivers: chunks plus an offset into the first one.

A partial write only moves the offset, so writing a large queue through a small pipe costs
no copies: the writer is handed a ``memoryview`` of what is left of the first chunk.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["COALESCE", "SMALL", "OutputQueue"]

#: Most octets :meth:`OutputQueue.head` joins from queued chunks into one write.
COALESCE = 64 * 1024

#: Beyond :data:`COALESCE` octets queued, only leading chunks shorter than this are joined.
SMALL = 4 * 1024


class OutputQueue:
    """Queued output chunks; ``octets`` counts what is left, partial head included."""

    __slots__ = ("_chunks", "_head", "octets")

    def __init__(self) -> None:
        # A list, not a deque: an empty deque costs 600 bytes on every idle connection, and
        # head() joins many chunks with one slice assignment.
        self._chunks: list[bytes] = []
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
        queue = self._chunks
        for chunk in chunks:
            if not chunk:
                continue
            data = chunk if type(chunk) is bytes else bytes(chunk)
            queue.append(data)
            self.octets += len(data)
        if self._head is None and queue:
            self._head = memoryview(queue[0])
        return self.octets

    def head(self) -> memoryview:
        """The unwritten rest of the first chunk. Only valid while the queue is not empty.

        Chunks queued behind a whole first chunk are joined into it first, so that a writer
        makes one system call for many records (a line protocol queues one chunk per line):
        all of them while the queue holds at most :data:`COALESCE` octets, else the leading
        ones under :data:`SMALL` octets, up to :data:`COALESCE`. Joined chunks count as one
        message afterwards (``get_out_messages_buffered``), the one visible difference from
        POE. A partly written chunk is never joined.
        """
        head = self._head
        assert head is not None, "head() of an empty OutputQueue"
        chunks = self._chunks
        if len(chunks) > 1 and len(head) == len(chunks[0]):
            if self.octets <= COALESCE:
                count = len(chunks)
            else:
                count = size = 0
                for chunk in chunks:
                    size += len(chunk)
                    if len(chunk) >= SMALL or size > COALESCE:
                        break
                    count += 1
            if count > 1:
                joined = b"".join(chunks[:count])
                chunks[:count] = [joined]
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
        chunks = self._chunks
        del chunks[0]
        self._head = memoryview(chunks[0]) if chunks else None
