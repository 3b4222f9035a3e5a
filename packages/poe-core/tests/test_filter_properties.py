"""Hypothesis properties every filter must have (aesthetics.md §6, rule 5).

* any chunking of a stream, down to one byte, yields the same records, whether fed to ``get``
  or to ``get_one_start`` plus a ``get_one`` loop;
* ``get(put(records)) == records``;
* ``clone()`` starts empty;
* random bytes in random chunks raise nothing but the filter's documented errors, and the
  buffered input never exceeds ``max_buffer``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from poe.filter import (
    BlockFilter,
    Filter,
    FilterError,
    GrepFilter,
    LineFilter,
    MapFilter,
    RecordBlockFilter,
    RecordTooLarge,
    ReferenceFilter,
    StackableFilter,
    StreamFilter,
    pending_octets,
)

SETTINGS = settings(max_examples=40, deadline=None)

FACTORIES: dict[str, Callable[[], Filter[bytes, Any]]] = {
    "line-default": LineFilter,
    "line-lf": lambda: LineFilter(literal=b"\n"),
    "line-multibyte": lambda: LineFilter(literal=b"\r\n\r"),
    "line-autodetect": lambda: LineFilter(input_literal=None),
    "line-regexp": lambda: LineFilter(input_regexp=rb"[;,]"),
    "block-fixed": lambda: BlockFilter(block_size=3),
    "block-prefixed": BlockFilter,
    "stream": StreamFilter,
    "reference": lambda: ReferenceFilter(no_fatals=True),
    "stackable": lambda: StackableFilter(
        [LineFilter(literal=b"\n"), MapFilter(code=str.upper), RecordBlockFilter(block_size=2)]
    ),
}
LIMITED: dict[str, Callable[[], Filter[bytes, Any]]] = {
    "line": lambda: LineFilter(max_length=8, max_buffer=16),
    "line-autodetect": lambda: LineFilter(input_literal=None, max_length=8, max_buffer=16),
    "block-fixed": lambda: BlockFilter(block_size=5, max_buffer=16),
    "block-prefixed": lambda: BlockFilter(max_length=8, max_buffer=16),
    "stream": lambda: StreamFilter(max_buffer=16),
    "reference": lambda: ReferenceFilter(max_length=8, max_buffer=16),
}

ALPHABET = b"ab;,\r\n\x00\xff0123456789"
streams = st.binary(max_size=60) | st.lists(st.sampled_from(list(ALPHABET)), max_size=60).map(bytes)


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


def normalize(records: list[Any]) -> list[Any]:
    """Error records (ReferenceFilter's no_fatals) compare by type and message."""
    return [(type(r), str(r)) if isinstance(r, FilterError) else r for r in records]


def parse_whole(make: Callable[[], Filter[bytes, Any]], data: bytes) -> list[Any] | None:
    """Records of the whole stream, or ``None`` if it hits a documented error.

    Random input can announce a frame larger than ``max_length``: that is an error, not a
    record (or an error record), and what is discarded with it depends on the chunking, so such streams are skipped.
    """
    try:
        records = make().get([data])
    except FilterError:
        return None
    # ReferenceFilter(no_fatals=True) returns the same errors as records.
    return None if any(isinstance(r, RecordTooLarge) for r in records) else records


def drain(f: Filter[Any, Any]) -> list[Any]:
    out: list[Any] = []
    while one := f.get_one():
        assert len(one) == 1
        out.extend(one)
    return out


@pytest.mark.parametrize("name", sorted(FACTORIES))
@SETTINGS
@given(data=streams, cuts=st.lists(st.integers(min_value=0), max_size=60))
def test_any_chunking_gives_the_same_records(name: str, data: bytes, cuts: list[int]) -> None:
    make = FACTORIES[name]
    whole = parse_whole(make, data)
    assume(whole is not None)
    assert whole is not None
    by_get, stepwise = make(), make()
    got: list[Any] = []
    lazy: list[Any] = []
    for piece in split(data, cuts):
        got.extend(by_get.get([piece]))
        stepwise.get_one_start([piece])
        lazy.extend(drain(stepwise))
    if name == "stream":
        assert b"".join(got) == b"".join(lazy) == b"".join(whole) == data
    else:
        assert normalize(got) == normalize(lazy) == normalize(whole)
    assert by_get.get_pending() == stepwise.get_pending()


@SETTINGS
@given(data=streams)
def test_one_byte_at_a_time(data: bytes) -> None:
    for make in FACTORIES.values():
        whole, f = parse_whole(make, data), make()
        if whole is None:
            continue
        got = [r for i in range(len(data)) for r in f.get([data[i : i + 1]])]
        if isinstance(f, StreamFilter):
            assert b"".join(got) == data
        else:
            assert normalize(got) == normalize(whole)


lines = st.lists(st.text(st.characters(exclude_characters="\r\n", codec="utf-8")), max_size=8)


@SETTINGS
@given(records=lines)
def test_line_round_trip(records: list[str]) -> None:
    makers: list[Callable[[], LineFilter]] = [
        LineFilter,
        lambda: LineFilter(literal=b"\n"),
        lambda: LineFilter(input_literal=None),
    ]
    for make in makers:
        f = make()
        assert f.get(f.put(records)) == records


@SETTINGS
@given(records=st.lists(st.binary(max_size=20), max_size=8))
def test_block_round_trip(records: list[bytes]) -> None:
    f = BlockFilter()
    assert f.get(f.put(records)) == records
    fixed = BlockFilter(block_size=4)
    blocks = [r.ljust(4, b"-")[:4] for r in records]
    assert fixed.get(fixed.put(blocks)) == blocks
    stream = StreamFilter()
    assert b"".join(stream.get(stream.put(records))) == b"".join(records)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=10,
)


