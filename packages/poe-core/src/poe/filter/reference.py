r"""Length-prefixed serialized objects (port of POE::Filter::Reference).

A frame is ``<decimal length>\\0<payload>`` where the payload is one record serialized by the
codec (and optionally zlib-compressed). POE uses Storable; the port's wire codec is JSON by
default (safe on untrusted input), ``"msgpack"`` if that package is installed, or any object
with ``dumps(obj) -> bytes`` and ``loads(bytes) -> obj`` (POE's ``Serializer`` object).

``codec="pickle"`` exists for trusted peers only: **unpickling runs code chosen by the sender**,
so a peer that can write to the stream can execute anything in this process. It is never chosen
implicitly.

Framing is :class:`~poe.filter.block.BlockFilter`'s default codec, so bytes that cannot start a
header are dropped (POE's Reference waits for ever on them).
"""

from __future__ import annotations

import json
import zlib
from typing import TYPE_CHECKING, Any, Protocol

from poe.errors import InvalidArgument
from poe.filter._base import (
    DEFAULT_MAX_BUFFER,
    DEFAULT_MAX_LENGTH,
    DecodeError,
    FilterBase,
    FilterError,
    RecordTooLarge,
)
from poe.filter.block import BlockFilter

if TYPE_CHECKING:
    from collections.abc import Iterable

    from typing_extensions import Self

__all__ = ["Codec", "JsonCodec", "ReferenceFilter"]


class Codec(Protocol):
    """Serializer for :class:`ReferenceFilter` (POE: ``freeze``/``thaw``)."""

    def dumps(self, obj: Any) -> bytes:
        """Serialize one record."""
        ...

    def loads(self, data: bytes) -> Any:
        """Deserialize one record; raise any exception on bad input."""
        ...


class JsonCodec:
    """Compact UTF-8 JSON; tuples come back as lists and dict keys as strings."""

    def dumps(self, obj: Any) -> bytes:
        """Serialize ``obj`` as compact JSON."""
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()

    def loads(self, data: bytes) -> Any:
        """Parse JSON."""
        return json.loads(data)


class _ModuleCodec:
    """Adapter for modules with ``dumps``/``loads`` (pickle) or ``packb``/``unpackb`` (msgpack)."""

    def __init__(self, name: str) -> None:
        import importlib  # only for the optional codecs

        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            msg = f"codec {name!r} needs the {name} package"
            raise InvalidArgument(msg) from exc
        if name == "msgpack":
            self._dumps = module.packb
            self._loads = module.unpackb
        else:
            self._dumps = module.dumps
            self._loads = module.loads

    def dumps(self, obj: Any) -> bytes:
        """Serialize ``obj``."""
        data: bytes = self._dumps(obj)
        return data

    def loads(self, data: bytes) -> Any:
        """Deserialize ``data``."""
        return self._loads(data)


def _make_codec(codec: str | Codec) -> Codec:
    if codec == "json":
        return JsonCodec()
    if codec in ("msgpack", "pickle"):
        return _ModuleCodec(str(codec))
    if isinstance(codec, str) or not (
        callable(getattr(codec, "dumps", None)) and callable(getattr(codec, "loads", None))
    ):
        msg = f"codec must be 'json', 'msgpack', 'pickle' or have dumps/loads, not {codec!r}"
        raise InvalidArgument(msg)
    return codec


class ReferenceFilter(FilterBase[bytes, Any]):
    """Frame serialized records.

    Args:
        codec: ``"json"`` (default), ``"msgpack"``, ``"pickle"`` (trusted peers only: it
            executes peer-supplied code) or a :class:`Codec`.
        compress: zlib-compress payloads (POE's ``Compression``).
        no_fatals: return errors as records instead of raising (POE's ``NoFatals``): a
            :class:`~poe.filter.FilterError` instance (:class:`~poe.filter.DecodeError` or
            :class:`~poe.filter.RecordTooLarge`) takes the place of the record.
        max_length: largest payload, compressed or not (default 64 MiB; POE has none).
        max_buffer: most buffered bytes (default 512 MiB).

    Raises:
        InvalidArgument: an unknown or unavailable codec, or bad limits.
    """

    __slots__ = ("_bad", "_codec", "_compress", "_framing", "_max_length", "_no_fatals")

    def __init__(
        self,
        *,
        codec: str | Codec = "json",
        compress: bool = False,
        no_fatals: bool = False,
        max_length: int = DEFAULT_MAX_LENGTH,
        max_buffer: int = DEFAULT_MAX_BUFFER,
    ) -> None:
        self._codec = _make_codec(codec)
        self._compress = compress
        self._no_fatals = no_fatals
        self._framing = BlockFilter(max_length=max_length, max_buffer=max_buffer)
        self._max_length = max_length
        self._bad: FilterError | None = None

    def clone(self) -> Self:
        """Return a filter with the same configuration and empty buffers."""
        twin = object.__new__(type(self))
        twin._codec = self._codec
        twin._compress = self._compress
        twin._no_fatals = self._no_fatals
        twin._framing = self._framing.clone()
        twin._max_length = self._max_length
        twin._bad = None
        return twin

    def get_one_start(self, chunks: Iterable[bytes]) -> None:
        """Append raw chunks to the buffer.

        Raises:
            RecordTooLarge: the buffer would exceed ``max_buffer`` (it is discarded); with
                ``no_fatals`` the error is returned by the next :meth:`get_one` instead.
        """
        try:
            self._framing.get_one_start(chunks)
        except RecordTooLarge as exc:
            if not self._no_fatals:
                raise
            self._bad = exc

    def get_one(self) -> list[Any]:
        """Return the next record, or ``[]``.

        Raises:
            DecodeError: the payload did not decompress or deserialize (consumed).
            RecordTooLarge: a frame announced more than ``max_length`` bytes (discarded).
        """
        if self._bad is not None:
            bad, self._bad = self._bad, None
            return [bad]
        try:
            frame = self._framing.get_one()
            if not frame:
                return []
            return [self._decode(frame[0])]
        except FilterError as exc:
            if not self._no_fatals:
                raise
            return [exc]

    def _decode(self, payload: bytes) -> Any:
        if self._compress:
            inflater = zlib.decompressobj()
            try:
                # Bounded, so a small compressed frame cannot expand without limit.
                payload = inflater.decompress(payload, self._max_length + 1)
            except zlib.error as exc:
                msg = f"bad compressed payload: {exc}"
                raise DecodeError(msg) from exc
            if len(payload) > self._max_length or inflater.unconsumed_tail:
                msg = f"decompressed payload exceeds the limit ({self._max_length} bytes)"
                raise RecordTooLarge(msg)
        try:
            return self._codec.loads(payload)
        except Exception as exc:  # any codec failure is the peer's bad data
            msg = f"cannot deserialize payload: {exc!r}"
            raise DecodeError(msg) from exc

    def put(self, records: Iterable[Any]) -> list[bytes]:
        """Serialize and frame each record (one chunk per record).

        Raises:
            Exception: whatever the codec raises for an unserializable record (POE confesses).
        """
        chunks = []
        for record in records:
            payload = self._codec.dumps(record)
            if self._compress:
                payload = zlib.compress(payload)
            chunks.append(b"%d\0%s" % (len(payload), payload))
        return chunks

    def get_pending(self) -> list[bytes] | None:
        """Return the unparsed buffer, or ``None`` when it is empty."""
        return self._framing.get_pending()

    def pending_octets(self) -> int:
        """Return the size of get_pending()'s chunk in O(1): a server asks after every read."""
        return self._framing.pending_octets()
