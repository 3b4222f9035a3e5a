"""AutoJoin: joins channels on connect and keeps the bot in them (PoCo::IRC::Plugin::AutoJoin).

The port of POE::Component::IRC::Plugin::AutoJoin. The plugin keeps a list of channels (with
their keys) that follows what the bot does: it starts as the ``channels`` option, a channel
is added when the bot joins it and removed when the bot parts it, so after a reconnect the bot
is back where it actually was. Keys are learnt from ``join`` commands, from ``+k`` modes and
from the ``channels`` option.

Rules:

* On ``irc_001`` (every connection) it joins every channel of the list.
* Our own ``irc_join`` adds the channel (with the key used to join it, if any); our own
  ``irc_part``, and a ``part`` command, remove it.
* Kicked: with ``rejoin_on_kick`` it joins again after ``rejoin_delay`` seconds; without, the
  channel leaves the list.
* ``471`` (full), ``473`` (invite only), ``474`` (banned), ``475`` (bad key): with
  ``retry_on_ban`` it tries again every ``retry_delay`` seconds while the channel is on the
  list; without, it waits for the next connection.

Channel names are compared with the server's case mapping (``irc.isupport.fold``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from poe.errors import InvalidArgument

if TYPE_CHECKING:
    from poe.irc.component import IRC
    from poe.irc.plugin import Eat

__all__ = ["AutoJoin"]


class AutoJoin:
    """Join channels on every connection; follow joins, parts, kicks and keys.

    Args:
        channels: the channels to join, as names or as ``{name: key}`` (``None`` or ``""``
            for no key).
        rejoin_on_kick: join again a channel we were kicked from (PoCo's ``RejoinOnKick``,
            off by default as there; the :class:`~poe.irc.bot.Bot` facade turns it on).
        rejoin_delay: seconds to wait before that rejoin (PoCo's ``Rejoin_delay``).
        retry_on_ban: when a join is refused (``471``, ``473``, ``474``, ``475``), try again
            every ``retry_delay`` seconds (PoCo's ``Retry_when_banned``).
        retry_delay: seconds between two such tries.

    Events used: ``irc_001``, ``irc_join``, ``irc_part``, ``irc_kick``, ``irc_mode``,
    ``irc_disconnected``, ``irc_471``, ``irc_473``, ``irc_474``, ``irc_475``; commands:
    ``cmd_join`` (its keys), ``cmd_part``. Nothing is eaten.

    Raises:
        InvalidArgument: a malformed option.
    """

    def __init__(
        self,
        channels: Iterable[str] | Mapping[str, str | None] = (),
        *,
        rejoin_on_kick: bool = False,
        rejoin_delay: float = 5.0,
        retry_on_ban: bool = False,
        retry_delay: float = 60.0,
    ) -> None:
        given: object = channels
        if isinstance(given, str):
            msg = "AutoJoin: channels must be a list of names or a {name: key} dict, not a str"
            raise InvalidArgument(msg)
        items = given.items() if isinstance(given, Mapping) else ((c, None) for c in channels)
        self._initial: list[tuple[str, str | None]] = []
        for name, key in items:
            if (
                not isinstance(name, str)
                or not name
                or (key is not None and not isinstance(key, str))
            ):
                msg = f"AutoJoin: bad channel {name!r} (key {key!r})"
                raise InvalidArgument(msg)
            self._initial.append((name, key or None))
        self.rejoin_on_kick = bool(rejoin_on_kick)
        self.rejoin_delay = _seconds(rejoin_delay, "rejoin_delay")
        self.retry_on_ban = bool(retry_on_ban)
        self.retry_delay = _seconds(retry_delay, "retry_delay")
        #: folded name -> (name as last seen, key or None)
        self._channels: dict[str, tuple[str, str | None]] = {}
        #: folded name -> key given in a join command, until the join succeeds
        self._tried_keys: dict[str, str] = {}
        #: folded name -> pending rejoin/retry timer
        self._timers: dict[str, int] = {}
        self._irc: IRC | None = None

    @property
    def channels(self) -> dict[str, str | None]:
        """The channels joined on the next connection: ``{name: key or None}``."""
        return dict(self._channels.values())

    # -- plugin API -----------------------------------------------------------------------

    def plugin_register(self, irc: IRC) -> None:
        """Fold the configured channels with ``irc``'s case mapping; join them if logged in."""
        self._irc = irc
        for name, key in self._initial:
            self._channels[irc.isupport.fold(name)] = (name, key)
        if irc.logged_in:
            self._join_all(irc)

    def plugin_unregister(self, irc: IRC) -> None:
        """Cancel the pending rejoins."""
        self._cancel_all(irc)
        self._irc = None

    def irc_001(self, irc: IRC, *args: Any) -> Eat | None:
        """Welcomed: join every channel of the list."""
        self._cancel_all(irc)
        self._join_all(irc)
        return None

    def irc_disconnected(self, irc: IRC, *args: Any) -> Eat | None:
        """Pending rejoins wait for the next ``001``."""
        self._cancel_all(irc)
        return None

    def cmd_join(self, irc: IRC, *args: Any) -> Eat | None:
        """Remember the keys a session joins with (``join("#a,#b", "key_a,key_b")``)."""
        if len(args) < 2 or not isinstance(args[0], str) or not isinstance(args[1], str):
            return None
        for name, key in zip(args[0].split(","), args[1].split(","), strict=False):
            if name and key:
                self._tried_keys[irc.isupport.fold(name)] = key
        return None

    def cmd_part(self, irc: IRC, *args: Any) -> Eat | None:
        """A session parts on purpose: the channels leave the list at once."""
        if args and isinstance(args[0], str):
            for name in args[0].split(","):
                self._forget(irc, irc.isupport.fold(name))
        return None

    def irc_join(self, irc: IRC, who: Any = None, channel: Any = None, *args: Any) -> Eat | None:
        """We joined: the channel (with its key) goes on the list."""
        if isinstance(channel, str) and channel and _is_us(irc, who):
            folded = irc.isupport.fold(channel)
            old = self._channels.get(folded)
            key = self._tried_keys.pop(folded, None) or (old[1] if old else None)
            self._channels[folded] = (channel, key)
            self._cancel(irc, folded)
        return None

    def irc_part(self, irc: IRC, who: Any = None, channel: Any = None, *args: Any) -> Eat | None:
        """We parted: the channel leaves the list."""
        if isinstance(channel, str) and _is_us(irc, who):
            self._forget(irc, irc.isupport.fold(channel))
        return None

    def irc_kick(
        self, irc: IRC, who: Any = None, channel: Any = None, nick: Any = None, *args: Any
    ) -> Eat | None:
        """We were kicked: rejoin after ``rejoin_delay`` (or forget the channel)."""
        if not isinstance(channel, str) or not isinstance(nick, str):
            return None
        if irc.isupport.fold(nick) != irc.isupport.fold(irc.nick_name()):
            return None
        folded = irc.isupport.fold(channel)
        if not self.rejoin_on_kick:
            self._forget(irc, folded)
        elif folded in self._channels:
            self._schedule(irc, folded, self.rejoin_delay)
        else:  # joined before the plugin was added: follow it from now on
            self._channels[folded] = (channel, None)
            self._schedule(irc, folded, self.rejoin_delay)
        return None

    def irc_mode(self, irc: IRC, who: Any = None, target: Any = None, *args: Any) -> Eat | None:
        """Learn a channel's key from ``+k key`` (and forget it on ``-k``)."""
        if not isinstance(target, str) or not args or not isinstance(args[0], str):
            return None
        folded = irc.isupport.fold(target)
        if folded not in self._channels:
            return None
        params = [a for a in args[1:] if isinstance(a, str)]
        for change in irc.isupport.parse_modes(args[0], params):
            if change.mode == "k":
                name = self._channels[folded][0]
                self._channels[folded] = (name, change.arg if change.adding else None)
        return None

    def irc_471(self, irc: IRC, *args: Any) -> Eat | None:
        """Channel full."""
        return self._refused(irc, args)

    def irc_473(self, irc: IRC, *args: Any) -> Eat | None:
        """Invite only."""
        return self._refused(irc, args)

    def irc_474(self, irc: IRC, *args: Any) -> Eat | None:
        """Banned."""
        return self._refused(irc, args)

    def irc_475(self, irc: IRC, *args: Any) -> Eat | None:
        """Bad channel key."""
        return self._refused(irc, args)

    # -- helpers --------------------------------------------------------------------------

    def _refused(self, irc: IRC, args: tuple[Any, ...]) -> Eat | None:
        # irc_NNN: server, text, [parameters after our nick], message
        params = args[2] if len(args) > 2 and isinstance(args[2], list) else []
        if not self.retry_on_ban or not params or not isinstance(params[0], str):
            return None
        folded = irc.isupport.fold(params[0])
        self._tried_keys.pop(folded, None)
        if folded in self._channels:
            self._schedule(irc, folded, self.retry_delay)
        return None

    def _join_all(self, irc: IRC) -> None:
        for name, key in self._channels.values():
            _join(irc, name, key)

    def _schedule(self, irc: IRC, folded: str, seconds: float) -> None:
        self._cancel(irc, folded)
        self._timers[folded] = irc.delay(seconds, self._rejoin, folded)

    def _rejoin(self, folded: str) -> None:
        self._timers.pop(folded, None)
        irc = self._irc
        entry = self._channels.get(folded)
        if irc is not None and entry is not None and irc.logged_in:
            _join(irc, *entry)

    def _forget(self, irc: IRC, folded: str) -> None:
        self._channels.pop(folded, None)
        self._tried_keys.pop(folded, None)
        self._cancel(irc, folded)

    def _cancel(self, irc: IRC, folded: str) -> None:
        timer = self._timers.pop(folded, None)
        if timer is not None:
            irc.delay_remove(timer)

    def _cancel_all(self, irc: IRC) -> None:
        for folded in list(self._timers):
            self._cancel(irc, folded)


def _join(irc: IRC, name: str, key: str | None) -> None:
    if key:
        irc.yield_("join", name, key)
    else:
        irc.yield_("join", name)


def _is_us(irc: IRC, who: object) -> bool:
    if not isinstance(who, str) or not who:
        return False
    nick = who.split("!", 1)[0]
    return bool(irc.isupport.fold(nick) == irc.isupport.fold(irc.nick_name()))


def _seconds(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        msg = f"AutoJoin: {name} must be a number of seconds >= 0, not {value!r}"
        raise InvalidArgument(msg)
    return float(value)
