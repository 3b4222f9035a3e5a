"""LineFilter: POE's t/10_units/05_filters/04_line.t behaviours, with Perl POE 1.370 oracles."""

from __future__ import annotations

import contextlib
import re

import pytest

from poe.errors import InvalidArgument
from poe.filter import AUTODETECT, FilterError, LineFilter, RecordTooLarge
from poe.testing.filters import check_filter


def test_default_put_appends_crlf() -> None:
    """Perl: ``Line->new->put(['a'])`` -> ``61 0d 0a``."""
    assert LineFilter().put(["a"]) == [b"a\r\n"]


def test_put_does_not_translate_newlines() -> None:
    """Perl: put ['a', "b\\n"] -> ``610d0a``, ``620a0d0a``."""
    assert LineFilter().put(["a", "b\n"]) == [b"a\r\n", b"b\n\r\n"]


def test_default_terminators() -> None:
    """Perl: get "a\\r\\nb\\nc\\rd\\n\\re" -> a,b,c,d pending "e"."""
    f = LineFilter()
    assert f.get([b"a\r\nb\nc\rd\n\re"]) == ["a", "b", "c", "d"]
    assert f.get_pending() == [b"e"]


def test_empty_lines() -> None:
    """Perl: get "\\n\\n" -> two empty lines."""
    assert LineFilter().get([b"\n\n"]) == ["", ""]


def test_split_crlf_is_one_terminator() -> None:
    """Perl gives a, "" then b (its documented known bug); the port gives a then b.

    Perl: get "a\\r" -> a; get "\\nb\\n" -> "", b.
    """
    f = LineFilter()
    assert f.get([b"a\r"]) == ["a"]
    assert f.get_pending() is None
    assert f.get([b"\nb\n"]) == ["b"]
    g = LineFilter()
    assert g.get([b"a\n"]) == ["a"]
    assert g.get([b"\r"]) == []
    assert g.get_pending() is None
    assert g.get([b"b\r\r\n"]) == ["b", ""]


def test_literal_both_directions() -> None:
    """Perl: Literal '!' get "a!b!!c" -> a,b,"" pending c; put x -> "x!"."""
    f = LineFilter(literal=b"!")
    assert f.get([b"a!b!!c"]) == ["a", "b", ""]
    assert f.get_pending() == [b"c"]
    assert f.put(["x"]) == [b"x!"]


def test_input_and_output_literal() -> None:
    """Perl: InputLiteral XY, OutputLiteral Z: "aXYbX" -> a; "Yc" -> b; put x,y -> xZ,yZ."""
    f = LineFilter(input_literal=b"XY", output_literal=b"Z")
    assert f.get([b"aXYbX"]) == ["a"]
    assert f.get([b"Yc"]) == ["b"]
    assert f.put(["x", "y"]) == [b"xZ", b"yZ"]


@pytest.mark.parametrize("regexp", [rb"[,;]+", re.compile(rb"[,;]+")])
def test_input_regexp(regexp: bytes | re.Pattern[bytes]) -> None:
    """Perl: InputRegexp '[,;]+' get "a,;b;c" -> a,b pending c."""
    f = LineFilter(input_regexp=regexp)
    assert f.get([b"a,;b;c"]) == ["a", "b"]
    assert f.get_pending() == [b"c"]
    assert f.put(["x"]) == [b"x\r\n"]


@pytest.mark.parametrize("value", [None, AUTODETECT, b""])
def test_autodetect_crlf(value: object) -> None:
    """Perl: InputLiteral undef, "x\\r\\ny\\r\\nz\\n" -> x,y pending "z\\n"."""
    f = LineFilter(input_literal=value)
    assert f.get([b"x\r\ny\r\nz\n"]) == ["x", "y"]
    assert f.get_pending() == [b"z\n"]


def test_autodetect_across_reads() -> None:
    """Perl: "x\\r" -> x; "\\ny\\r\\nz\\n" -> y, pending "z\\n"; "a\\n" + "\\rb\\n\\rc" -> a|b pending c."""
    f = LineFilter(input_literal=None)
    assert f.get([b"x\r"]) == ["x"]
    assert f.get([b"\ny\r\nz\n"]) == ["y"]
    assert f.get_pending() == [b"z\n"]
    g = LineFilter(input_literal=None)
    assert g.get([b"a\n"]) == ["a"]
    assert g.get([b"\rb\n\rc"]) == ["b"]
    assert g.get_pending() == [b"c"]


def test_autodetect_lone_lf() -> None:
    """Perl: "a\\nb\\r\\nc\\n" -> a, "b\\r", c (LF detected first)."""
    assert LineFilter(input_literal=None).get([b"a\nb\r\nc\n"]) == ["a", "b\r", "c"]


def test_autodetect_clone_detects_again() -> None:
    f = LineFilter(input_literal=None)
    assert f.get([b"a\r\n"]) == ["a"]
    assert f.clone().get([b"b\nc\n"]) == ["b", "c"]


def test_max_length_discards_the_line() -> None:
    """Perl: MaxLength 3 get "abcdef\\n" dies "Next line exceeds maximum line length", pending empty."""
    f = LineFilter(max_length=3, max_buffer=10)
    with pytest.raises(RecordTooLarge, match="maximum line length"):
        f.get([b"abcdef\nok\n"])
    assert f.get_pending() == [b"ok\n"]
    assert f.get([]) == ["ok"]


