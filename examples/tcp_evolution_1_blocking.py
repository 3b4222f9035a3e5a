"""Evolution of a server, step 1: a plain blocking server, one client at a time.

The protocol of every step: the server answers each line with ``you said: LINE``, and ``quit``
with ``bye`` before hanging up. This first server is what anyone writes first: ``accept()``,
then read and answer lines until the client leaves, then ``accept()`` again. It works, but
while it waits on one client's ``recv()`` nobody else is served.

The scripted visitors (``_tcp_script.py``, the same in every step) show it. Alice connects and
talks; Bob connects and talks too, but gets no answer while Alice is still connected (his line
waits in the kernel's socket buffer until the server is done with her). Only when Alice says ``quit`` does the server come back to
``accept()`` and hear Bob. (The server runs in a thread here only so that one program can play
both parts; the server itself is the point.)
"""

from __future__ import annotations

import socket
import threading

from _tcp_script import visit


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
