"""Splitting text into IRC lines that fit the protocol's 512-byte limit (sans I/O).

A server relays ``:nick!user@host PRIVMSG target :text`` to others, so what fits is 512 bytes
minus CR LF, our own prefix as the server sees it and the command. Text is cut at spaces when
it can be, and never inside a UTF-8 sequence (a code point is never split in two).
"""

from __future__ import annotations

from poe.irc.message import MAX_LINE

__all__ = ["MASK_RESERVE", "split_text", "text_budget"]

MASK_RESERVE = 1 + 10 + 1 + 63
"""Bytes kept for ``!user@host`` when our mask is not known yet (10-byte user, 63-byte host)."""


def text_budget(command: str, target: str, nick: str, mask: str | None = None) -> int:
    """Bytes of text that fit in one ``COMMAND target :text`` line that others receive.

    Args:
        command: ``PRIVMSG`` or ``NOTICE`` (any command).
        target: the channel or nick.
        nick: our nick.
        mask: our full ``nick!user@host`` as the server shows it, when known (001 or a JOIN
            echo); else the longest user and host are assumed.
    """
    source = mask if mask is not None else nick + "x" * MASK_RESERVE
    # ":" source " " command " " target " :" text CR LF
    used = 1 + len(source.encode()) + 1 + len(command) + 1 + len(target.encode()) + 2 + 2
    return MAX_LINE - used


def split_text(text: str, limit: int) -> list[str]:
    """Cut ``text`` into pieces of at most ``limit`` UTF-8 bytes, one per line to send.

    Each CR, LF or CR LF ends a piece (IRC cannot carry them inside a line); empty lines are
    dropped. A piece is cut at the last space that fits, when there is one in its second half;
    else as late as possible between two code points. The pieces joined back with the spaces
    and line breaks that were cut at give the text again.

    Raises:
        ValueError: ``limit`` is smaller than 4 bytes (one code point would not fit).
    """
    if limit < 4:
        msg = f"a line must hold at least 4 bytes of text, not {limit}"
        raise ValueError(msg)
    pieces: list[str] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        data = line.encode("utf-8", "surrogateescape")
        while len(data) > limit:
            cut = limit
            # Back off to the start of a code point: continuation bytes are 0b10xxxxxx.
            while cut > 0 and data[cut] & 0xC0 == 0x80:
                cut -= 1
            space = data.rfind(b" ", limit // 2, cut + 1)
            if space > 0:
                pieces.append(data[:space].decode("utf-8", "surrogateescape"))
                data = data[space + 1 :]
            else:
                pieces.append(data[:cut].decode("utf-8", "surrogateescape"))
                data = data[cut:]
        if data:
            pieces.append(data.decode("utf-8", "surrogateescape"))
    return pieces
