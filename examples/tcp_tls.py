"""TLS for TCPServer and TCPClient: give each an ssl.SSLContext.

``tls=`` takes a standard :class:`ssl.SSLContext`: a server-side one (with the certificate and
key) for :class:`~poe.tcp.TCPServer`, a client-side one (with the CAs to trust) for
:class:`~poe.tcp.TCPClient`. Each connection then reads and writes through a
:class:`~poe.driver.TLSDriver`: the handshake and the encryption happen inside the wheel, on
memory buffers, so nothing blocks, and the callbacks see plain records exactly as without TLS.
The client checks the server's certificate against ``server_hostname`` (default: the address
it connects to).

Real certificates come from a real CA, or a file the operator provides:
``context.load_cert_chain("cert.pem", "key.pem")``. So that this example runs anywhere, it makes
a throw-away CA and a certificate for ``localhost`` with :mod:`poe.testing.tls` (which needs
the ``cryptography`` package, a test dependency). A second client that does not trust that CA
shows what a failed verification looks like.
"""

from __future__ import annotations

import socket
import ssl
import tempfile
from pathlib import Path

from poe.kernel import Kernel
from poe.session import Context
from poe.tcp import TCPClient, TCPServer
from poe.testing.tls import client_context, make_certificates, server_context


# -- the server: unchanged by TLS ---------------------------------------------------------------
def greet(ctx: Context) -> None:
    ctx.heap["client"].put("hello over TLS")


def answer(ctx: Context, line: str) -> None:
    ctx.heap["client"].put(f"you said: {line}")
    ctx.kernel.yield_("shutdown")


def server_error(ctx: Context, operation: str, errnum: int, errstr: str) -> None:
    pass  # the untrusting client hangs up during the handshake: expected here


# -- the clients --------------------------------------------------------------------------------
def connected(ctx: Context, sock: socket.socket, address: str, port: int) -> None:
    print(f"{ctx.heap['name']}: TCP connected; the handshake runs in the wheel")


def server_input(ctx: Context, line: str, wheel_id: int) -> None:
    print(f"{ctx.heap['name']}: got {line!r}")
    if line.startswith("hello"):
        ctx.heap["server"].put("is anybody listening?")


def client_error(ctx: Context, operation: str, errnum: int, errstr: str) -> None:
    if errnum:  # 0 is the server closing the connection: not an error
        reason = "certificate verify failed" if "VERIFY_FAILED" in errstr else errstr
        print(f"{ctx.heap['name']}: {operation} error: {reason}")


def disconnected(ctx: Context) -> None:
    print(f"{ctx.heap['name']}: disconnected")
    if ctx.heap["name"] == "trusting client":
        print("-- a client that does not trust the server's CA:")
        client(ctx.kernel, "untrusting client", ctx.heap["port"], ssl.create_default_context())
    else:
        ctx.kernel.post("server", "shutdown")  # the demo is over


def started(ctx: Context, name: str, port: int) -> None:
    ctx.heap.update(name=name, port=port)


def client(kernel: Kernel, name: str, port: int, context: ssl.SSLContext) -> None:
    TCPClient(
        kernel,
        remote_address="127.0.0.1",
        remote_port=port,
        tls=context,
        server_hostname="localhost",
        args=(name, port),
        started=started,
        connected=connected,
        server_input=server_input,
        server_error=client_error,
        disconnected=disconnected,
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        certificates = make_certificates(Path(directory))
        kernel = Kernel()
        server = TCPServer(
            kernel,
            address="127.0.0.1",
            alias="server",
            tls=server_context(certificates),
            client_connected=greet,
            client_input=answer,
            client_error=server_error,
        )
        assert server.port is not None
        client(kernel, "trusting client", server.port, client_context(certificates))
        kernel.run()


if __name__ == "__main__":
    main()
