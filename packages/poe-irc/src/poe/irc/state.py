"""What a connected IRC client knows of its channels and their users, sans I/O.

:class:`IRCState` is the core of POE::Component::IRC::State: it reads every message the
server sends and keeps the channels we are on, their members with their prefix modes
(``@``, ``%``, ``+``), the channels' modes and topics, what is known of each user (user,
host, real name, account, away), and our own user modes. It sends nothing, reads no clock
and never raises on what a server sends: a message it cannot use is ignored.

Rules:

* Feed it **every** message received, in order (:meth:`IRCState.update`), and call
  :meth:`IRCState.reset` when the connection ends. A message missed leaves the state wrong
  until the next ``NAMES``/``WHO``/``MODE`` reply corrects it.
* Names are compared after :meth:`ISupport.fold <poe.irc.isupport.ISupport.fold>`: the
  dictionaries are keyed by folded names and the records keep the case the server used,
  which is what the queries return. A new ``CASEMAPPING`` re-keys everything.
* Invariants: every member of a channel has a :class:`User`; every :class:`User` is either
  ourselves or a member of at least one of our channels (a user we no longer share a
  channel with is forgotten at once, as POE::Component::IRC::State does).
* Only channels we are on are tracked: a ``JOIN`` of ours creates one, our ``PART`` or
  ``KICK`` drops it with every user seen only there.
* List modes (type A: bans, exceptions, invites) are not tracked; prefix modes are kept per
  member, other channel modes in :meth:`IRCState.channel_modes`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from poe.irc.isupport import ISupport

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from poe.irc.isupport import ModeChange
    from poe.irc.message import Message

__all__ = ["IRCState", "Topic", "User"]


@dataclass(frozen=True, slots=True)
class User:
    """What is known of one user; None where it is not known.

    Attributes:
        nick: the nick, in the case the server last used for it.
        user: the user (ident) name, from a message's ``nick!user@host`` source, ``WHO``,
            ``WHOIS``, userhost-in-names or ``CHGHOST``.
        host: the host name, from the same places.
        realname: from ``WHO``, ``WHOIS``, extended-join or ``SETNAME``.
        account: the services account, from extended-join or ``ACCOUNT`` (account-notify);
            None when logged out or not known.
        away: True if the user is marked away (``301``, ``AWAY`` with away-notify, the
            ``G`` flag of ``WHO``; ``305``/``306`` for ourselves).
        away_message: the away message, when the server told it.
    """

    nick: str
    user: str | None = None
    host: str | None = None
    realname: str | None = None
    account: str | None = None
    away: bool = False
    away_message: str | None = None


@dataclass(frozen=True, slots=True)
class Topic:
    """A channel's topic.

    Attributes:
        text: the topic (never empty: an empty topic is no topic).
        set_by: who set it, as the server said (a nick or ``nick!user@host``), if known.
        set_at: when, in seconds since the epoch (``333``, or the ``server-time`` tag of a
            ``TOPIC``), if known.
    """

    text: str
    set_by: str | None = None
    set_at: int | None = None


@dataclass(slots=True)
class _Channel:
    """One channel we are on. Keys of ``members`` and ``names`` are folded nicks."""

    name: str  # as the server spelled it in our JOIN
    members: dict[str, str] = field(default_factory=dict)  # -> prefix modes, highest first
    modes: dict[str, str | None] = field(default_factory=dict)  # type B/C/D -> argument
    topic: Topic | None = None
    created: int | None = None
    # Nicks listed by the NAMES reply being received (353 ... 366), None between replies:
    # at 366 the members it did not list are removed.
    names: set[str] | None = None


class IRCState:
    """Channels, users and modes as seen by one client; see the module docstring for rules.

    Args:
        isupport: the :class:`~poe.irc.isupport.ISupport` to use (it is fed every 005
            message); a new one by default. It may be shared with the component, which
            feeds it the same tokens.

    Attributes:
        isupport: the server's ISUPPORT tokens, used for folding names and reading modes.
    """

    def __init__(self, isupport: ISupport | None = None) -> None:
        self.isupport = isupport if isupport is not None else ISupport()
        self._nick: str | None = None
        self._users: dict[str, User] = {}  # folded nick -> User
        self._channels: dict[str, _Channel] = {}  # folded channel -> _Channel
        self._umodes: set[str] = set()
        self._casemapping = self.isupport.casemapping  # the one the keys are folded with
        self._handlers: dict[str, Callable[[Message], None]] = {
            "001": self._on_welcome,
            "005": self._on_isupport,
            "221": self._on_umodeis,
            "301": self._on_away_reply,
            "305": self._on_unaway,
            "306": self._on_nowaway,
            "311": self._on_whoisuser,
            "324": self._on_channelmodeis,
            "329": self._on_creationtime,
            "331": self._on_notopic,
            "332": self._on_topic_reply,
            "333": self._on_topicwhotime,
            "352": self._on_whoreply,
            "353": self._on_namreply,
            "366": self._on_endofnames,
            "ACCOUNT": self._on_account,
            "AWAY": self._on_away,
            "CHGHOST": self._on_chghost,
            "JOIN": self._on_join,
            "KICK": self._on_kick,
            "MODE": self._on_mode,
            "NICK": self._on_nick,
            "PART": self._on_part,
            "QUIT": self._on_quit,
            "SETNAME": self._on_setname,
            "TOPIC": self._on_topic,
        }

    # -- feeding ------------------------------------------------------------------------------

    @property
    def nick(self) -> str | None:
        """Our nick: set by ``001`` and our ``NICK`` changes, or by the owner before then."""
        return self._nick

    @nick.setter
    def nick(self, nick: str) -> None:
        if self._nick is not None and self._fold(self._nick) in self._users:
            self._rename(self._nick, nick)
        else:
            self._users[self._fold(nick)] = User(nick)
        self._nick = nick

    def update(self, msg: Message) -> None:
        """Take in one message received from the server. Never raises."""
        if self.isupport.casemapping != self._casemapping:
            self._refold()  # a shared ISupport was fed a new CASEMAPPING elsewhere
        self._learn_source(msg)
        handler = self._handlers.get(msg.command)
        if handler is not None:
            handler(msg)

    def reset(self) -> None:
        """Forget everything, our nick and the ISUPPORT tokens included (on disconnect)."""
        self.isupport.clear()
        self._casemapping = self.isupport.casemapping
        self._nick = None
        self._users.clear()
        self._channels.clear()
        self._umodes.clear()

    # -- queries ------------------------------------------------------------------------------

    def channels(self) -> list[str]:
        """The channels we are on."""
        return [channel.name for channel in self._channels.values()]

    def channel_list(self, channel: str) -> list[str]:
        """The nicks on ``channel`` (ourselves included); empty if we are not on it."""
        record = self._channel(channel)
        if record is None:
            return []
        return [self._users[key].nick for key in record.members]

    def is_channel_member(self, channel: str, nick: str) -> bool:
        """True if ``nick`` is on ``channel`` (one of ours)."""
        record = self._channel(channel)
        return record is not None and self._fold(nick) in record.members

    def nick_channel_modes(self, channel: str, nick: str) -> str:
        """The prefix modes of ``nick`` on ``channel``, highest first (``"ov"``), or ``""``."""
        record = self._channel(channel)
        if record is None:
            return ""
        return record.members.get(self._fold(nick), "")

    def is_channel_operator(self, channel: str, nick: str) -> bool:
        """True if ``nick`` has ``+o`` on ``channel`` (higher ranks such as ``+q`` do not count)."""
        return "o" in self.nick_channel_modes(channel, nick)

    def is_channel_halfop(self, channel: str, nick: str) -> bool:
        """True if ``nick`` has ``+h`` on ``channel``."""
        return "h" in self.nick_channel_modes(channel, nick)

    def has_channel_voice(self, channel: str, nick: str) -> bool:
        """True if ``nick`` has ``+v`` on ``channel``."""
        return "v" in self.nick_channel_modes(channel, nick)

    def channel_modes(self, channel: str) -> dict[str, str | None]:
        """The modes of ``channel`` (a copy): letter -> argument (``{"k": "key", "n": None}``).

        Prefix and list modes are not included; empty if we are not on ``channel``.
        """
        record = self._channel(channel)
        return {} if record is None else dict(record.modes)

    def channel_topic(self, channel: str) -> Topic | None:
        """The topic of ``channel``, or None if it has none or we are not on it."""
        record = self._channel(channel)
        return None if record is None else record.topic

    def channel_creation_time(self, channel: str) -> int | None:
        """When ``channel`` was created (``329``), in seconds since the epoch, if known."""
        record = self._channel(channel)
        return None if record is None else record.created

    def nicks(self) -> list[str]:
        """Every user known: ourselves and those on our channels."""
        return [user.nick for user in self._users.values()]

    def nick_info(self, nick: str) -> User | None:
        """What is known of ``nick``, or None if it is not on any of our channels."""
        return self._users.get(self._fold(nick))

    def nick_long_form(self, nick: str) -> str | None:
        """``nick!user@host`` for a known user whose user and host are known, else None."""
        user = self.nick_info(nick)
        if user is None or user.user is None or user.host is None:
            return None
        return f"{user.nick}!{user.user}@{user.host}"

    def nick_channels(self, nick: str) -> list[str]:
        """The channels of ours that ``nick`` is on."""
        key = self._fold(nick)
        return [channel.name for channel in self._channels.values() if key in channel.members]

    def is_away(self, nick: str) -> bool:
        """True if ``nick`` is known and marked away."""
        user = self.nick_info(nick)
        return user is not None and user.away

    def user_modes(self) -> str:
        """Our user modes, sorted (``"iw"``)."""
        return "".join(sorted(self._umodes))

    # -- helpers ------------------------------------------------------------------------------

    def _fold(self, name: str) -> str:
        return self.isupport.fold(name)

    def _channel(self, name: str) -> _Channel | None:
        return self._channels.get(self._fold(name))

    def _is_me(self, nick: str) -> bool:
        return self._nick is not None and self._fold(nick) == self._fold(self._nick)

    def _update_user(self, nick: str, **changes: Any) -> None:
        """Change fields of user ``nick`` if it is known (ignore it otherwise)."""
        key = self._fold(nick)
        user = self._users.get(key)
        if user is not None:
            self._users[key] = replace(user, **changes)

    def _learn_source(self, msg: Message) -> None:
        # Any message from a known user tells its current user@host (after a CHGHOST missed,
        # or for users first seen in a NAMES reply without userhost-in-names).
        if msg.source is None or "!" not in msg.source:
            return
        nick, user, host = _split_mask(msg.source)
        known = self._users.get(self._fold(nick))
        if known is not None and user and host and (known.user, known.host) != (user, host):
            self._update_user(nick, user=user, host=host)

    def _rename(self, old: str, new: str) -> None:
        old_key, new_key = self._fold(old), self._fold(new)
        user = self._users.pop(old_key, None)
        if user is None:
            return
        self._users[new_key] = replace(user, nick=new)
        if old_key == new_key:
            return  # only the case changed
        for channel in self._channels.values():
            if old_key in channel.members:
                channel.members[new_key] = channel.members.pop(old_key)
            if channel.names is not None and old_key in channel.names:
                channel.names.add(new_key)

    def _forget_if_alone(self, key: str) -> None:
        """Drop user ``key`` (folded) if it shares no channel with us and is not us."""
        if self._nick is not None and key == self._fold(self._nick):
            return
        if not any(key in channel.members for channel in self._channels.values()):
            self._users.pop(key, None)

    def _drop_channel(self, key: str) -> None:
        channel = self._channels.pop(key, None)
        if channel is not None:
            for member in channel.members:
                self._forget_if_alone(member)

    def _remove_member(self, channel_name: str, nick: str) -> None:
        key = self._fold(channel_name)
        channel = self._channels.get(key)
        if channel is None:
            return
        if self._is_me(nick):
            self._drop_channel(key)
            return
        member = self._fold(nick)
        channel.members.pop(member, None)
        self._forget_if_alone(member)

    def _refold(self) -> None:
        """Re-key everything with the current CASEMAPPING."""
        fold = self._fold
        new_keys = {key: fold(user.nick) for key, user in self._users.items()}
        self._users = {new_keys[key]: user for key, user in self._users.items()}
        channels = list(self._channels.values())
        self._channels = {fold(channel.name): channel for channel in channels}
        for channel in channels:
            channel.members = {new_keys.get(k, k): modes for k, modes in channel.members.items()}
            if channel.names is not None:
                channel.names = {new_keys.get(k, k) for k in channel.names}
        self._casemapping = self.isupport.casemapping

    def _apply_channel_modes(self, channel: _Channel, changes: Iterable[ModeChange]) -> None:
        prefix = self.isupport.prefix
        lists = self.isupport.chanmodes[0]
        for change in changes:
            if change.mode in prefix:
                if change.arg is None:
                    continue
                member = self._fold(change.arg)
                current = channel.members.get(member)
                if current is None:
                    continue  # a MODE for someone we do not know is on the channel
                if change.adding:
                    channel.members[member] = self.isupport.sort_modes(current + change.mode)
                else:
                    channel.members[member] = current.replace(change.mode, "")
            elif change.mode in lists:
                continue  # bans and the like are lists, not tracked
            elif change.adding:
                channel.modes[change.mode] = change.arg
            else:
                channel.modes.pop(change.mode, None)

    # -- handlers: registration and our own state ---------------------------------------------

    def _on_welcome(self, msg: Message) -> None:
        if msg.params:
            self.nick = msg.params[0]

    def _on_isupport(self, msg: Message) -> None:
        self.isupport.load(msg.params)
        if self.isupport.casemapping != self._casemapping:
            self._refold()

    def _on_umodeis(self, msg: Message) -> None:
        if len(msg.params) >= 2:
            self._umodes = {mode for mode in msg.params[1] if mode not in "+-"}

    def _on_unaway(self, msg: Message) -> None:
        if self._nick is not None:
            self._update_user(self._nick, away=False, away_message=None)

    def _on_nowaway(self, msg: Message) -> None:
        if self._nick is not None:
            self._update_user(self._nick, away=True)

    # -- handlers: membership -----------------------------------------------------------------

    def _on_join(self, msg: Message) -> None:
        if not msg.params or msg.source is None:
            return
        name = msg.params[0]
        nick, user, host = _split_mask(msg.source)
        if not nick:
            return
        key = self._fold(name)
        if self._is_me(nick):
            # A fresh record even for a channel we thought we were on: its old state is stale.
            self._drop_channel(key)
            self._channels[key] = _Channel(name)
        channel = self._channels.get(key)
        if channel is None:
            return
        member = self._fold(nick)
        known = self._users.get(member, User(nick))
        known = replace(known, nick=nick, user=user or known.user, host=host or known.host)
        if len(msg.params) >= 3:  # extended-join: JOIN #chan account :realname
            account = msg.params[1]
            known = replace(known, account=None if account == "*" else account)
            known = replace(known, realname=msg.params[2])
        self._users[member] = known
        channel.members[member] = ""
        if channel.names is not None:
            channel.names.add(member)

    def _on_part(self, msg: Message) -> None:
        if msg.params and msg.source is not None:
            nick = _split_mask(msg.source)[0]
            for name in msg.params[0].split(","):
                self._remove_member(name, nick)

    def _on_kick(self, msg: Message) -> None:
        if len(msg.params) >= 2:
            self._remove_member(msg.params[0], msg.params[1])

    def _on_quit(self, msg: Message) -> None:
        if msg.source is None:
            return
        nick = _split_mask(msg.source)[0]
        if self._is_me(nick):
            return  # the connection is ending; reset() is the owner's call
        key = self._fold(nick)
        for channel in self._channels.values():
            channel.members.pop(key, None)
        self._users.pop(key, None)

    def _on_nick(self, msg: Message) -> None:
        if not msg.params or msg.source is None:
            return
        old, new = _split_mask(msg.source)[0], msg.params[0]
        if self._is_me(old):
            self.nick = new
        else:
            self._rename(old, new)

    def _on_namreply(self, msg: Message) -> None:
        # 353 me <symbol> <channel> :<names>; RFC 1459 servers may leave out the symbol.
        if len(msg.params) < 3:
            return
        channel = self._channel(msg.params[-2])
        if channel is None:
            return
        if channel.names is None:
            channel.names = set()
        for entry in msg.params[-1].split():
            modes, mask = self.isupport.split_prefix(entry)
            nick, user, host = _split_mask(mask)  # userhost-in-names: nick!user@host
            if not nick:
                continue
            member = self._fold(nick)
            known = self._users.get(member, User(nick))
            self._users[member] = replace(
                known, nick=nick, user=user or known.user, host=host or known.host
            )
            # Without multi-prefix only the highest prefix is listed; the reply still wins
            # over what we had, as it is the server's current word.
            channel.members[member] = modes
            channel.names.add(member)

    def _on_endofnames(self, msg: Message) -> None:
        if len(msg.params) < 2:
            return
        channel = self._channel(msg.params[1])
        if channel is None or channel.names is None:
            return
        listed, channel.names = channel.names, None
        for member in [m for m in channel.members if m not in listed]:
            if self._nick is None or member != self._fold(self._nick):
                del channel.members[member]
                self._forget_if_alone(member)

    # -- handlers: modes and topics -----------------------------------------------------------

    def _on_mode(self, msg: Message) -> None:
        if len(msg.params) < 2:
            return
        target, modes, args = msg.params[0], msg.params[1], msg.params[2:]
        channel = self._channel(target) if self.isupport.is_channel(target) else None
        if channel is not None:
            self._apply_channel_modes(channel, self.isupport.parse_modes(modes, args))
        elif self._is_me(target):
            for change in self.isupport.parse_modes(modes, args, channel=False):
                if change.adding:
                    self._umodes.add(change.mode)
                else:
                    self._umodes.discard(change.mode)

    def _on_channelmodeis(self, msg: Message) -> None:
        # 324 me <channel> <modes> [<args>...]: the whole set, replacing what we had.
        if len(msg.params) < 3:
            return
        channel = self._channel(msg.params[1])
        if channel is not None:
            channel.modes.clear()
            changes = self.isupport.parse_modes(msg.params[2], msg.params[3:])
            self._apply_channel_modes(channel, changes)

    def _on_creationtime(self, msg: Message) -> None:
        if len(msg.params) >= 3:
            channel = self._channel(msg.params[1])
            if channel is not None:
                channel.created = _int(msg.params[2])

    def _on_notopic(self, msg: Message) -> None:
        if len(msg.params) >= 2:
            channel = self._channel(msg.params[1])
            if channel is not None:
                channel.topic = None

    def _on_topic_reply(self, msg: Message) -> None:
        if len(msg.params) >= 3:
            channel = self._channel(msg.params[1])
            if channel is not None:
                channel.topic = Topic(msg.params[2]) if msg.params[2] else None

    def _on_topicwhotime(self, msg: Message) -> None:
        # 333 me <channel> <setter> <time>, after 332.
        if len(msg.params) >= 3:
            channel = self._channel(msg.params[1])
            if channel is not None and channel.topic is not None:
                set_at = _int(msg.params[3]) if len(msg.params) >= 4 else None
                channel.topic = replace(channel.topic, set_by=msg.params[2], set_at=set_at)

    def _on_topic(self, msg: Message) -> None:
        if not msg.params:
            return
        channel = self._channel(msg.params[0])
        if channel is None:
            return
        text = msg.params[1] if len(msg.params) >= 2 else ""
        channel.topic = Topic(text, msg.source, _server_time(msg)) if text else None

    # -- handlers: users ----------------------------------------------------------------------

    def _on_whoreply(self, msg: Message) -> None:
        # 352 me <channel> <user> <host> <server> <nick> <flags> :<hopcount> <realname>
        if len(msg.params) < 8:
            return
        _, chan, user, host, _, nick, flags, trailing = msg.params[:8]
        key = self._fold(nick)
        known = self._users.get(key)
        if known is None:
            return  # not on our channels: a WHO of someone else
        _, space, realname = trailing.partition(" ")
        away = flags.startswith("G")
        self._users[key] = replace(
            known,
            user=user,
            host=host,
            realname=realname if space else known.realname,
            away=away,
            away_message=known.away_message if away else None,
        )
        channel = self._channel(chan)
        if channel is not None and key in channel.members:
            by_symbol = {symbol: mode for mode, symbol in self.isupport.prefix.items()}
            modes = (by_symbol[char] for char in flags if char in by_symbol)
            channel.members[key] = self.isupport.sort_modes(modes)

    def _on_whoisuser(self, msg: Message) -> None:
        # 311 me <nick> <user> <host> * :<realname>
        if len(msg.params) >= 6:
            nick, user, host, _, realname = msg.params[1:6]
            self._update_user(nick, user=user, host=host, realname=realname)

    def _on_away_reply(self, msg: Message) -> None:
        # 301 me <nick> :<message>, the answer to a WHOIS or a message to someone away.
        if len(msg.params) >= 2:
            message = msg.params[2] if len(msg.params) >= 3 else None
            self._update_user(msg.params[1], away=True, away_message=message)

    def _on_away(self, msg: Message) -> None:
        # away-notify: AWAY :<message> when going away, AWAY alone when back.
        if msg.source is not None:
            nick = _split_mask(msg.source)[0]
            message = msg.params[0] if msg.params else ""
            self._update_user(nick, away=bool(message), away_message=message or None)

    def _on_account(self, msg: Message) -> None:
        # account-notify: ACCOUNT <name>, or ACCOUNT * when logged out.
        if msg.params and msg.source is not None:
            account = msg.params[0]
            nick = _split_mask(msg.source)[0]
            self._update_user(nick, account=None if account == "*" else account)

    def _on_chghost(self, msg: Message) -> None:
        if len(msg.params) >= 2 and msg.source is not None:
            nick = _split_mask(msg.source)[0]
            self._update_user(nick, user=msg.params[0], host=msg.params[1])

    def _on_setname(self, msg: Message) -> None:
        if msg.params and msg.source is not None:
            self._update_user(_split_mask(msg.source)[0], realname=msg.params[0])


def _split_mask(mask: str) -> tuple[str, str | None, str | None]:
    """``nick!user@host`` -> ``(nick, user, host)``; missing parts are None."""
    nick, bang, rest = mask.partition("!")
    if bang:
        user, at, host = rest.partition("@")
        return nick, user or None, (host if at else None) or None
    nick, _, host = mask.partition("@")
    return nick, None, host or None


def _int(text: str) -> int | None:
    if not (text.isascii() and text.isdigit()):
        return None
    try:
        return int(text)
    except ValueError:  # more digits than int() converts (sys.set_int_max_str_digits)
        return None


def _server_time(msg: Message) -> int | None:
    """The ``time`` tag (IRCv3 server-time, ``2024-05-01T12:00:00.000Z``) as epoch seconds."""
    value = msg.tags.get("time")
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)  # server-time is UTC
    return int(when.timestamp())
