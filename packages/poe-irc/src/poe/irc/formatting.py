r"""mIRC colour and formatting codes in message text (sans I/O).

IRC clients mark text up with control characters: ``\x02`` bold, ``\x03NN,NN`` colours,
``\x1d`` italics, ``\x1f`` underline and others. Bots that parse what people type, and logs
that should read as plain text, strip them first.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["strip_color", "strip_formatting"]

_COLOR_RE: Final = re.compile(
    r"\x03(?:\d{1,2}(?:,\d{1,2})?)?|\x04(?:[0-9a-fA-F]{6}(?:,[0-9a-fA-F]{6})?)?"
)
_FORMATTING_RE: Final = re.compile(r"[\x02\x0f\x11\x16\x1d\x1e\x1f]")


def strip_color(text: str) -> str:
    r"""Remove mIRC colour codes.

    That is ``\x03`` with up to two digits (and ``,`` two more) and ``\x04`` hex colours.
    ``\x0f`` (reset) goes too when no other formatting code is left.
    """
    text = _COLOR_RE.sub("", text)
    if "\x0f" in text and not re.search(r"[\x02\x11\x16\x1d\x1e\x1f]", text):
        text = text.replace("\x0f", "")
    return text


def strip_formatting(text: str) -> str:
    r"""Remove formatting codes.

    Bold ``\x02``, italics ``\x1d``, underline ``\x1f``, strike ``\x1e``, monospace
    ``\x11``, reverse ``\x16`` and reset ``\x0f``.
    """
    return _FORMATTING_RE.sub("", text)
