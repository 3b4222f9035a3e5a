"""Connector: keeps an IRC component connected, and measures the lag (PoCo::IRC::Plugin::Connector).

The port of POE::Component::IRC::Plugin::Connector (the POE Cookbook's "IRC bot reconnecting"
algorithm): reconnect when the connection is lost, with an exponential backoff instead of
PoCo's fixed wait, and ping the server at regular intervals to notice a link that died
silently.

Rules:

* A reconnect is armed by ``irc_disconnected`` and ``irc_socketerr`` (and by ``irc_error``
  when it comes without a connection). Only one reconnect timer exists at a time; a new
  connection (``irc_connected``) cancels it, and ``irc_001`` resets the backoff.
* While connected, every ``delay`` seconds: if the server has not welcomed us yet, or has not
  answered the previous lag ``PING``, the link is taken for dead: the plugin posts
  ``disconnect`` and the reconnect follows. Otherwise it sends a new lag ``PING``.
* As PoCo's, the plugin reconnects after a ``QUIT`` a session asked for (``quit``), and after
  a ``disconnect``: the link is gone, like any other disconnection. To go offline for good,
  post ``shutdown`` to the component (which removes every plugin, this one included, before
  a reconnect can happen), or remove this plugin first.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from poe.errors import InvalidArgument
from poe.tcp import Backoff

if TYPE_CHECKING:
    from collections.abc import Iterable

    from poe.irc.component import IRC
    from poe.irc.plugin import Eat

__all__ = ["Connector"]

_DEFAULT_RECONNECT = 60.0
_TOKENS = itertools.count(1)

#: A server to rotate through: (host, port, extra ``connect`` options).
Server = tuple[str, int, dict[str, Any]]


class Connector:
    """Reconnect a component whenever it loses its server; measure the lag with ``PING``.

    Args:
        delay: seconds between two lag checks while connected (PoCo's ``delay``). A check
            sends ``PING :<token>``; a check that finds the previous ``PING`` unanswered (or
            the server still not welcoming us) drops the connection, and the reconnect follows.
        reconnect: the longest wait between two connection attempts, in seconds (PoCo's
            ``reconnect``, default 60): the cap of the default backoff, which starts at one
            second and doubles with 10 % jitter. Cannot be given with ``backoff``.
        servers: servers to try in turn, one per reconnect: ``(host, port)`` or ``(host,
            port, options)`` where ``options`` are more ``connect`` options (``password``,
            ``tls``, ...). Without it, the component reconnects to the server it had.
        backoff: the :class:`~poe.tcp.Backoff` that spaces the attempts (reset on ``001``).

    Events used: ``irc_connected``, ``irc_001``, ``irc_pong``, ``irc_disconnected``,
    ``irc_socketerr``, ``irc_error``. None is eaten: sessions see them all, and the lag
    ``PONG`` too. Timers run with :meth:`IRC.delay <poe.irc.component.IRC.delay>` and are
    cancelled when the plugin is removed (and so at the component's ``shutdown``).

    Raises:
        InvalidArgument: a malformed option, or both ``reconnect`` and ``backoff``.
    """

    def __init__(
        self,
        delay: float = 300.0,
        reconnect: float | None = None,
        servers: Iterable[tuple[str, int] | tuple[str, int, Mapping[str, Any]]] | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self.delay = _positive(delay, "delay")
        if backoff is not None and reconnect is not None:
            msg = "Connector: give reconnect or backoff, not both"
            raise InvalidArgument(msg)
        given: object = backoff  # checked at run time: callers may not be type-checked
        if isinstance(given, Backoff):
            self.backoff = given
        elif given is None:
            cap = _DEFAULT_RECONNECT if reconnect is None else _positive(reconnect, "reconnect")
            self.backoff = Backoff(initial=min(1.0, cap), maximum=cap)
        else:
            msg = f"Connector: backoff must be a poe.tcp.Backoff, not {backoff!r}"
            raise InvalidArgument(msg)
        self.servers: list[Server] = [_server(entry) for entry in servers or ()]
        self._next_server = 0
        self._irc: IRC | None = None
        self._reconnect_timer: int | None = None
        self._check_timer: int | None = None
        self._ping_token: str | None = None
        self._ping_sent = 0.0
        self._lag: float | None = None

    def lag(self) -> float | None:
        """Seconds the last lag ``PING`` took to come back, or None before the first ``PONG``."""
        return self._lag

    # -- plugin API -----------------------------------------------------------------------

    def plugin_register(self, irc: IRC) -> None:
        """Start watching ``irc`` (lag checks start at once if it is already connected)."""
        self._irc = irc
        if irc.connected:
            self._start_checks(irc)

    def plugin_unregister(self, irc: IRC) -> None:
        """Cancel every timer; no reconnect happens after this."""
        self._cancel_reconnect(irc)
        self._stop_checks(irc)
        self._irc = None

    def irc_connected(self, irc: IRC, *args: Any) -> Eat | None:
        """A new connection: no reconnect is pending any more; check it every ``delay``."""
        self._cancel_reconnect(irc)
        self._start_checks(irc)
        return None

    def irc_001(self, irc: IRC, *args: Any) -> Eat | None:
        """Welcomed: the attempts start again from the backoff's first delay."""
        self.backoff.reset()
        return None

    def irc_pong(self, irc: IRC, *args: Any) -> Eat | None:
        """The answer to a lag ``PING`` (matched by its token) gives :meth:`lag`."""
        token = self._ping_token
        if token is not None and token in args:
            self._lag = time.monotonic() - self._ping_sent
            self._ping_token = None
        return None

    def irc_disconnected(self, irc: IRC, *args: Any) -> Eat | None:
        """The link is gone: reconnect after the backoff's next delay."""
        self._lost(irc)
        return None

    def irc_socketerr(self, irc: IRC, *args: Any) -> Eat | None:
        """A connection attempt failed: try again after the backoff's next delay."""
        self._lost(irc)
        return None

    def irc_error(self, irc: IRC, *args: Any) -> Eat | None:
        """The server's ``ERROR``: the disconnection it announces arms the reconnect."""
        if not irc.connected:
            self._lost(irc)
        return None

    # -- reconnecting ---------------------------------------------------------------------

    def _lost(self, irc: IRC) -> None:
        self._stop_checks(irc)
        if self._irc is None or self._reconnect_timer is not None:
            return
        self._reconnect_timer = irc.delay(self.backoff.next(), self._reconnect)

    def _reconnect(self) -> None:
        self._reconnect_timer = None
        irc = self._irc
        if irc is None or irc.connected:
            return
        if not self.servers:
            irc.yield_("connect")
            return
        host, port, options = self.servers[self._next_server % len(self.servers)]
        self._next_server += 1
        irc.yield_("connect", {**options, "server": host, "port": port})

    def _cancel_reconnect(self, irc: IRC) -> None:
        if self._reconnect_timer is not None:
            irc.delay_remove(self._reconnect_timer)
            self._reconnect_timer = None

    # -- lag checks -----------------------------------------------------------------------

    def _start_checks(self, irc: IRC) -> None:
        self._stop_checks(irc)
        self._check_timer = irc.delay(self.delay, self._check)

    def _stop_checks(self, irc: IRC) -> None:
        self._ping_token = None
        if self._check_timer is not None:
            irc.delay_remove(self._check_timer)
            self._check_timer = None

    def _check(self) -> None:
        self._check_timer = None
        irc = self._irc
        if irc is None or not irc.connected:
            return
        if not irc.logged_in or self._ping_token is not None:
            # No welcome, or no PONG within a whole period: the link is dead or stuck.
            self._ping_token = None
            irc.yield_("disconnect")
            return
        self._ping_token = f"poe-irc-lag-{next(_TOKENS)}"
        self._ping_sent = time.monotonic()
        irc.yield_("quote", f"PING :{self._ping_token}")
        self._check_timer = irc.delay(self.delay, self._check)


def _positive(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        msg = f"Connector: {name} must be a positive number of seconds, not {value!r}"
        raise InvalidArgument(msg)
    return float(value)


def _server(entry: object) -> Server:
    if isinstance(entry, tuple) and len(entry) in (2, 3):
        host, port, *rest = entry
        options = rest[0] if rest else {}
        if (
            isinstance(host, str)
            and isinstance(port, int)
            and not isinstance(port, bool)
            and isinstance(options, Mapping)
        ):
            return (host, port, dict(options))
    msg = f"Connector: a server is (host, port) or (host, port, options), not {entry!r}"
    raise InvalidArgument(msg)
