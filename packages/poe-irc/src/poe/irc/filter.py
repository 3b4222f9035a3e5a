"""The IRC filter: bytes from a server to :class:`~poe.irc.message.Message` records and back.

The port of POE::Filter::IRCD stacked on POE::Filter::Line, as one sans-I/O filter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from poe.filter import DecodeError, FilterBase, LineFilter
from poe.irc.message import (
    MAX_LINE,
    MAX_TAGS,
    Message,
    ParseError,
    check_text,
    decode,
    encode,
    parse,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from typing_extensions import Self

__all__ = ["IRCFilter"]

_LATIN1 = "latin-1"
_READ_ROOM = 1 << 20


class IRCFilter(FilterBase[bytes, Message]):
    """Split a byte stream into IRC messages; format messages (or raw lines) with CR LF.

    Input lines may end with CR LF, LF or CR. Empty lines are skipped (RFC 2812 §2.3.1). Each
    line is decoded on its own (:func:`~poe.irc.message.decode`: UTF-8, else CP1252), so one
    peer's stray Latin-1 byte spoils nothing after it.

    Output records are :class:`~poe.irc.message.Message` objects or already-formatted lines
    (``str``, without CR LF), sent as UTF-8.

    Args:
        max_length: the longest input line in bytes, tags included (default: IRCv3's 8191 bytes
            of tags plus the 512 of the message).

    Raises:
        DecodeError: from :meth:`get_one`, for a line with no valid command or with a NUL in
            it; the line is dropped, the filter stays usable (a wheel reports it as a
            ``"read"`` error, EINVAL).
        RecordTooLarge: from :meth:`get_one`, for a line longer than ``max_length`` (EMSGSIZE).
        ValueError: from :meth:`put`, for a message that cannot be sent as one line (CR, LF or
            NUL inside it); nothing of that call is returned.
    """

    __slots__ = ("_lines",)

    def __init__(self, *, max_length: int = MAX_TAGS + MAX_LINE) -> None:
        # Latin-1 maps bytes to code points one to one: each line is decoded properly below.
        # The buffer limit must hold a whole read of complete lines (a burst from the server
        # arrives 64 KiB at a time) on top of one unfinished line; an unfinished line alone is
        # refused as soon as it passes max_length.
        self._lines = LineFilter(
            encoding=_LATIN1,
            errors="strict",
            max_length=max_length,
            max_buffer=max_length + _READ_ROOM,
        )

    def clone(self) -> Self:
        """Return a filter with the same limit and an empty buffer."""
        twin = object.__new__(type(self))
        twin._lines = self._lines.clone()
        return twin

    def get_one_start(self, chunks: Iterable[bytes]) -> None:
        """Buffer raw chunks."""
        self._lines.get_one_start(chunks)

    def get_one(self) -> list[Message]:
        """Return the next message as a one-element list, or ``[]`` when none is complete."""
        while True:
            lines = self._lines.get_one()
            if not lines:
                return []
            text = lines[0]
            if not text.strip(" \r\n"):
                continue
            if not text.isascii():
                text = decode(text.encode(_LATIN1))
            if "\0" in text:
                # IRC forbids NUL; a message holding one could not be relayed or logged as
                # it came (and put() refuses it), so it is refused here, where it arrives.
                msg = f"NUL inside an IRC line: {text[:80]!r}"
                raise DecodeError(msg)
            try:
                return [parse(text)]
            except ParseError as exc:
                msg = f"not an IRC message: {text[:80]!r}"
                raise DecodeError(msg) from exc

    def put(self, records: Iterable[Message | str]) -> list[bytes]:
        """Return each record as one CR LF-terminated chunk of UTF-8."""
        chunks: list[bytes] = []
        for record in records:
            if isinstance(record, Message):
                line = record.line()
            else:
                line = record
                check_text(line)
            chunks.append(encode(line) + b"\r\n")
        return chunks

    def get_pending(self) -> list[bytes] | None:
        """Return the buffered bytes of the line not yet complete, or None."""
        return self._lines.get_pending()
