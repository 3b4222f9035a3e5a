"""Evolution of a server, step 1: a plain blocking server, one client at a time.

The protocol of every step: the server answers each line with ``you said: LINE``, and ``quit``
with ``bye`` before hanging up. This first server is what anyone writes first: ``accept()``,
then read and answer lines until the client leaves, then ``accept()`` again. It works, but
while it waits on one client's ``recv()`` nobody else is served.

The scripted visitors show it. Alice connects and talks; Bob connects and talks too, but gets
no answer while Alice is still connected (his line waits in the kernel's socket buffer until
the server is done with her). Only when Alice says ``quit`` does the server come back to
``accept()`` and hear Bob. (The server runs in a thread here only so that one program can play
both parts; the server itself is the point.)
"""

from __future__ import annotations

import socket
import threading


def serve(listener: socket.socket, clients: int) -> None:
    """Serve ``clients`` connections, one after the other."""
    for _ in range(clients):
        conn, _address = listener.accept()  # blocks until someone connects
        with conn, conn.makefile("rwb") as stream:
            for raw in stream:  # blocks until a whole line arrives
                line = raw.rstrip(b"\r\n")
                stream.write(b"bye\r\n" if line == b"quit" else b"you said: " + line + b"\r\n")
                stream.flush()
                if line == b"quit":
                    break
    listener.close()


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
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = threading.Thread(target=serve, args=(listener, 2), daemon=True)
    server.start()
    visit(port)
    server.join()
    print("server: served 2 clients, one after the other")


if __name__ == "__main__":
    main()
