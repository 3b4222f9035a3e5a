"""The scripted visitors of the ``tcp_evolution_*`` examples: the same client side in every step.

Not an example by itself: each step imports it and runs :func:`visit` against its own server
(steps 2 to 5 through :func:`run_with_visitors`, which runs their kernel meanwhile).
Alice connects and talks; Bob connects and talks **while Alice is still connected**; then both
say ``quit``. Each visitor is a plain blocking socket that prints what it sends and what it gets
back, so whether Bob is answered at once, or only after Alice has gone, shows in the output.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Sequence

from poe.kernel import Kernel


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


def visit(port: int, more: Sequence[str] = ()) -> None:
    """Alice and Bob visit the server on ``port``; Alice says the lines ``more`` before quitting."""
    alice = Visitor("alice", port)
    alice.say("hello")
    alice.listen()
    bob = Visitor("bob", port)  # connecting succeeds: the system accepts on the server's behalf
    bob.say("hi there")
    bob.listen(timeout=0.5)  # no need to wait 5 s: if the answer is not here now, it is late
    for line in (*more, "quit"):
        alice.say(line)
        alice.listen()
    alice.close()
    bob.listen()  # still owed an answer? Then it comes now that alice has gone
    bob.say("quit")
    bob.listen()
    bob.close()


def run_with_visitors(kernel: Kernel, port: int, more: Sequence[str] = ()) -> None:
    """Run ``kernel`` (the server) while the visitors, in a thread, visit ``port``."""
    visitors = threading.Thread(target=visit, args=(port, more), daemon=True)
    visitors.start()
    kernel.run()  # returns when the server has nothing left to do
    visitors.join()
