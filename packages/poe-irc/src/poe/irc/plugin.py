"""The plugin API: objects that see every IRC event and command before sessions do.

The port of POE::Component::IRC's plugin system (Object::Pluggable). A plugin is any object;
the component finds its hooks by name when it is added:

* ``irc_<event>(self, irc, *args)`` for an event from the server (``irc_public``,
  ``irc_001``, ``irc_disconnected``, ...), with the same arguments sessions get. Object::
  Pluggable's ``S_<event>``.
* ``cmd_<command>(self, irc, *args)`` for a command a session (or plugin) asked the component
  to send (``cmd_privmsg``, ``cmd_join``, ...), with the command's arguments. Object::
  Pluggable's ``U_<command>``.
* ``irc_message(self, irc, msg)``: every :class:`~poe.irc.message.Message` from the server,
  first, before it becomes an event (no return value); what a state tracker needs.
* ``plugin_register(self, irc)`` and ``plugin_unregister(self, irc)`` when it is added and
  removed (``PCI_register``, ``PCI_unregister``).

Plugins published by other distributions are found by name through the ``poe.irc.plugins``
entry point group (:func:`available_plugins`, :func:`load_plugin`); the bundled ones are
registered there too.

A hook returns an :class:`Eat` (or None, which is ``Eat.NONE``). Hooks run in pipeline order,
inside the component's session; an exception in a hook is logged and reported to sessions as
``irc_plugin_error(message, plugin_name, event)``, and counts as ``Eat.NONE``.
"""

from __future__ import annotations

import enum
import logging
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "ENTRY_POINT_GROUP",
    "Eat",
    "Pipeline",
    "PluginError",
    "available_plugins",
    "load_plugin",
]

ENTRY_POINT_GROUP = "poe.irc.plugins"
"""The entry point group plugins are published under: ``name = "package.module:Class"``."""

log = logging.getLogger("poe.irc")


class Eat(enum.IntEnum):
    """What a hook leaves of an event (POE::Component::IRC's ``PCI_EAT_*`` constants)."""

    NONE = 1
    """Everyone else gets it too."""
    CLIENT = 2
    """Later plugins get it; sessions do not (a command: it is not sent)."""
    PLUGIN = 3
    """Sessions get it (a command: it is sent); later plugins do not."""
    ALL = 4
    """Nobody else gets it."""


class PluginError(Exception):
    """A plugin could not be added or removed (name taken, unknown name, bad ``before``)."""


def available_plugins() -> list[str]:
    """The names of the plugins installed under :data:`ENTRY_POINT_GROUP`, sorted."""
    return sorted({ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)})


def load_plugin(name: str) -> Any:
    """Return the plugin class (or factory) published as ``name``.

    Raises:
        PluginError: no installed distribution publishes a plugin of that name.
    """
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == name:
            return ep.load()
    msg = f"no plugin named {name!r} is installed (have: {', '.join(available_plugins())})"
    raise PluginError(msg)


class Pipeline:
    """The ordered plugins of one component and the hooks found on them."""

    __slots__ = ("_hooks", "_plugins")

    def __init__(self) -> None:
        self._plugins: dict[str, Any] = {}
        self._hooks: dict[str, list[tuple[str, Callable[..., Any]]]] = {}

    def __len__(self) -> int:
        return len(self._plugins)

    def __contains__(self, name: object) -> bool:
        return name in self._plugins

    def names(self) -> list[str]:
        """The plugins' names, in pipeline order."""
        return list(self._plugins)

    def get(self, name: str) -> Any:
        """The plugin added as ``name``, or None."""
        return self._plugins.get(name)

    def name_of(self, plugin: Any) -> str | None:
        """The name ``plugin`` was added under, or None."""
        for name, candidate in self._plugins.items():
            if candidate is plugin:
                return name
        return None

    def add(self, name: str, plugin: Any, before: str | None = None) -> None:
        """Add ``plugin`` under ``name``, last or just before the plugin named ``before``.

        Raises:
            PluginError: ``name`` is taken or empty, or ``before`` names no plugin.
        """
        given: object = name  # callers may be untyped
        if not isinstance(given, str) or not given:
            msg = f"a plugin needs a non-empty name, not {name!r}"
            raise PluginError(msg)
        if name in self._plugins:
            msg = f"a plugin named {name!r} is already loaded"
            raise PluginError(msg)
        if before is not None and before not in self._plugins:
            msg = f"no plugin named {before!r} to insert {name!r} before"
            raise PluginError(msg)
        items = list(self._plugins.items())
        at = len(items) if before is None else self.names().index(before)
        items.insert(at, (name, plugin))
        self._plugins = dict(items)
        self._rebuild()

    def remove(self, name: str) -> Any:
        """Remove the plugin named ``name`` and return it.

        Raises:
            PluginError: no plugin has that name.
        """
        try:
            plugin = self._plugins.pop(name)
        except KeyError:
            msg = f"no plugin named {name!r} is loaded"
            raise PluginError(msg) from None
        self._rebuild()
        return plugin

    def hooks(self, hook: str) -> list[tuple[str, Callable[..., Any]]]:
        """The ``(name, bound method)`` pairs for hook ``hook`` (``irc_public``), in order."""
        return self._hooks.get(hook, [])

    def _rebuild(self) -> None:
        # Built when the pipeline changes, so dispatching an event costs one dict lookup.
        hooks: dict[str, list[tuple[str, Callable[..., Any]]]] = {}
        for name, plugin in self._plugins.items():
            for attr in dir(plugin):
                if attr.startswith(("irc_", "cmd_")):
                    method = getattr(plugin, attr, None)
                    if callable(method):
                        hooks.setdefault(attr, []).append((name, method))
        self._hooks = hooks

    def run(
        self, hook: str, irc: Any, args: tuple[Any, ...], on_error: Callable[[str, str, str], None]
    ) -> bool:
        """Run every plugin's ``hook`` with ``(irc, *args)``; True if sessions should get it.

        A hook returning :attr:`Eat.PLUGIN` or :attr:`Eat.ALL` stops the pipeline;
        :attr:`Eat.CLIENT` or :attr:`Eat.ALL` keeps the event from sessions. An exception in
        a hook is passed to ``on_error(message, plugin_name, hook)`` and the pipeline goes on.
        """
        to_sessions = True
        for name, method in self._hooks.get(hook, ()):
            eat = _guarded(name, method, hook, irc, args, on_error)
            if eat is None or eat == Eat.NONE:
                continue
            if eat in (Eat.CLIENT, Eat.ALL):
                to_sessions = False
            if eat in (Eat.PLUGIN, Eat.ALL):
                break
        return to_sessions

    def notify(
        self, hook: str, irc: Any, args: tuple[Any, ...], on_error: Callable[[str, str, str], None]
    ) -> None:
        """Run every plugin's ``hook`` with ``(irc, *args)``, whatever they return.

        For ``irc_message``, which is not an event: nothing can be eaten. Exceptions go to
        ``on_error`` as in :meth:`run`.
        """
        for name, method in self._hooks.get(hook, ()):
            _guarded(name, method, hook, irc, args, on_error)


def _guarded(
    name: str,
    method: Callable[..., Any],
    hook: str,
    irc: Any,
    args: tuple[Any, ...],
    on_error: Callable[[str, str, str], None],
) -> Any:
    """``method(irc, *args)``; an exception is logged, passed to ``on_error``, and gives None."""
    try:
        return method(irc, *args)
    except Exception as exc:  # one plugin's bug must not stop the others
        log.exception("poe.irc plugin %r failed in %s", name, hook)
        on_error(f"{type(exc).__name__}: {exc}", name, hook)
        return None
