"""CTCP: answers the usual CTCP requests on the bot's behalf (PoCo::IRC::Plugin::CTCP).

The port of POE::Component::IRC::Plugin::CTCP. Each answer is a ``ctcpreply`` (a ``NOTICE``)
to the nick that asked, whether the request came privately or to a channel.

===============  ===========================================================================
request          answer
===============  ===========================================================================
``VERSION``      the ``version`` option
``PING x``       ``PING x`` (the argument echoed, so the asker can time the round trip)
``TIME``         the local time, RFC 2822 (``Fri, 27 Nov 2026 03:00:19 +0100``)
``CLIENTINFO``   the ``clientinfo`` option: by default the requests answered here
``USERINFO``     the ``userinfo`` option (not answered when None)
``SOURCE``       the ``source`` option (not answered when None)
===============  ===========================================================================
"""

from __future__ import annotations

import email.utils
import importlib.metadata
import platform
from datetime import datetime
from typing import TYPE_CHECKING, Any

from poe.errors import InvalidArgument
from poe.irc.plugin import Eat

if TYPE_CHECKING:
    from poe.irc.component import IRC

__all__ = ["CTCP", "default_version"]


def default_version() -> str:
    """``poe-irc <version> (Python <x.y>)``, the default answer to ``VERSION``."""
    try:
        version = importlib.metadata.version("poe-irc")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    major, minor, _ = platform.python_version_tuple()
    return f"poe-irc {version} (Python {major}.{minor})"


class CTCP:
    """Answer ``VERSION``, ``PING``, ``TIME``, ``CLIENTINFO``, ``USERINFO`` and ``SOURCE``.

    Args:
        version: the ``VERSION`` answer; default :func:`default_version`.
        userinfo: the ``USERINFO`` answer; None leaves ``USERINFO`` unanswered.
        clientinfo: the ``CLIENTINFO`` answer; default: the requests this plugin answers
            (and ``ACTION``), space-separated.
        source: the ``SOURCE`` answer (where to get the bot); None leaves it unanswered.
        eat: keep the answered requests from sessions (:attr:`~poe.irc.plugin.Eat.CLIENT`,
            PoCo's ``eat``): sessions do not see ``irc_ctcp_version`` & co. for the requests
            answered here. Later plugins still do.

    Events used: ``irc_ctcp_version``, ``irc_ctcp_ping``, ``irc_ctcp_time``,
    ``irc_ctcp_clientinfo``, ``irc_ctcp_userinfo``, ``irc_ctcp_source``; each with
    ``(who, targets, argument, message)``.

    Raises:
        InvalidArgument: an option that is not a string (or None where allowed).
    """

    def __init__(
        self,
        version: str | None = None,
        userinfo: str | None = None,
        clientinfo: str | None = None,
        source: str | None = None,
        *,
        eat: bool = True,
    ) -> None:
        options: tuple[tuple[str, object], ...] = (
            ("version", version),
            ("userinfo", userinfo),
            ("clientinfo", clientinfo),
            ("source", source),
        )
        for name, value in options:  # checked at run time: callers may not be type-checked
            if value is not None and not isinstance(value, str):
                msg = f"CTCP: {name} must be a str or None, not {value!r}"
                raise InvalidArgument(msg)
        self.version = default_version() if version is None else version
        self.userinfo = userinfo
        self.source = source
        self.eat = bool(eat)
        if clientinfo is None:
            answered = ["ACTION", "CLIENTINFO", "PING", "TIME", "VERSION"]
            answered += [n for n, v in (("SOURCE", source), ("USERINFO", userinfo)) if v]
            clientinfo = " ".join(sorted(answered))
        self.clientinfo = clientinfo

    def irc_ctcp_version(self, irc: IRC, *args: Any) -> Eat | None:
        """Answer with the ``version`` option."""
        return self._reply(irc, args, "VERSION", self.version)

    def irc_ctcp_ping(self, irc: IRC, *args: Any) -> Eat | None:
        """Echo the argument back."""
        argument = args[2] if len(args) > 2 and isinstance(args[2], str) else ""
        return self._reply(irc, args, "PING", argument)

    def irc_ctcp_time(self, irc: IRC, *args: Any) -> Eat | None:
        """Answer with the local time, RFC 2822."""
        return self._reply(
            irc, args, "TIME", email.utils.format_datetime(datetime.now().astimezone())
        )

    def irc_ctcp_clientinfo(self, irc: IRC, *args: Any) -> Eat | None:
        """Answer with the ``clientinfo`` option."""
        return self._reply(irc, args, "CLIENTINFO", self.clientinfo)

    def irc_ctcp_userinfo(self, irc: IRC, *args: Any) -> Eat | None:
        """Answer with the ``userinfo`` option, if set."""
        if self.userinfo is None:
            return None
        return self._reply(irc, args, "USERINFO", self.userinfo)

    def irc_ctcp_source(self, irc: IRC, *args: Any) -> Eat | None:
        """Answer with the ``source`` option, if set."""
        if self.source is None:
            return None
        return self._reply(irc, args, "SOURCE", self.source)

    def _reply(self, irc: IRC, args: tuple[Any, ...], command: str, text: str) -> Eat | None:
        who = args[0] if args else None
        nick = who.split("!", 1)[0] if isinstance(who, str) else ""
        if not nick or " " in nick:
            return None
        irc.yield_("ctcpreply", nick, f"{command} {text}" if text else command)
        return Eat.CLIENT if self.eat else None
