"""The filter protocol, the filter errors and the helpers every filter shares.

Port of POE::Filter (POE 1.370). A filter is a sans-I/O translator between a stream of raw chunks
(``InT``; ``bytes`` at the bottom of a stack) and a stream of records (``OutT``). It does no I/O,
reads no clock and imports nothing from the kernel, loops, wheels or drivers: a wheel feeds it
what a driver read and writes what it returns.

What this module does not own: the filters themselves (one module each) and the test helper
:func:`poe.testing.filters.check_filter`.
"""

from __future__ import annotations

import errno as _errno
from abc import abstractmethod
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from poe.errors import InvalidArgument, PoeError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from typing_extensions import Self

__all__ = [
    "DEFAULT_FRAME_MAX_LENGTH",
    "DEFAULT_LINE_MAX_LENGTH",
    "DEFAULT_MAX_BUFFER",
    "DEFAULT_MAX_LENGTH",
    "READ_ROOM",
    "DecodeError",
    "Filter",
    "FilterError",
    "RecordTooLarge",
    "TextDecodeError",
    "pending_octets",
]

InT = TypeVar("InT")
OutT = TypeVar("OutT")

#: POE's default ``MaxBuffer`` (512 MiB). Only :class:`~poe.filter.StreamFilter` still uses it
#: by default; the other framing filters derive ``max_buffer`` from ``max_length``.
DEFAULT_MAX_BUFFER = 512 * 1024 * 1024
#: POE's default ``MaxLength`` (64 MiB), kept for code that wants POE's limits back; the port's
#: filters default lower (:data:`DEFAULT_LINE_MAX_LENGTH`, :data:`DEFAULT_FRAME_MAX_LENGTH`).
DEFAULT_MAX_LENGTH = 64 * 1024 * 1024
#: The longest line :class:`~poe.filter.LineFilter` accepts by default (64 KiB). A line protocol
#: with longer lines is rare (IRC: 8.7 KiB with tags; SMTP: 1,000 octets; HTTP servers cut
#: header lines at 8-16 KiB; Twisted's LineReceiver at 16 KiB), and each connection may hold
#: one unfinished line: 64 KiB per peer, where POE's 64 MiB let a few peers exhaust memory.
DEFAULT_LINE_MAX_LENGTH = 64 * 1024
#: The largest frame :class:`~poe.filter.BlockFilter` (length-prefixed) and
#: :class:`~poe.filter.ReferenceFilter` accept by default (4 MiB): a frame is buffered whole
#: before it is a record, so this is what one peer can make the filter hold (NATS's default
#: ``max_payload`` is 1 MB). Raise it per filter for bulk transfers.
DEFAULT_FRAME_MAX_LENGTH = 4 * 1024 * 1024
#: What a derived ``max_buffer`` allows on top of ``max_length`` (64 KiB, one read): room for a
#: partial terminator or header with the longest record.
READ_ROOM = 64 * 1024


class FilterError(PoeError, ValueError):
    """Base class of the errors a filter raises on purpose (POE's filters ``die``)."""

    errno = _errno.EINVAL


class RecordTooLarge(FilterError):
    """Buffered input or one record exceeds the filter's ``max_buffer`` or ``max_length``.

    POE dies with "Framing buffer exceeds the limit", "Next line exceeds maximum line length" or
    "Expected size of next block exceeds the limit". Unlike POE, the port discards the offending
    data before raising (the whole buffer for ``max_buffer``, the record or its announced frame
    for ``max_length``), so the filter stays usable and never holds more than its limit.
    """

    errno = _errno.EMSGSIZE


class DecodeError(FilterError):
    """A complete record could not be decoded (bad serialization, bad compression, bad text).

    The record is dropped and the filter stays usable. ``errno`` is ``EINVAL``, or ``EILSEQ``
    when the bytes are not valid in the text encoding (``LineFilter(errors="strict")``); the
    original exception is the ``__cause__``.
    """


class TextDecodeError(DecodeError):
    """A line is not valid text in the filter's encoding (``errors="strict"``; ``EILSEQ``)."""

    errno = _errno.EILSEQ


