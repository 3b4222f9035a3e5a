r"""Block framing: fixed-size or length-prefixed blocks of bytes (port of POE::Filter::Block).

With ``block_size`` every record is exactly that many bytes and :meth:`BlockFilter.put` joins
records into one chunk with no padding (POE does the same). Without it each record travels as
``<decimal length>\\0<data>`` (POE's default length codec) or with a custom
``length_codec=(encoder, decoder)`` pair.

Deviations from POE: bytes that cannot start a default header are dropped and parsing goes on in
the same call (POE warns "strange bytes removed", returns no record and, from ``get``, stops;
a run of digits followed by something other than NUL stalls it for good). A default header with
more digits than ``max_length`` has is refused as soon as it is that long (POE buffers digits up
to ``MaxBuffer``, rescanning them on every read): the rest of its digits and its NUL are dropped
as they come. Any error of a custom length decoder is a :class:`~poe.filter.DecodeError`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from poe.errors import InvalidArgument
from poe.filter._base import (
    DEFAULT_FRAME_MAX_LENGTH,
    DecodeError,
    FilterBase,
    FilterError,
    RecordTooLarge,
    check_limit,
    derived_max_buffer,
    too_much_buffered,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from typing_extensions import Self

__all__ = ["BlockFilter", "default_decoder", "default_encoder"]

_HEADER = re.compile(rb"(\d+)\0")
_GARBAGE = re.compile(rb"\d*[^\d]+")
#: The leading digits of the buffer (a default header in the making).
_DIGITS = re.compile(rb"\d*")


def default_encoder(data: bytes) -> bytes:
    r"""POE's default encoder: ``b"3\\0abc"`` for ``b"abc"``."""
    return b"%d\0%s" % (len(data), data)


def default_decoder(buffer: bytearray) -> int | None:
    r"""POE's default decoder: strip a ``<digits>\\0`` header and return its value.

    Bytes that cannot begin a header (anything but digits, or digits followed by something
    other than NUL) are removed; ``None`` means no complete header is at the front yet.
    :class:`BlockFilter` uses a bounded version of it (see the module docstring); this one
    has no limit of its own.

    Raises:
        RecordTooLarge: the header has more digits than Python's ``int()`` accepts.
    """
    while True:
        match = _HEADER.match(buffer)
        if match is not None:
            digits = match.group(1)
            del buffer[: match.end()]
            return _header_value(digits)
        garbage = _GARBAGE.match(buffer)
        if garbage is None:
            return None  # empty, or digits still waiting for their NUL
        del buffer[: garbage.end()]


def _header_value(digits: bytes) -> int:
    """``int(digits)``; a header past ``int()``'s digit limit (4,300) is a RecordTooLarge."""
    try:
        return int(digits)
    except ValueError as exc:  # not a plain ValueError out of a filter: the peer sent it
        msg = f"length header of {len(digits)} digits exceeds any limit"
        raise RecordTooLarge(msg) from exc


def _digit_run(buffer: bytearray) -> int:
    """How many digits the buffer starts with."""
    match = _DIGITS.match(buffer)
    return 0 if match is None else match.end()


