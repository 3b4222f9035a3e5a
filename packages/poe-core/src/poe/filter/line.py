r"""Line framing: bytes in, text lines out, and back (port of POE::Filter::Line).

Input is split at a terminator, which is stripped. By default a terminator is any of CR, LF,
CRLF or LFCR (POE's ``(\\x0D\\x0A?|\\x0A\\x0D?)``); output lines get CRLF appended. ``literal``
sets one terminator for both directions, ``input_literal``/``input_regexp`` and
``output_literal`` set them separately, and ``input_literal=None`` (POE's present-but-undef
``InputLiteral``) autodetects the terminator from the first one seen.

Lines are decoded with ``encoding``/``errors`` (default UTF-8 with ``"replace"``, so hostile
input never raises a decoding error; pick ``"surrogateescape"`` for a byte-exact round trip;
``"strict"`` raises :class:`~poe.filter.TextDecodeError`). Limits count raw bytes.

Work is linear in the input however it is chunked: the filter remembers how far it has looked
for a terminator and only searches the bytes that arrived since (less the few a terminator
split across reads can start in), so a peer streaming bytes without a newline costs one pass
over them, not one pass per read.

One deliberate deviation from POE: with the default terminators, POE turns a CRLF split across
two reads into a line plus a spurious empty line (its documented "known bug"). The port emits
the line at once, as POE does, and then drops the LF (or the CR of an LFCR) if it is the first
byte of the next read, so the records never depend on how the stream was chunked.
"""

from __future__ import annotations

import importlib
import re
import sys
from enum import Enum
from typing import TYPE_CHECKING, Any, Final

