"""Fixtures for the poe-irc tests: real IRC servers on loopback (see ``ircd.py``).

* ``ngircd``: a fresh ngIRCd 26 per test (ready in ~15 ms, clients register at once), flood
  penalties off. ``ngircd_penalties``: the same with ngIRCd's default flood penalties.
  ``ngircd_tls``: the same, also listening for TLS on ``tls_port`` (the test CA's certificate).
* ``inspircd``: InspIRCd 3 with the IRCv3 modules (``CAP LS``: message-tags, server-time,
  multi-prefix, away-notify, extended-join, account-notify, userhost-in-names, ...), one per
  session, because every registration on it takes about a second (001 waits for its tick).
* ``inspircd_strict``: InspIRCd 3 with flood limits: a client more than 10 commands ahead of
  one a second is disconnected ("Excess Flood"). One per session.
* ``inspircd_services``: InspIRCd 3 + Atheme 7.2 (NickServ, SaslServ), one per session;
  SASL PLAIN with ``server.account`` gets 903, a wrong password 904.
* ``raw_client``: the :func:`ircd.raw_client` context manager, ``raw_client(server)``.
* ``converse``: ``converse(server, start, stop, script, bot="bot")`` runs ``script(user)``
  with a raw user in ``#test`` once the bot joined (``support.converse``).
* ``recorder``: ``recorder(irc)`` makes a ``support.Recorder`` session (in ``irc``'s kernel),
  registered for all of ``irc``'s events, that connects it.
* ``raw_peer``: ``raw_peer(script, kernel=None)`` makes a ``support.RawPeer``, a one-connection IRC "server"
  on 127.0.0.1 whose answers ``script(peer, ctx, line)`` writes.

The shared servers are restarted for the next test if a test stopped them. Each server fixture
skips when its daemon is not installed (``./dev test`` apt-installs them when run as root).
The test modules cannot import this conftest or ``ircd`` by name (pytest imports them in
importlib mode): they get everything through the fixtures and import ``ircd`` for types only.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from contextlib import AbstractContextManager

    import ircd
    import support
    from ircd import IRCServer, RawClient
    from poe.irc import IRC
    from poe.kernel import Kernel


def _load_sibling(name: str) -> object:
    """Import ``tests/<name>.py`` under a private module name (no sys.path change)."""
    qualified = f"_poe_irc_tests_{name}"
    if qualified in sys.modules:
        return sys.modules[qualified]
    spec = importlib.util.spec_from_file_location(qualified, Path(__file__).with_name(f"{name}.py"))
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[qualified] = module
    spec.loader.exec_module(module)
    return module


if not TYPE_CHECKING:
    ircd = _load_sibling("ircd")
    support = _load_sibling("support")


def _skip_unless_available(cls: type[IRCServer]) -> None:
    reason = cls.available()
    if reason is not None:
        pytest.skip(f"{reason}; `./dev test` installs it when run as root")


def _ensure_running(server: IRCServer) -> IRCServer:
    """Restart a shared server that an earlier test stopped (or killed)."""
    if not server.running:
        server.stop()
        server.start()
    return server


@pytest.fixture
def ngircd() -> Iterator[ircd.NgIRCd]:
    """A fresh ngIRCd for this test: no flood penalties, operator ``server.oper``."""
    _skip_unless_available(ircd.NgIRCd)
    with ircd.NgIRCd() as server:
        yield server


@pytest.fixture
def ngircd_penalties() -> Iterator[ircd.NgIRCd]:
    """A fresh ngIRCd with its default flood penalties (for flood-control tests)."""
    _skip_unless_available(ircd.NgIRCd)
    with ircd.NgIRCd(penalties=True) as server:
        yield server


@pytest.fixture
def ngircd_tls(tls_certificates: Any) -> Iterator[ircd.NgIRCd]:
    """A fresh ngIRCd that also speaks TLS on ``server.tls_port`` (the test CA's certificate)."""
    _skip_unless_available(ircd.NgIRCd)
    with ircd.NgIRCd(tls=(tls_certificates.cert, tls_certificates.key)) as server:
        yield server


@pytest.fixture(scope="session")
def _inspircd_shared() -> Iterator[ircd.InspIRCd]:
    _skip_unless_available(ircd.InspIRCd)
    with ircd.InspIRCd() as server:
        yield server


@pytest.fixture
def inspircd(_inspircd_shared: ircd.InspIRCd) -> ircd.InspIRCd:
    """The session's InspIRCd (IRCv3 caps, no services); running when the test starts."""
    _ensure_running(_inspircd_shared)
    return _inspircd_shared


@pytest.fixture(scope="session")
def _inspircd_strict_shared() -> Iterator[ircd.InspIRCd]:
    _skip_unless_available(ircd.InspIRCd)
    with ircd.InspIRCd(flood_threshold=10) as server:
        yield server


@pytest.fixture
def inspircd_strict(_inspircd_strict_shared: ircd.InspIRCd) -> ircd.InspIRCd:
    """An InspIRCd that disconnects a client 10 commands ahead ("Excess Flood"), one per session."""
    _ensure_running(_inspircd_strict_shared)
    return _inspircd_strict_shared


@pytest.fixture(scope="session")
def _inspircd_services_shared() -> Iterator[ircd.InspIRCdServices]:
    _skip_unless_available(ircd.InspIRCdServices)
    with ircd.InspIRCdServices() as server:
        yield server


@pytest.fixture
def inspircd_services(_inspircd_services_shared: ircd.InspIRCdServices) -> ircd.InspIRCdServices:
    """The session's InspIRCd + Atheme: SASL PLAIN for ``server.account``, ``sasl`` in CAP LS."""
    _ensure_running(_inspircd_services_shared)
    return _inspircd_services_shared


@pytest.fixture
def raw_client() -> Callable[..., AbstractContextManager[RawClient]]:
    """``with raw_client(server) as client:``, a blocking line client (see ``ircd.RawClient``)."""
    return ircd.raw_client


@pytest.fixture
def recorder(kernel: Kernel) -> Callable[..., support.Recorder]:
    """``recorder(irc, connect=True)``: a session recording every event of ``irc``."""

    def make(irc: IRC, *, connect: bool = True) -> support.Recorder:
        return support.Recorder(irc.kernel, irc, connect=connect)

    return make


@pytest.fixture
def raw_peer(kernel: Kernel) -> Callable[..., support.RawPeer]:
    """``raw_peer(script, kernel=None)``: a scripted raw server (``support.RawPeer``).

    It runs in ``kernel``, by default the test's (a property test makes a kernel per example).
    """

    test_kernel = kernel

    def make(script: Callable[..., None], kernel: Kernel | None = None) -> support.RawPeer:
        return support.RawPeer(test_kernel if kernel is None else kernel, script)

    return make


@pytest.fixture
def converse(kernel: Kernel) -> Callable[..., Any]:
    """``support.converse`` on the test's kernel, with raw clients."""
    return functools.partial(support.converse, kernel, ircd.raw_client)
