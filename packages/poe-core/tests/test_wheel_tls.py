"""ReadWriteWheel over TLSDriver: a TLS echo server and client on 127.0.0.1, on every loop.

Both ends live in one session: a SocketFactoryWheel listens, another connects, and each
connected socket gets a ReadWriteWheel with a TLSDriver and a LineFilter. The certificates (a CA
and a server certificate for localhost / 127.0.0.1) are generated for the test.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable
from typing import Any

import pytest

from poe.driver import TLSDriver
from poe.driver._base import Handle
from poe.filter import LineFilter
from poe.kernel import Kernel
from poe.session import Context, Session
from poe.wheel import ReadWriteWheel, SocketFactoryWheel

HOST = "127.0.0.1"
WATCHDOG_SECONDS = 30.0
LINES = [f"line {i}: {'é' * i}" for i in range(20)]


# -- certificates -------------------------------------------------------------------------------


# -- the harness --------------------------------------------------------------------------------


class CountingTLSDriver(TLSDriver):
    """A TLSDriver that counts its flushes (to catch a write watcher that spins)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.flushes = 0

    def flush(self, handle: Handle) -> int:
        self.flushes += 1
        return super().flush(handle)


Hook = Callable[..., None]


class TLSRun:
    """A TLS server and client in one session; per-side hooks get ``(run, side, *event args)``.

    Hooks: ``ready`` (the wheel was just made), ``input``, ``error``, ``flushed``. Every event is
    logged as ``(side, kind, *args)`` without the wheel id. An ``error`` without a hook closes
    that side's wheel (and its socket).
    """

    def __init__(
        self,
        kernel: Kernel,
        server_context: ssl.SSLContext,
        client_context: ssl.SSLContext,
        *,
        client_ragged_eofs: bool = True,
    ) -> None:
        self.kernel = kernel
        self.server_context = server_context
        self.client_context = client_context
        self.client_ragged_eofs = client_ragged_eofs
        self.hooks: dict[tuple[str, str], Hook] = {}
        self.log: list[tuple[Any, ...]] = []
        self.wheels: dict[str, ReadWriteWheel] = {}
        self.drivers: dict[str, CountingTLSDriver] = {}
        self.factories: dict[str, SocketFactoryWheel] = {}
        self.sides: dict[int, str] = {}

    def on(self, side: str, kind: str, hook: Hook) -> None:
        self.hooks[side, kind] = hook

    def put(self, side: str, *records: Any) -> None:
        self.wheels[side].put(*records)

    def close(self, side: str, *, flush: bool = False) -> None:
        """Close one side's wheel and socket; once nothing is left, drop the watchdog."""
        wheel = self.wheels.pop(side, None)
        if wheel is not None:
            wheel.close(flush=flush, close_handles=True)
        self._maybe_done()

    def close_all(self) -> None:
        for name in list(self.factories):
            self.factories.pop(name).close()
        for side in list(self.wheels):
            self.close(side)

    def _maybe_done(self) -> None:
        if not self.wheels and not self.factories:
            self.kernel.delay("watchdog")

    def run(self) -> None:
        Session.create(
            self.kernel,
            inline_states={
                "_start": self._start,
                "accepted": self._accepted,
                "connected": self._connected,
                "failed": self._failed,
                "input": self._input,
                "error": self._error,
                "flushed": self._flushed,
                "watchdog": self._watchdog,
            },
        )
        self.kernel.run()

    # -- states --

    def _start(self, ctx: Context) -> None:
        listener = self.factories["listener"] = SocketFactoryWheel(
            ctx.kernel,
            bind_address=HOST,
            bind_port=0,
            reuse=True,
            success_event="accepted",
            failure_event="failed",
        )
        port = listener.getsockname()[1]
        self.factories["connector"] = SocketFactoryWheel(
            ctx.kernel,
            remote_address=HOST,
            remote_port=port,
            success_event="connected",
            failure_event="failed",
        )
        ctx.kernel.delay("watchdog", WATCHDOG_SECONDS)

    def _make(self, side: str, sock: socket.socket, driver: CountingTLSDriver) -> None:
        wheel = ReadWriteWheel(
            self.kernel,
            handle=sock,
            driver=driver,
            filter=LineFilter(),
            input_event="input",
            error_event="error",
            flushed_event="flushed",
        )
        self.wheels[side] = wheel
        self.drivers[side] = driver
        self.sides[wheel.ID] = side
        hook = self.hooks.get((side, "ready"))
        if hook is not None:
            hook(self, side)

    def _accepted(self, ctx: Context, sock: socket.socket, *args: Any) -> None:
        self.factories.pop("listener").close()
        driver = CountingTLSDriver(self.server_context, server_side=True)
        self._make("server", sock, driver)

    def _connected(self, ctx: Context, sock: socket.socket, *args: Any) -> None:
        self.factories.pop("connector").close()
        driver = CountingTLSDriver(
            self.client_context,
            server_hostname="localhost",
            suppress_ragged_eofs=self.client_ragged_eofs,
        )
        self._make("client", sock, driver)

    def _failed(self, ctx: Context, *args: Any) -> None:
        self.log.append(("factory", "failed", *args))
        self.close_all()

    def _dispatch(self, kind: str, wheel_id: int, *args: Any) -> str:
        side = self.sides[wheel_id]
        self.log.append((side, kind, *args))
        hook = self.hooks.get((side, kind))
        if hook is not None:
            hook(self, side, *args)
        return side

    def _input(self, ctx: Context, record: str, wheel_id: int) -> None:
        self._dispatch("input", wheel_id, record)

    def _error(self, ctx: Context, op: str, code: int, text: str, wheel_id: int) -> None:
        side = self.sides[wheel_id]
        if (side, "error") in self.hooks:
            self._dispatch("error", wheel_id, op, code, text)
        else:
            self.log.append((side, "error", op, code, text))
            self.close(side)

    def _flushed(self, ctx: Context, wheel_id: int) -> None:
        side = self.sides[wheel_id]
        driver = self.drivers[side]
        # Both queues are empty: the application data and the ciphertext.
        assert driver.get_out_octets_buffered() == 0
        assert not driver.want_write
        self._dispatch("flushed", wheel_id)

    def _watchdog(self, ctx: Context) -> None:
        self.log.append(("watchdog", "timeout"))
        self.close_all()

    # -- reading the log --

    def records(self, side: str) -> list[str]:
        return [entry[2] for entry in self.log if entry[:2] == (side, "input")]

    def errors(self, side: str) -> list[tuple[Any, ...]]:
        return [entry[2:] for entry in self.log if entry[:2] == (side, "error")]

    def count(self, side: str, kind: str) -> int:
        return sum(1 for entry in self.log if entry[:2] == (side, kind))


