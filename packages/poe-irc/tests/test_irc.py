from __future__ import annotations

from importlib.metadata import entry_points

import pytest

import poe.irc


def test_public_api_is_declared() -> None:
    assert all(hasattr(poe.irc, name) for name in poe.irc.__all__)


def test_registered_as_poe_component() -> None:
    found = {ep.name: ep.value for ep in entry_points(group="poe.components")}
    assert found.get("irc") == "poe.irc"


def test_bundled_plugins_are_published_as_entry_points() -> None:
    from poe.irc.plugin import PluginError, available_plugins, load_plugin
    from poe.irc.plugins import State

    names = available_plugins()
    assert {"AutoJoin", "BotCommand", "Connector", "CTCP", "Logger", "NickReclaim", "State"} <= set(
        names
    )
    for name in names:
        assert callable(load_plugin(name))
    assert load_plugin("State") is State
    with pytest.raises(PluginError, match="no plugin named 'Nope'"):
        load_plugin("Nope")
