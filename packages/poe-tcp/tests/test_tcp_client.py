"""TCPClient against hand-written servers on loopback, on every loop backend.

The servers are plain poe sessions (a listening SocketFactoryWheel and a ReadWriteWheel per
connection) in the same kernel, not TCPServer, so a client bug cannot hide behind a server bug.
Every test runs under a watchdog (conftest.py's ``watchdog`` fixture): a session that stops the
kernel and fails the test when the scenario has not finished in time, so a hang fails fast
instead of at the global timeout.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import logging
import os
import shutil
import socket
import ssl
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from poe.driver import TLSDriver
from poe.errors import InvalidArgument, SessionNotFound
from poe.filter import BlockFilter, LineFilter, StreamFilter
from poe.kernel import Kernel
from poe.session import Context, Session
from poe.tcp import Backoff, TCPClient
from poe.wheel import ReadWriteWheel, SocketFactoryWheel

if TYPE_CHECKING:
    from poe.testing.watchdog import Watchdog

pytestmark = pytest.mark.timeout(30)

HOST = "127.0.0.1"


class PlainServer:
    """A server session written by hand: SocketFactoryWheel + one ReadWriteWheel per connection.

    Its default script is the oracle's (poe-api.md §18): ``hello`` on connect, ``echo:<line>``
    for each line, ``ciao`` and a close (and no more listening) for ``bye``. ``on_input`` and
    ``greet`` change it. Every event is logged as ``"S:..."`` in ``log``.
    """

    def __init__(
        self,
        kernel: Kernel,
        log: list[str],
        *,
        domain: int = socket.AF_INET,
        address: str = HOST,
        port: int = 0,
        tls: ssl.SSLContext | None = None,
        greet: str | None = "hello",
        filter_factory: Callable[[], Any] = LineFilter,
        on_input: Callable[[PlainServer, ReadWriteWheel, Any], None] | None = None,
        on_connect: Callable[[PlainServer, ReadWriteWheel, Any, Any], None] | None = None,
    ) -> None:
        self.kernel = kernel
        self.log = log
        self.domain = domain
        self.address = address
        self.tls = tls
        self.greet = greet
        self.filter_factory = filter_factory
        self.on_input = on_input or PlainServer.script
        self.on_connect = on_connect
        self.wheels: dict[int, ReadWriteWheel] = {}
        self.factory: SocketFactoryWheel | None = None
        self.port = port
        self.received: list[Any] = []
        self.connections = 0
        Session.create(
            kernel,
            inline_states={
                "_start": self._start,
                "accepted": self._accepted,
                "failed": self._failed,
                "input": self._input,
                "error": self._error,
                "stop": self._stop_listening,
                "close_all": self._close_all,
                "_stop": self._close_all,
            },
        )

    def _start(self, ctx: Context) -> None:
        self.factory = SocketFactoryWheel(
            ctx.kernel,
            socket_domain=self.domain,
            bind_address=self.address,
            bind_port=None if self.domain == socket.AF_UNIX else self.port,
            reuse=True,
            success_event="accepted",
            failure_event="failed",
        )
        if self.domain != socket.AF_UNIX:
            self.port = self.factory.getsockname()[1]

    def _accepted(self, ctx: Context, sock: socket.socket, address: Any, port: Any, _: int) -> None:
        self.connections += 1
        driver = TLSDriver(self.tls, server_side=True) if self.tls is not None else None
        wheel = ReadWriteWheel(
            ctx.kernel,
            handle=sock,
            driver=driver,
            filter=self.filter_factory(),
            input_event="input",
            error_event="error",
        )
        self.wheels[wheel.ID] = wheel
        self.log.append("S:ClientConnected")
        if self.on_connect is not None:
            self.on_connect(self, wheel, address, port)
        if self.greet is not None:
            wheel.put(self.greet)

    def _failed(self, ctx: Context, operation: str, code: int, text: str, _: int) -> None:
        self.log.append(f"S:Failed({operation},{code})")
        self.factory = None

    def _input(self, ctx: Context, record: Any, wheel_id: int) -> None:
        self.log.append(f"S:ClientInput({record})")
        self.received.append(record)
        self.on_input(self, self.wheels[wheel_id], record)

    def _error(self, ctx: Context, operation: str, code: int, text: str, wheel_id: int) -> None:
        self.log.append(f"S:ClientError({operation},{code})")
        self.close(wheel_id)

    def _stop_listening(self, ctx: Context) -> None:
        if self.factory is not None:
            self.factory.close()
            self.factory = None

    def _close_all(self, ctx: Context) -> None:
        self._stop_listening(ctx)
        for wheel_id in list(self.wheels):
            self.close(wheel_id)

    def close(self, wheel_id: int, *, flush: bool = False) -> None:
        wheel = self.wheels.pop(wheel_id, None)
        if wheel is not None:
            wheel.close(flush=flush, close_handles=True)

    @staticmethod
    def script(server: PlainServer, wheel: ReadWriteWheel, line: Any) -> None:
        if line == "bye":
            wheel.put("ciao")
            server.close(wheel.ID, flush=True)  # after "ciao" is written
            server.kernel.yield_("stop")
        else:
            wheel.put(f"echo:{line}")


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
    return port


def oracle_client(kernel: Kernel, log: list[str], watchdog: Watchdog, **options: Any) -> TCPClient:
    """A client playing the oracle's script: ping after hello, bye after the echo.

    ``options`` go to TCPClient, over the logging callbacks; ``remote_address`` defaults to HOST.
    """

    def server_input(ctx: Context, line: str, wheel_id: int) -> None:
        log.append(f"C:ServerInput({line})")
        if line == "hello":
            ctx.heap["server"].put("ping")
        elif line == "echo:ping":
            ctx.heap["server"].put("bye")

    def disconnected(ctx: Context) -> None:
        log.append("C:Disconnected")
        watchdog.done()

    def connect_error(ctx: Context, op: str, code: int, text: str) -> None:
        log.append(f"C:ConnectError({op},{code},{text})")
        watchdog.done()

    callbacks: dict[str, Any] = {
        "remote_address": HOST,
        "started": lambda ctx: log.append("C:Started"),
        "connected": lambda ctx, sock, address, port: log.append("C:Connected"),
        "server_input": server_input,
        "server_error": lambda ctx, op, code, text: log.append(f"C:ServerError({op},{code})"),
        "server_flushed": lambda ctx: log.append("C:ServerFlushed"),
        "disconnected": disconnected,
        "connect_error": connect_error,
    }
    callbacks.update(options)
    return TCPClient(kernel, **callbacks)


CLIENT_TRACE = [
    "C:Started",
    "C:Connected",
    "C:ServerInput(hello)",
    "C:ServerFlushed",
    "C:ServerInput(echo:ping)",
    "C:ServerFlushed",
    "C:ServerInput(ciao)",
    "C:ServerError(read,0)",
    "C:Disconnected",
]


def client_side(log: list[str]) -> list[str]:
    return [entry for entry in log if entry.startswith("C:")]


# -- the oracle's exchange ----------------------------------------------------------------------


def test_oracle_trace_from_the_client_side(kernel: Kernel, watchdog: Watchdog) -> None:
    log: list[str] = []
    server = PlainServer(kernel, log)
    client = oracle_client(kernel, log, watchdog, remote_port=server.port)
    watchdog.run()
    assert client_side(log) == CLIENT_TRACE
    assert [e for e in log if e.startswith("S:")] == [
        "S:ClientConnected",
        "S:ClientInput(ping)",
        "S:ClientInput(bye)",
    ]
    with pytest.raises(SessionNotFound):
        client.put("late")  # the session ended with the connection
    client.shutdown()  # harmless once ended


PERL_TRACE = r"""
use strict; use warnings; use Socket;
use POE qw(Component::Server::TCP Component::Client::TCP);
my @log; my $port;
POE::Component::Server::TCP->new(
  Port => 0, Address => '127.0.0.1', Alias => 'srv',
  Started => sub { $port = (sockaddr_in($_[HEAP]{listener}->getsockname))[0]; client() },
  ClientConnected => sub { $_[HEAP]{client}->put("hello") },
  ClientInput => sub { my $l = $_[ARG0];
    if ($l eq 'bye') { $_[HEAP]{client}->put("ciao"); $_[KERNEL]->yield("shutdown");
                       $_[KERNEL]->post(srv => "shutdown") }
    else { $_[HEAP]{client}->put("echo:$l") } });
