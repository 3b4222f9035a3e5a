"""Writing a filter: variable-length records, each preceded by its length.

The wire format is a 4-byte big-endian length, then that many bytes. The filter follows
:class:`poe.filter.Filter`'s contract, so any wheel (or any program) can use it, and
:func:`poe.testing.filters.check_filter` checks it the way POE's test suite checks its own.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from poe.filter import Filter, FilterBase, RecordTooLarge
from poe.testing.filters import check_filter

if TYPE_CHECKING:
    from collections.abc import Iterable

HEADER = struct.Struct(">I")  # 4-byte unsigned length, network order


class LengthPrefixedFilter(FilterBase[bytes, bytes]):
    """bytes <-> records framed as ``<4-byte length><data>``."""

    def __init__(self, *, max_length: int = 1 << 20) -> None:
        self.max_length = max_length
        self.buffer = bytearray()

    def clone(self) -> LengthPrefixedFilter:
        # Same configuration, empty buffer: a wheel clones a filter to serve a new stream.
        return type(self)(max_length=self.max_length)

    def get_one_start(self, chunks: Iterable[bytes]) -> None:
        # Only buffer. Parsing waits for get_one, so a caller can stop after any record.
        for chunk in chunks:
            self.buffer += chunk

    def get_one(self) -> list[bytes]:
        # Zero or one record per call: never more.
        if len(self.buffer) < HEADER.size:
            return []
        (length,) = HEADER.unpack_from(self.buffer)
        if length > self.max_length:
            self.buffer.clear()  # drop what we cannot frame, so the filter stays usable
            raise RecordTooLarge(f"record of {length} bytes > {self.max_length}")
        end = HEADER.size + length
        if len(self.buffer) < end:
            return []  # the record is incomplete: wait for more input
        record = bytes(self.buffer[HEADER.size : end])
        del self.buffer[:end]
        return [record]

    # get() comes from FilterBase: get_one_start, then get_one until it returns [].

    def put(self, records: Iterable[bytes]) -> list[bytes]:
        return [HEADER.pack(len(record)) + record for record in records]

    def get_pending(self) -> list[bytes] | None:
        # Raw input not yet turned into records; None when there is none. Not cleared.
        return [bytes(self.buffer)] if self.buffer else None


filt: Filter[bytes, bytes] = LengthPrefixedFilter()
wire = b"".join(filt.put([b"hello", b"", b"variable-length world"]))
print("wire:", wire)

print("-- get(): every complete record at once")
print(filt.get([wire[:16]]))  # "hello" and "" are complete; the third is not
print("pending:", filt.get_pending())
print(filt.get([wire[16:]]))

print("-- get_one_start() + get_one(): one record at a time")
filt.get_one_start([wire])
print(filt.get_one())
print("pending:", filt.get_pending())  # the rest is still raw bytes: another filter could take it
print(filt.get_one(), filt.get_one(), filt.get_one())

print("-- a record too large is refused, and the filter goes on")
small = LengthPrefixedFilter(max_length=8)
try:
    small.get([b"\x00\x00\x10\x00" + b"x" * 20])
except RecordTooLarge as exc:
    print("RecordTooLarge:", exc)
print(small.get(small.put([b"ok"])))

print("-- check_filter: the contract, under every chunking")
check_filter(LengthPrefixedFilter(), wire, [b"hello", b"", b"variable-length world"])
print("check_filter passed")
