"""NickReclaim: registers under another nick when ours is taken, then wins it back.

The port of POE::Component::IRC::Plugin::NickReclaim.

Rules:

* The wanted nick is the component's ``nick`` option (as last given to ``connect``), or the
  last nick a session asked for with the ``nick`` command, whichever came last.
* During registration, ``433`` (in use) or ``437`` (unavailable) for the nick we tried makes
  the plugin try ``nick_``, ``nick__``, ``nick___``, then ``nick`` cut short with random
  digits; ``432`` (erroneous nick) makes it try the nick stripped of the characters RFC 2812
  refuses, then ``Guest`` with random digits. Registration completes under one of them.
* Once registered under another nick, it asks for the wanted nick again as soon as its holder
  quits or changes nick (``irc_quit``, ``irc_nick``: only seen when we share a channel), and
  every ``poll`` seconds in any case, until it has it.
* The ``433`` and ``437`` answers to its own attempts after registration are eaten
  (:attr:`~poe.irc.plugin.Eat.ALL`): sessions see neither them nor a retry every ``poll``.
  When a session's own ``nick`` command is refused, sessions see the refusal, and the
  polling goes after that nick.
"""

from __future__ import annotations

import random
import re
from typing import TYPE_CHECKING, Any

from poe.errors import InvalidArgument
from poe.irc.plugin import Eat

if TYPE_CHECKING:
    from poe.irc.component import IRC

__all__ = ["NickReclaim"]

_UNDERSCORES = 3
# RFC 2812 2.3.1: nickname = ( letter / special ) *8( letter / digit / special / "-" )
_FIRST = re.compile(r"[A-Za-z\[\]\\`_^{|}]")
_REST = re.compile(r"[^A-Za-z0-9\[\]\\`_^{|}\-]")
_SHORT = 9  # the shortest NICKLEN a server may have (RFC 2812)
_OWN_MAX = 8


