r"""Logger: one log file per channel and per private correspondent (PoCo::IRC::Plugin::Logger).

The port of POE::Component::IRC::Plugin::Logger (PoCo-IRC 6.93), with the line formats of
its default ``Format``. Colour and formatting codes are stripped with
:mod:`poe.irc.formatting` (IRC::Utils' ``strip_color`` and ``strip_formatting``).

Rules:

* A line goes to ``<path>/<context>.log``, or ``<path>/<context>/<YYYY-MM-DD>.log`` with
  ``sort_by_date``. The context is the channel, or the other party's nick for private
  messages, folded with the server's case mapping (``irc.isupport.fold``) and made safe for a
  file name (``/``, ``\``, control characters, ``%`` and a leading dot are %-escaped).
* A line is ``[YYYY-MM-DD HH:MM:SS] text`` (``[HH:MM:SS] text`` with ``sort_by_date``), local
  time, or the message's ``server-time`` tag converted to local time when it has one. Files
  are UTF-8, opened for append, flushed after every line; the first line written to a context
  on each connection is preceded by a ``*** LOGGING BEGINS`` block (PoCo).
* Logged: messages, actions, notices (``notices=True``), joins, parts, kicks, quits and nick
  changes (in every channel where the plugin saw that nick), topics (changes, and the topic
  shown on joining, ``332``/``333``), channel modes. What we send ourselves (``privmsg``,
  ``notice``, ``ctcp ACTION`` commands) is logged when the command is given; with the
  ``echo-message`` capability the server's echo is not logged again.
* Membership (who is in which channel, for quits and nick changes) is learnt from ``NAMES``
  replies, joins, parts, kicks, quits and nick changes, and forgotten on disconnect.
* Files are created ``0600`` in directories ``0700`` with ``restricted`` (the default: logs
  hold private conversations), else ``0644``/``0755`` (both subject to the umask).

The plugin eats nothing. It never raises from a hook for an I/O error: the error is logged
(``poe.irc``) and the line is lost.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final

from poe.errors import InvalidArgument
from poe.irc.formatting import strip_color, strip_formatting

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from poe.irc.component import IRC
    from poe.irc.message import Message

__all__ = ["DEFAULT_FORMATS", "Logger"]

log = logging.getLogger("poe.irc")


def _with_reason(line: str, reason: str) -> str:
    return f"{line} ({reason})" if reason else line


DEFAULT_FORMATS: Final[Mapping[str, Callable[..., str]]] = {
    "+b": lambda nick, mask: f"--- {nick} sets ban on {mask}",
    "-b": lambda nick, mask: f"--- {nick} removes ban on {mask}",
    "+e": lambda nick, mask: f"--- {nick} sets exempt on {mask}",
    "-e": lambda nick, mask: f"--- {nick} removes exempt on {mask}",
    "+I": lambda nick, mask: f"--- {nick} sets invite on {mask}",
    "-I": lambda nick, mask: f"--- {nick} removes invite on {mask}",
    "+h": lambda nick, who: f"--- {nick} gives channel half-operator status to {who}",
    "-h": lambda nick, who: f"--- {nick} removes channel half-operator status from {who}",
    "+o": lambda nick, who: f"--- {nick} gives channel operator status to {who}",
    "-o": lambda nick, who: f"--- {nick} removes channel operator status from {who}",
    "+v": lambda nick, who: f"--- {nick} gives voice to {who}",
    "-v": lambda nick, who: f"--- {nick} removes voice from {who}",
    "+k": lambda nick, key: f"--- {nick} sets channel keyword to {key}",
    "-k": lambda nick, _=None: f"--- {nick} removes channel keyword",
    "+l": lambda nick, limit: f"--- {nick} sets channel user limit to {limit}",
    "-l": lambda nick, _=None: f"--- {nick} removes channel user limit",
    "+i": lambda nick, _=None: f"--- {nick} enables invite-only channel status",
    "-i": lambda nick, _=None: f"--- {nick} disables invite-only channel status",
    "+m": lambda nick, _=None: f"--- {nick} enables channel moderation",
    "-m": lambda nick, _=None: f"--- {nick} disables channel moderation",
    "+n": lambda nick, _=None: f"--- {nick} disables external messages",
    "-n": lambda nick, _=None: f"--- {nick} enables external messages",
    "+p": lambda nick, _=None: f"--- {nick} enables private channel status",
    "-p": lambda nick, _=None: f"--- {nick} disables private channel status",
    "+s": lambda nick, _=None: f"--- {nick} enables secret channel status",
    "-s": lambda nick, _=None: f"--- {nick} disables secret channel status",
    "+t": lambda nick, _=None: f"--- {nick} enables topic protection",
    "-t": lambda nick, _=None: f"--- {nick} disables topic protection",
    "mode": lambda nick, mode, arg=None: (
        f"--- {nick} sets mode {mode} {arg}" if arg else f"--- {nick} sets mode {mode}"
    ),
    "nick_change": lambda old, new: f"--- {old} is now known as {new}",
    "topic_is": lambda chan, topic: f"--- Topic for {chan} is: {topic}",
    "topic_set_by": lambda chan, nick, date: f"--- Topic for {chan} was set by {nick} at {date}",
    "topic_change": lambda nick, topic: f"--- {nick} changes the topic to: {topic}",
    "privmsg": lambda nick, text: f"<{nick}> {text}",
    "notice": lambda nick, text: f"-{nick}- {text}",
    "action": lambda nick, text: f"* {nick} {text}",
    "join": lambda nick, userhost, chan: f"--> {nick} ({userhost}) joins {chan}",
    "part": lambda nick, userhost, chan, reason: _with_reason(
        f"<-- {nick} ({userhost}) leaves {chan}", reason
    ),
    "quit": lambda nick, userhost, reason: _with_reason(f"<-- {nick} ({userhost}) quits", reason),
    "kick": lambda kicker, victim, chan, reason: _with_reason(
        f"<-- {kicker} kicks {victim} from {chan}", reason
    ),
}
"""The log lines, by kind: ``+b`` ... (a channel mode change, ``(nick, argument)``; ``mode``
for modes without their own entry), ``nick_change``, ``topic_is``, ``topic_set_by``,
``topic_change``, ``privmsg``, ``notice``, ``action``, ``join``, ``part``, ``quit``, ``kick``.
Give ``Logger(formats=...)`` entries to replace some of them (``None`` to log nothing)."""

_SAFE: Final = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789#&+!-_.[]{}^`|~@$=,'"
)


class Logger:
    """Log channel and private traffic to one file per channel or nick (PoCo's Logger).

    Args:
        path: the directory of the logs; created (with its parents) when the plugin is added.
        public: log channels.
        private: log private messages.
        notices: log notices too (``-nick- text``).
        sort_by_date: one file per day, ``<context>/<YYYY-MM-DD>.log``; lines then carry only
            the time.
        strip_color: remove colour codes from logged text.
        strip_formatting: remove bold, underline, ... codes from logged text.
        restricted: files ``0600`` and directories ``0700`` (else ``0644``/``0755``).
        formats: replacements for some of :data:`DEFAULT_FORMATS`.

    Raises:
        InvalidArgument: an empty ``path`` or an unknown ``formats`` key.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        public: bool = True,
        private: bool = True,
        notices: bool = False,
        sort_by_date: bool = False,
        strip_color: bool = False,
        strip_formatting: bool = False,
        restricted: bool = True,
        formats: Mapping[str, Callable[..., str] | None] | None = None,
    ) -> None:
        if not str(path):
            msg = "Logger: path must name a directory"
            raise InvalidArgument(msg)
        unknown = set(formats or ()) - set(DEFAULT_FORMATS)
        if unknown:
            msg = f"Logger: unknown formats {sorted(unknown)}"
            raise InvalidArgument(msg)
        self.path = Path(path)
        self.public = public
        self.private = private
        self.notices = notices
        self.sort_by_date = sort_by_date
        self.strip_color = strip_color
        self.strip_formatting = strip_formatting
        self._dir_mode = 0o700 if restricted else 0o755
        self._file_mode = 0o600 if restricted else 0o644
        self.formats: dict[str, Callable[..., str] | None] = {**DEFAULT_FORMATS, **(formats or {})}
        self._files: dict[Path, IO[str]] = {}
        self._begun: set[str] = set()
        #: folded channel -> folded nick -> nick as last seen
        self._members: dict[str, dict[str, str]] = {}
        self._joining: set[str] = set()

    # -- plugin life ---------------------------------------------------------------------------

    def plugin_register(self, irc: IRC) -> None:
        """Create the log directory.

        Raises:
            OSError: it cannot be created.
        """
        self.path.mkdir(mode=self._dir_mode, parents=True, exist_ok=True)

    def plugin_unregister(self, irc: IRC) -> None:
        """Close every open log file."""
        self.close()

    def close(self) -> None:
        """Close the open files (they are opened again when needed)."""
        files, self._files = self._files, {}
        for handle in files.values():
            try:
                handle.close()
            except OSError as exc:
                log.warning("Logger: cannot close a log: %s", exc)

    # -- connection and membership -------------------------------------------------------------

    def irc_001(self, irc: IRC, *args: Any) -> None:
        """A new connection: every context starts with a LOGGING BEGINS block again."""
        self._begun.clear()
        self._members.clear()
        self._joining.clear()

    def irc_disconnected(self, irc: IRC, *args: Any) -> None:
        """Forget who was where: it will be learnt again."""
        self._members.clear()
        self._joining.clear()
        self.close()

    def irc_353(self, irc: IRC, server: str, text: str, params: list[str], *rest: Any) -> None:
        """``NAMES``: ``[= | * | @, channel, "nick @op +voice ..."]``."""
        if len(params) < 3:
            return
        fold = irc.isupport.fold
        members = self._members.setdefault(fold(params[1]), {})
        for entry in params[2].split():
            nick = irc.isupport.split_prefix(entry)[1].partition("!")[0]
            if nick:
                members[fold(nick)] = nick

    def irc_366(self, irc: IRC, server: str, text: str, params: list[str], *rest: Any) -> None:
        """End of ``NAMES``: the join is complete (``332``/``333`` are no longer logged)."""
        if params:
            self._joining.discard(irc.isupport.fold(params[0]))

    # -- what others do ------------------------------------------------------------------------

    def irc_public(
        self, irc: IRC, who: str, targets: list[str], text: str, msg: Message | None = None
    ) -> None:
        """``<nick> text`` in each channel."""
        if self._echo(irc, who):
            return
        for target in targets:
            self._entry(irc, target, msg, "privmsg", _nick(who), self._clean(text))

    def irc_msg(
        self, irc: IRC, who: str, targets: list[str], text: str, msg: Message | None = None
    ) -> None:
        """``<nick> text`` in the sender's file."""
        if self._echo(irc, who):
            return
        self._entry(irc, _nick(who), msg, "privmsg", _nick(who), self._clean(text))

    def irc_notice(
        self, irc: IRC, who: str, targets: list[str], text: str, msg: Message | None = None
    ) -> None:
        """``-nick- text`` in the channel, or the sender's file (with ``notices``)."""
        if not self.notices or self._echo(irc, who):
            return
        for target in targets:
            where = target if irc.is_channel(target) else _nick(who)
            self._entry(irc, where, msg, "notice", _nick(who), self._clean(text))

    def irc_ctcp_action(
        self, irc: IRC, who: str, targets: list[str], text: str, msg: Message | None = None
    ) -> None:
        """``* nick text`` in the channel, or the sender's file."""
        if self._echo(irc, who):
            return
        for target in targets:
            where = target if irc.is_channel(target) else _nick(who)
            self._entry(irc, where, msg, "action", _nick(who), self._clean(text))

    def irc_join(self, irc: IRC, who: str, channel: str, msg: Message | None = None) -> None:
        """``--> nick (user@host) joins #chan``."""
        nick, _, userhost = who.partition("!")
        fold = irc.isupport.fold
        if fold(nick) == fold(irc.nick_name()):
            self._members[fold(channel)] = {}
            self._joining.add(fold(channel))
        self._members.setdefault(fold(channel), {})[fold(nick)] = nick
        self._entry(irc, channel, msg, "join", nick, userhost, channel)

    def irc_part(
        self, irc: IRC, who: str, channel: str, reason: str, msg: Message | None = None
    ) -> None:
        """``<-- nick (user@host) leaves #chan (reason)``."""
        nick, _, userhost = who.partition("!")
        self._entry(irc, channel, msg, "part", nick, userhost, channel, self._clean(reason))
        self._leave(irc, channel, nick)

    def irc_kick(
        self,
        irc: IRC,
        who: str,
        channel: str,
        victim: str,
        reason: str,
        msg: Message | None = None,
    ) -> None:
        """``<-- kicker kicks victim from #chan (reason)``."""
        self._entry(irc, channel, msg, "kick", _nick(who), victim, channel, self._clean(reason))
        self._leave(irc, channel, victim)

    def irc_quit(self, irc: IRC, who: str, reason: str, msg: Message | None = None) -> None:
        """``<-- nick (user@host) quits (reason)`` in every channel where we saw the nick."""
        nick, _, userhost = who.partition("!")
        folded = irc.isupport.fold(nick)
        for channel, members in list(self._members.items()):
            if members.pop(folded, None) is not None:
                self._entry(irc, channel, msg, "quit", nick, userhost, self._clean(reason))

    def irc_nick(self, irc: IRC, who: str, new: str, msg: Message | None = None) -> None:
        """``--- old is now known as new`` in every channel where we saw the nick."""
        old = _nick(who)
        fold = irc.isupport.fold
        for channel, members in list(self._members.items()):
            if members.pop(fold(old), None) is not None:
                members[fold(new)] = new
                self._entry(irc, channel, msg, "nick_change", old, new)

    def irc_topic(
        self, irc: IRC, who: str, channel: str, topic: str, msg: Message | None = None
    ) -> None:
        """``--- nick changes the topic to: topic``."""
        self._entry(irc, channel, msg, "topic_change", _nick(who), self._clean(topic))

    def irc_332(self, irc: IRC, server: str, text: str, params: list[str], *rest: Any) -> None:
        """The topic shown when we join: ``--- Topic for #chan is: topic``."""
        if len(params) >= 2 and irc.isupport.fold(params[0]) in self._joining:
            msg = rest[-1] if rest else None
            self._entry(irc, params[0], msg, "topic_is", params[0], self._clean(params[1]))

    def irc_333(self, irc: IRC, server: str, text: str, params: list[str], *rest: Any) -> None:
        """Who set that topic and when: ``--- Topic for #chan was set by nick at date``."""
        if len(params) < 3 or irc.isupport.fold(params[0]) not in self._joining:
            return
        try:
            when = dt.datetime.fromtimestamp(int(params[2]))
        except (ValueError, OverflowError, OSError):
            return
        date = when.strftime("%Y-%m-%d %H:%M:%S")
        msg = rest[-1] if rest else None
        self._entry(irc, params[0], msg, "topic_set_by", params[0], _nick(params[1]), date)

    def irc_mode(self, irc: IRC, who: str, target: str, *rest: Any) -> None:
        """One line per channel mode change (``--- nick gives voice to someone``)."""
        msg = rest[-1] if rest and not isinstance(rest[-1], str) else None
        words = [w for w in rest if isinstance(w, str)]
        if not irc.is_channel(target) or not words:
            return
        nick = _nick(who)
        for change in irc.isupport.parse_modes(words[0], words[1:]):
            kind = ("+" if change.adding else "-") + change.mode
            if self.formats.get(kind) is not None:
                self._entry(irc, target, msg, kind, nick, change.arg)
            else:
                self._entry(irc, target, msg, "mode", nick, kind, change.arg)

    # -- what we do ----------------------------------------------------------------------------

    def cmd_privmsg(self, irc: IRC, targets: Any, text: Any, *args: Any) -> None:
        """Our own message, logged as ``<ournick> text`` in each target's file."""
        self._own(irc, targets, str(text), "privmsg")

    def cmd_notice(self, irc: IRC, targets: Any, text: Any, *args: Any) -> None:
        """Our own notice (with ``notices``)."""
        if self.notices:
            self._own(irc, targets, str(text), "notice")

    def cmd_ctcp(self, irc: IRC, targets: Any, text: Any, *args: Any) -> None:
        """Our own ``ACTION`` (other CTCP requests are not logged)."""
        verb, _, rest = str(text).partition(" ")
        if verb.upper() == "ACTION":
            self._own(irc, targets, rest, "action")

    def _own(self, irc: IRC, targets: Any, text: str, kind: str) -> None:
        names = [targets] if isinstance(targets, str) else [str(t) for t in targets]
        me = irc.nick_name()
        for target in names:
            for line in text.splitlines():
                if line:
                    self._entry(irc, target, None, kind, me, self._clean(line))

    # -- writing -------------------------------------------------------------------------------

    def _echo(self, irc: IRC, who: str) -> bool:
        """A line we sent, echoed by the server (``echo-message``): logged already."""
        return "echo-message" in irc.caps and irc.isupport.fold(_nick(who)) == irc.isupport.fold(
            irc.nick_name()
        )

    def _leave(self, irc: IRC, channel: str, nick: str) -> None:
        fold = irc.isupport.fold
        if fold(nick) == fold(irc.nick_name()):
            self._members.pop(fold(channel), None)
        else:
            self._members.get(fold(channel), {}).pop(fold(nick), None)

    def _clean(self, text: str) -> str:
        if self.strip_color:
            text = strip_color(text)
        if self.strip_formatting:
            text = strip_formatting(text)
        return text

    def _entry(self, irc: IRC, context: str, msg: Message | None, kind: str, *args: Any) -> None:
        is_channel = irc.is_channel(context)
        if (is_channel and not self.public) or (not is_channel and not self.private):
            return
        render = self.formats.get(kind)
        if render is None:
            return
        when = _timestamp(msg)
        date, clock = when.strftime("%Y-%m-%d"), when.strftime("%H:%M:%S")
        name = _safe_name(irc.isupport.fold(context))
        if self.sort_by_date:
            file = self.path / name / f"{date}.log"
            stamp = f"[{clock}]"
        else:
            file = self.path / f"{name}.log"
            stamp = f"[{date} {clock}]"
        lines = [f"{stamp} {render(*args)}"]
        if name not in self._begun:
            lines[:0] = ["***", "*** LOGGING BEGINS", "***"]
        try:
            handle = self._open(file)
            handle.write("".join(line.replace("\n", " ") + "\n" for line in lines))
            handle.flush()
        except OSError as exc:
            log.warning("Logger: cannot write %s: %s", file, exc)
            return
        self._begun.add(name)

    def _open(self, file: Path) -> IO[str]:
        handle = self._files.get(file)
        if handle is not None:
            return handle
        if self.sort_by_date:
            # A new day in a context: its directory exists; yesterday's file can be closed.
            file.parent.mkdir(mode=self._dir_mode, exist_ok=True)
            for old in [f for f in self._files if f.parent == file.parent]:
                self._files.pop(old).close()
        fd = os.open(file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, self._file_mode)
        handle = os.fdopen(fd, "a", encoding="utf-8", errors="surrogateescape")
        self._files[file] = handle
        return handle


def _nick(who: str) -> str:
    return who.partition("!")[0]


def _timestamp(msg: Message | None) -> dt.datetime:
    """Local time: the message's ``server-time`` tag when it has a valid one, else now.

    Never raises: a tag that is not a time, or one out of range here, gives now.
    """
    stamp = msg.tags.get("time") if msg is not None else None
    if stamp:
        text = stamp[:-1] + "+00:00" if stamp.endswith(("Z", "z")) else stamp
        try:
            when = dt.datetime.fromisoformat(text)
            if when.tzinfo is None:
                when = when.replace(tzinfo=dt.timezone.utc)
            # A server's (or a hostile one's) "0001-01-01T00:00:00+14:00" is valid ISO 8601
            # but lies outside what datetime can hold once moved to local time.
            return when.astimezone()
        except (ValueError, OverflowError):
            pass
    return dt.datetime.now()


def _safe_name(name: str) -> str:
    """``name`` as a file name: unsafe characters (and a leading dot) as ``%XX``."""
    out = "".join(c if c in _SAFE else "".join(f"%{b:02X}" for b in c.encode()) for c in name)
    if out.startswith("."):
        out = "%2E" + out[1:]
    return out or "%"