def test_max_length_refuses_an_unterminated_line_early() -> None:
    """Perl waits for the terminator (up to MaxBuffer); the port reports the line as soon as it
    cannot fit, drops its bytes, and drops its tail when the terminator comes."""
    f = LineFilter(max_length=3)
    assert f.get([b"abc"]) == []
    with pytest.raises(RecordTooLarge, match="maximum line length"):
        f.get([b"d"])
    assert f.get_pending() is None
    assert f.get([b"efgh"]) == []  # still the same line: dropped, no second error
    assert f.get([b"ij\nok\n"]) == ["ok"]


@pytest.mark.parametrize("chunking", [1, 2, 100])
def test_max_length_early_keeps_a_partial_terminator(chunking: int) -> None:
    f = LineFilter(literal=b"\r\n", max_length=3)
    data = b"abc\r\nxyzzy\r\nok\r\n"
    got: list[str] = []
    errors = 0
    for i in range(0, len(data), chunking):
        f.get_one_start([data[i : i + chunking]])
        while True:  # get_one, as a wheel drains it: nothing before or after the error is lost
            try:
                one = f.get_one()
            except RecordTooLarge:
                errors += 1
                continue
            if not one:
                break
            got.extend(one)
    assert got == ["abc", "ok"]
    assert errors == 1


def test_get_one_keeps_its_place_across_chunks() -> None:
    f = LineFilter(literal=b"\n")
    f.get_one_start([b"a\nb\nc"])
    assert f.get_one() == ["a"]
    assert f.get_pending() == [b"b\nc"]
    f.get_one_start([b"\nd\n"])
    assert [f.get_one(), f.get_one(), f.get_one(), f.get_one()] == [["b"], ["c"], ["d"], []]
    assert f.get_pending() is None


def test_max_buffer_discards_the_buffer() -> None:
    """Perl dies "Framing buffer exceeds the limit" and keeps the buffer; the port clears it.

    A fixed terminator refuses the line at max_length first; a regexp's line can only be
    bounded by max_buffer.
    """
    f = LineFilter(input_regexp=rb"\n", max_length=3, max_buffer=10)
    with pytest.raises(RecordTooLarge, match="framing buffer exceeds"):
        f.get([b"abcdefghijk"])
    assert f.get_pending() is None
    assert f.get([b"ok\n"]) == ["ok"]


def test_error_hierarchy() -> None:
    assert issubclass(RecordTooLarge, FilterError)
    assert issubclass(FilterError, ValueError)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"literal": b""},
        {"literal": b"x", "input_literal": b"y"},
        {"literal": b"x", "output_literal": b"y"},
        {"literal": b"x", "input_regexp": b"y"},
        {"input_literal": b"x", "input_regexp": b"y"},
        {"input_regexp": b"x*"},
        {"max_length": 0},
        {"max_length": 10, "max_buffer": 5},
        {"input_literal": 3},
    ],
)
def test_bad_arguments(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidArgument):
        LineFilter(**kwargs)  # type: ignore[arg-type]


def test_decoding() -> None:
    f = LineFilter(literal=b"\n")
    assert f.get(["é\n".encode(), b"\xff\n"]) == ["é", "\ufffd"]
    assert f.put(["é"]) == ["é\n".encode()]
    g = LineFilter(literal=b"\n", errors="surrogateescape")
    assert g.put(g.get([b"\xff\n"])) == [b"\xff\n"]


def test_regexp_empty_match_is_an_error() -> None:
    f = LineFilter(input_regexp=rb"(?=a)")
    with pytest.raises(FilterError, match="empty terminator"):
        f.get([b"abc"])


@pytest.mark.parametrize(
    ("kwargs", "stream", "records"),
    [
        ({}, b"a\r\nb\nc\rd\n\re\r\n\r\n", ["a", "b", "c", "d", "e", ""]),
        ({"literal": b"\n"}, b"one\ntwo\n\nthree", ["one", "two", ""]),
        ({"literal": b"<>"}, b"a<>b<<>>c<>", ["a", "b<", ">c"]),
        ({"input_literal": None}, b"x\r\ny\r\nz\n\r\n", ["x", "y", "z\n"]),
        ({"input_literal": None}, b"x\ny\r\n", ["x", "y\r"]),
    ],
)
def test_check_filter(kwargs: dict[str, object], stream: bytes, records: list[str]) -> None:
    check_filter(LineFilter(**kwargs), stream, records)  # type: ignore[arg-type]


def test_the_shared_empty_line_list_stays_empty() -> None:
    """Idle filters share one empty list: nothing may ever be appended to it."""
    from poe.filter import line as line_module

    for f in (LineFilter(), LineFilter(literal=b"\n", max_length=3), LineFilter().clone()):
        f.get_one_start([b"ab\nabcdef\ncd\r\n"])
        for _ in range(5):
            with contextlib.suppress(RecordTooLarge):
                f.get_one()
        f.get([b"x\ny"])
        f.get_pending()
    assert line_module._NO_LINES == []
