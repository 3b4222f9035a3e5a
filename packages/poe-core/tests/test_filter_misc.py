"""Stream, Grep, Map, RecordBlock and Stackable filters (POE's 08_stream, 02_grep, 05_map,
06_recordblock and 50_stackable), with Perl POE 1.370 oracles.
"""

from __future__ import annotations

import pytest

from poe.errors import InvalidArgument
from poe.filter import (
    BlockFilter,
    GrepFilter,
    LineFilter,
    MapFilter,
    RecordBlockFilter,
    RecordTooLarge,
    StackableFilter,
    StreamFilter,
)
from poe.testing.filters import check_filter

# -- Stream ------------------------------------------------------------------------------------


def test_stream() -> None:
    """Perl: get ["ab", "cd"] -> "abcd"; get_pending undef; get [""] -> nothing."""
    f = StreamFilter()
    assert f.get([b"ab", b"cd"]) == [b"abcd"]
    assert f.get_pending() is None
    assert f.get([b""]) == []
    f.get_one_start([b"xy"])
    assert f.get_pending() == [b"xy"]
    assert f.get_one() == [b"xy"]
    assert f.put([b"a", b"b"]) == [b"a", b"b"]
    check_filter(f, b"hello world", [b"hello world"], join=b"".join)


def test_stream_max_buffer() -> None:
    f = StreamFilter(max_buffer=3)
    with pytest.raises(RecordTooLarge):
        f.get([b"abcd"])
    assert f.get_pending() is None


# -- Grep --------------------------------------------------------------------------------------


def test_grep_code() -> None:
    """Perl: Code /a/ get [ab, cd, ae] -> ab, ae; put [xa, y] -> xa."""
    f: GrepFilter[str] = GrepFilter(code=lambda s: "a" in s)
    assert f.get(["ab", "cd", "ae"]) == ["ab", "ae"]
    assert f.put(["xa", "y"]) == ["xa"]


def test_grep_get_put_and_modify() -> None:
    """Perl: Get >1, Put <3: get [1,2,3] -> 2,3; put [1,2,3] -> 1,2. modify(Get=>1) keeps all."""
    f: GrepFilter[int] = GrepFilter(get=lambda n: n > 1, put=lambda n: n < 3)
    assert f.get([1, 2, 3]) == [2, 3]
    assert f.put([1, 2, 3]) == [1, 2]
    f.modify(get=lambda n: True)
    assert f.get([1, 2]) == [1, 2]
    assert f.put([1, 2, 3]) == [1, 2]
    f.modify(code=lambda n: n == 3)
    assert f.get([1, 3]) == [3]
    assert f.put([1, 3]) == [3]
    with pytest.raises(InvalidArgument):
        f.modify(put=3)  # type: ignore[arg-type]


def test_grep_lazy_pending() -> None:
    f: GrepFilter[int] = GrepFilter(code=lambda n: n % 2 == 0)
    f.get_one_start([1, 2, 3, 4])
    assert f.get_one() == [2]
    assert f.get_pending() == [3, 4]
    assert f.clone().get_pending() is None
    check_filter(f, [1, 2, 3, 4, 5, 6], [2, 4, 6])


@pytest.mark.parametrize("kwargs", [{}, {"get": bool}, {"put": bool}, {"code": 1}])
def test_grep_bad_arguments(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidArgument):
        GrepFilter(**kwargs)  # type: ignore[arg-type]


# -- Map ---------------------------------------------------------------------------------------


def test_map() -> None:
    """Perl: Get uc, Put lc: get [a, b] -> A, B; put [C] -> c."""
    f: MapFilter[str, str] = MapFilter(get=str.upper, put=str.lower)
    assert f.get(["a", "b"]) == ["A", "B"]
    assert f.put(["C"]) == ["c"]
    f.modify(get=lambda s: s * 2)
    assert f.get(["a"]) == ["aa"]
    f.modify(code=str.title)
    assert f.put(["ab cd"]) == ["Ab Cd"]
    g: MapFilter[str, int] = MapFilter(get=int, put=str)
    check_filter(g, ["1", "22", "3"], [1, 22, 3])
    with pytest.raises(InvalidArgument):
        MapFilter(get=str.upper)


# -- RecordBlock -------------------------------------------------------------------------------


def test_recordblock() -> None:
    """Perl: BlockSize 3 get [1..7] -> [1,2,3],[4,5,6] pending [7]; BlockSize 2 put
    [[1,2],[3]] -> 1,2,3.
    """
    f: RecordBlockFilter[int] = RecordBlockFilter(block_size=3)
    assert f.get(list(range(1, 8))) == [[1, 2, 3], [4, 5, 6]]
    assert f.get_pending() == [7]
    g: RecordBlockFilter[int] = RecordBlockFilter(block_size=2)
    assert g.put([[1, 2], [3]]) == [1, 2, 3]
    assert g.put_pending() is None
    check_filter(g, [1, 2, 3, 4], [[1, 2], [3, 4]])


