r"""Block framing: fixed-size or length-prefixed blocks of bytes (port of POE::Filter::Block).

With ``block_size`` every record is exactly that many bytes and :meth:`BlockFilter.put` joins
records into one chunk with no padding (POE does the same). Without it each record travels as
``<decimal length>\\0<data>`` (POE's default length codec) or with a custom
``length_codec=(encoder, decoder)`` pair.

Deviation from POE: bytes that cannot start a default header are dropped and parsing goes on in
the same call (POE warns "strange bytes removed", returns no record and, from ``get``, stops;
a run of digits followed by something other than NUL stalls it for good).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from poe.errors import InvalidArgument
from poe.filter._base import (
    DEFAULT_MAX_BUFFER,
    DEFAULT_MAX_LENGTH,
    FilterBase,
    RecordTooLarge,
    check_limit,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from typing_extensions import Self

__all__ = ["BlockFilter", "default_decoder", "default_encoder"]

_HEADER = re.compile(rb"(\d+)\0")
_GARBAGE = re.compile(rb"\d*[^\d]+")


def default_encoder(data: bytes) -> bytes:
    r"""POE's default encoder: ``b"3\\0abc"`` for ``b"abc"``."""
    return b"%d\0%s" % (len(data), data)


def default_decoder(buffer: bytearray) -> int | None:
    r"""POE's default decoder: strip a ``<digits>\\0`` header and return its value.

    Bytes that cannot begin a header (anything but digits, or digits followed by something
    other than NUL) are removed; ``None`` means no complete header is at the front yet.
    """
    while True:
        match = _HEADER.match(buffer)
        if match is not None:
            length = int(match.group(1))
            del buffer[: match.end()]
            return length
        garbage = _GARBAGE.match(buffer)
        if garbage is None:
            return None  # empty, or digits still waiting for their NUL
        del buffer[: garbage.end()]


class BlockFilter(FilterBase[bytes, bytes]):
    """Frame bytes into fixed-size or length-prefixed blocks.

    Args:
        block_size: fixed record size in bytes (excludes ``length_codec`` and ``max_length``).
        length_codec: ``(encoder, decoder)``; see :func:`default_encoder` and
            :func:`default_decoder` for their contracts.
        max_length: largest announced block (length-prefixed mode; default 64 MiB).
        max_buffer: most buffered bytes (default 512 MiB); in length-prefixed mode it must hold
            a ``max_length`` block with its default header.

    Raises:
        InvalidArgument: conflicting or malformed arguments (POE croaks).
    """

    __slots__ = (
        "_block_size",
        "_buffer",
        "_decoder",
        "_encoder",
        "_expected",
        "_max_buffer",
        "_max_length",
    )

    def __init__(
        self,
        *,
        block_size: int | None = None,
        length_codec: tuple[Callable[[bytes], bytes], Callable[[bytearray], int | None]]
        | None = None,
        max_length: int | None = None,
        max_buffer: int = DEFAULT_MAX_BUFFER,
    ) -> None:
        self._max_buffer = check_limit("max_buffer", max_buffer)
        self._encoder: Callable[[bytes], bytes] = default_encoder
        self._decoder: Callable[[bytearray], int | None] = default_decoder
        if block_size is not None:
            check_limit("block_size", block_size)
            if length_codec is not None:
                msg = "can't use both length_codec and block_size"
                raise InvalidArgument(msg)
            if max_length is not None:
                msg = "can't use both max_length and block_size"
                raise InvalidArgument(msg)
            self._max_length = block_size
        else:
            if length_codec is not None:
                pair: tuple[object, ...] = tuple(length_codec)
                if len(pair) != 2 or not all(map(callable, pair)):
                    msg = "length_codec must be an (encoder, decoder) pair of callables"
                    raise InvalidArgument(msg)
                self._encoder, self._decoder = length_codec
            self._max_length = check_limit(
                "max_length", DEFAULT_MAX_LENGTH if max_length is None else max_length
            )
            if max_buffer < self._max_length + len(str(self._max_length)) + 1:
                msg = "max_buffer is not large enough for max_length blocks"
                raise InvalidArgument(msg)
        self._block_size = block_size
        self._buffer = bytearray()
        self._expected: int | None = None

    def clone(self) -> Self:
        """Return a filter with the same configuration and empty buffers."""
        twin = object.__new__(type(self))
        for name in BlockFilter.__slots__:
            setattr(twin, name, getattr(self, name))
        twin._buffer = bytearray()
        twin._expected = None
        return twin

    def get_one_start(self, chunks: Iterable[bytes]) -> None:
        """Append raw chunks to the buffer.

        Raises:
            RecordTooLarge: the buffer would exceed ``max_buffer``; the buffer (and any header
                already read) is discarded.
        """
        buffer = self._buffer
        for chunk in chunks:
            buffer += chunk
        if len(buffer) > self._max_buffer:
            size = len(buffer)
            buffer.clear()
            self._expected = None
            msg = f"framing buffer exceeds the limit ({size} > {self._max_buffer} bytes)"
            raise RecordTooLarge(msg)

    def get_one(self) -> list[bytes]:
        """Return the next complete block, or ``[]``.

        Raises:
            RecordTooLarge: a header announced more than ``max_length`` bytes; the header is
                consumed and the buffer discarded (POE keeps waiting for the block).
        """
        buffer = self._buffer
        size = self._block_size
        if size is None:
            if self._expected is None:
                self._expected = self._decoder(buffer)
                if self._expected is None:
                    return []
                if self._expected > self._max_length:
                    announced = self._expected
                    self._expected = None
                    buffer.clear()
                    msg = f"expected size of next block exceeds the limit ({announced} > {self._max_length} bytes)"
                    raise RecordTooLarge(msg)
            size = self._expected
        if len(buffer) < size:
            return []
        block = bytes(buffer[:size])
        del buffer[:size]
        self._expected = None
        return [block]

    def put(self, records: Iterable[bytes]) -> list[bytes]:
        """Frame records: one joined chunk in fixed-size mode, else one chunk per record."""
        if self._block_size is not None:
            return [b"".join(records)]
        encoder = self._encoder
        return [encoder(record) for record in records]

    def get_pending(self) -> list[bytes] | None:
        """Return the unparsed buffer, or ``None`` when it is empty.

        A header already decoded is not part of it (POE behaves the same way).
        """
        return [bytes(self._buffer)] if self._buffer else None

    def pending_octets(self) -> int:
        """Return the size of get_pending()'s chunk in O(1): a server asks after every read."""
        return len(self._buffer)
