"""State tracking as a plugin: POE::Component::IRC::State.

POE::Component::IRC::State is a subclass of the component; here it is a plugin, so it
combines with any other plugin and can be added to a running component. The tracking itself
is :class:`poe.irc.state.IRCState` (sans I/O); this plugin feeds it every message the server
sends, resets it when a connection ends, and asks the server what a JOIN does not tell.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from poe.irc.state import IRCState

if TYPE_CHECKING:
    from poe.irc.component import IRC
    from poe.irc.message import Message

__all__ = ["State"]


class State(IRCState):
    """Track channels, nicks, modes, topics and away status for one component.

    Add it first (``irc.plugin_add("State", State())``, or ``before=`` the first plugin), so
    the state is up to date when later plugins and sessions see an event. Query it with the
    :class:`~poe.irc.state.IRCState` methods: ``channels()``, ``channel_list(chan)``,
    ``is_channel_operator(chan, nick)``, ``channel_topic(chan)``, ``nick_info(nick)``,
    ``is_away(nick)``, ...

    Args:
        who_on_join: after joining a channel, ask ``WHO`` (user, host, real name, away for
            every member) and ``MODE`` (the channel's modes), as POE's State does. Once both
            answers are in, sessions get ``irc_chan_sync(channel, None)`` (POE's event) and
            :meth:`is_channel_synced` says so.

    Everything the server sends goes through :meth:`irc_message` before it becomes an event,
    so handlers of ``irc_join``, ``irc_kick``, ... see the state *after* the message (a user
    who quit is already gone: ``irc_quit`` handlers that need the user's channels should ask
    before, in a plugin, or keep their own copy).
    """

    def __init__(self, *, who_on_join: bool = True) -> None:
        self._syncing: dict[str, set[str]] = {}  # folded channel -> answers still awaited
        super().__init__()
        self.who_on_join = who_on_join

    def reset(self) -> None:
        """Forget everything (see :meth:`IRCState.reset <poe.irc.state.IRCState.reset>`)."""
        super().reset()
        self._syncing.clear()

    def is_channel_synced(self, channel: str) -> bool:
        """True once we are on ``channel`` and the answers to our ``WHO`` and ``MODE`` are in."""
        key = self.isupport.fold(channel)
        joined = any(self.isupport.fold(name) == key for name in self.channels())
        return joined and key not in self._syncing

    def plugin_register(self, irc: IRC) -> None:
        """Start from what the component knows: our nick."""
        self.reset()
        self.nick = irc.nick_name()

    def plugin_unregister(self, irc: IRC) -> None:
        """Forget everything."""
        self.reset()

    def irc_message(self, irc: IRC, msg: Message) -> None:
        """Take in every message, before any event is made of it."""
        self.update(msg)

    def irc_connected(self, irc: IRC, *args: Any) -> None:
        """A new connection: start afresh, with the nick we are registering with."""
        self.reset()
        self.nick = irc.nick_name()

    def irc_disconnected(self, irc: IRC, *args: Any) -> None:
        """Nothing is known once the connection is gone."""
        self.reset()

    def irc_join(self, irc: IRC, who: str, channel: str, *args: Any) -> None:
        """On our own JOIN, ask for the members' details and the channel's modes."""
        nick = who.partition("!")[0]
        me = self.nick
        if (
            self.who_on_join
            and me is not None
            and self.isupport.fold(nick) == self.isupport.fold(me)
        ):
            self._syncing[self.isupport.fold(channel)] = {"who", "mode"}
            irc.yield_("who", channel)
            irc.yield_("mode", channel)

    def irc_315(self, irc: IRC, server: str, text: str, params: list[str], *args: Any) -> None:
        """End of a ``WHO``: one of the two answers a joined channel waits for."""
        if params:
            self._answered(irc, params[0], "who")

    def irc_324(self, irc: IRC, server: str, text: str, params: list[str], *args: Any) -> None:
        """The channel's modes: the other answer."""
        if params:
            self._answered(irc, params[0], "mode")

    def _answered(self, irc: IRC, channel: str, what: str) -> None:
        key = self.isupport.fold(channel)
        waiting = self._syncing.get(key)
        if waiting is None:
            return
        waiting.discard(what)
        if not waiting:
            del self._syncing[key]
            irc.send_event_next("irc_chan_sync", channel, None)
