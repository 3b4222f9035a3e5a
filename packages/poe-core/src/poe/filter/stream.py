"""Pass-through filter: every chunk is data (port of POE::Filter::Stream).

:meth:`StreamFilter.get_one` returns the whole buffer as one record, so the records depend on
how the input was chunked; only their concatenation is meaningful.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from poe.filter._base import DEFAULT_MAX_BUFFER, FilterBase, RecordTooLarge, check_limit

if TYPE_CHECKING:
    from collections.abc import Iterable

    from typing_extensions import Self

__all__ = ["StreamFilter"]


class StreamFilter(FilterBase[bytes, bytes]):
    """Pass bytes through unchanged.

    Args:
        max_buffer: most buffered bytes (default 512 MiB; POE's Stream has no limit).
    """

    __slots__ = ("_buffer", "_max_buffer")

    def __init__(self, *, max_buffer: int = DEFAULT_MAX_BUFFER) -> None:
        self._max_buffer = check_limit("max_buffer", max_buffer)
        self._buffer = bytearray()

    def clone(self) -> Self:
        """Return a filter with the same configuration and an empty buffer."""
        return type(self)(max_buffer=self._max_buffer)

    def get_one_start(self, chunks: Iterable[bytes]) -> None:
        """Append raw chunks to the buffer.

        Raises:
            RecordTooLarge: the buffer would exceed ``max_buffer``; it is discarded.
        """
        for chunk in chunks:
            self._buffer += chunk
        if len(self._buffer) > self._max_buffer:
            size = len(self._buffer)
            self._buffer.clear()
            msg = f"framing buffer exceeds the limit ({size} > {self._max_buffer} bytes)"
            raise RecordTooLarge(msg)

    def get_one(self) -> list[bytes]:
        """Return everything buffered as one record, or ``[]`` when nothing is."""
        if not self._buffer:
            return []
        data = bytes(self._buffer)
        self._buffer.clear()
        return [data]

    def put(self, records: Iterable[bytes]) -> list[bytes]:
        """Return the records unchanged."""
        return list(records)

    def get_pending(self) -> list[bytes] | None:
        """Return the buffer, or ``None`` when it is empty."""
        return [bytes(self._buffer)] if self._buffer else None

    def pending_octets(self) -> int:
        """Return the size of get_pending()'s chunk in O(1): a server asks after every read."""
        return len(self._buffer)