sub client { POE::Component::Client::TCP->new(
  RemoteAddress => '127.0.0.1', RemotePort => $port,
  Started => sub { push @log, "C:Started" },
  Connected => sub { push @log, "C:Connected" },
  ServerInput => sub { my $l = $_[ARG0]; push @log, "C:ServerInput($l)";
    if ($l eq 'hello') { $_[HEAP]{server}->put("ping") }
    elsif ($l eq 'echo:ping') { $_[HEAP]{server}->put("bye") } },
  ServerError => sub { push @log, "C:ServerError($_[ARG0],$_[ARG1])" },
  ServerFlushed => sub { push @log, "C:ServerFlushed" },
  Disconnected => sub { push @log, "C:Disconnected" }) }
POE::Kernel->run; print join(" ", @log), "\n";
"""


@pytest.mark.perl
@pytest.mark.skipif(shutil.which("perl") is None, reason="no perl")
def test_client_trace_matches_perl_poe() -> None:
    """The expected client trace above is what POE::Component::Client::TCP 1.370 does."""
    # POE reads POE_EVENT_LOOP too, and would look for a Perl loop named "asyncio".
    env = {name: value for name, value in os.environ.items() if not name.startswith("POE_")}
    done = subprocess.run(
        ["perl", "-e", PERL_TRACE], capture_output=True, text=True, timeout=20, check=False, env=env
    )
    if done.returncode != 0 and "Can't locate POE" in done.stderr:
        pytest.skip(f"POE is not installed: {done.stderr[:300]}")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == CLIENT_TRACE


def test_ipv4_and_ipv6(kernel: Kernel, loopback: tuple[int, str], watchdog: Watchdog) -> None:
    family, host = loopback
    log: list[str] = []
    peers: list[Any] = []
    server = PlainServer(kernel, log, domain=family, address=host)

    def connected(ctx: Context, sock: socket.socket, address: str, port: int) -> None:
        peers.append((sock.family, address, port))
        log.append("C:Connected")

    oracle_client(
        kernel,
        log,
        watchdog,
        remote_address=host,
        remote_port=server.port,
        domain=family,
        connected=connected,
    )
    watchdog.run()
    assert client_side(log) == CLIENT_TRACE
    assert peers == [(family, host, server.port)]


def test_unix_socket(kernel: Kernel, socket_dir: Path, watchdog: Watchdog) -> None:
    path = str(socket_dir / "server.sock")
    log: list[str] = []
    PlainServer(kernel, log, domain=socket.AF_UNIX, address=path)
    oracle_client(kernel, log, watchdog, remote_address=path, domain=socket.AF_UNIX)
    watchdog.run()
    assert client_side(log) == CLIENT_TRACE


# server_hostname defaults to the address: the certificate names 127.0.0.1 too.
@pytest.mark.parametrize("server_hostname", [None, "localhost"], ids=["address", "host_name"])
def test_tls(
    kernel: Kernel,
    tls_server_context: ssl.SSLContext,
    tls_client_context: ssl.SSLContext,
    watchdog: Watchdog,
    server_hostname: str | None,
) -> None:
    log: list[str] = []
    server = PlainServer(kernel, log, tls=tls_server_context)
    oracle_client(
        kernel,
        log,
        watchdog,
        remote_port=server.port,
        tls=tls_client_context,
        server_hostname=server_hostname,
    )
    watchdog.run()
    assert client_side(log) == CLIENT_TRACE


def test_tls_certificate_for_another_name_fails(
    kernel: Kernel,
    tls_server_context: ssl.SSLContext,
    tls_client_context: ssl.SSLContext,
    watchdog: Watchdog,
) -> None:
    log: list[str] = []
    errors: list[tuple[str, int, str]] = []
    server = PlainServer(kernel, log, tls=tls_server_context, greet=None)

    def server_error(ctx: Context, op: str, code: int, text: str) -> None:
        errors.append((op, code, text))

    def disconnected(ctx: Context) -> None:
        log.append("C:Disconnected")
        kernel.post(server.factory._session if server.factory else ctx.session, "close_all")
        watchdog.done()

    oracle_client(
        kernel,
        log,
        watchdog,
        remote_port=server.port,
        tls=tls_client_context,
        server_hostname="not-the-server.example",
        server_error=server_error,
        disconnected=disconnected,
        connected=lambda ctx, *_: ctx.heap["server"].put("secret"),
    )
    watchdog.run()
    assert client_side(log) == ["C:Started", "C:Disconnected"]
    assert len(errors) == 1
    assert errors[0][0] == "read"
    assert errors[0][1] != 0
    assert "secret" not in server.received


# -- connecting ---------------------------------------------------------------------------------


def test_connect_error_on_a_closed_port(kernel: Kernel, watchdog: Watchdog) -> None:
    log: list[str] = []
    oracle_client(kernel, log, watchdog, remote_port=unused_port())
    watchdog.run()
    refused = os.strerror(errno.ECONNREFUSED)
    assert log == ["C:Started", f"C:ConnectError(connect,{errno.ECONNREFUSED},{refused})"]


def test_default_connect_error_logs_a_warning(
    kernel: Kernel, caplog: pytest.LogCaptureFixture, watchdog: Watchdog
) -> None:
    TCPClient(
        kernel,
        remote_address=HOST,
        remote_port=unused_port(),
        server_input=lambda ctx, line, wid: None,
        started=lambda ctx: ctx.kernel.delay("done", 0.01),
        inline_states={"done": lambda ctx: None},
    )
    with caplog.at_level(logging.WARNING, logger="poe.tcp"):
        kernel.run_while(lambda: "got connect error" not in caplog.text)
    watchdog.done()
    watchdog.run()
    assert f"got connect error {errno.ECONNREFUSED}" in caplog.text


@pytest.fixture
def full_backlog() -> Iterator[socket.socket]:
    """A listener that never accepts, its backlog filled so that new SYNs are dropped.

    Linux keeps ``backlog + 1`` connections in the accept queue; once it is full, further SYNs
    are dropped (``tcp_abort_on_overflow`` is 0 by default) and a connect stays pending: a
    connect timeout that only loopback traffic can trigger. Skips the test where a connect to a
    full backlog does not stay pending.
    """
    import select

    with contextlib.ExitStack() as stack:
        listener = stack.enter_context(socket.socket())
        listener.bind((HOST, 0))
        listener.listen(0)
        for _ in range(8):
            probe = stack.enter_context(socket.socket())
            probe.setblocking(False)
            probe.connect_ex(listener.getsockname())
            _, ready, _ = select.select([], [probe], [], 0.2)
            if not ready:  # this one hangs: the queue is full
                yield listener
                return
    pytest.skip("this system does not leave connects to a full backlog pending")


# full_backlog comes before watchdog: it may skip, and must do so before the watchdog exists.
def test_connect_timeout(kernel: Kernel, full_backlog: socket.socket, watchdog: Watchdog) -> None:
    log: list[str] = []
    client = oracle_client(
        kernel,
        log,
        watchdog,
        remote_port=full_backlog.getsockname()[1],
        connect_timeout=0.2,
        started=lambda ctx: log.append(f"C:Started timeout={ctx.heap['ctimeout_id'] is None}"),
    )
    watchdog.run()
    timed_out = os.strerror(errno.ETIMEDOUT)
    assert log == [
        "C:Started timeout=True",  # the timer is armed by reconnect, after started
        f"C:ConnectError(connect,{errno.ETIMEDOUT},{timed_out})",
    ]
    assert client.remote_address == HOST


def test_reconnect_with_backoff_after_the_server_goes_away(
    kernel: Kernel, watchdog: Watchdog
) -> None:
    """Server up, then gone (two refused attempts, with backoff), then back on the same port."""
    log: list[str] = []
    backoff = Backoff(initial=0.01, maximum=0.04, factor=2.0, jitter=0)
    delays: list[float] = []
    first = PlainServer(kernel, log, greet="one")
    port = first.port

    def server_input(ctx: Context, line: str, wid: int) -> None:
        log.append(f"C:ServerInput({line})")
        ctx.heap["server"].put("bye")  # the server answers ciao, closes and stops listening

    def retry(ctx: Context) -> None:
        delay = backoff.next()
        delays.append(delay)
        ctx.kernel.delay("reconnect", delay)

    def connect_error(ctx: Context, op: str, code: int, text: str) -> None:
        log.append(f"C:ConnectError({code})")
        if backoff.attempts == 2:
            PlainServer(kernel, log, port=port, greet="two")  # back, on the same port
        retry(ctx)

    def connected(ctx: Context, *_: Any) -> None:
        log.append("C:Connected")
        backoff.reset()

    def disconnected(ctx: Context) -> None:
        log.append("C:Disconnected")
        if "C:ServerInput(two)" in log:
            watchdog.done()
        else:
            retry(ctx)

    TCPClient(
        kernel,
        remote_address=HOST,
        remote_port=port,
        connected=connected,
        connect_error=connect_error,
        disconnected=disconnected,
        server_input=server_input,
    )
    watchdog.run()
    refused = errno.ECONNREFUSED
    assert client_side(log) == [
        "C:Connected",
        "C:ServerInput(one)",
        "C:ServerInput(ciao)",
        "C:Disconnected",
        f"C:ConnectError({refused})",
        f"C:ConnectError({refused})",
        "C:Connected",
        "C:ServerInput(two)",
        "C:ServerInput(ciao)",
        "C:Disconnected",
    ]
    assert delays == [0.01, 0.02, 0.04]


def test_connect_on_demand_and_to_a_new_address(kernel: Kernel, watchdog: Watchdog) -> None:
    log: list[str] = []
    first = PlainServer(kernel, log, greet="first")
    second = PlainServer(kernel, log, greet="second")
    client: TCPClient

    def server_input(ctx: Context, line: str, wid: int) -> None:
        log.append(f"C:ServerInput({line})")
        if line in ("first", "second"):
            ctx.heap["server"].put("bye")

    def disconnected(ctx: Context) -> None:
        log.append("C:Disconnected")
        if "C:ServerInput(second)" not in log:
            # Idle, yet alive: connect again, somewhere else.
            ctx.kernel.delay("later", 0.05)
        else:
            client.shutdown()
            watchdog.done()

    def later(ctx: Context) -> None:
        log.append("C:Later")
        client.connect(HOST, second.port)

    def started(ctx: Context) -> None:
        log.append(f"C:Started server={ctx.heap['server']}")
        ctx.kernel.delay("go", 0.05)

    client = TCPClient(
        kernel,
        remote_address=HOST,
        remote_port=first.port,
        autoconnect=False,
        started=started,
        connected=lambda ctx, *_: log.append("C:Connected"),
        server_input=server_input,
        disconnected=disconnected,
        inline_states={"go": lambda ctx: client.connect(), "later": later},
    )
    watchdog.run()
    assert client_side(log) == [
        "C:Started server=None",
        "C:Connected",
        "C:ServerInput(first)",
        "C:ServerInput(ciao)",
        "C:Disconnected",
        "C:Later",
        "C:Connected",
        "C:ServerInput(second)",
        "C:ServerInput(ciao)",
        "C:Disconnected",
    ]
    assert client.remote_port == second.port
    assert (first.connections, second.connections) == (1, 1)


def test_reconnect_while_connected_drops_the_connection_silently(
    kernel: Kernel, watchdog: Watchdog
) -> None:
    """As POE: the old connection is closed without ``disconnected``; buffers are lost."""
    log: list[str] = []
    server = PlainServer(kernel, log)
    client: TCPClient

    def server_input(ctx: Context, line: str, wid: int) -> None:
        log.append(f"C:ServerInput({line})")
        if line == "hello" and server.connections == 1:
            client.reconnect()
        elif line == "hello":
            ctx.heap["server"].put("bye")

    def disconnected(ctx: Context) -> None:
        log.append("C:Disconnected")
        watchdog.done()

    client = TCPClient(
        kernel,
        remote_address=HOST,
        remote_port=server.port,
        connected=lambda ctx, *_: log.append("C:Connected"),
        server_input=server_input,
        disconnected=disconnected,
    )
    watchdog.run()
    assert client_side(log) == [
        "C:Connected",
        "C:ServerInput(hello)",
        "C:Connected",
        "C:ServerInput(hello)",
        "C:ServerInput(ciao)",
        "C:Disconnected",
    ]
    assert server.connections == 2
    assert "S:ClientError(read,0)" in log  # the first connection was closed


def test_bind_address_port_and_a_host_name(kernel: Kernel, watchdog: Watchdog) -> None:
    log: list[str] = []
    local_port = unused_port()
    peers: list[Any] = []
    server = PlainServer(
        kernel, log, on_connect=lambda srv, wheel, address, port: peers.append((address, port))
    )
    oracle_client(
        kernel,
        log,
        watchdog,
        remote_address="localhost",  # resolved in a worker thread
        remote_port=str(server.port),
        bind_address=HOST,
        bind_port=local_port,
    )
    watchdog.run()
    assert client_side(log) == CLIENT_TRACE
    assert peers == [(HOST, local_port)]


def test_pre_connect_may_refuse_the_socket(kernel: Kernel, watchdog: Watchdog) -> None:
    log: list[str] = []
    seen: list[socket.socket] = []
    server = PlainServer(kernel, log, greet=None)

    def pre_connect(ctx: Context, sock: socket.socket) -> socket.socket | None:
        seen.append(sock)
        ctx.kernel.post(server.factory._session, "close_all")  # type: ignore[union-attr]
        watchdog.done()
        return None

    oracle_client(kernel, log, watchdog, remote_port=server.port, pre_connect=pre_connect)
    watchdog.run()
    assert client_side(log) == ["C:Started"]  # neither connected nor disconnected
    assert seen[0].fileno() == -1  # the client closed it


def test_pre_connect_returns_the_socket_to_use(kernel: Kernel, watchdog: Watchdog) -> None:
    log: list[str] = []
    pairs: list[tuple[socket.socket, socket.socket]] = []
    server = PlainServer(kernel, log)

    def pre_connect(ctx: Context, sock: socket.socket) -> socket.socket:
        log.append("C:PreConnect")
        return sock

    def connected(ctx: Context, sock: socket.socket, address: str, port: int) -> None:
        log.append("C:Connected")
        pairs.append((sock, ctx.heap["server"].get_input_handle()))

    oracle_client(
        kernel,
        log,
        watchdog,
        remote_port=server.port,
        pre_connect=pre_connect,
        connected=connected,
    )
    watchdog.run()
    assert client_side(log) == ["C:Started", "C:PreConnect", *CLIENT_TRACE[1:]]
    assert pairs[0][0] is pairs[0][1]


# -- shutting down ------------------------------------------------------------------------------


def test_shutdown_flushes_queued_output_then_ends(kernel: Kernel, watchdog: Watchdog) -> None:
    lines = [f"line {i:06d} " + "x" * 100 for i in range(30000)]  # ~3.4 MB: more than a buffer
    log: list[str] = []
    queued: list[int] = []
    got: list[str] = []

    def on_input(server: PlainServer, wheel: ReadWriteWheel, line: str) -> None:
        got.append(line)

    server = PlainServer(kernel, [], greet="hello", on_input=on_input)

    def server_input(ctx: Context, line: str, wid: int) -> None:
        log.append(f"C:ServerInput({line})")
        wheel = ctx.heap["server"]
        wheel.put(*lines)
        queued.append(wheel.get_driver_out_octets())
        ctx.kernel.yield_("shutdown")
        ctx.kernel.yield_("shutdown")  # a second one changes nothing
        ctx.kernel.yield_("put", "after shutdown")  # dropped

    def disconnected(ctx: Context) -> None:
        log.append(f"C:Disconnected server={ctx.heap['server']} shutdown={ctx.heap['shutdown']}")
        ctx.kernel.delay("reconnect", 0.01)  # ignored after shutdown: the session still ends
        kernel.post(server.factory._session, "stop")  # type: ignore[union-attr]
        watchdog.done()

    TCPClient(
        kernel,
        remote_address=HOST,
        remote_port=server.port,
        server_input=server_input,
        server_flushed=lambda ctx: log.append("C:ServerFlushed"),
        disconnected=disconnected,
    )
    watchdog.run()
    assert queued[0] > 0  # there was output left to flush when shutdown came
    assert log == [
        "C:ServerInput(hello)",
        "C:ServerFlushed",
        "C:Disconnected server=None shutdown=True",
    ]
    assert got == lines


def test_shutdown_stops_input_and_removes_the_alias(kernel: Kernel, watchdog: Watchdog) -> None:
    log: list[str] = []

    def flood(server: PlainServer, wheel: ReadWriteWheel, address: Any, port: Any) -> None:
        wheel.put(*[f"n{i}" for i in range(50)])

    server = PlainServer(kernel, log, greet=None, on_connect=flood)

    def server_input(ctx: Context, line: str, wid: int) -> None:
        log.append(f"C:ServerInput({line})")
        if line == "n0":
            ctx.kernel.post("client", "shutdown")  # through the alias

    def disconnected(ctx: Context) -> None:
        log.append(f"C:Disconnected aliases={ctx.kernel.alias_list()}")
        kernel.post(server.factory._session, "close_all")  # type: ignore[union-attr]
        watchdog.done()

    TCPClient(
        kernel,
        alias="client",
        remote_address=HOST,
        remote_port=server.port,
        server_input=server_input,
        disconnected=disconnected,
    )
    watchdog.run()
    inputs = [entry for entry in log if entry.startswith("C:ServerInput")]
    # Records already read in the same chunk may still arrive before the shutdown event runs,
    # none after it.
    assert inputs[0] == "C:ServerInput(n0)"
    assert client_side(log)[-1] == "C:Disconnected aliases=[]"


def test_shutdown_while_connecting(kernel: Kernel, watchdog: Watchdog) -> None:
    log: list[str] = []
    client = oracle_client(kernel, log, watchdog, remote_port=unused_port())
    client.shutdown()  # queued before the reconnect that _start yields... after it, in fact
    watchdog.done()
    watchdog.run()
    assert log == ["C:Started"]


def test_kernel_stop_closes_the_connection(kernel: Kernel, watchdog: Watchdog) -> None:
    log: list[str] = []
    socks: list[socket.socket] = []
    server = PlainServer(kernel, log)

    def connected(ctx: Context, sock: socket.socket, *_: Any) -> None:
        socks.append(sock)

    def server_input(ctx: Context, line: str, wid: int) -> None:
        ctx.kernel.stop()

    TCPClient(
        kernel,
        remote_address=HOST,
        remote_port=server.port,
        connected=connected,
        server_input=server_input,
        inline_states={"_stop": lambda ctx: log.append("C:_stop")},
    )
    kernel.run()
    assert not watchdog.fired
    assert "C:_stop" in log
    assert socks[0].fileno() == -1


# -- options ------------------------------------------------------------------------------------


def test_filters(kernel: Kernel, watchdog: Watchdog) -> None:
    """filter for both directions, or input_filter and output_filter apart."""
    log: list[str] = []
    received: list[Any] = []

    def echo(server: PlainServer, wheel: ReadWriteWheel, chunk: bytes) -> None:
        wheel.put(chunk)

    server = PlainServer(kernel, log, greet=None, filter_factory=StreamFilter, on_input=echo)
    finished = []

    def make(name: str, **filters: Any) -> None:
        def server_input(ctx: Context, record: Any, wid: int) -> None:
            received.append((name, record))
            ctx.kernel.yield_("shutdown")

        def disconnected(ctx: Context) -> None:
            finished.append(name)
            if len(finished) == 3:
                kernel.post(server.factory._session, "close_all")  # type: ignore[union-attr]
                watchdog.done()

        TCPClient(
            kernel,
            remote_address=HOST,
            remote_port=server.port,
            connected=lambda ctx, *_: ctx.heap["server"].put(b"abcd"),
            server_input=server_input,
            disconnected=disconnected,
            **filters,
        )

    make("block", filter=functools.partial(BlockFilter, block_size=2))
    make("instance", filter=BlockFilter(block_size=4))
    make(
        "split",
        input_filter=functools.partial(BlockFilter, block_size=4),
        output_filter=StreamFilter(),
    )
    watchdog.run()
    # "cd" may follow "ab": records read in one chunk before the shutdown event runs.
    assert sorted(received)[:1] + sorted(received)[-2:] == [
        ("block", b"ab"),
        ("instance", b"abcd"),
        ("split", b"abcd"),
    ]


def test_server_input_may_omit_the_wheel_id(kernel: Kernel, watchdog: Watchdog) -> None:
    received: list[Any] = []

    def echo(server: PlainServer, wheel: ReadWriteWheel, chunk: bytes) -> None:
        wheel.put(chunk)

    server = PlainServer(kernel, [], greet=None, filter_factory=StreamFilter, on_input=echo)

    def server_input(ctx: Context, record: Any) -> None:
        received.append(record)
        ctx.kernel.yield_("shutdown")

    def disconnected(ctx: Context) -> None:
        kernel.post(server.factory._session, "close_all")  # type: ignore[union-attr]
        watchdog.done()

    TCPClient(
        kernel,
        remote_address=HOST,
        remote_port=server.port,
        filter=StreamFilter(),
        connected=lambda ctx, *_: ctx.heap["server"].put(b"abcd"),
        server_input=server_input,
        disconnected=disconnected,
    )
    watchdog.run()
    assert b"".join(received).startswith(b"ab")


def test_oversize_input_is_a_read_error(kernel: Kernel, watchdog: Watchdog) -> None:
    log: list[str] = []
    server = PlainServer(kernel, log, greet="x" * 100)

    def disconnected(ctx: Context) -> None:
        log.append("C:Disconnected")
        kernel.post(server.factory._session, "close_all")  # type: ignore[union-attr]
        watchdog.done()

    oracle_client(
        kernel,
        log,
        watchdog,
        remote_port=server.port,
        filter=functools.partial(LineFilter, max_length=10, max_buffer=1000),
        disconnected=disconnected,
    )
    watchdog.run()
    assert client_side(log) == [
        "C:Started",
        "C:Connected",
        f"C:ServerError(read,{errno.EMSGSIZE})",
        "C:Disconnected",
    ]


def test_watermarks(kernel: Kernel, watchdog: Watchdog) -> None:
    log: list[str] = []
    count = [0]

    def on_input(server: PlainServer, wheel: ReadWriteWheel, line: str) -> None:
        count[0] += 1

    server = PlainServer(kernel, [], greet="go", on_input=on_input)
    marks: list[bool] = []

    def server_input(ctx: Context, line: str, wid: int) -> None:
        marks.append(ctx.heap["server"].put(*["y" * 1000] * 3000))
        ctx.kernel.yield_("shutdown")

    def disconnected(ctx: Context) -> None:
        log.append("C:Disconnected")
        kernel.post(server.factory._session, "stop")  # type: ignore[union-attr]
        watchdog.done()

    TCPClient(
        kernel,
        remote_address=HOST,
        remote_port=server.port,
        high_mark=64 * 1024,
        low_mark=1024,
        server_high=lambda ctx: log.append("C:High"),
        server_low=lambda ctx: log.append("C:Low"),
        server_flushed=lambda ctx: log.append("C:Flushed"),
        server_input=server_input,
        disconnected=disconnected,
    )
    watchdog.run()
    assert marks == [True]
    assert log == ["C:High", "C:Low", "C:Flushed", "C:Disconnected"]
    assert count[0] == 3000


class Recorder:
    """object_states / package_states targets."""

    seen: list[str] = []  # noqa: RUF012 - a class-level log, shared on purpose

    def on_ping(self, ctx: Context, value: str) -> None:
        Recorder.seen.append(f"object:{value}")

    @classmethod
    def on_pong(cls, ctx: Context, value: str) -> None:
        cls.seen.append(f"package:{value}")


def test_alias_args_extra_states_and_options(kernel: Kernel, watchdog: Watchdog) -> None:
    Recorder.seen = []
    log: list[str] = []
    server = PlainServer(kernel, log)

    def started(ctx: Context, *args: Any) -> None:
        log.append(f"C:Started{args} trace={ctx.session.option('trace')}")
        ctx.kernel.yield_("mine", "inline")
        ctx.kernel.yield_("ping", "o")
        ctx.kernel.yield_("pong", "p")

    def server_input(ctx: Context, line: str, wid: int) -> None:
        log.append(f"C:ServerInput({line})")
        if line == "hello":
            ctx.kernel.post("the-client", "put", "bye")  # the put event, through the alias

    def disconnected(ctx: Context) -> None:
        log.append("C:Disconnected")
        watchdog.done()

    TCPClient(
        kernel,
        alias="the-client",
        remote_address=HOST,
        remote_port=server.port,
        started=started,
        args=(1, "two"),
        server_input=server_input,
        disconnected=disconnected,
        inline_states={"mine": lambda ctx, value: log.append(f"C:Mine({value})")},
        object_states=[(Recorder(), {"ping": "on_ping"})],
        package_states=[(Recorder, {"pong": "on_pong"})],
        session_options={"trace": False},
    )
    watchdog.run()
    assert client_side(log) == [
        "C:Started(1, 'two') trace=False",
        "C:Mine(inline)",
        "C:ServerInput(hello)",
        "C:ServerInput(ciao)",
        "C:Disconnected",
    ]
    assert Recorder.seen == ["object:o", "package:p"]


def test_shutdown_on_error_off_leaves_the_connection_to_the_user(
    kernel: Kernel, watchdog: Watchdog
) -> None:
    log: list[str] = []
    server = PlainServer(kernel, log)

    def started(ctx: Context) -> None:
        ctx.heap["shutdown_on_error"] = False

    def server_error(ctx: Context, op: str, code: int, text: str) -> None:
        log.append(f"C:ServerError({op},{code}) connected={ctx.heap['connected']}")
        ctx.kernel.yield_("shutdown")

    def disconnected(ctx: Context) -> None:
        log.append("C:Disconnected")
        watchdog.done()

    oracle_client(
        kernel,
        log,
        watchdog,
        remote_port=server.port,
        started=started,
        server_error=server_error,
        disconnected=disconnected,
    )
    watchdog.run()
    assert client_side(log)[-3:] == [
        "C:ServerInput(ciao)",
        "C:ServerError(read,0) connected=True",
        "C:Disconnected",
    ]


def _noop(ctx: Context, *args: Any) -> None:
    pass


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"remote_port": 1, "server_input": None}, "server_input"),
        ({"remote_port": 1, "server_input": "nope"}, "server_input"),
        ({"server_input": _noop}, "remote_port"),
        ({"remote_port": 0, "server_input": _noop}, "remote_port"),
        ({"remote_port": 70000, "server_input": _noop}, "remote_port"),
        ({"remote_port": "no-such-service", "server_input": _noop}, "service"),
        ({"remote_port": 1, "server_input": _noop, "domain": 12345}, "domain"),
        ({"remote_port": 1, "server_input": _noop, "connected": 3}, "connected"),
        ({"remote_port": 1, "server_input": _noop, "connect_timeout": 0}, "connect_timeout"),
        ({"remote_port": 1, "server_input": _noop, "connect_timeout": "1"}, "connect_timeout"),
        ({"remote_port": 1, "server_input": _noop, "alias": ""}, "alias"),
        ({"remote_port": 1, "server_input": _noop, "args": "abc"}, "args"),
        ({"remote_port": 1, "server_input": _noop, "filter": 42}, "filter"),
        ({"remote_port": 1, "server_input": _noop, "input_filter": dict}, "input_filter"),
        ({"remote_port": 1, "server_input": _noop, "high_mark": 10}, "low_mark"),
        ({"remote_port": 1, "server_input": _noop, "low_mark": None}, "go together"),
        ({"remote_port": 1, "server_input": _noop, "high_mark": 10, "low_mark": 20}, "low"),
        ({"remote_port": 1, "server_input": _noop, "high_mark": 10, "low_mark": 0}, "low_mark"),
        (
            {
                "remote_port": 1,
                "server_input": _noop,
                "server_high": _noop,
                "high_mark": None,
                "low_mark": None,
            },
            "high_mark",
        ),
        ({"remote_port": 1, "server_input": _noop, "max_output": 0}, "max_output"),
        ({"remote_port": 1, "server_input": _noop, "max_output": True}, "max_output"),
        ({"remote_port": 1, "server_input": _noop, "idle_timeout": 0}, "idle_timeout"),
        ({"remote_port": 1, "server_input": _noop, "shutdown_timeout": "1"}, "shutdown_timeout"),
        ({"remote_port": 1, "server_input": _noop, "tls": "yes"}, "tls"),
        ({"remote_port": 1, "server_input": _noop, "server_hostname": 5}, "server_hostname"),
        ({"remote_port": 1, "server_input": _noop, "session_options": 5}, "session_options"),
        ({"remote_port": 1, "server_input": _noop, "bind_port": -1}, "bind_port"),
        ({"remote_port": 1, "server_input": _noop, "bind_address": 5}, "bind_address"),
        (
            {"remote_port": 1, "server_input": _noop, "inline_states": {"reconnect": _noop}},
            "reconnect",
        ),
        (
            {"remote_port": 1, "server_input": _noop, "object_states": [(object(), ["put"])]},
            "put",
        ),
    ],
)
def test_argument_validation(kernel: Kernel, options: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        TCPClient(kernel, remote_address=HOST, **options)


def test_argument_validation_unix_and_tls(
    kernel: Kernel, tls_client_context: ssl.SSLContext
) -> None:
    with pytest.raises(InvalidArgument, match="socket path"):
        TCPClient(kernel, remote_address=None, domain=socket.AF_UNIX, server_input=_noop)
    with pytest.raises(InvalidArgument, match="server_hostname"):
        TCPClient(
            kernel,
            remote_address="/tmp/x.sock",
            domain=socket.AF_UNIX,
            server_input=_noop,
            tls=tls_client_context,
        )
    with pytest.raises(TypeError):
        TCPClient(kernel, remote_address=HOST, remote_port=1, server_input=_noop, Bogus=1)  # type: ignore[call-arg]


def test_remote_address_none_is_the_loopback(kernel: Kernel, watchdog: Watchdog) -> None:
    log: list[str] = []
    server = PlainServer(kernel, log)
    client = oracle_client(kernel, log, watchdog, remote_address=None, remote_port=server.port)
    assert client.remote_address == "127.0.0.1"
    watchdog.run()
    assert client_side(log) == CLIENT_TRACE
    with pytest.raises(InvalidArgument):
        client.connect(port=0)