def echo_server(run: TLSRun) -> None:
    """The server echoes every line; at end of file it closes."""
    run.on("server", "input", lambda r, side, line: r.put(side, line))


# -- tests --------------------------------------------------------------------------------------


def test_echo_lines_both_ways(
    kernel: Kernel, tls_server_context: ssl.SSLContext, tls_client_context: ssl.SSLContext
) -> None:
    run = TLSRun(kernel, tls_server_context, tls_client_context)
    echo_server(run)
    run.on("server", "ready", lambda r, side: r.put(side, "welcome"))

    def client_ready(r: TLSRun, side: str) -> None:
        for line in LINES:
            r.put(side, line)

    def client_input(r: TLSRun, side: str, line: str) -> None:
        if len(r.records(side)) == len(LINES) + 1:
            peer = r.drivers[side].ssl_object.getpeercert()
            assert peer is not None
            r.log.append(("client", "peer", peer["subject"]))
            r.close(side, flush=True)

    run.on("client", "ready", client_ready)
    run.on("client", "input", client_input)
    run.run()

    assert ("watchdog", "timeout") not in run.log
    assert run.records("client") == ["welcome", *LINES]
    assert run.records("server") == LINES
    # The client's graceful close is a close_notify: the server sees a clean end of file.
    assert run.errors("server") == [("read", 0, "")]
    assert run.errors("client") == []
    assert (("commonName", "localhost"),) in next(e[2] for e in run.log if e[1] == "peer")
    # Each side reported its flush; nothing spun on the write watcher.
    assert run.count("client", "flushed") >= 1
    assert run.count("server", "flushed") >= 1
    for driver in run.drivers.values():
        assert driver.handshake_done
        assert driver.flushes < 100


def test_one_mebibyte_echo(
    kernel: Kernel, tls_server_context: ssl.SSLContext, tls_client_context: ssl.SSLContext
) -> None:
    lines = [f"{i:04d}:" + chr(ord("a") + i % 26) * 1017 for i in range(1024)]
    assert sum(len(line) + 2 for line in lines) == 1 << 20  # with LineFilter's CRLF

    run = TLSRun(kernel, tls_server_context, tls_client_context)
    echo_server(run)
    sizes: list[int] = []

    def client_ready(r: TLSRun, side: str) -> None:
        r.put(side, *lines)
        sizes.append(r.wheels[side].get_driver_out_octets())

    def client_input(r: TLSRun, side: str, line: str) -> None:
        if len(r.records(side)) == len(lines):
            r.close(side, flush=True)

    run.on("client", "ready", client_ready)
    run.on("client", "input", client_input)
    run.run()

    assert ("watchdog", "timeout") not in run.log
    assert sizes == [1 << 20]
    assert run.records("server") == lines
    assert run.records("client") == lines
    # One put, one flushed event, once all of it (and its ciphertext) was on the wire.
    assert run.count("client", "flushed") == 1
    assert run.count("server", "flushed") >= 1
    assert run.errors("server") == [("read", 0, "")]


