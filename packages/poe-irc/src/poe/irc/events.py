"""From server messages to POE::Component::IRC's events (sans I/O).

:func:`translate` names the events one :class:`~poe.irc.message.Message` gives and their
arguments, as POE::Component::IRC documents them. The component appends the message itself as
the last argument of every event, for its tags (``server-time``, ``account``, ...).

=================  ==========================================================================
event              arguments (before the message)
=================  ==========================================================================
``irc_public``     who (``nick!user@host``), [channels], text
``irc_msg``        who, [recipients], text
``irc_notice``     who, [targets], text
``irc_snotice``    text, target, server (a notice from a server, not a user)
``irc_ctcp_X``     who, [targets], argument text (``X`` is the CTCP command, lower case:
                   ``irc_ctcp_version``, ``irc_ctcp_action``, ``irc_ctcp_ping``, ...)
``irc_ctcpreply_X``  who, [targets], argument text (a CTCP reply, sent in a NOTICE)
``irc_join``       who, channel
``irc_part``       who, channel, reason ("" when none)
``irc_quit``       who, reason ("" when none)
``irc_nick``       who, new nick
``irc_kick``       who, channel, nick kicked, reason ("" when none)
``irc_mode``       who, target, mode string, mode arguments...
``irc_topic``      who, channel, new topic ("" when cleared)
``irc_invite``     who, channel
``irc_ping``       the server's token ("" when none; the component has answered it already)
``irc_error``      the server's text ("" when none; sent before it closes the link)
``irc_NNN``        server, text after our nick ("" when none), [parameters after our nick]
``irc_<command>``  any other command (``irc_away``, ``irc_account``, ``irc_pong``, ...):
                   who, parameters... (at least :data:`MIN_PARAMS` of them for a known one)
``irc_malformed``  why: a known command without the parameters it needs (below)
=================  ==========================================================================

Rules (a broken or hostile server must not be able to break a handler):

* Every event has at least the arguments this table names, so a handler or plugin hook written
  with exactly those parameters never gets too few.
* :data:`MIN_PARAMS` is the one table of how many parameters each known command needs (RFC
  2812 and the IRCv3 specifications). A line with fewer gives ``irc_malformed`` (with the
  reason) instead of its event: a JOIN without a channel names nothing to track or log.
* Optional trailing parameters are padded where the protocol itself makes them optional and
  POE::Component::IRC's handlers see them as empty: PART's, KICK's and QUIT's reason, TOPIC's
  text, PING's token, ERROR's text, a numeric's parameters.
* Commands not in the table (a server's own extensions) give ``irc_<command>`` with whatever
  parameters they have: nothing is documented about them, so nothing is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

from irc.ctcp import dequote

if TYPE_CHECKING:
    from poe.irc.message import Message

__all__ = ["MIN_PARAMS", "Event", "ctcp_quote", "translate"]

Event = tuple[str, tuple[Any, ...]]
"""An event name and its arguments."""

_CTCP = "\x01"


def ctcp_quote(command: str, argument: str = "") -> str:
    r"""Return a CTCP request or reply as message text: ``\x01COMMAND argument\x01``."""
    body = f"{command.upper()} {argument}" if argument else command.upper()
    return _CTCP + body + _CTCP


def translate(msg: Message, is_channel: Callable[[str], bool]) -> list[Event]:
    """Return the events ``msg`` gives, in order (most messages give one; CTCP may give more).

    Args:
        msg: a message from the server.
        is_channel: tells channel names from nicks (the ISUPPORT ``CHANTYPES`` of the server).

    Returns:
        ``[(event, args), ...]``; ``[("irc_malformed", (why,))]`` for a command with fewer
        parameters than :data:`MIN_PARAMS` says. Never raises.
    """
    command = msg.command
    params = msg.params
    who = msg.source or ""
    if command.isdigit() and len(command) == 3:
        rest = params[1:]
        return [(f"irc_{command}", (who, _text_of(rest), list(rest)))]
    spec = _COMMANDS.get(command)
    if spec is None:
        return [(f"irc_{command.lower()}", (who, *params))]
    least, build = spec
    if len(params) < least:
        why = f"{command} needs {least} parameter(s), got {len(params)}: {str(msg)[:80]!r}"
        return [("irc_malformed", (why,))]
    return build(command, who, params, is_channel)


def _text_of(params: tuple[str, ...]) -> str:
    if not params:
        return ""
    *middle, last = params
    if not middle:
        return last
    return " ".join(middle) + " :" + last


_Builder = Callable[[str, str, tuple[str, ...], Callable[[str], bool]], list[Event]]


def _privmsg(
    command: str, who: str, params: tuple[str, ...], is_channel: Callable[[str], bool]
) -> list[Event]:
    targets = params[0].split(",")
    text = params[1]
    plain = "irc_public" if is_channel(targets[0]) else "irc_msg"
    if _CTCP in text:
        return _ctcp("irc_ctcp_", who, targets, text, plain)
    return [(plain, (who, targets, text))]


def _notice(
    command: str, who: str, params: tuple[str, ...], is_channel: Callable[[str], bool]
) -> list[Event]:
    target, text = params[0], params[1]
    if "!" not in who:
        return [("irc_snotice", (text, target, who))]
    targets = target.split(",")
    if _CTCP in text:
        return _ctcp("irc_ctcpreply_", who, targets, text, "irc_notice")
    return [("irc_notice", (who, targets, text))]


def _ctcp(prefix: str, who: str, targets: list[str], text: str, plain: str) -> list[Event]:
    events: list[Event] = []
    for part in dequote(text):
        if isinstance(part, tuple):
            name = part[0].lower() or "unknown"
            events.append((prefix + name, (who, targets, part[1] if len(part) > 1 else "")))
        elif part:
            events.append((plain, (who, targets, part)))
    return events


def _event(name: str, build: Callable[[str, tuple[str, ...]], tuple[Any, ...]]) -> _Builder:
    """A builder of one event ``name`` with ``build(who, params)`` as its arguments."""

    def builder(
        command: str, who: str, params: tuple[str, ...], _: Callable[[str], bool]
    ) -> list[Event]:
        return [(name, build(who, params))]

    return builder


def _generic(
    command: str, who: str, params: tuple[str, ...], _: Callable[[str], bool]
) -> list[Event]:
    """``irc_<command>(who, *params)``: a command with no event of its own."""
    return [(f"irc_{command.lower()}", (who, *params))]


def _opt(params: tuple[str, ...], index: int) -> str:
    """Parameter ``index``, or "" when the server left that optional one out."""
    return params[index] if len(params) > index else ""


# The one table: command -> (parameters it needs at least, what it gives). The counts are
# what the protocol makes mandatory in what a server sends (RFC 2812 §3, IRCv3 specs), so a
# line with fewer is broken and its event would reach handlers with arguments missing.
_COMMANDS: Final[Mapping[str, tuple[int, _Builder]]] = {
    "PRIVMSG": (2, _privmsg),  # target, text
    "NOTICE": (2, _notice),  # target, text
    "JOIN": (1, _event("irc_join", lambda w, p: (w, p[0]))),  # channel [account realname]
    "PART": (1, _event("irc_part", lambda w, p: (w, p[0], _opt(p, 1)))),  # channel [reason]
    "QUIT": (0, _event("irc_quit", lambda w, p: (w, _opt(p, 0)))),  # [reason]
    "NICK": (1, _event("irc_nick", lambda w, p: (w, p[0]))),  # new nick
    "KICK": (2, _event("irc_kick", lambda w, p: (w, p[0], p[1], _opt(p, 2)))),  # [reason]
    "MODE": (2, _event("irc_mode", lambda w, p: (w, *p))),  # target, modes [arguments]
    "TOPIC": (1, _event("irc_topic", lambda w, p: (w, p[0], _opt(p, 1)))),  # channel [topic]
    "INVITE": (2, _event("irc_invite", lambda w, p: (w, p[1]))),  # nick, channel
    "PING": (0, _event("irc_ping", lambda w, p: (_opt(p, 0),))),  # [token]
    "ERROR": (0, _event("irc_error", lambda w, p: (_opt(p, 0),))),  # [text]
    # Commands that give irc_<command>(who, *params), with the parameters they must carry.
    "ACCOUNT": (1, _generic),  # account-notify: account ("*" when logged out)
    "AUTHENTICATE": (1, _generic),  # sasl: payload ("+" when empty)
    "AWAY": (0, _generic),  # away-notify: [message] (none: back)
    "BATCH": (1, _generic),  # batch: +ref type [params] / -ref
    "CAP": (2, _generic),  # target, subcommand [*] [capabilities]
    "CHGHOST": (2, _generic),  # chghost: new user, new host
    "FAIL": (3, _generic),  # standard-replies: command, code, [context...] description
    "NOTE": (3, _generic),
    "WARN": (3, _generic),
    "KILL": (1, _generic),  # nick [reason]
    "PONG": (1, _generic),  # server [token]
    "SETNAME": (1, _generic),  # setname: new real name
    "TAGMSG": (1, _generic),  # message-tags: target
    "WALLOPS": (1, _generic),  # text
}

MIN_PARAMS: Final[Mapping[str, int]] = MappingProxyType(
    {command: least for command, (least, _) in _COMMANDS.items()}
)
"""How many parameters each known command needs; a line with fewer is ``irc_malformed``."""
