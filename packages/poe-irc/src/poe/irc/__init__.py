"""IRC client component and bot toolkit: POE::Component::IRC and its plugins for Python.

``poe.irc`` ships in the ``poe-irc`` distribution and runs on ``poe-core``'s kernel.
This module only re-exports the public API, listed in ``__all__``.
"""

from __future__ import annotations

from poe.irc.bot import Bot, BotContext
from poe.irc.component import DEFAULT_CAPS, IRC
from poe.irc.events import ctcp_quote
from poe.irc.filter import IRCFilter
from poe.irc.flood import FloodControl
from poe.irc.isupport import ISupport
from poe.irc.message import Message, ParseError, parse
from poe.irc.plugin import Eat, PluginError
from poe.irc.split import split_text, text_budget

__all__ = [
    "DEFAULT_CAPS",
    "IRC",
    "Bot",
    "BotContext",
    "Eat",
    "FloodControl",
    "IRCFilter",
    "ISupport",
    "Message",
    "ParseError",
    "PluginError",
    "ctcp_quote",
    "parse",
    "split_text",
    "text_budget",
]