@pytest.mark.parametrize("graceful", [True, False], ids=["close_notify", "abrupt"])
def test_server_initiated_close(
    kernel: Kernel,
    tls_server_context: ssl.SSLContext,
    tls_client_context: ssl.SSLContext,
    graceful: bool,
) -> None:
    # Ragged EOFs are errors for this client: end of file means the close_notify arrived.
    run = TLSRun(kernel, tls_server_context, tls_client_context, client_ragged_eofs=False)

    def server_input(r: TLSRun, side: str, line: str) -> None:
        if graceful:
            r.put(side, "goodbye")
        r.close(side, flush=graceful)

    run.on("server", "input", server_input)
    run.on("client", "ready", lambda r, side: r.put(side, "please close"))
    run.run()

    assert ("watchdog", "timeout") not in run.log
    assert run.records("server") == ["please close"]
    if graceful:
        assert run.records("client") == ["goodbye"]
        assert run.errors("client") == [("read", 0, "")]
        assert run.drivers["server"].get_out_octets_buffered() == 0
        assert not run.drivers["server"].want_write
    else:
        # No close_notify: the transport EOF is a TLS protocol violation for this client.
        assert run.records("client") == []
        [(op, code, text)] = run.errors("client")
        assert (op, code != 0) == ("read", True)
        assert "EOF" in text


def test_client_that_does_not_trust_the_ca(
    kernel: Kernel, tls_server_context: ssl.SSLContext
) -> None:
    untrusting = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies, with no CA loaded
    run = TLSRun(kernel, tls_server_context, untrusting)
    echo_server(run)
    run.on("client", "ready", lambda r, side: r.put(side, "secret"))
    run.run()

    assert ("watchdog", "timeout") not in run.log
    assert run.records("client") == []
    assert run.records("server") == []
    [(op, code, text)] = run.errors("client")
    assert op == "read"
    assert code != 0
    assert "CERTIFICATE_VERIFY_FAILED" in text
    assert not run.drivers["client"].handshake_done
    # The server's handshake never finished either; it sees the connection end.
    [(server_op, _, _)] = run.errors("server")
    assert server_op == "read"
    assert run.count("client", "flushed") == 0


@pytest.mark.parametrize("first", ["client", "server"])
def test_handshake_whoever_sends_first(
    kernel: Kernel,
    tls_server_context: ssl.SSLContext,
    tls_client_context: ssl.SSLContext,
    first: str,
) -> None:
    """Data put before the handshake waits for it, without spinning the write watcher."""
    second = "server" if first == "client" else "client"
    run = TLSRun(kernel, tls_server_context, tls_client_context)

    def ready(r: TLSRun, side: str) -> None:
        if side == first:
            driver = r.drivers[side]
            assert not driver.handshake_done
            r.put(side, f"hello from {side}")

    def first_input(r: TLSRun, side: str, line: str) -> None:
        r.close(side, flush=True)

    def second_input(r: TLSRun, side: str, line: str) -> None:
        r.put(side, f"hello from {side}")

    def second_error(r: TLSRun, side: str, *args: Any) -> None:
        r.close(side)

    for side in ("server", "client"):
        run.on(side, "ready", ready)
    run.on(first, "input", first_input)
    run.on(second, "input", second_input)
    run.on(second, "error", second_error)
    run.run()

    assert ("watchdog", "timeout") not in run.log
    assert run.records(second) == [f"hello from {first}"]
    assert run.records(first) == [f"hello from {second}"]
    assert run.errors(second) == [("read", 0, "")]  # the first side's close_notify
    assert run.count(first, "flushed") == 1
    assert run.count(second, "flushed") == 1
    for driver in run.drivers.values():
        assert driver.handshake_done
        assert driver.flushes < 20


def test_flushed_event_not_emitted_for_handshake_only(
    kernel: Kernel, tls_server_context: ssl.SSLContext, tls_client_context: ssl.SSLContext
) -> None:
    """Handshake records alone are no flushed event: the server never puts anything."""
    run = TLSRun(kernel, tls_server_context, tls_client_context)
    run.on("client", "ready", lambda r, side: r.put(side, "ping"))
    run.on("server", "input", lambda r, side, line: r.close(side, flush=True))
    run.run()

    assert ("watchdog", "timeout") not in run.log
    assert run.records("server") == ["ping"]
    assert run.errors("client") == [("read", 0, "")]
    assert run.count("client", "flushed") == 1
    assert run.count("server", "flushed") == 0  # it wrote only handshake records
    assert run.drivers["server"].flushes > 0
