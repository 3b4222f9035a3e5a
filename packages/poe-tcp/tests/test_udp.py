"""UDPSocket on loopback: echo between two sockets, ICMP-refused errors, size limits, IPv6."""

from __future__ import annotations

import errno
import socket
from typing import TYPE_CHECKING, Any

import pytest

from poe.errors import InvalidArgument, SessionNotFound
from poe.kernel import Kernel
from poe.session import Context
from poe.tcp import UDPSocket

if TYPE_CHECKING:
    from poe.testing.watchdog import Watchdog

pytestmark = pytest.mark.timeout(30)


def test_echo_between_two_sockets(
    kernel: Kernel, loopback: tuple[int, str], watchdog: Watchdog
) -> None:
    family, host = loopback
    log: list[Any] = []

    def echo(ctx: Context, data: bytes, address: str, port: int) -> None:
        log.append(("server got", data, address, port == client.port))
        server.send(b"echo:" + data, address, port)

    def reply(ctx: Context, data: bytes, address: str, port: int) -> None:
        log.append(("client got", data, address, port == server.port))
        if data == b"echo:two":
            client.shutdown()
            server.shutdown()
            watchdog.done()

    def started(ctx: Context, *args: Any) -> None:
        log.append(("started", args))
        ctx.kernel.yield_("send", b"one", host, server.port)
        ctx.kernel.yield_("send", b"two", host, server.port)

    server = UDPSocket(kernel, bind_address=host, domain=family, datagram=echo)
    client = UDPSocket(
        kernel, bind_address=host, domain=family, datagram=reply, started=started, args=(1, 2)
    )
    assert server.address == host
    assert server.port > 0
    watchdog.run()
    assert log[0] == ("started", (1, 2))
    server_side = [entry for entry in log if entry[0] == "server got"]
    client_side = [entry for entry in log if entry[0] == "client got"]
    assert server_side == [("server got", b"one", host, True), ("server got", b"two", host, True)]
    assert client_side == [
        ("client got", b"echo:one", host, True),
        ("client got", b"echo:two", host, True),
    ]
    with pytest.raises(SessionNotFound):
        client.send(b"late", host, server.port)
    client.shutdown()  # harmless once ended


def test_icmp_port_unreachable_is_an_error_and_the_socket_lives_on(
    kernel: Kernel, watchdog: Watchdog
) -> None:
    """Linux reports the ICMP answer to an unconnected UDP socket as ECONNREFUSED."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    errors: list[tuple[str, int]] = []
    got: list[bytes] = []

    def error(ctx: Context, operation: str, code: int, text: str) -> None:
        errors.append((operation, code))
        udp.send(b"to myself", "127.0.0.1", udp.port)  # still working

    def datagram(ctx: Context, data: bytes, address: str, port: int) -> None:
        got.append(data)
        udp.shutdown()
        watchdog.done()

    udp = UDPSocket(kernel, datagram=datagram, error=error)
    udp.send(b"anyone?", "127.0.0.1", closed_port)
    watchdog.run()
    assert errors[0][1] == errno.ECONNREFUSED
    assert errors[0][0] in ("read", "send")
    assert got == [b"to myself"]


def test_max_datagram_both_ways(kernel: Kernel, watchdog: Watchdog) -> None:
    errors: list[tuple[str, int]] = []
    got: list[bytes] = []

    def error(ctx: Context, operation: str, code: int, text: str) -> None:
        errors.append((operation, code))

    def datagram(ctx: Context, data: bytes, address: str, port: int) -> None:
        got.append(data)
        if data == b"end":
            small.shutdown()
            big.shutdown()
            watchdog.done()

    small = UDPSocket(kernel, datagram=datagram, error=error, max_datagram=8)
    big = UDPSocket(kernel, datagram=lambda ctx, *args: None, error=error)
    big.send(b"x" * 9, "127.0.0.1", small.port)  # received too long: dropped, reported
    big.send(b"12345678", "127.0.0.1", small.port)  # exactly the limit: fine
    small.send(b"y" * 9, "127.0.0.1", big.port)  # sent too long: refused, reported
    big.send(b"end", "127.0.0.1", small.port)
    watchdog.run()
    assert got == [b"12345678", b"end"]
    assert sorted(errors) == [("read", errno.EMSGSIZE), ("send", errno.EMSGSIZE)]


def test_default_error_logs_and_send_after_shutdown_is_dropped(
    kernel: Kernel, caplog: pytest.LogCaptureFixture, watchdog: Watchdog
) -> None:

    def started(ctx: Context) -> None:
        ctx.kernel.yield_("send", b"z" * 10, "127.0.0.1", 9)
        ctx.kernel.yield_("shutdown")
        ctx.kernel.yield_("send", b"late", "127.0.0.1", 9)
        ctx.kernel.yield_("shutdown")
        watchdog.done()

    UDPSocket(kernel, datagram=lambda ctx, *args: None, max_datagram=5, started=started, alias="u")
    with caplog.at_level("WARNING", logger="poe.tcp"):
        watchdog.run()
    assert f"got send error {errno.EMSGSIZE}" in caplog.text
    assert "send after shutdown dropped" in caplog.text


def test_many_sends_go_out_in_order(kernel: Kernel, watchdog: Watchdog) -> None:
    """A burst of sends, each queued behind the previous one: all arrive, in order.

    The burst stays under the receiver's buffer (loopback UDP drops what does not fit).
    """
    count = 60
    got: list[int] = []

    def datagram(ctx: Context, data: bytes, address: str, port: int) -> None:
        got.append(int(data[:8]))
        if len(got) == count:
            receiver.shutdown()
            watchdog.done()

    receiver = UDPSocket(kernel, datagram=datagram)

    def started(ctx: Context) -> None:
        for i in range(count):
            ctx.kernel.yield_("send", b"%08d" % i + b"." * 500, "127.0.0.1", receiver.port)
        ctx.kernel.yield_("shutdown")  # after the queue has drained

    UDPSocket(kernel, datagram=lambda ctx, *args: None, started=started)
    watchdog.run()
    assert got == list(range(count))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "datagram"),
        ({"datagram": 5}, "datagram"),
        ({"datagram": print, "domain": socket.AF_UNIX}, "domain"),
        ({"datagram": print, "bind_port": 70000}, "bind_port"),
        ({"datagram": print, "max_datagram": 0}, "max_datagram"),
        ({"datagram": print, "max_datagram": 70000}, "max_datagram"),
        ({"datagram": print, "alias": ""}, "alias"),
        ({"datagram": print, "args": "x"}, "args"),
        ({"datagram": print, "bind_address": 1}, "bind_address"),
        ({"datagram": print, "inline_states": {"send": print}}, "send"),
    ],
)
def test_argument_validation(kernel: Kernel, options: dict[str, Any], message: str) -> None:
    options.setdefault("datagram", None)
    with pytest.raises(InvalidArgument, match=message):
        UDPSocket(kernel, **options)


def test_send_validation_and_bind_errors(kernel: Kernel, watchdog: Watchdog) -> None:
    udp = UDPSocket(kernel, datagram=print)
    with pytest.raises(InvalidArgument):
        udp.send("text", "127.0.0.1", 9)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument):
        udp.send(b"x", "127.0.0.1", 0)
    with pytest.raises(InvalidArgument):
        udp.send(b"x", "", 9)
    with pytest.raises(OSError, match="in use"):
        UDPSocket(kernel, datagram=print, bind_port=udp.port)
    udp.shutdown()
    watchdog.done()
    watchdog.run()
