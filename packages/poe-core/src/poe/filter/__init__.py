"""Sans-I/O filters: translate between raw chunks and records (port of POE::Filter::*).

Every filter follows :class:`Filter`'s contract. None does I/O, reads a clock or imports the
kernel, a loop, a wheel or a driver.
"""

from __future__ import annotations

from poe.filter._base import (
    DEFAULT_FRAME_MAX_LENGTH,
    DEFAULT_LINE_MAX_LENGTH,
    DEFAULT_MAX_BUFFER,
    DEFAULT_MAX_LENGTH,
    READ_ROOM,
    DecodeError,
    Filter,
    FilterBase,
    FilterError,
    RecordTooLarge,
    TextDecodeError,
    pending_octets,
)
from poe.filter.block import BlockFilter
from poe.filter.grep import GrepFilter
from poe.filter.line import AUTODETECT, LineFilter
from poe.filter.map import MapFilter
from poe.filter.recordblock import RecordBlockFilter
from poe.filter.reference import Codec, JsonCodec, ReferenceFilter
from poe.filter.stackable import StackableFilter
from poe.filter.stream import StreamFilter

__all__ = [
    "AUTODETECT",
    "DEFAULT_FRAME_MAX_LENGTH",
    "DEFAULT_LINE_MAX_LENGTH",
    "DEFAULT_MAX_BUFFER",
    "DEFAULT_MAX_LENGTH",
    "READ_ROOM",
    "BlockFilter",
    "Codec",
    "DecodeError",
    "Filter",
    "FilterBase",
    "FilterError",
    "GrepFilter",
    "JsonCodec",
    "LineFilter",
    "MapFilter",
    "RecordBlockFilter",
    "RecordTooLarge",
    "ReferenceFilter",
    "StackableFilter",
    "StreamFilter",
    "TextDecodeError",
    "pending_octets",
]
