"""Ready-made plugins for the IRC component: the ports of ``POE::Component::IRC::Plugin::*``.

This module only re-exports them; each lives in its own module. Add one with
``irc.plugin_add(name, plugin)``; see :mod:`poe.irc.plugin` for the plugin API.
"""

from __future__ import annotations

from poe.irc.plugins.autojoin import AutoJoin
from poe.irc.plugins.botcommand import BotCommand
from poe.irc.plugins.connector import Connector
from poe.irc.plugins.ctcp import CTCP
from poe.irc.plugins.logger import Logger
from poe.irc.plugins.nickreclaim import NickReclaim
from poe.irc.plugins.state import State

__all__ = ["CTCP", "AutoJoin", "BotCommand", "Connector", "Logger", "NickReclaim", "State"]