from poe.errors import InvalidArgument
from poe.filter._base import (
    DEFAULT_LINE_MAX_LENGTH,
    FilterBase,
    FilterError,
    RecordTooLarge,
    TextDecodeError,
    check_limit,
    derived_max_buffer,
    too_much_buffered,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from typing_extensions import Self

__all__ = ["AUTODETECT", "LineFilter"]

_CR = 0x0D
_LF = 0x0A
_DEFAULT_INPUT = re.compile(rb"\r\n?|\n\r?")
#: The same terminators with a group, so that one split also returns each terminator.
_DEFAULT_SPLIT: Final = re.compile(b"(" + _DEFAULT_INPUT.pattern + b")")

#: How far back an ``input_regexp`` search restarts when its matches have no bounded length
#: (``+``, ``*``, lookarounds...): a terminator that straddles two reads is found if it starts
#: at most this many bytes before the end of the earlier read. Bounded regexps look back exactly
#: their longest match less one byte. Either way each read costs its own bytes plus this much.
REGEXP_LOOKBACK: Final = 256

#: The empty ``_ready`` / ``_terms`` every idle filter shares (two empty lists cost 112 bytes
#: per connection). Never appended to: lines are only ever popped from a list _split_lines made.
_NO_LINES: Final[list[bytes | bytearray]] = []


class _Auto(Enum):
    """Sentinel for ``input_literal=AUTODETECT`` (an enum member, so ``Literal`` narrows)."""

    AUTODETECT = "autodetect"


#: Pass as ``input_literal`` to autodetect the terminator (``None`` means the same).
AUTODETECT = _Auto.AUTODETECT


class _Mode(Enum):
    """How input terminators are found."""

    DEFAULT = "default"  # CR, LF, CRLF or LFCR, each line on its own
    PATTERN = "pattern"  # a literal or a user regexp
    AUTO_FIRST = "auto_first"  # autodetect: no terminator seen yet
    AUTO_SECOND = "auto_second"  # autodetect: a lone CR/LF ended the buffer; next byte decides


_UNSET: object = object()

#: Parser ops whose match depends on bytes outside the matched span (lookarounds, anchors other
#: than the start, backreferences): their regexps get the REGEXP_LOOKBACK margin.
_CONTEXT_OPS: Final = frozenset(
    {
        "ASSERT",
        "ASSERT_NOT",
        "GROUPREF",
        "GROUPREF_EXISTS",
        "GROUPREF_IGNORE",
        "GROUPREF_LOC_IGNORE",
    }
    | {"GROUPREF_UNI_IGNORE"}
)
_START_ANCHORS: Final = frozenset({"AT_BEGINNING", "AT_BEGINNING_STRING"})


def _regexp_lookback(pattern: re.Pattern[bytes]) -> int:
    """Return how many already-searched bytes a search must revisit when input is appended.

    A leftmost match missed by the previous search must reach past the old end of the buffer,
    so it starts at most (longest match - 1) bytes before it. The longest match comes from the
    regexp parser (private: ``re._parser``, ``sre_parse`` before 3.11); anything it cannot
    bound, or any failure to parse, gets :data:`REGEXP_LOOKBACK`.
    """
    try:
        parser: Any = importlib.import_module(
            "re._parser" if sys.version_info >= (3, 11) else "sre_parse"
        )
        parsed = parser.parse(pattern.pattern, pattern.flags)
        if _needs_context(parsed):
            return REGEXP_LOOKBACK
        longest = int(parsed.getwidth()[1])
    except Exception:  # noqa: BLE001  # a private API: fall back to the safe margin
        return REGEXP_LOOKBACK
    return max(0, min(longest - 1, REGEXP_LOOKBACK))


def _needs_context(node: Any) -> bool:
    """True if a parsed regexp (a SubPattern, or an op argument) uses a context-dependent op."""
    if isinstance(node, (list, tuple)) or type(node).__name__ == "SubPattern":
        items = node.data if type(node).__name__ == "SubPattern" else node
        for item in items:
            if isinstance(item, tuple) and len(item) == 2 and hasattr(item[0], "name"):
                op, arg = item
                if op.name in _CONTEXT_OPS:
                    return True
                if op.name == "AT" and getattr(arg, "name", "") not in _START_ANCHORS:
                    return True
                if _needs_context(arg):
                    return True
            elif _needs_context(item):
                return True
    return False


class LineFilter(FilterBase[bytes, str]):
    """Split a byte stream into text lines; join lines with a terminator on output.

    Args:
        literal: terminator for both directions (non-empty); excludes every other terminator
            argument.
        input_literal: input terminator as a literal; ``None`` or :data:`AUTODETECT` detects
            it from the first CR, LF, CRLF or LFCR seen (a lone CR or LF at the very end of the
            buffer waits for the next byte before the choice is final).
        input_regexp: input terminator as a bytes regexp (pattern or compiled); the match is
            the terminator. It must not match the empty string.
        output_literal: output terminator (default CRLF).
        encoding: text encoding of lines.
        errors: codec error handler used in both directions (default ``"replace"``;
            ``"strict"`` makes an undecodable line a :class:`~poe.filter.TextDecodeError`).
        max_length: longest line in bytes (default :data:`~poe.filter.DEFAULT_LINE_MAX_LENGTH`,
            64 KiB; POE's is 64 MiB). With a fixed terminator or the default set, an
            unterminated line is refused as soon as it is longer.
        max_buffer: most unparsed bytes held once every complete line has been taken (default
            ``max_length`` plus :data:`~poe.filter.READ_ROOM`; at least ``max_length``). Complete
            lines never count: ``get()`` of many megabytes of short lines works. It is what
            bounds an ``input_regexp`` line, which cannot be refused early in general.

    Raises:
        InvalidArgument: conflicting or malformed arguments (POE croaks).
    """

    __slots__ = (
        "_buffer",
        "_discard",
        "_encoding",
        "_errors",
        "_input",
        "_input_arg",
        "_literal",
        "_lookback",
        "_max_buffer",
        "_max_length",
        "_mode",
        "_output",
        "_ready",
        "_scanned",
        "_split",
        "_swallow",
        "_terms",
    )

    def __init__(
        self,
        *,
        literal: bytes | None = None,
        input_literal: bytes | _Auto | object | None = _UNSET,
        input_regexp: bytes | re.Pattern[bytes] | None = None,
        output_literal: bytes | None = None,
        encoding: str = "utf-8",
        errors: str = "replace",
        max_length: int = DEFAULT_LINE_MAX_LENGTH,
        max_buffer: int | None = None,
    ) -> None:
        self._max_length = check_limit("max_length", max_length)
        self._max_buffer = max_buffer = derived_max_buffer(max_length, max_buffer)
        if max_buffer < max_length:
            msg = "max_buffer is not large enough for max_length lines"
            raise InvalidArgument(msg)
        mode = _Mode.DEFAULT
        pattern: re.Pattern[bytes] = _DEFAULT_INPUT
        output = b"\r\n"
        split: bytes | None = None  # a fixed input terminator: get() can split in one pass
        if literal is not None:
            if not literal:
                msg = "a literal must have a nonzero length"
                raise InvalidArgument(msg)
            if input_literal is not _UNSET or input_regexp is not None or output_literal:
                msg = "literal cannot be combined with any other terminator argument"
                raise InvalidArgument(msg)
            pattern, output, mode = re.compile(re.escape(literal)), literal, _Mode.PATTERN
            split = literal
        else:
            if input_literal is not _UNSET:
                if input_regexp is not None:
                    msg = "cannot have both input_literal and input_regexp"
                    raise InvalidArgument(msg)
                if input_literal is None or input_literal is AUTODETECT or input_literal == b"":
                    mode = _Mode.AUTO_FIRST
                elif isinstance(input_literal, bytes):
                    pattern, mode = re.compile(re.escape(input_literal)), _Mode.PATTERN
                    split = input_literal
                else:
                    msg = f"input_literal must be bytes or None, not {input_literal!r}"
                    raise InvalidArgument(msg)
            elif input_regexp is not None:
                pattern = re.compile(input_regexp)
                if pattern.fullmatch(b"") is not None:
                    msg = "input_regexp must not match the empty string"
                    raise InvalidArgument(msg)
                mode = _Mode.PATTERN
            if output_literal is not None:
                output = output_literal
        self._lookback = _regexp_lookback(pattern) if mode is _Mode.PATTERN and split is None else 0
        self._input_arg = (mode, pattern, split)
        self._mode = mode
        self._input = pattern
        self._split = split
        self._literal = b""  # the autodetected terminator
        self._output = output
        self._encoding = encoding
        self._errors = errors
        self._buffer = bytearray()
        # Complete lines already cut from the buffer, newest first (pop() is O(1)), and in the
        # default mode their terminators: get_one() splits the whole buffer once instead of
        # searching and deleting from its front for every line, an O(n) memmove each time.
        self._ready: list[bytes | bytearray] = _NO_LINES
        self._terms: list[bytes | bytearray] = _NO_LINES
        # An over-long line was reported before its terminator arrived: drop input up to it.
        self._discard = False
        # Default mode only: the byte that would complete a lone CR/LF that ended the buffer.
        self._swallow = -1
        # No terminator starts before this offset of the buffer (less a partial terminator's
        # or a regexp's look-back): each search starts there, so unterminated input is looked
        # at once, not once per read.
        self._scanned = 0

    def clone(self) -> Self:
        """Return a filter with the same configuration and empty buffers.

        An autodetecting filter's clone autodetects again.
        """
        twin = object.__new__(type(self))
        for name in LineFilter.__slots__:
            setattr(twin, name, getattr(self, name))
        twin._mode, twin._input, twin._split = self._input_arg
        twin._literal = b""
        twin._buffer = bytearray()
        twin._ready = _NO_LINES
        twin._terms = _NO_LINES
        twin._discard = False
        twin._swallow = -1
        twin._scanned = 0
        return twin

    def get_one_start(self, chunks: Iterable[bytes]) -> None:
        """Append raw chunks to the buffer (``max_buffer`` is checked by :meth:`get_one`)."""
        buffer = self._buffer
        for chunk in chunks:
            buffer += chunk
        if not buffer:
            return
        # Settle a terminator left undecided at the end of the previous buffer now, so that
        # get_pending() never hands the next filter the second half of a CRLF.
        if self._swallow >= 0:
            if buffer[0] == self._swallow:
                del buffer[0]
            self._swallow = -1
        elif self._mode is _Mode.AUTO_SECOND:
            complement = _LF if self._literal == b"\r" else _CR
            if buffer[0] == complement:
                self._literal += bytes((complement,))
                del buffer[0]
            self._input = re.compile(re.escape(self._literal))
            self._split = self._literal
            self._mode = _Mode.PATTERN

    def get(self, chunks: Iterable[bytes]) -> list[str]:
        """Buffer ``chunks`` and return every complete line (see :meth:`FilterBase.get`).

        With a fixed terminator (or the default set) the buffer is split in one pass, which
        gives the same records as draining :meth:`get_one` (the property tests check it).
        """
        self.get_one_start(chunks)
        if self._ready or self._discard or not self._splits():
            return super().get(())
        if not self._split_lines():
            self._no_line()
            return []
        lines = self._ready
        partial = 0 if self._split is None else len(self._split) - 1
        if (
            max(map(len, lines)) > self._max_length
            or len(self._buffer) - partial > self._max_length
        ):
            return super().get(())  # get_one() raises at the right line (or at the rest)
        encoding, errors = self._encoding, self._errors
        try:
            records = [line.decode(encoding, errors) for line in reversed(lines)]
        except UnicodeDecodeError:
            return super().get(())  # likewise: get_one() raises at the bad line
        self._ready = _NO_LINES
        self._terms = _NO_LINES
        return records

    def get_one(self) -> list[str]:
        """Return the next complete line (without its terminator), or ``[]``.

        Raises:
            RecordTooLarge: the line is longer than ``max_length``; it is discarded. Without a
                terminator yet, as soon as the line cannot fit (see :meth:`_no_line`), or when
                the unparsed input exceeds ``max_buffer`` (it is discarded; POE keeps it).
            TextDecodeError: ``errors="strict"`` and the line is not valid text (``EILSEQ``);
                it is discarded.
            FilterError: ``input_regexp`` matched an empty terminator at the buffer start (the
                buffer is discarded).
        """
        ready = self._ready
        if ready and not self._discard and self._mode is not _Mode.DEFAULT:
            line = ready.pop()  # the common case, inline: a line cut by a fixed terminator
            if len(line) <= self._max_length:
                try:
                    return [line.decode(self._encoding, self._errors)]
                except UnicodeDecodeError as exc:
                    raise _undecodable(exc) from exc
            ready.append(line)
        while True:
            if not ready:
                if not self._splits():
                    return self._get_one_scan()
                if not self._split_lines():
                    self._no_line()
                    return []
                ready = self._ready
            line = ready.pop()
            if self._mode is _Mode.DEFAULT:
                self._terms.pop()
            if self._discard:
                self._discard = False  # the tail of a line already reported as too long
                continue
            if len(line) > self._max_length:
                msg = f"next line exceeds maximum line length ({len(line)} > {self._max_length} bytes)"
                raise RecordTooLarge(msg)
            return [self._decode(line)]

    def _decode(self, line: bytes | bytearray) -> str:
        """Decode one line; a strict codec's error becomes a TextDecodeError."""
        try:
            return line.decode(self._encoding, self._errors)
        except UnicodeDecodeError as exc:
            raise _undecodable(exc) from exc

    def _splits(self) -> bool:
        """True when the terminator is fixed (or the default set): lines can be cut in bulk."""
        return self._mode is _Mode.DEFAULT or (
            self._mode is _Mode.PATTERN and self._split is not None
        )

    def _split_lines(self) -> bool:
        """Cut every complete line from the buffer into ``_ready``; False if there is none.

        First a search from ``_scanned`` (no copy) tells whether a terminator arrived at all:
        without one, only the new bytes were looked at. The split that follows is one pass
        over lines that leave the buffer, so every byte is searched at most twice.
        """
        buffer = self._buffer
        if self._mode is _Mode.DEFAULT:
            # Every CR and LF starts a terminator, so no look-back is needed.
            if _DEFAULT_INPUT.search(buffer, self._scanned) is None:
                self._scanned = len(buffer)
                return False
            # The group keeps the terminators: get_pending() must give back the exact bytes,
            # and a lone CR/LF ending the buffer arms _swallow for the next chunk.
            parts = _DEFAULT_SPLIT.split(buffer)
            if len(parts) == 1:
                return False
            rest = parts[-1]
            last = parts[-2]
            if not rest and len(last) == 1:
                self._swallow = _LF if last == b"\r" else _CR
            self._terms = parts[-2::-2]
            self._ready = parts[-3::-2]
        else:
            split = self._split
            assert split is not None
            # A terminator can straddle the previous end: look back its length less one.
            if buffer.find(split, max(self._scanned - len(split) + 1, 0)) < 0:
                self._scanned = len(buffer)
                return False
            lines: list[bytes | bytearray] = [*buffer.split(split)]
            if len(lines) == 1:
                return False
            rest = lines.pop()
            lines.reverse()
            self._ready = lines
        del buffer[: len(buffer) - len(rest)]
        self._scanned = len(rest)  # the rest holds no (complete) terminator
        return True

    def _get_one_scan(self) -> list[str]:
        """get_one() for autodetection and ``input_regexp``: one regexp search per line."""
        buffer = self._buffer
        if self._mode is _Mode.AUTO_SECOND:
            return []
        # Resume where the last search gave up, less the regexp's look-back (0 while
        # autodetecting: every CR and LF starts a terminator).
        match = self._input.search(buffer, max(self._scanned - self._lookback, 0))
        if match is None:
            self._scanned = len(buffer)
            if len(buffer) > self._max_buffer:
                size = len(buffer)
                buffer.clear()
                self._scanned = 0
                raise too_much_buffered(size, self._max_buffer)
            return []
        start, end = match.span()
        if end == 0:
            buffer.clear()  # the same match would come back on every call: make progress
            self._scanned = 0
            msg = "input_regexp matched an empty terminator"
            raise FilterError(msg)
        # Copy the terminator before the buffer is edited: a match on a bytearray reads through.
        terminator = bytes(buffer[start:end])
        line = bytes(buffer[:start])
        del buffer[:end]
        self._scanned = 0
        if self._mode is _Mode.AUTO_FIRST:
            self._literal = terminator
            if len(self._literal) == 2 or buffer:
                self._input = re.compile(re.escape(self._literal))
                self._split = self._literal
                self._mode = _Mode.PATTERN
            else:
                self._mode = _Mode.AUTO_SECOND
        if len(line) > self._max_length:
            msg = f"next line exceeds maximum line length ({len(line)} > {self._max_length} bytes)"
            raise RecordTooLarge(msg)
        return [self._decode(line)]

    def _no_line(self) -> None:
        """No terminator in the buffer: refuse a line that can no longer fit.

        With a fixed terminator (or the default set), a line is at least as long as the
        unterminated input minus a partial terminator; once that exceeds ``max_length`` it is
        reported at once instead of being buffered up to ``max_buffer`` (POE waits for the
        terminator). Its bytes are dropped, and so is the rest of it when its terminator comes.
        What is left (a partial terminator) is then checked against ``max_buffer``.
        """
        buffer = self._buffer
        partial = 0 if self._split is None else len(self._split) - 1
        size = len(buffer) - partial
        if self._discard:
            if size > 0:
                del buffer[:size]  # from the front of a bytearray: O(1), no copy
                self._scanned = len(buffer)
        elif size > self._max_length:
            del buffer[:size]
            self._scanned = len(buffer)
            self._discard = True
            msg = f"next line exceeds maximum line length (over {self._max_length} bytes unterminated)"
            raise RecordTooLarge(msg)
        if len(buffer) > self._max_buffer:
            size = len(buffer)
            buffer.clear()
            self._scanned = 0
            raise too_much_buffered(size, self._max_buffer)

    @property
    def put_never_fails(self) -> bool:
        """True when :meth:`put` cannot raise for ``str`` records.

        That is, unless the codec error handler is ``"strict"`` (an unencodable character
        raises). Wheels may then serialize several puts at once.
        """
        return self._errors != "strict"

    def put(self, records: Iterable[str]) -> list[bytes]:
        """Encode each line and append the output terminator (one chunk per line).

        Like POE, a line that already ends with a newline gets the terminator anyway.
        """
        encoding, errors, output = self._encoding, self._errors, self._output
        if type(records) is tuple and len(records) == 1:
            # wheel.put(line), the common case: a list display costs a third of a comprehension.
            return [records[0].encode(encoding, errors) + output]
        return [line.encode(encoding, errors) + output for line in records]

    def pending_octets(self) -> int:
        """Return the size of :meth:`get_pending`'s chunk, in O(1) (0 when nothing is held)."""
        ready = self._ready
        if not ready:
            return len(self._buffer)
        # Lines already cut but not handed out yet: rare (get_one() stopped mid-read), and then
        # a wheel drains them before it reads again.
        if self._mode is _Mode.DEFAULT:
            terms = sum(map(len, self._terms))
        else:
            assert self._split is not None
            terms = len(self._split) * len(ready)
        return sum(map(len, ready)) + terms + len(self._buffer)

    def get_pending(self) -> list[bytes] | None:
        """Return the unparsed buffer as one chunk, or ``None`` when it is empty."""
        ready = self._ready
        if not ready:
            return [bytes(self._buffer)] if self._buffer else None
        terms = reversed(self._terms) if self._mode is _Mode.DEFAULT else [self._split] * len(ready)
        pending = b"".join(line + term for line, term in zip(reversed(ready), terms, strict=True))  # type: ignore[operator]
        return [pending + self._buffer]


def _undecodable(exc: UnicodeDecodeError) -> TextDecodeError:
    """The TextDecodeError for a line a strict codec refused (the line is already dropped)."""
    return TextDecodeError(f"line is not valid {exc.encoding}: {exc.reason} at byte {exc.start}")