class BlockFilter(FilterBase[bytes, bytes]):
    """Frame bytes into fixed-size or length-prefixed blocks.

    Args:
        block_size: fixed record size in bytes (excludes ``length_codec`` and ``max_length``).
        length_codec: ``(encoder, decoder)``; see :func:`default_encoder` and
            :func:`default_decoder` for their contracts. The decoder may raise anything on
            bad input, or return a negative or non-``int`` length: the filter reports it as a
            :class:`~poe.filter.DecodeError` and drops its buffer.
        max_length: largest announced block (length-prefixed mode; default
            :data:`~poe.filter.DEFAULT_FRAME_MAX_LENGTH`, 4 MiB; POE's is 64 MiB). A block is
            buffered whole before it is a record, so this is what one peer can make the filter
            hold.
        max_buffer: most unparsed bytes held once every complete block has been taken
            (default: room for a ``max_length`` block, its header and one read,
            :data:`~poe.filter.READ_ROOM`). Complete blocks never count: ``get()`` of many
            megabytes of small blocks works. It must hold a ``max_length`` block with its
            default header (``block_size`` in fixed mode).

    Raises:
        InvalidArgument: conflicting or malformed arguments (POE croaks).
    """

    __slots__ = (
        "_block_size",
        "_buffer",
        "_decoder",
        "_digits",
        "_encoder",
        "_expected",
        "_max_buffer",
        "_max_length",
        "_skipping",
    )

    def __init__(
        self,
        *,
        block_size: int | None = None,
        length_codec: tuple[Callable[[bytes], bytes], Callable[[bytearray], int | None]]
        | None = None,
        max_length: int | None = None,
        max_buffer: int | None = None,
    ) -> None:
        self._encoder: Callable[[bytes], bytes] = default_encoder
        self._decoder: Callable[[bytearray], int | None] | None = None  # None: the default
        if block_size is not None:
            check_limit("block_size", block_size)
            if length_codec is not None:
                msg = "can't use both length_codec and block_size"
                raise InvalidArgument(msg)
            if max_length is not None:
                msg = "can't use both max_length and block_size"
                raise InvalidArgument(msg)
            self._max_length = block_size
            room = block_size
        else:
            if length_codec is not None:
                pair: tuple[object, ...] = tuple(length_codec)
                if len(pair) != 2 or not all(map(callable, pair)):
                    msg = "length_codec must be an (encoder, decoder) pair of callables"
                    raise InvalidArgument(msg)
                self._encoder, self._decoder = length_codec
            self._max_length = check_limit(
                "max_length", DEFAULT_FRAME_MAX_LENGTH if max_length is None else max_length
            )
            room = self._max_length + len(str(self._max_length)) + 1
        self._max_buffer = derived_max_buffer(room, max_buffer)
        if self._max_buffer < room:
            msg = f"max_buffer is not large enough for {'max_length' if block_size is None else 'block_size'} blocks"
            raise InvalidArgument(msg)
        self._block_size = block_size
        # The most digits a default header can have and still announce max_length or less.
        self._digits = len(str(self._max_length))
        self._buffer = bytearray()
        self._expected: int | None = None
        # A default header grew past _digits: drop the rest of its digits and its NUL.
        self._skipping = False

    def clone(self) -> Self:
        """Return a filter with the same configuration and empty buffers."""
        twin = object.__new__(type(self))
        for name in BlockFilter.__slots__:
            setattr(twin, name, getattr(self, name))
        twin._buffer = bytearray()
        twin._expected = None
        twin._skipping = False
        return twin

    def get_one_start(self, chunks: Iterable[bytes]) -> None:
        """Append raw chunks to the buffer (``max_buffer`` is checked by :meth:`get_one`)."""
        buffer = self._buffer
        for chunk in chunks:
            buffer += chunk

    def get_one(self) -> list[bytes]:
        """Return the next complete block, or ``[]``.

        Raises:
            RecordTooLarge: a header announced more than ``max_length`` bytes (the header is
                consumed and the buffer discarded; POE keeps waiting for the block), a default
                header has more digits than ``max_length`` (dropped up to its NUL), or the
                unparsed input exceeds ``max_buffer`` (discarded).
            DecodeError: a custom length decoder failed (the buffer is discarded).
        """
        buffer = self._buffer
        size = self._block_size
        if size is None:
            size = self._expected
            if size is None:
                size = self._expected = self._header()
                if size is None:
                    if len(buffer) > self._max_buffer:  # only a custom decoder gets here
                        held = len(buffer)
                        buffer.clear()
                        raise too_much_buffered(held, self._max_buffer)
                    return []
                if size > self._max_length:
                    self._expected = None
                    buffer.clear()
                    msg = f"expected size of next block exceeds the limit ({size} > {self._max_length} bytes)"
                    raise RecordTooLarge(msg)
        if len(buffer) < size:
            return []
        block = bytes(buffer[:size])
        del buffer[:size]
        self._expected = None
        return [block]

    def _header(self) -> int | None:
        """Strip the next length header from the buffer and return its value, or None."""
        buffer = self._buffer
        decoder = self._decoder
        if decoder is not None:
            try:
                length = decoder(buffer)
            except FilterError:
                buffer.clear()
                raise
            except Exception as exc:  # a custom decoder fails on the peer's bytes: its data
                buffer.clear()
                msg = f"length decoder failed: {exc!r}"
                raise DecodeError(msg) from exc
            if length is not None and (type(length) is not int or length < 0):
                buffer.clear()
                msg = f"length decoder returned {length!r}, not a length"
                raise DecodeError(msg)
            return length
        while True:
            if self._skipping:
                # The rest of a refused header: its digits, then its NUL. O(new bytes).
                end = _digit_run(buffer)
                if end == len(buffer):
                    buffer.clear()
                    return None
                del buffer[: end + (buffer[end] == 0)]
                self._skipping = False
            digits = _digit_run(buffer)
            if digits > self._digits:
                # Longer than any header up to max_length: refuse it now instead of buffering
                # (and rescanning) digits until a NUL.
                del buffer[:digits]
                self._skipping = True
                msg = f"length header exceeds the limit (over {self._digits} digits for {self._max_length} bytes)"
                raise RecordTooLarge(msg)
            if digits == len(buffer):
                return None  # empty, or digits still waiting for their NUL
            if digits and buffer[digits] == 0:
                length = int(buffer[:digits])  # at most len(str(max_length)) digits
                del buffer[: digits + 1]
                return length
            # Cannot start a header: drop up to the next digit (POE's "strange bytes").
            garbage = _GARBAGE.match(buffer)
            assert garbage is not None  # buffer[digits] is not a digit
            del buffer[: garbage.end()]

    def put(self, records: Iterable[bytes]) -> list[bytes]:
        """Frame records: one joined chunk in fixed-size mode, else one chunk per record."""
        if self._block_size is not None:
            return [b"".join(records)]
        encoder = self._encoder
        return [encoder(record) for record in records]

    def pending_octets(self) -> int:
        """Return the size of :meth:`get_pending`'s chunk, in O(1)."""
        return len(self._buffer)

    def get_pending(self) -> list[bytes] | None:
        """Return the unparsed buffer, or ``None`` when it is empty.

        A header already decoded is not part of it (POE behaves the same way).
        """
        return [bytes(self._buffer)] if self._buffer else None
