"""BlockFilter: POE's t/10_units/05_filters/01_block.t behaviours, with Perl POE 1.370 oracles."""

from __future__ import annotations

import struct

import pytest

from poe.errors import InvalidArgument
from poe.filter import BlockFilter, RecordTooLarge
from poe.testing.filters import check_filter


def test_fixed_size_get() -> None:
    """Perl: Block(3) get "abcdefg" -> abc, def pending "g"."""
    f = BlockFilter(block_size=3)
    assert f.get([b"abcdefg"]) == [b"abc", b"def"]
    assert f.get_pending() == [b"g"]


def test_fixed_size_put_joins_without_padding() -> None:
    """Perl: Block(3) put [abc, def] -> "abcdef"; put [ab, cde, f] -> "abcdef"."""
    f = BlockFilter(block_size=3)
    assert f.put([b"abc", b"def"]) == [b"abcdef"]
    assert f.put([b"ab", b"cde", b"f"]) == [b"abcdef"]


def test_default_codec_put() -> None:
    """Perl: Block put ['abc', 'de'] -> "3\\0abc", "2\\0de"; put [''] -> "0\\0"."""
    f = BlockFilter()
    assert f.put([b"abc", b"de"]) == [b"3\0abc", b"2\0de"]
    assert f.put([b""]) == [b"0\0"]


def test_default_codec_get() -> None:
    f = BlockFilter()
    assert f.get([b"3\0abc2\0d"]) == [b"abc"]
    assert f.get_pending() == [b"d"]  # the 2\0 header is consumed, as in POE
    assert f.get([b"e0\0"]) == [b"de", b""]


def test_garbage_is_dropped() -> None:
    """Perl: get "xy3\\0abc2\\0de" warns "2 strange bytes removed" and returns nothing (from that
    get call; the frames come later). The port drops the garbage and goes on at once.
    Perl: "3x\\0abc" stalls for good (pending "3x\\0abc"); the port drops "3x\\0abc".
    """
    assert BlockFilter().get([b"xy3\0abc2\0de"]) == [b"abc", b"de"]
    f = BlockFilter()
    assert f.get([b"3x\0abc"]) == []
    assert f.get_pending() is None
    assert f.get([b"1\0z"]) == [b"z"]


def test_custom_length_codec() -> None:
    """Perl: 16-bit big-endian codec: put abc -> 0003616263; get "\\0\\x02hi\\0\\x01" -> hi."""

    def encode(data: bytes) -> bytes:
        return struct.pack(">H", len(data)) + data

    def decode(buffer: bytearray) -> int | None:
        if len(buffer) < 2:
            return None
        (length,) = struct.unpack(">H", buffer[:2])
        del buffer[:2]
        return int(length)

    f = BlockFilter(length_codec=(encode, decode))
    assert f.put([b"abc"]) == [b"\x00\x03abc"]
    assert f.get([b"\0\x02hi\0\x01"]) == [b"hi"]
    assert f.get_pending() is None
    check_filter(f, b"\0\x02hi\0\x00\0\x03abc", [b"hi", b"", b"abc"])


def test_max_length() -> None:
    """Perl: MaxLength 5 get "9\\0abc" dies "Expected size of next block exceeds the limit"."""
    f = BlockFilter(max_length=5, max_buffer=100)
    with pytest.raises(RecordTooLarge, match="exceeds the limit"):
        f.get([b"9\0abc"])
    assert f.get_pending() is None
    assert f.get([b"2\0ok"]) == [b"ok"]


def test_max_buffer() -> None:
    """Deviation: max_buffer bounds what is left once every complete block is out (POE: all)."""
    f = BlockFilter(block_size=4, max_buffer=5)
    assert f.get([b"abc", b"def"]) == [b"abcd"]
    # Only a custom decoder that keeps waiting can make the unparsed input grow.
    waiting = BlockFilter(length_codec=(bytes, lambda buffer: None), max_length=4, max_buffer=8)
    assert waiting.get([b"x" * 8]) == []
    with pytest.raises(RecordTooLarge, match="framing buffer"):
        waiting.get([b"x"])
    assert waiting.get_pending() is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"block_size": 0},
        {"block_size": -1},
        {"block_size": 2, "max_length": 5},
        {"block_size": 2, "length_codec": (bytes, len)},
        {"length_codec": (bytes,)},
        {"length_codec": (1, 2)},
        {"max_length": 100, "max_buffer": 103},
    ],
)
def test_bad_arguments(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidArgument):
        BlockFilter(**kwargs)  # type: ignore[arg-type]


def test_check_filter() -> None:
    check_filter(BlockFilter(block_size=3), b"abcdefghi", [b"abc", b"def", b"ghi"])
    check_filter(BlockFilter(), b"3\0abc0\x0012\0hello world!", [b"abc", b"", b"hello world!"])