class Filter(Protocol[InT, OutT]):
    """What every filter provides: POE::Filter's interface, typed.

    Contract (POE's, kept exactly so filters can be switched mid-stream):

    * :meth:`get_one_start` only buffers; :meth:`get_one` parses lazily, returning a list of
      zero or one record, so a wheel can stop after any record and hand the rest of the input
      (:meth:`get_pending`) to another filter without losing or duplicating anything.
    * :meth:`get` is :meth:`get_one_start` followed by :meth:`get_one` until it returns ``[]``.
    * :meth:`put` serializes records; the chunks it returns need not be one per record.
    * :meth:`get_pending` returns the raw input not yet turned into records, or ``None`` when
      there is none; it does not clear the buffer.
    * :meth:`clone` returns a filter with the same configuration and empty buffers.
    """

    def get_one_start(self, chunks: Iterable[InT]) -> None:
        """Append raw chunks to the input buffer without parsing them."""
        ...

    def get_one(self) -> list[OutT]:
        """Return the next complete record as a one-element list, or ``[]`` if there is none."""
        ...

    def get(self, chunks: Iterable[InT]) -> list[OutT]:
        """Buffer ``chunks`` and return every record now complete."""
        ...

    def put(self, records: Iterable[OutT]) -> list[InT]:
        """Serialize records into raw chunks."""
        ...

    def get_pending(self) -> list[InT] | None:
        """Return the buffered raw input not yet parsed, or ``None``; the buffer is kept."""
        ...

    def clone(self) -> Self:
        """Return a new filter with the same configuration and empty buffers."""
        ...


class FilterBase(Generic[InT, OutT]):
    """Shared implementation of :meth:`Filter.get` (POE::Filter's base ``get``).

    Subclasses implement the other methods; ``get`` is always "start, then drain ``get_one``",
    which is what keeps the greedy and the lazy paths returning the same records.
    """

    __slots__ = ()

    def pending_octets(self) -> int:
        """Return how many octets of raw input the filter holds unparsed.

        That is the size of what :meth:`get_pending` would return, without building it: a
        wheel or server checks it after every read to bound the input it holds for all its
        peers. This default sums ``len()`` of the :meth:`get_pending` items (``bytes`` or
        ``str``; other records count 0); the core filters override it in O(1).

        Returns:
            The number of octets (0 when nothing is buffered).
        """
        return sum(_octets(item) for item in self.get_pending() or ())

    @abstractmethod
    def get_pending(self) -> list[InT] | None:
        """Return the buffered raw input not yet parsed, or ``None``; the buffer is kept."""

    @abstractmethod
    def get_one_start(self, chunks: Iterable[InT]) -> None:
        """Append raw chunks to the input buffer without parsing them."""

    @abstractmethod
    def get_one(self) -> list[OutT]:
        """Return the next complete record as a one-element list, or ``[]``."""

    def get(self, chunks: Iterable[InT]) -> list[OutT]:
        """Buffer ``chunks`` and return every record now complete.

        Raises:
            FilterError: as :meth:`get_one_start` and :meth:`get_one` do; records parsed before
                the error are lost to the caller but the filter stays usable.
        """
        self.get_one_start(chunks)
        records: list[OutT] = []
        while True:
            one = self.get_one()
            if not one:
                return records
            records.extend(one)


def pending_octets(filt: Filter[Any, Any] | FilterBase[Any, Any]) -> int:
    """Return the raw octets ``filt`` holds unparsed, for any filter.

    Its ``pending_octets()`` when it has one (every :class:`FilterBase` does), else the size of
    :meth:`Filter.get_pending`: filters that implement only the protocol are measured too.
    """
    method = getattr(filt, "pending_octets", None)
    if method is not None:
        return int(method())
    return sum(_octets(item) for item in filt.get_pending() or ())


def _octets(item: object) -> int:
    """``len()`` of a bytes-like or text record, 0 for any other record."""
    if isinstance(item, (bytes, bytearray, memoryview, str)):
        return len(item)
    return 0


def derived_max_buffer(max_length: int, max_buffer: int | None) -> int:
    """Return ``max_buffer``, or when it is ``None`` the default for ``max_length``.

    The default is ``max_length + READ_ROOM``: the input a filter holds once it has handed out
    every complete record is at most one partial record and a partial terminator or header.
    """
    if max_buffer is None:
        return max_length + READ_ROOM
    return check_limit("max_buffer", max_buffer)


def too_much_buffered(size: int, limit: int) -> RecordTooLarge:
    """The error for ``size`` octets of unparsed input over ``max_buffer`` (``limit``)."""
    return RecordTooLarge(f"framing buffer exceeds the limit ({size} > {limit} bytes)")


def check_limit(name: str, value: object) -> int:
    """Validate a size limit: POE requires a positive integer.

    Raises:
        InvalidArgument: ``value`` is not a positive ``int``.
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        msg = f"{name} must be a positive integer, not {value!r}"
        raise InvalidArgument(msg)
    return value
