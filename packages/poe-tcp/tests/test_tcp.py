from __future__ import annotations

from importlib.metadata import entry_points

import poe.tcp


def test_public_api_is_declared() -> None:
    assert all(hasattr(poe.tcp, name) for name in poe.tcp.__all__)


def test_registered_as_poe_component() -> None:
    found = {ep.name: ep.value for ep in entry_points(group="poe.components")}
    assert found.get("tcp") == "poe.tcp"