@SETTINGS
@given(records=st.lists(json_values, max_size=5), compress=st.booleans())
def test_reference_round_trip(records: list[Any], compress: bool) -> None:
    f = ReferenceFilter(compress=compress)
    assert f.get(f.put(records)) == records


@SETTINGS
@given(
    records=st.lists(st.integers(), max_size=20),
    groups=st.lists(st.integers(min_value=0), max_size=20),
)
def test_record_filters_chunking_and_round_trip(records: list[int], groups: list[int]) -> None:
    makers: list[Callable[[], Filter[int, Any]]] = [
        lambda: GrepFilter(code=lambda n: n % 3 != 0),
        lambda: MapFilter(get=lambda n: n * 2, put=lambda n: n // 2),
        lambda: RecordBlockFilter(block_size=3),
    ]
    points = sorted({g % (len(records) + 1) for g in groups} | {0, len(records)})
    for make in makers:
        whole = make().get(records)
        f = make()
        got = [r for a, b in itertools.pairwise(points) for r in f.get(records[a:b])]
        assert got == whole
        assert make().get(make().put(whole)) == whole


@pytest.mark.parametrize("name", sorted(FACTORIES))
@SETTINGS
@given(data=streams)
def test_clone_starts_empty(name: str, data: bytes) -> None:
    whole = parse_whole(FACTORIES[name], data)
    assume(whole is not None)
    assert whole is not None
    f = FACTORIES[name]()
    f.get_one_start([data])
    twin = f.clone()
    assert not twin.get_pending()
    assert twin.get_one() == []
    assert normalize(twin.get([data])) == normalize(whole)


@pytest.mark.parametrize("name", sorted(LIMITED))
@SETTINGS
@given(chunks=st.lists(streams, max_size=8))
def test_fuzz_only_documented_errors_and_bounded_buffer(name: str, chunks: list[bytes]) -> None:
    f = LIMITED[name]()
    for chunk in chunks:
        # RecordTooLarge or DecodeError are the documented errors; the filter goes on after them.
        # An error stops get() where it is, so the records after it are still held (at most
        # what this chunk added); draining them, as a wheel does, leaves at most max_buffer.
        todo = [chunk]
        for _ in range(len(chunk) + 2):
            try:
                f.get(todo)
                break
            except FilterError:
                assert pending_octets(f) <= 16 + len(chunk)
                todo = []
        else:
            pytest.fail("each error must consume input")
        pending = f.get_pending() or []
        assert sum(map(len, pending)) == pending_octets(f) <= 16


#: Input each limited filter must refuse. Fixed-size blocks have none: what is left once every
#: block is out is shorter than a block, and max_buffer is at least that.
OVERSIZE = {
    "line": b"x" * 17,  # unterminated, longer than max_length
    "line-autodetect": b"x" * 17,  # no terminator to detect: bounded by max_buffer
    "block-prefixed": b"1" * 17,  # a header with more digits than max_length has
    "reference": b"9\0",  # a header announcing more than max_length
    "stream": b"x" * 17,  # more than max_buffer in one call
}


@pytest.mark.parametrize("name", sorted(OVERSIZE))
def test_oversize_input_raises(name: str) -> None:
    f = LIMITED[name]()
    with pytest.raises(RecordTooLarge):
        f.get([OVERSIZE[name]])
    assert f.get_pending() is None
