r"""ISUPPORT (numeric 005): what a server tells its clients about itself, sans I/O.

:class:`ISupport` collects the tokens of every 005 message of a connection and answers the
questions a client asks of them: which prefixes and channel modes exist, how names fold to
lower case, what is a channel, how a ``MODE`` line splits into changes.

The ``irc`` library's ``irc.features.FeatureSet`` parses the structured tokens (``PREFIX``,
``CHANMODES``, ``TARGMAX``, ``CHANLIMIT``, ``MAXLIST``). This module fills its gaps:

* tokens without a value (``EXCEPTS``, ``WHOX``) are kept, as ``True``, where ``FeatureSet``
  drops them, and ``\xHH`` escapes in values (``NETWORK=Example\x20Net``) are decoded;
* a malformed value falls back to the RFC 1459 default instead of raising;
* ``-TOKEN`` restores the default of a token (``FeatureSet`` deletes the attribute, losing
  even the RFC 1459 ``PREFIX``);
* only those five tokens reach ``FeatureSet``, which stores each token as an attribute of
  itself: a token named ``LOAD`` or ``SET`` would replace its methods;
* :meth:`ISupport.parse_modes` reads ``CHANMODES`` and ``PREFIX``: ``irc.modes`` has a fixed
  set of argument modes (``bklvohq``), so it misreads ``+e mask`` or ``+f #fwd`` on Solanum.

Reference: https://modern.ircdocs.horse/#rplisupport-parameters (defaults from RFC 1459/2812).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Final, Literal, TypeVar, overload

from irc.features import FeatureSet

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

__all__ = ["CASEMAPPINGS", "ISupport", "ModeChange"]

_T = TypeVar("_T")

_UPPER: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LOWER: Final = "abcdefghijklmnopqrstuvwxyz"

# RFC 1459 §2.2: "{}|^ are considered to be the lower case equivalents of []\~". Later servers
# (strict-rfc1459) dropped ~/^ as a pair; ascii folds letters only. Non-ASCII is never folded:
# a server with a UTF-8 casemapping (rfc7613) folds more, which at worst makes two names that
# the server thinks equal look different here.
_FOLD_TABLES: Final[Mapping[str, dict[int, int]]] = MappingProxyType(
    {
        "ascii": str.maketrans(_UPPER, _LOWER),
        "rfc1459": str.maketrans(_UPPER + "[]\\~", _LOWER + "{}|^"),
        "strict-rfc1459": str.maketrans(_UPPER + "[]\\", _LOWER + "{}|"),
    }
)

CASEMAPPINGS: Final = frozenset(_FOLD_TABLES)
"""The ``CASEMAPPING`` values :meth:`ISupport.fold` knows; others fold as ``rfc1459``."""

_DEFAULT_PREFIX: Final = MappingProxyType({"o": "@", "v": "+"})
_DEFAULT_CHANMODES: Final = ("beI", "k", "l", "imnpst")
_DEFAULT_CHANTYPES: Final = "#&"
_DEFAULT_CASEMAPPING: Final = "rfc1459"

_ESCAPES = re.compile(r"(?:\\x[0-9A-Fa-f]{2})+")


@dataclass(frozen=True, slots=True)
class ModeChange:
    """One mode change of a ``MODE`` line: ``+o nick`` is ``ModeChange(True, "o", "nick")``.

    Attributes:
        adding: True for ``+``, False for ``-``.
        mode: the mode letter.
        arg: the mode's argument, or None if it takes none or the line ran out of them.
    """

    adding: bool
    mode: str
    arg: str | None = None


class ISupport:
    """The ISUPPORT tokens of one connection, with RFC 1459 defaults for those not (yet) sent.

    Feed it every 005 message with :meth:`load`; start again with :meth:`clear` when the
    connection ends. Token names are upper case; a value is the raw string (escapes
    decoded), or True for a token sent without one. Nothing here raises on a server's
    malformed tokens: a value that cannot be read leaves the default in place.
    """

    def __init__(self) -> None:
        self._tokens: dict[str, str | Literal[True]] = {}
        # Parsed once per 005 rather than on each use: fold() and parse_modes() run for
        # nearly every message a client receives.
        self._prefix: Mapping[str, str] = _DEFAULT_PREFIX
        self._chanmodes: tuple[str, str, str, str] = _DEFAULT_CHANMODES
        self._casemapping = _DEFAULT_CASEMAPPING
        self._fold_table = _FOLD_TABLES[_DEFAULT_CASEMAPPING]

    # -- loading ------------------------------------------------------------------------------

    def clear(self) -> None:
        """Forget every token: back to the defaults, as before the first 005."""
        self._tokens.clear()
        self._prefix = _DEFAULT_PREFIX
        self._chanmodes = _DEFAULT_CHANMODES
        self._casemapping = _DEFAULT_CASEMAPPING
        self._fold_table = _FOLD_TABLES[_DEFAULT_CASEMAPPING]

    def load(self, params: Sequence[str]) -> None:
        """Add the tokens of one 005 message; later tokens replace earlier ones of that name.

        Args:
            params: the message's parameters: our nick, the tokens, then a text ("are
                supported by this server"). A last parameter without a space is taken as a
                token, for servers that leave the text out. ``-NAME`` removes ``NAME``
                (its default comes back); ``NAME=`` is the same as ``NAME``.
        """
        tokens = list(params[1:])
        if tokens and " " in tokens[-1]:
            tokens.pop()  # the human-readable text (token values cannot hold a space)
        for token in tokens:
            self._load_token(token)

    def _load_token(self, token: str) -> None:
        if token.startswith("-"):
            name = token[1:].upper()
            if not name:
                return
            self._tokens.pop(name, None)
        else:
            name, _, value = token.partition("=")
            name = name.upper()
            if not name:
                return
            self._tokens[name] = _unescape(value) if value else True
        if name == "PREFIX":
            self._prefix = self._parse_prefix()
        elif name == "CHANMODES":
            self._chanmodes = self._parse_chanmodes()
        elif name == "CASEMAPPING":
            raw = self._tokens.get(name)
            mapping = raw.lower() if isinstance(raw, str) else _DEFAULT_CASEMAPPING
            self._casemapping = mapping if mapping in _FOLD_TABLES else _DEFAULT_CASEMAPPING
            self._fold_table = _FOLD_TABLES[self._casemapping]

    def _parse_prefix(self) -> Mapping[str, str]:
        if self._tokens.get("PREFIX") is True:
            return MappingProxyType({})  # "PREFIX" or "PREFIX=": no prefixes at all
        parsed = self._featureset("PREFIX")
        if not isinstance(parsed, dict) or not parsed:
            return _DEFAULT_PREFIX
        # FeatureSet maps symbol -> mode ({"@": "o"}); clients look up by mode far more often.
        return MappingProxyType({str(mode): str(symbol) for symbol, mode in parsed.items()})

    def _parse_chanmodes(self) -> tuple[str, str, str, str]:
        parsed = self._featureset("CHANMODES")
        if not isinstance(parsed, list):
            return _DEFAULT_CHANMODES
        # Servers may add types after D; their modes' arguments are unknown, so they are left
        # out and parse as unknown modes (no argument).
        a, b, c, d, *_ = [*(str(group) for group in parsed), "", "", "", ""]
        return (a, b, c, d)

    def _featureset(self, name: str) -> object:
        """Parse token ``name`` with the ``irc`` library: its value, or None if malformed."""
        value = self._tokens.get(name)
        if not isinstance(value, str):
            return None
        features = FeatureSet()  # a fresh one: it is stateful and its parsers are static
        try:
            features.load_feature(f"{name}={value}")
        except (ValueError, IndexError):  # its parsers assume a well-formed value
            return None
        parsed: object = getattr(features, name.lower(), None)
        return parsed

    # -- raw access ---------------------------------------------------------------------------

    @overload
    def get(self, name: str) -> str | Literal[True] | None: ...
    @overload
    def get(self, name: str, default: _T) -> str | Literal[True] | _T: ...
    def get(self, name: str, default: object = None) -> object:
        """The raw value of token ``name`` (any case).

        Returns:
            The value as the server sent it (escapes decoded), True for a token sent without
            a value, or ``default`` if the server did not send the token.
        """
        return self._tokens.get(name.upper(), default)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.upper() in self._tokens

    def _int(self, name: str, default: int | None) -> int | None:
        value = self._tokens.get(name)
        if isinstance(value, str) and value.isascii() and value.isdigit():
            try:
                return int(value)
            except ValueError:  # more digits than int() converts (sys.set_int_max_str_digits)
                return default
        return default

    def _limits(self, name: str) -> Mapping[str, int | None]:
        parsed = self._featureset(name)
        if not isinstance(parsed, dict):
            return MappingProxyType({})
        return MappingProxyType(
            {str(k): v if isinstance(v, int) else None for k, v in parsed.items()}
        )

    # -- typed tokens -------------------------------------------------------------------------

    @property
    def prefix(self) -> Mapping[str, str]:
        """Prefix modes, highest rank first: mode letter -> nick prefix (``{"o": "@", ...}``).

        Default ``(ov)@+``; empty if the server sent ``PREFIX`` without a value.
        """
        return self._prefix

    @property
    def chanmodes(self) -> tuple[str, str, str, str]:
        """Channel modes by type, ``(A, B, C, D)``; prefix modes are not among them.

        A: lists (``b``); B: always an argument (``k``); C: an argument when set (``l``);
        D: never an argument (``m``). Default ``("beI", "k", "l", "imnpst")`` (RFC 2812).
        """
        return self._chanmodes

    @property
    def chantypes(self) -> str:
        """The characters a channel name can start with (default ``#&``)."""
        value = self._tokens.get("CHANTYPES", _DEFAULT_CHANTYPES)
        return "" if value is True else value

    @property
    def statusmsg(self) -> str:
        """Prefixes that address a channel's members of a rank (``@#chan``), or ``""``."""
        value = self._tokens.get("STATUSMSG", "")
        return "" if value is True else value

    @property
    def casemapping(self) -> str:
        """How :meth:`fold` folds: ``rfc1459`` (default), ``strict-rfc1459`` or ``ascii``.

        A ``CASEMAPPING`` not in :data:`CASEMAPPINGS` (``rfc7613``) gives ``rfc1459``.
        """
        return self._casemapping

    @property
    def network(self) -> str | None:
        """The network's name (``NETWORK``), or None."""
        value = self._tokens.get("NETWORK")
        return value if isinstance(value, str) else None

    @property
    def nicklen(self) -> int:
        """Longest nick the server accepts (default 9, RFC 1459)."""
        return self._int("NICKLEN", 9) or 9

    @property
    def channellen(self) -> int:
        """Longest channel name the server accepts (default 200, RFC 1459)."""
        return self._int("CHANNELLEN", 200) or 200

    @property
    def topiclen(self) -> int | None:
        """Longest topic the server accepts, or None for no limit (the default)."""
        return self._int("TOPICLEN", None)

    @property
    def modes(self) -> int | None:
        """Most modes with an argument in one ``MODE`` command (default 3, RFC 1459).

        None if the server sent ``MODES`` without a value: no limit.
        """
        if self._tokens.get("MODES") is True:
            return None
        return self._int("MODES", 3)

    @property
    def targmax(self) -> Mapping[str, int | None]:
        """Most targets per command (``TARGMAX``): command -> limit, None for no limit."""
        return self._limits("TARGMAX")

    @property
    def chanlimit(self) -> Mapping[str, int | None]:
        """Most channels we may join (``CHANLIMIT``), per channel type character."""
        return self._limits("CHANLIMIT")

    @property
    def maxlist(self) -> Mapping[str, int | None]:
        """Longest list (``MAXLIST``), per type A mode letter."""
        return self._limits("MAXLIST")

    # -- names --------------------------------------------------------------------------------

    def fold(self, name: str) -> str:
        """Fold ``name`` (a nick or channel) to lower case by ``CASEMAPPING``.

        Two names are the same on this server if and only if their folds are equal. Only
        ASCII is folded (see :data:`CASEMAPPINGS`).
        """
        return name.translate(self._fold_table)

    def split_statusmsg(self, target: str) -> tuple[str, str]:
        """Split ``@#chan`` into ``("@", "#chan")``: the ``STATUSMSG`` prefixes and the rest.

        The prefixes are split off only when a channel name follows them; otherwise the
        result is ``("", target)``. A character that is both a prefix and a channel type
        (``&`` on some servers) starts the channel name.
        """
        chantypes = self.chantypes
        statusmsg = self.statusmsg
        for i, char in enumerate(target):
            if char in chantypes:
                return target[:i], target[i:]
            if char not in statusmsg:
                break
        return "", target

    def is_channel(self, target: str) -> bool:
        """True if ``target`` is a channel name (``CHANTYPES``), ``STATUSMSG`` prefixes allowed."""
        _, channel = self.split_statusmsg(target)
        return bool(channel) and channel[0] in self.chantypes

    def split_prefix(self, name: str) -> tuple[str, str]:
        """Split a ``NAMES`` entry like ``@+nick`` into ``("ov", "nick")``.

        Only leading ``PREFIX`` symbols are split off; the modes come in ``PREFIX`` order,
        whatever order the symbols had.
        """
        by_symbol = {symbol: mode for mode, symbol in self._prefix.items()}
        i = 0
        while i < len(name) and name[i] in by_symbol:
            i += 1
        return self.sort_modes(by_symbol[symbol] for symbol in name[:i]), name[i:]

    def sort_modes(self, modes: Iterable[str]) -> str:
        """The prefix modes among ``modes``, once each, highest rank first (``"vo"`` -> ``"ov"``)."""
        wanted = set(modes)
        return "".join(mode for mode in self._prefix if mode in wanted)

    # -- modes --------------------------------------------------------------------------------

    def parse_modes(
        self, modes: str, args: Sequence[str], *, channel: bool = True
    ) -> list[ModeChange]:
        """Split a mode string and its arguments into changes, by ``CHANMODES`` and ``PREFIX``.

        Args:
            modes: the mode string, ``+o-v+l`` (letters before any sign count as ``+``).
            args: the arguments after it, taken in order by the modes that have one: prefix
                and type A/B modes always, type C modes when set, others never.
            channel: False for user modes, none of which takes an argument.

        Returns:
            One :class:`ModeChange` per mode letter, in order. Never raises: a mode that
            should have an argument when none is left gets None, extra arguments are
            ignored, unknown letters take no argument.
        """
        always = needs_when_set = ""
        if channel:
            lists, always_b, when_set, _ = self._chanmodes
            always = "".join(self._prefix) + lists + always_b
            needs_when_set = when_set
        changes: list[ModeChange] = []
        pending = iter(args)
        adding = True
        for char in modes:
            if char == "+" or char == "-":
                adding = char == "+"
                continue
            arg = None
            if char in always or (adding and char in needs_when_set):
                arg = next(pending, None)
            changes.append(ModeChange(adding, char, arg))
        return changes


def _unescape(value: str) -> str:
    r"""Decode the ``\xHH`` escapes of an ISUPPORT value (``\x20`` is a space).

    Each escape is one byte: a run of them is decoded as UTF-8, so an escaped ``é``
    (``\xC3\xA9``) comes back whole; bytes that are not UTF-8 become U+FFFD.
    """
    if "\\" not in value:
        return value
    return _ESCAPES.sub(
        lambda run: bytes.fromhex(run.group().replace("\\x", "")).decode("utf-8", "replace"),
        value,
    )
