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
``irc_quit``       who, reason
``irc_nick``       who, new nick
``irc_kick``       who, channel, nick kicked, reason
``irc_mode``       who, target, mode string, mode arguments...
``irc_topic``      who, channel, new topic ("" when cleared)
``irc_invite``     who, channel
``irc_ping``       the server's token (the component has answered it already)
``irc_error``      the server's text (sent before it closes the link)
``irc_NNN``        server, text after our nick, [parameters after our nick]
``irc_<command>``  any other command (``irc_away``, ``irc_account``, ``irc_pong``, ...):
                   who, parameters...
=================  ==========================================================================
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from irc.ctcp import dequote

if TYPE_CHECKING:
    from collections.abc import Callable

    from poe.irc.message import Message

__all__ = ["Event", "ctcp_quote", "translate"]

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

    Messages missing the parameters their command needs give no event but ``irc_<command>``
    with what there is, so a malformed line is never lost and never raises.
    """
    command = msg.command
    params = msg.params
    who = msg.source or ""
    if command.isdigit() and len(command) == 3:
        rest = params[1:]
        return [(f"irc_{command}", (who, _text_of(rest), list(rest)))]
    handler = _HANDLERS.get(command)
    if handler is not None:
        events = handler(who, params, is_channel)
        if events is not None:
            return events
    return [(f"irc_{command.lower()}", (who, *params))]


def _text_of(params: tuple[str, ...]) -> str:
    if not params:
        return ""
    *middle, last = params
    if not middle:
        return last
    return " ".join(middle) + " :" + last


def _privmsg(
    who: str, params: tuple[str, ...], is_channel: Callable[[str], bool]
) -> list[Event] | None:
    if len(params) < 2:
        return None
    targets = params[0].split(",")
    text = params[1]
    if _CTCP in text:
        return _ctcp(
            "irc_ctcp_", who, targets, text, "irc_public" if is_channel(targets[0]) else "irc_msg"
        )
    return [("irc_public" if is_channel(targets[0]) else "irc_msg", (who, targets, text))]


def _notice(
    who: str, params: tuple[str, ...], is_channel: Callable[[str], bool]
) -> list[Event] | None:
    if len(params) < 2:
        return None
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


def _need(count: int, name: str, build: Callable[[str, tuple[str, ...]], tuple[Any, ...]]) -> Any:
    def handler(who: str, params: tuple[str, ...], _: Callable[[str], bool]) -> list[Event] | None:
        if len(params) < count:
            return None
        return [(name, build(who, params))]

    return handler


_HANDLERS: dict[
    str, Callable[[str, tuple[str, ...], Callable[[str], bool]], list[Event] | None]
] = {
    "PRIVMSG": _privmsg,
    "NOTICE": _notice,
    "JOIN": _need(1, "irc_join", lambda w, p: (w, p[0])),
    "PART": _need(1, "irc_part", lambda w, p: (w, p[0], p[1] if len(p) > 1 else "")),
    "QUIT": _need(0, "irc_quit", lambda w, p: (w, p[0] if p else "")),
    "NICK": _need(1, "irc_nick", lambda w, p: (w, p[0])),
    "KICK": _need(2, "irc_kick", lambda w, p: (w, p[0], p[1], p[2] if len(p) > 2 else "")),
    "MODE": _need(2, "irc_mode", lambda w, p: (w, *p)),
    "TOPIC": _need(1, "irc_topic", lambda w, p: (w, p[0], p[1] if len(p) > 1 else "")),
    "INVITE": _need(2, "irc_invite", lambda w, p: (w, p[1])),
    "PING": _need(0, "irc_ping", lambda w, p: (p[0] if p else "",)),
    "ERROR": _need(0, "irc_error", lambda w, p: (p[0] if p else "",)),
}
