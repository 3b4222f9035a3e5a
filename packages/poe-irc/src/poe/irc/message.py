"""IRC messages: parsing and formatting lines, sans I/O (RFC 1459/2812 with IRCv3 tags).

A line is ``[@tags ][:source ]COMMAND [params...] [:trailing]``. :func:`parse` turns one
decoded line into a :class:`Message` and :meth:`Message.line` turns it back. Tags are
unescaped by the ``irc`` library (``irc.message.Tag``) and source masks are its ``NickMask``.

Text is decoded leniently (:func:`decode`): UTF-8 when the bytes are UTF-8, otherwise CP1252,
the charset most legacy IRC clients send. No input makes :func:`decode` fail, and only a line
without a valid command makes :func:`parse` fail.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from irc.client import NickMask
from irc.message import Tag

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "MAX_LINE",
    "MAX_TAGS",
    "Message",
    "ParseError",
    "check_text",
    "decode",
    "encode",
    "parse",
]

MAX_LINE = 512
"""Bytes in a line without its tags, CR LF included (RFC 1459 §2.3)."""

MAX_TAGS = 8191
"""Bytes in a line's tags, the ``@`` and the space after them included (IRCv3 message-tags)."""

_FORBIDDEN = frozenset("\r\n\0")
_TAG_ESCAPES = str.maketrans({";": r"\:", " ": r"\s", "\\": "\\\\", "\r": r"\r", "\n": r"\n"})


class ParseError(ValueError):
    """A line that is not an IRC message; the line is in ``args[1]``.

    It has no command, or the command is neither letters nor a three-digit numeric.
    """


def decode(raw: bytes) -> str:
    """Decode one line: UTF-8 if it is valid UTF-8, else CP1252 (undefined bytes as Latin-1).

    Never raises: every byte string decodes, so a peer's encoding cannot end a connection.
    """
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return "".join(_cp1252(b) for b in raw)


def _cp1252(byte: int) -> str:
    try:
        return bytes((byte,)).decode("cp1252")
    except UnicodeDecodeError:
        return chr(byte)  # 0x81, 0x8D, 0x8F, 0x90, 0x9D: undefined in CP1252


def encode(text: str) -> bytes:
    """Encode text for the wire (UTF-8; lone surrogates from a lenient decode round-trip)."""
    return text.encode("utf-8", "surrogateescape")


@dataclass(frozen=True)
class Message:
    """One IRC message.

    Attributes:
        command: the command, upper-cased (``PRIVMSG``), or a three-digit numeric (``001``).
        params: the parameters; the trailing one (after ``" :"``) is the last, spaces kept.
        source: the prefix without its colon (``nick!user@host`` or a server name), or None.
        tags: IRCv3 tags, unescaped; a tag without a value maps to None.
    """

    command: str
    params: tuple[str, ...] = ()
    source: str | None = None
    tags: Mapping[str, str | None] = field(default_factory=dict, compare=False)

    @property
    def nick(self) -> str | None:
        """The nick of the source (a server name when a server sent it), or None."""
        return None if self.source is None else str(NickMask(self.source).nick)

    @property
    def mask(self) -> Any:
        """The source as an ``irc.client.NickMask`` (``.nick``, ``.user``, ``.host``), or None."""
        return None if self.source is None else NickMask(self.source)

    def line(self) -> str:
        """Return the message as one line, without CR LF.

        Raises:
            ValueError: a part holds CR, LF or NUL (they would end the line early and let the
                rest be read as another command), a middle parameter is empty, starts with
                ``:`` or holds a space, or the command is not a single word.
        """
        parts: list[str] = []
        if self.tags:
            parts.append("@" + ";".join(_format_tag(k, v) for k, v in self.tags.items()))
        if self.source is not None:
            _check_word(self.source, "source")
            parts.append(":" + self.source)
        _check_word(self.command, "command")
        parts.append(self.command)
        if self.params:
            *middle, last = self.params
            for param in middle:
                _check_word(param, "parameter")
                if param.startswith(":"):
                    msg = f"only the last parameter may start with ':' ({param!r})"
                    raise ValueError(msg)
            parts.extend(middle)
            check_text(last)
            if not last or " " in last or last.startswith(":"):
                last = ":" + last
            parts.append(last)
        return " ".join(parts)

    def __str__(self) -> str:
        """The line; never raises.

        A received message that could not be sent back (a NUL in it, an empty middle
        parameter) is shown with those parts escaped.
        """
        try:
            return self.line()
        except ValueError:
            return " ".join(repr(part)[1:-1] for part in (self.command, *self.params))


def parse(line: str) -> Message:
    """Parse one line (CR LF already removed) into a :class:`Message`.

    CR and LF at either end and spaces before the first word are ignored, runs of spaces between
    middle parameters count as one (the trailing parameter keeps its spaces), the command is
    upper-cased.

    Raises:
        ParseError: the line has no command (empty, or only tags and/or a source), or the
            command is neither letters nor a three-digit numeric.
    """
    rest = line.strip("\r\n").lstrip(" ")
    tags: dict[str, str | None] = {}
    if rest.startswith("@"):
        raw_tags, _, rest = rest[1:].partition(" ")
        rest = rest.lstrip(" ")
        parsed = Tag.from_group(raw_tags) or []
        tags = {item["key"]: item["value"] for item in parsed if item["key"]}
    source = None
    if rest.startswith(":"):
        source, _, rest = rest[1:].partition(" ")
        rest = rest.lstrip(" ")
    command, _, rest = rest.partition(" ")
    if not command:
        msg = "no command in IRC line"
        raise ParseError(msg, line)
    if not (command.isascii() and (command.isalpha() or (command.isdigit() and len(command) == 3))):
        # RFC 2812 §2.3.1: letters, or a three-digit numeric. Anything else is noise, and
        # would make an odd event name.
        msg = f"not an IRC command: {command[:20]!r}"
        raise ParseError(msg, line)
    # The trailing parameter starts at the first " :"; the leading space makes one that comes
    # first (``001 :Welcome``) look the same. Only spaces separate parameters: the ``irc``
    # library's Arguments splits on any whitespace, which would eat a lone tab or form feed.
    middle, colon, trailing = (" " + rest).partition(" :")
    params = [param for param in middle.split(" ") if param]
    if colon:
        params.append(trailing)
    return Message(command.upper(), tuple(params), source, tags)


def _format_tag(key: str, value: str | None) -> str:
    _check_word(key, "tag key")
    if value is None or value == "":
        return key
    return key + "=" + value.translate(_TAG_ESCAPES)


def check_text(text: str) -> None:
    """Refuse text that cannot go inside one IRC line.

    Raises:
        ValueError: ``text`` holds CR, LF or NUL (they would end the line early and let the
            rest be read as another command).
    """
    if not _FORBIDDEN.isdisjoint(text):
        msg = f"CR, LF and NUL cannot be sent inside an IRC line: {text!r}"
        raise ValueError(msg)


def _check_word(word: str, what: str) -> None:
    check_text(word)
    if not word or " " in word:
        msg = f"an IRC {what} must be one non-empty word, not {word!r}"
        raise ValueError(msg)
