"""Gathering banners from many services at once, with a time limit for each.

Many services greet a client before it says anything: FTP and SMTP with a ``220`` line, SSH
with its version, POP3 with ``+OK``. A banner collector connects to each target, reads the
first line, and hangs up. Done one by one, a single slow target would hold up the whole list;
here every target gets its own :class:`~poe.tcp.TCPClient` session and all of them run at once,
so the whole job takes as long as the slowest target, and no target can take longer than its
time limits:

* ``connect_timeout`` bounds the connection attempt (``connect_error`` then reports
  ``ETIMEDOUT``);
* a ``banner_timeout`` timer, armed in ``connected`` and cleared by the first line, bounds the
  wait for the banner. It is an extra state of the client's session (``inline_states``).

The targets are made up on the spot: four small :class:`~poe.tcp.TCPServer` instances that
each send a different banner, one that accepts connections and never says a word, a port
nobody listens on, and a "tarpit" that never even completes the connection (a listening socket
whose tiny backlog is already full: the system drops the connection requests, as a firewall
would). Results arrive in whatever order the network decides; they are printed sorted by name.
"""

from __future__ import annotations

import errno
import socket
from typing import Any

from poe.kernel import Kernel
from poe.session import Context, Session
from poe.tcp import TCPClient, TCPServer

TIMEOUT = 0.5  # seconds, for connecting and then for the banner

BANNERS = {
    "ftp": "220 ftp.example.test FTP server ready",
    "pop3": "+OK POP3 server ready <1896.697170952@example.test>",
    "smtp": "220 mail.example.test ESMTP Postfix",
    "ssh": "SSH-2.0-OpenSSH_9.6",
}


# -- the collector ------------------------------------------------------------------------------
def collector_start(ctx: Context, targets: dict[str, int]) -> None:
    ctx.kernel.alias_set("collector")
    ctx.heap.update(results={}, expected=len(targets))
    print(f"collector: asking {len(targets)} services at once")
    for name, port in targets.items():
        TCPClient(
            ctx.kernel,
            remote_address="127.0.0.1",
            remote_port=port,
            connect_timeout=TIMEOUT,
            args=(name,),
            started=probe_started,
            connected=probe_connected,
            connect_error=probe_connect_error,
            server_input=probe_input,
            inline_states={"banner_timeout": probe_banner_timeout},
        )


def result(ctx: Context, name: str, text: str) -> None:
    results: dict[str, str] = ctx.heap["results"]
    results[name] = text
    if len(results) < ctx.heap["expected"]:
        return
    for target in sorted(results):
        print(f"  {target:<7} {results[target]}")
    ctx.kernel.alias_remove("collector")
    for server in SERVERS:
        server.shutdown(connections=True)


# -- one probe per target: a TCPClient session ------------------------------------------------
def probe_started(ctx: Context, name: str) -> None:
    ctx.heap["name"] = name


def probe_connected(ctx: Context, sock: socket.socket, address: str, port: int) -> None:
    ctx.kernel.delay("banner_timeout", TIMEOUT)


def probe_input(ctx: Context, line: str, wheel_id: int) -> None:
    report(ctx, f"banner: {line}")


def probe_banner_timeout(ctx: Context) -> None:
    report(ctx, f"connected, but no banner within {TIMEOUT} s")


def probe_connect_error(ctx: Context, operation: str, errnum: int, errstr: str) -> None:
    report(ctx, f"{operation} failed: {errno.errorcode.get(errnum, errnum)} ({errstr})")


def report(ctx: Context, text: str) -> None:
    if ctx.heap.get("reported"):
        return  # a second line, or the timer racing the banner: the first word was the answer
    ctx.heap["reported"] = True
    ctx.kernel.delay("banner_timeout")  # clear the timer, if any
    ctx.kernel.post("collector", "result", ctx.heap["name"], text)
    ctx.kernel.yield_("shutdown")  # TCPClient's event: hang up (or stop trying)


# -- the targets --------------------------------------------------------------------------------
SERVERS: list[TCPServer] = []


def greet(ctx: Context, banner: str | None) -> None:
    if banner is not None:
        ctx.heap["client"].put(banner)


def ignore(ctx: Context, line: str) -> None:
    pass


def start_targets(kernel: Kernel) -> tuple[dict[str, int], list[socket.socket]]:
    targets: dict[str, int] = {}
    for name, banner in [*BANNERS.items(), ("silent", None)]:
        server = TCPServer(
            kernel,
            address="127.0.0.1",
            client_args=(banner,),
            client_connected=greet,
            client_input=ignore,
        )
        SERVERS.append(server)
        assert server.port is not None
        targets[name] = server.port
    with socket.socket() as probe:  # a port that was free a moment ago: nobody listens on it
        probe.bind(("127.0.0.1", 0))
        targets["closed"] = probe.getsockname()[1]
    tarpit = socket.create_server(("127.0.0.1", 0), backlog=0)
    filler = socket.create_connection(tarpit.getsockname())  # fills the backlog; never accepted
    targets["tarpit"] = tarpit.getsockname()[1]
    return targets, [tarpit, filler]


def main() -> None:
    kernel = Kernel()
    targets, sockets = start_targets(kernel)
    states: dict[str, Any] = {"_start": collector_start, "result": result}
    Session.create(kernel, inline_states=states, args=(targets,))
    kernel.run()
    for sock in sockets:
        sock.close()


if __name__ == "__main__":
    main()