class NickReclaim:
    """Complete registration under a free nick, then take the wanted nick back.

    Args:
        poll: seconds between two attempts to take the wanted nick back (PoCo's ``poll``).
        rng: the random source for the fallback nicks' digits (tests pass a seeded one).

    Events used: ``irc_connected``, ``irc_001``, ``irc_432``, ``irc_433``, ``irc_437``,
    ``irc_nick``, ``irc_quit``, ``irc_disconnected``; command: ``cmd_nick``. Only the ``433``
    and ``437`` answers to its own attempts after registration are eaten.

    Raises:
        InvalidArgument: ``poll`` is not a positive number.
    """

    def __init__(self, poll: float = 30.0, *, rng: random.Random | None = None) -> None:
        given: object = poll  # checked at run time: callers may not be type-checked
        if isinstance(given, bool) or not isinstance(given, (int, float)) or not given > 0:
            msg = f"NickReclaim: poll must be a positive number of seconds, not {poll!r}"
            raise InvalidArgument(msg)
        self.poll = float(poll)
        self._rng = rng if rng is not None else random.Random()
        self._irc: IRC | None = None
        self._option_nick: str | None = None
        self._wanted: str | None = None
        self._tries = 0  # fallback nicks tried during this registration
        self._own: list[str] = []  # nick commands we posted that cmd_nick has not seen yet
        self._pending: str | None = None  # our attempt after registration, awaiting an answer
        self._timer: int | None = None

    @property
    def wanted(self) -> str | None:
        """The nick the plugin gets back (None before it is added to a component)."""
        return self._wanted

    # -- plugin API -----------------------------------------------------------------------

    def plugin_register(self, irc: IRC) -> None:
        """Take the component's ``nick`` option as the wanted nick."""
        self._irc = irc
        self._option_nick = str(irc.options.get("nick") or irc.nick_name())
        self._wanted = self._option_nick
        if irc.logged_in:
            self._check(irc)

    def plugin_unregister(self, irc: IRC) -> None:
        """Stop polling."""
        self._stop(irc)
        self._irc = None

    def irc_connected(self, irc: IRC, *args: Any) -> Eat | None:
        """A new registration starts (with a new wanted nick if ``connect`` gave one)."""
        self._tries = 0
        self._pending = None
        option_nick = irc.options.get("nick")
        if isinstance(option_nick, str) and option_nick != self._option_nick:
            self._option_nick = self._wanted = option_nick
        return None

    def irc_disconnected(self, irc: IRC, *args: Any) -> Eat | None:
        """No polling while offline."""
        self._stop(irc)
        return None

    def irc_001(self, irc: IRC, *args: Any) -> Eat | None:
        """Registered: if not under the wanted nick, try it now and every ``poll`` seconds."""
        self._check(irc)
        return None

    def cmd_nick(self, irc: IRC, *args: Any) -> Eat | None:
        """A session changes nick on purpose: that nick is the wanted one from now on."""
        nick = args[0] if args else None
        if not isinstance(nick, str) or not nick:
            return None
        if nick in self._own:
            self._own.remove(nick)
            return None
        self._wanted = nick
        self._pending = None
        if irc.logged_in:
            self._stop(irc)
        return None

    def irc_433(self, irc: IRC, *args: Any) -> Eat | None:
        """Nick in use: another nick during registration; afterwards, keep polling."""
        return self._refused(irc, args, erroneous=False)

    def irc_437(self, irc: IRC, *args: Any) -> Eat | None:
        """Nick temporarily unavailable: as ``433``."""
        return self._refused(irc, args, erroneous=False)

    def irc_432(self, irc: IRC, *args: Any) -> Eat | None:
        """Erroneous nick: during registration, a cleaned-up nick or ``GuestNNNNN``."""
        return self._refused(irc, args, erroneous=True)

    def irc_nick(self, irc: IRC, who: Any = None, new: Any = None, *args: Any) -> Eat | None:
        """The holder changed nick: reclaim now. We changed nick: stop once we have it."""
        if not isinstance(who, str) or not isinstance(new, str):
            return None
        fold = irc.isupport.fold
        old = who.split("!", 1)[0]
        if fold(new) == fold(irc.nick_name()):  # the component has already tracked it
            self._pending = None
            if self._has_wanted(irc):
                self._stop(irc)
        elif self._wanted is not None and fold(old) == fold(self._wanted):
            self._reclaim(irc)
        return None

    def irc_quit(self, irc: IRC, who: Any = None, *args: Any) -> Eat | None:
        """The holder quit: reclaim now."""
        if isinstance(who, str) and self._wanted is not None:
            fold = irc.isupport.fold
            if fold(who.split("!", 1)[0]) == fold(self._wanted):
                self._reclaim(irc)
        return None

    # -- helpers --------------------------------------------------------------------------

    def _refused(self, irc: IRC, args: tuple[Any, ...], *, erroneous: bool) -> Eat | None:
        # irc_NNN: server, text, [parameters after our nick], message; the first is the nick.
        params = args[2] if len(args) > 2 and isinstance(args[2], list) else []
        tried = params[0] if params and isinstance(params[0], str) else None
        if tried is None:
            return None
        fold = irc.isupport.fold
        if not irc.logged_in:
            self._tries += 1
            self._send(irc, self._fallback(tried, erroneous=erroneous))
            return None
        if self._pending is None or fold(tried) != fold(self._pending):
            # A session's own nick change failed: the answer is the session's business, but
            # that nick is the wanted one now, so the polling takes over.
            wanted = self._wanted
            if not erroneous and wanted is not None and fold(tried) == fold(wanted):
                self._stop(irc)
                self._timer = irc.delay(self.poll, self._poll)
            return None
        self._pending = None
        if erroneous:  # the wanted nick can never be had here: stop asking
            self._stop(irc)
            return None
        return Eat.ALL

    def _fallback(self, tried: str, *, erroneous: bool) -> str:
        wanted = self._wanted or tried
        if erroneous:
            cleaned = _clean(tried)
            if cleaned is not None and cleaned != tried:
                return cleaned
            return f"Guest{self._rng.randrange(10000, 100000)}"
        if self._tries <= _UNDERSCORES:
            return wanted + "_" * self._tries
        digits = str(self._rng.randrange(1000, 10000))
        return wanted[: _SHORT - len(digits)] + digits

    def _has_wanted(self, irc: IRC) -> bool:
        fold = irc.isupport.fold
        return self._wanted is None or fold(irc.nick_name()) == fold(self._wanted)

    def _check(self, irc: IRC) -> None:
        self._stop(irc)
        if not self._has_wanted(irc):
            self._reclaim(irc)

    def _reclaim(self, irc: IRC) -> None:
        if self._irc is None or not irc.logged_in or self._has_wanted(irc):
            return
        assert self._wanted is not None  # for mypy: _has_wanted says so
        self._pending = self._wanted
        self._send(irc, self._wanted)
        self._stop(irc)
        self._timer = irc.delay(self.poll, self._poll)

    def _poll(self) -> None:
        self._timer = None
        irc = self._irc
        if irc is not None:
            self._reclaim(irc)

    def _send(self, irc: IRC, nick: str) -> None:
        # Our own nick commands pass through cmd_nick too; they must not change the wanted
        # nick. Bounded, in case a plugin before us eats some of them.
        self._own = [*self._own[-_OWN_MAX:], nick]
        irc.yield_("nick", nick)

    def _stop(self, irc: IRC) -> None:
        if self._timer is not None:
            irc.delay_remove(self._timer)
            self._timer = None


def _clean(nick: str) -> str | None:
    """``nick`` without the characters RFC 2812 refuses, at most 9 long, or None."""
    rest = _REST.sub("", nick)
    while rest and not _FIRST.fullmatch(rest[0]):
        rest = rest[1:]
    return rest[:_SHORT] or None
