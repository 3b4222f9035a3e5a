"""ReferenceFilter: POE's t/10_units/05_filters/07_reference.t behaviours with the port's codecs."""

from __future__ import annotations

import importlib.util
import pickle
import zlib
from typing import Any

import pytest

from poe.errors import InvalidArgument
from poe.filter import DecodeError, FilterError, RecordTooLarge, ReferenceFilter
from poe.testing.filters import check_filter

NESTED: list[Any] = [{"a": [1, 2, {"b": None}]}, "text", 3.5, [], {"k": "é"}]


def test_json_round_trip() -> None:
    f = ReferenceFilter()
    frames = f.put(NESTED)
    assert frames[1] == b'6\0"text"'
    assert f.get(frames) == NESTED
    check_filter(f, b"".join(frames), NESTED)


def test_partial_frame_is_buffered() -> None:
    f = ReferenceFilter()
    (frame,) = f.put([{"x": 1}])
    assert f.get([frame[:-1]]) == []
    assert f.get_pending() == [frame[frame.index(b"\0") + 1 : -1]]
    assert f.get([frame[-1:]]) == [{"x": 1}]


def test_compression() -> None:
    f = ReferenceFilter(compress=True)
    frames = f.put(NESTED)
    payload = frames[0].split(b"\0", 1)[1]
    assert zlib.decompress(payload).startswith(b'{"a"')
    check_filter(f, b"".join(frames), NESTED)


def test_compression_bomb_is_bounded() -> None:
    payload = zlib.compress(b"[" + b"0," * 5000 + b"0]")
    f = ReferenceFilter(compress=True, max_length=1000)
    with pytest.raises(RecordTooLarge):
        f.get([b"%d\0%s" % (len(payload), payload)])


def test_bad_payload_raises_then_continues() -> None:
    f = ReferenceFilter()
    with pytest.raises(DecodeError):
        f.get([b"3\0abc"])
    assert f.get([b"1\x001"]) == [1]


def test_no_fatals_returns_error_records() -> None:
    """Perl: NoFatals get "3\\0abc" -> one record holding the thaw error text."""
    f = ReferenceFilter(no_fatals=True, max_length=10, max_buffer=20)
    (bad, good) = f.get([b"3\0abc2\0[]"])
    assert isinstance(bad, DecodeError)
    assert good == []
    (too_big,) = f.get([b"1" * 21 + b"\0"])  # a header longer than max_length's two digits
    assert isinstance(too_big, RecordTooLarge)
    (announced,) = f.get([b"99\0"])
    assert isinstance(announced, FilterError)
    assert f.get([b"1\x007"]) == [7]


def test_pickle_only_when_asked() -> None:
    f = ReferenceFilter(codec="pickle")
    frames = f.put([{"t": (1, 2)}])
    assert f.get(frames) == [{"t": (1, 2)}]


def test_pickle_payload_rejected_by_default() -> None:
    payload = pickle.dumps({"x": 1})
    f = ReferenceFilter(no_fatals=True)
    (record,) = f.get([b"%d\0%s" % (len(payload), payload)])
    assert isinstance(record, DecodeError)


class _Reversed:
    """A custom codec object (POE's Serializer object)."""

    def dumps(self, obj: Any) -> bytes:
        return str(obj).encode()[::-1]

    def loads(self, data: bytes) -> Any:
        return data[::-1].decode()


def test_custom_codec() -> None:
    f = ReferenceFilter(codec=_Reversed())
    assert f.put(["abc"]) == [b"3\0cba"]
    check_filter(f, b"3\0cba2\0ed", ["abc", "de"])


@pytest.mark.skipif(importlib.util.find_spec("msgpack") is not None, reason="msgpack installed")
def test_msgpack_missing() -> None:
    with pytest.raises(InvalidArgument, match="msgpack"):
        ReferenceFilter(codec="msgpack")


@pytest.mark.parametrize("codec", ["yaml", 3])
def test_bad_codec(codec: Any) -> None:
    with pytest.raises(InvalidArgument):
        ReferenceFilter(codec=codec)
