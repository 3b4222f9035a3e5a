"""Group records into fixed-size lists (port of POE::Filter::RecordBlock).

Input is record-oriented. ``get`` groups every ``block_size`` input records into one list;
``put`` flattens lists back into records. With ``check_put`` only whole blocks are emitted and
the remainder waits in :meth:`RecordBlockFilter.put_pending`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from poe.filter._base import FilterBase, check_limit

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from typing_extensions import Self

__all__ = ["RecordBlockFilter"]

T = TypeVar("T")


class RecordBlockFilter(FilterBase[T, "list[T]"]):
    """Turn a stream of records into a stream of ``block_size``-record lists.

    Args:
        block_size: records per block (positive).
        check_put: emit only whole blocks from :meth:`put`, buffering the remainder.

    Raises:
        InvalidArgument: ``block_size`` is not a positive integer.
    """

    __slots__ = ("_block_size", "_check_put", "_get_buffer", "_put_buffer")

    def __init__(self, *, block_size: int, check_put: bool = False) -> None:
        self._block_size = check_limit("block_size", block_size)
        self._check_put = check_put
        self._get_buffer: list[T] = []
        self._put_buffer: list[T] = []

    def clone(self) -> Self:
        """Return a filter with the same configuration and empty buffers."""
        return type(self)(block_size=self._block_size, check_put=self._check_put)

    def blocksize(self, size: int | None = None) -> int:
        """Return the block size, first setting it if ``size`` is positive (POE ignores others)."""
        if size is not None and size > 0:
            self._block_size = size
        return self._block_size

    def checkput(self, value: bool | None = None) -> bool:
        """Return ``check_put``, first setting it if ``value`` is given."""
        if value is not None:
            self._check_put = value
        return self._check_put

    def get_one_start(self, chunks: Iterable[T]) -> None:
        """Buffer input records."""
        self._get_buffer.extend(chunks)

    def get_one(self) -> list[list[T]]:
        """Return the next whole block, or ``[]``."""
        size = self._block_size
        if len(self._get_buffer) < size:
            return []
        block = self._get_buffer[:size]
        del self._get_buffer[:size]
        return [block]

    def put(self, records: Iterable[Sequence[T]]) -> list[T]:
        """Flatten blocks into records.

        Without ``check_put`` any records left by an earlier ``check_put`` come first (as POE).
        """
        flat = self._put_buffer
        for block in records:
            flat.extend(block)
        if not self._check_put:
            self._put_buffer = []
            return flat
        whole = len(flat) - len(flat) % self._block_size
        result = flat[:whole]
        del flat[:whole]
        return result

    def get_pending(self) -> list[T] | None:
        """Return the input records not yet in a block, or ``None``."""
        return list(self._get_buffer) if self._get_buffer else None

    def put_pending(self) -> list[T] | None:
        """Return the output records waiting for a whole block (``check_put`` only), or ``None``."""
        if not self._check_put or not self._put_buffer:
            return None
        return list(self._put_buffer)
