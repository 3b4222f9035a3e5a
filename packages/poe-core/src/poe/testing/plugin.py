"""The ``poe`` pytest plugin: kernels for tests, on every loop backend, checked for leaks.

Installed with poe-core and registered through the ``pytest11`` entry point, so any project that
depends on poe-core gets these fixtures:

``kernel``
    A fresh :class:`poe.kernel.Kernel` on the real clock. After the test, the plugin checks that
    the kernel released every resource of every session (:func:`poe.testing.leaks`) and fails the
    test otherwise; mark a test ``@pytest.mark.poe_allow_leaks`` to skip that check.
``fake_clock`` / ``fake_kernel``
    A :class:`poe.testing.FakeClock` with autojump, and a kernel on it: timer tests take no real
    time.
``poe_loop``
    The loop backend name the test runs on.
``loopback``
    ``(address_family, host)`` for the IPv4 and the IPv6 loopback, one test each (IPv6 is
    skipped where ``::1`` cannot be bound).
``socket_dir``
    A new, short directory (``/tmp/poe-XXXXXXXX``) for UNIX-domain socket paths, removed after
    the test: ``tmp_path`` can exceed the 107 bytes a socket path may have.
``watchdog``
    A :class:`poe.testing.watchdog.Watchdog` on ``kernel`` (its first session), armed for 10
    seconds: ``watchdog.run()`` runs the kernel and fails the test if the scenario has not
    called ``watchdog.done()`` in time. A test that may skip must do so before this fixture is
    set up (request the skipping fixture first): a skip after it leaves the watchdog's timer to
    the leak check.
``tls_certificates`` / ``tls_server_context`` / ``tls_client_context``
    A throw-away CA and a server certificate for localhost and 127.0.0.1 (made once per test
    session with ``cryptography``; tests using them are skipped without it), and SSL contexts
    for both sides (:mod:`poe.testing.tls`).

Loop selection: ``--poe-loop=NAME`` (repeatable) or ``--poe-loop=all`` runs every test that uses
these fixtures once per backend (POE's t/30_loops idea); the default is ``POE_EVENT_LOOP`` or
asyncio. Backends that cannot be built here (uvloop not installed) are skipped with a reason.
"""

from __future__ import annotations

import functools
import os
import shutil
import socket
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from poe.kernel import Kernel
from poe.loop import BACKENDS, DEFAULT_BACKEND, available_loops
from poe.testing import FakeClock, leaks
from poe.testing import tls as _tls
from poe.testing.watchdog import Watchdog

if TYPE_CHECKING:
    import ssl
    from collections.abc import Iterator


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--poe-loop``."""
    group = parser.getgroup("poe")
    group.addoption(
        "--poe-loop",
        action="append",
        default=[],
        metavar="NAME",
        help=f"loop backend(s) for the kernel fixtures: {', '.join(BACKENDS)} or 'all'",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the plugin's markers."""
    config.addinivalue_line(
        "markers", "poe_allow_leaks: do not fail the test when its kernel still holds resources"
    )
    config.addinivalue_line(
        "markers", "poe_loops(*names): run this test only on these loop backends"
    )


def _selected_loops(config: pytest.Config) -> list[str]:
    names: list[str] = config.getoption("--poe-loop")
    if not names:
        return [os.environ.get("POE_EVENT_LOOP") or DEFAULT_BACKEND]
    if "all" in names:
        return list(BACKENDS)
    return names


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize every test that uses a kernel fixture over the selected loops."""
    if "poe_loop" not in metafunc.fixturenames:
        return
    loops = _selected_loops(metafunc.config)
    marker = metafunc.definition.get_closest_marker("poe_loops")
    if marker is not None:
        loops = [name for name in loops if name in marker.args]
    metafunc.parametrize("poe_loop", loops, scope="function")


@pytest.fixture
def poe_loop(request: pytest.FixtureRequest) -> str:
    """The loop backend name (parametrized by ``--poe-loop``)."""
    name: str = getattr(request, "param", None) or DEFAULT_BACKEND
    if name not in _available():
        pytest.skip(f"loop backend {name!r} cannot be built here")
    return name


@functools.cache
def _available() -> frozenset[str]:
    return frozenset(available_loops())


def _checked(kernel: Kernel, request: pytest.FixtureRequest) -> Iterator[Kernel]:
    yield kernel
    try:
        if request.node.get_closest_marker("poe_allow_leaks") is None:
            found = leaks(kernel)
            if found:
                pytest.fail("kernel leaked resources:\n  " + "\n  ".join(found), pytrace=False)
    finally:
        kernel.loop.close()


@pytest.fixture
def kernel(poe_loop: str, request: pytest.FixtureRequest) -> Iterator[Kernel]:
    """A fresh kernel on the real clock, leak-checked after the test."""
    yield from _checked(Kernel(loop=poe_loop), request)


@pytest.fixture
def watchdog(kernel: Kernel) -> Watchdog:
    """A :class:`~poe.testing.watchdog.Watchdog` on the test's kernel, armed for 10 seconds."""
    return Watchdog(kernel)


@pytest.fixture
def fake_clock() -> FakeClock:
    """A fake clock that jumps to the next timer as soon as nothing else is ready."""
    return FakeClock()


@pytest.fixture
def fake_kernel(
    poe_loop: str, fake_clock: FakeClock, request: pytest.FixtureRequest
) -> Iterator[Kernel]:
    """A fresh kernel on :func:`fake_clock`, leak-checked after the test."""
    yield from _checked(Kernel(loop=poe_loop, clock=fake_clock), request)


@pytest.fixture(scope="session")
def tls_certificates(tmp_path_factory: pytest.TempPathFactory) -> _tls.Certificates:
    """A test CA and a server certificate signed by it (skips without ``cryptography``)."""
    pytest.importorskip("cryptography")
    return _tls.make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def tls_server_context(tls_certificates: _tls.Certificates) -> ssl.SSLContext:
    """A server-side SSL context presenting the test server certificate."""
    return _tls.server_context(tls_certificates)


@pytest.fixture
def tls_client_context(tls_certificates: _tls.Certificates) -> ssl.SSLContext:
    """A client-side SSL context that trusts only the test CA."""
    return _tls.client_context(tls_certificates)


@functools.cache
def _ipv6_loopback() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.fixture(
    params=[(socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")], ids=["ipv4", "ipv6"]
)
def loopback(request: pytest.FixtureRequest) -> tuple[int, str]:
    """``(address_family, host)`` of a loopback interface; the test runs on IPv4 and IPv6."""
    family, host = request.param
    if family == socket.AF_INET6 and not _ipv6_loopback():
        pytest.skip("no IPv6 loopback here")
    return (family, host)


@pytest.fixture
def socket_dir() -> Iterator[Path]:
    """A short directory for UNIX-domain socket paths (``tmp_path`` may be too long for one)."""
    path = Path(tempfile.mkdtemp(prefix="poe-", dir="/tmp" if os.path.isdir("/tmp") else None))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
