"""TCPServer and TCPClient over a UNIX-domain socket: a path instead of an address and port.

``domain=socket.AF_UNIX`` switches both components to UNIX-domain stream sockets: the server's
``address`` and the client's ``remote_address`` are a filesystem path, and there is no port.
Everything else (callbacks, filters, ``shutdown``) is unchanged. Only processes on the same
host can connect, and the file's permissions decide which; that makes UNIX sockets the usual
choice for a local control channel, such as the one here, where a client asks a daemon for its
status.

A UNIX-domain connection has no remote address: the server's ``heap["remote_ip"]`` is
``"LOCAL"`` (POE's value) and ``heap["remote_port"]`` is None. The server creates the socket
file when it starts listening and removes it when it stops. (The path lives in a temporary
directory, so the transcript shows only its name.)
"""

from __future__ import annotations

import os
import socket
import tempfile

from poe.kernel import Kernel
from poe.session import Context
from poe.tcp import TCPClient, TCPServer

COMMANDS = ["status", "uptime", "reload", "bye"]


# -- the daemon's control socket ------------------------------------------------------------------
def control_connected(ctx: Context) -> None:
    remote = (ctx.heap["remote_ip"], ctx.heap["remote_port"])
    ctx.heap["client"].put(f"welcome; you are {remote[0]!r}, port {remote[1]}")


def control_input(ctx: Context, command: str) -> None:
    answers = {"status": "ok: 3 workers running", "uptime": "up 42 days", "bye": "bye"}
    client = ctx.heap["client"]
    client.put(answers.get(command, f"error: unknown command {command!r}"))


def control_disconnected(ctx: Context) -> None:
    print("daemon: the client has gone; no longer listening")
    ctx.kernel.post("control", "shutdown")  # the listener: stop, and remove the socket file


# -- the client --------------------------------------------------------------------------------
def connected(ctx: Context, sock: socket.socket, address: str, port: int | None) -> None:
    print(f"client: connected to {os.path.basename(address)} (port {port})")


def answer(ctx: Context, line: str, wheel_id: int) -> None:
    print(f"client: {line}")
    if line == "bye":
        ctx.kernel.yield_("shutdown")  # hang up; the daemon reads end of file
        return
    ask(ctx)


def ask(ctx: Context) -> None:
    commands: list[str] = ctx.heap.setdefault("commands", list(COMMANDS))
    if commands:
        command = commands.pop(0)
        print(f"client: > {command}")
        ctx.heap["server"].put(command)


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "daemon.sock")
        kernel = Kernel()
        server = TCPServer(
            kernel,
            domain=socket.AF_UNIX,
            address=path,
            alias="control",
            client_connected=control_connected,
            client_input=control_input,
            client_disconnected=control_disconnected,
        )
        print(f"daemon: listening on {os.path.basename(str(server.address))}")
        print(f"daemon: the socket file exists: {os.path.exists(path)}")
        TCPClient(
            kernel,
            domain=socket.AF_UNIX,
            remote_address=path,
            connected=connected,
            server_input=answer,
        )
        kernel.run()
        print(f"daemon: the socket file exists: {os.path.exists(path)}")


if __name__ == "__main__":
    main()
