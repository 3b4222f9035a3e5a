"""A UDP echo server and a client, each a UDPSocket session.

UDP has no connections: a :class:`~poe.tcp.UDPSocket` is one bound socket, and every datagram
that arrives is one ``datagram(ctx, data, address, port)`` call, with the sender's address to
answer to. Sending is the ``send`` event (or :meth:`~poe.tcp.UDPSocket.send`, which posts it):
one call, one datagram, never blocking the kernel.

The server sends each datagram back, upper-cased. The client sends its words one at a time,
each after the previous echo came back (UDP may lose or reorder datagrams; on the loopback
interface it does not, but waiting for each answer keeps the transcript in order anyway), then
both sockets shut down and the kernel has nothing left to run. A datagram longer than
``max_datagram`` is refused before it is sent, and reported to ``error``; the socket goes on.
"""

from __future__ import annotations

from poe.kernel import Kernel
from poe.session import Context
from poe.tcp import UDPSocket

WORDS = [b"hello", b"datagram", b"x" * 100, b"world"]  # one too long for max_datagram


def echo(ctx: Context, data: bytes, address: str, port: int) -> None:
    print(f"server: {len(data)} octets from the client: {data!r}")
    ctx.kernel.yield_("send", data.upper(), address, port)  # UDPSocket's own event


def server_error(ctx: Context, operation: str, errnum: int, errstr: str) -> None:
    print(f"server: {operation} error: {errstr}")


class Client:
    """Sends the words one by one and prints each echo."""

    def __init__(self, kernel: Kernel, server: UDPSocket) -> None:
        self.server = server
        self.words = list(WORDS)
        self.socket = UDPSocket(
            kernel,
            bind_address="127.0.0.1",
            max_datagram=64,
            started=self.started,
            datagram=self.datagram,
            error=self.error,
        )

    def started(self, ctx: Context) -> None:
        self.send_next(ctx)

    def send_next(self, ctx: Context) -> None:
        if not self.words:
            print("client: done; both sockets shut down")
            self.server.shutdown()
            ctx.kernel.yield_("shutdown")
            return
        word = self.words.pop(0)
        shown = word if len(word) <= 16 else word[:8] + b"..."
        print(f"client: sending {len(word)} octets: {shown!r}")
        ctx.kernel.yield_("send", word, self.server.address, self.server.port)

    def datagram(self, ctx: Context, data: bytes, address: str, port: int) -> None:
        who = "the server" if port == self.server.port else f"port {port}"
        print(f"client: {data!r} from {who}")
        self.send_next(ctx)

    def error(self, ctx: Context, operation: str, errnum: int, errstr: str) -> None:
        print(f"client: {operation} error: {errstr}")
        self.send_next(ctx)  # that one will never be echoed: go on


def main() -> None:
    kernel = Kernel()
    server = UDPSocket(kernel, bind_address="127.0.0.1", datagram=echo, error=server_error)
    Client(kernel, server)
    kernel.run()
    print("kernel.run() returned")


if __name__ == "__main__":
    main()