def test_recordblock_check_put() -> None:
    """Perl: BlockSize 2, CheckPut: put [[1,2,3]] -> 1,2; put_pending -> [3]."""
    f: RecordBlockFilter[int] = RecordBlockFilter(block_size=2, check_put=True)
    assert f.put([[1, 2, 3]]) == [1, 2]
    assert f.put_pending() == [3]
    assert f.put([[4]]) == [3, 4]
    assert f.put_pending() is None
    f.put([[5]])
    f.checkput(False)
    assert f.put([[6]]) == [5, 6]


def test_recordblock_accessors() -> None:
    f: RecordBlockFilter[int] = RecordBlockFilter(block_size=2)
    assert f.blocksize() == 2
    assert f.blocksize(0) == 2
    assert f.blocksize(4) == 4
    assert f.checkput() is False
    assert f.checkput(True) is True
    with pytest.raises(InvalidArgument):
        RecordBlockFilter(block_size=0)


# -- Stackable ---------------------------------------------------------------------------------


def _line_uc() -> StackableFilter:
    return StackableFilter([LineFilter(literal=b"\n"), MapFilter(code=str.upper)])


def test_stackable_oracle() -> None:
    """Perl: Stackable[Line(\\n), Map(uc)] get "ab\\ncd\\nef" -> AB, CD."""
    f = _line_uc()
    assert f.get([b"ab\ncd\nef"]) == ["AB", "CD"]
    assert f.get_pending() == [b"ef"]
    assert f.put(["x"]) == [b"X\n"]


def test_stackable_recordblock() -> None:
    """Perl: [Line(\\n), RecordBlock(2)] get "a\\nb\\nc\\n" -> [a,b]; put [[x,y]] -> "x\\n","y\\n"."""
    f = StackableFilter([LineFilter(literal=b"\n"), RecordBlockFilter(block_size=2)])
    assert f.get([b"a\nb\nc\n"]) == [["a", "b"]]
    assert f.put([["x", "y"]]) == [b"x\n", b"y\n"]
    assert f.filter_types() == [LineFilter, RecordBlockFilter]
    # Perl's get_pending here returns []: it drops "c". The port re-serializes it.
    assert f.get_pending() == [b"c\n"]


def test_stackable_put_stops_early() -> None:
    """Perl: [Line(\\n), Grep(ne skip)] get "a\\nskip\\nb\\n" -> a, b; put [skip] -> nothing."""
    f = StackableFilter([LineFilter(literal=b"\n"), GrepFilter(code=lambda s: s != "skip")])
    assert f.get([b"a\nskip\nb\n"]) == ["a", "b"]
    assert f.put(["skip"]) == []


def test_stackable_push_pop_shift_unshift() -> None:
    f = StackableFilter()
    assert f.get([b"raw"]) == [b"raw"]  # an empty stack passes input through
    f.push(MapFilter(code=str.upper))
    f.unshift(LineFilter(literal=b"\n"))
    assert f.filter_types() == [LineFilter, MapFilter]
    assert f.get([b"a\nb"]) == ["A"]
    top = f.pop()
    assert isinstance(top, MapFilter)
    assert f.get([b"\n"]) == ["b"]
    bottom = f.shift()
    assert isinstance(bottom, LineFilter)
    assert f.filters() == []
    with pytest.raises(InvalidArgument):
        f.push(3)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument):
        StackableFilter([object()])  # type: ignore[list-item]


def test_stackable_pop_keeps_pending_records() -> None:
    f = StackableFilter([LineFilter(literal=b"\n"), RecordBlockFilter(block_size=3)])
    assert f.get([b"a\nb\n"]) == []
    f.pop()
    assert f.get([]) == ["a", "b"]


def test_stackable_shift_moves_pending_bytes() -> None:
    f = StackableFilter([StreamFilter(), LineFilter(literal=b"\n")])
    f.get_one_start([b"a\nb\n"])
    f.shift()
    assert f.get([]) == ["a", "b"]


def test_stackable_switch_loses_nothing() -> None:
    """Switching filters mid-stream (99_filterchange.t's idea): every stage's leftovers survive."""
    f = StackableFilter([LineFilter(literal=b"\n"), RecordBlockFilter(block_size=2)])
    assert f.get([b"a\nb\nc\n3\0abc"]) == [["a", "b"]]
    rest = f.get_pending()
    assert rest == [b"c\n", b"3\0abc"]
    lines = _line_uc()
    assert lines.get(rest) == ["C"]
    tail = lines.get_pending()
    assert tail == [b"3\0abc"]
    assert BlockFilter().get(tail) == [b"abc"]


def test_stackable_clone() -> None:
    f = _line_uc()
    f.get_one_start([b"partial"])
    twin = f.clone()
    assert twin.get_pending() == []
    assert [type(x) for x in twin.filters()] == f.filter_types()
    check_filter(f, b"a\nb\nc\n", ["A", "B", "C"])
