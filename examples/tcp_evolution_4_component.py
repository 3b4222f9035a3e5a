"""Evolution of a server, step 4: the TCPServer component.

Step 3's two sessions (the listener with its SocketFactory, one connection session per client
with its ReadWrite wheel) are exactly what :class:`~poe.tcp.TCPServer` builds. What is left is
the protocol: ``client_input`` gets each line, in the connection's own session, and
``ctx.heap["client"]`` is that connection's wheel. Hanging up gracefully is the component's
``shutdown`` event: it stops reading, waits until the output is written, then closes and calls
``client_disconnected``. End of file and errors are handled the same way without a line of code.

The server stops listening after two visitors by posting ``shutdown`` to the listener (found by
its alias); the listener session ends once its last connection has.
"""

from __future__ import annotations

import socket
import threading

from poe.kernel import Kernel
from poe.session import Context
from poe.tcp import TCPServer

VISITORS = 2  # stop listening after this many, so the example ends
served: list[int] = []  # the remote ports of the visitors who have left


def client_input(ctx: Context, line: str) -> None:
    if line == "quit":
        ctx.heap["client"].put("bye")
        ctx.kernel.yield_("shutdown")  # flush "bye", then hang up
        return
    ctx.heap["client"].put(f"you said: {line}")


def client_disconnected(ctx: Context) -> None:
    served.append(ctx.heap["remote_port"])
    if len(served) == VISITORS:
        ctx.kernel.post("echo", "shutdown")  # the listener: stop accepting


# -- the scripted visitors (the same in every step) ---------------------------------------------
class Visitor:
    """A blocking client that prints what it sends and what it gets back."""

    def __init__(self, name: str, port: int) -> None:
        self.name = name
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.unanswered = 0

    def say(self, line: str) -> None:
        print(f"{self.name} sends: {line}")
        self.sock.sendall(f"{line}\r\n".encode())
        self.unanswered += 1

    def listen(self, timeout: float = 5.0) -> None:
        """Print the next answer, if one is owed; give up after ``timeout`` seconds."""
        if not self.unanswered:
            return
        self.sock.settimeout(timeout)
        answer = b""
        try:
            while not answer.endswith(b"\n"):
                chunk = self.sock.recv(1)  # one octet at a time: never read past the line
                if not chunk:
                    break
                answer += chunk
        except TimeoutError:
            print(f"{self.name} gets: nothing yet (the server is busy elsewhere)")
            return
        self.unanswered -= 1
        print(f"{self.name} gets: {answer.decode().strip() or '(connection closed)'}")

    def close(self) -> None:
        self.sock.close()


def visit(port: int) -> None:
    alice = Visitor("alice", port)
    alice.say("hello")
    alice.listen()
    bob = Visitor("bob", port)  # connecting succeeds: the system accepts on the server's behalf
    bob.say("hi there")
    bob.listen(timeout=0.5)  # no need to wait 5 s: if the answer is not here now, it is late
    alice.say("quit")
    alice.listen()
    alice.close()
    bob.listen()  # still owed an answer? Then it comes now that alice has gone
    bob.say("quit")
    bob.listen()
    bob.close()


def main() -> None:
    kernel = Kernel()
    server = TCPServer(
        kernel,
        address="127.0.0.1",
        port=0,
        alias="echo",
        client_input=client_input,
        client_disconnected=client_disconnected,
    )
    assert server.port is not None
    visitors = threading.Thread(target=visit, args=(server.port,), daemon=True)
    visitors.start()
    kernel.run()
    visitors.join()
    print(f"server: served {len(served)} clients at the same time")


if __name__ == "__main__":
    main()
