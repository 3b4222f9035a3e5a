"""Load driver of ``readwrite-echo`` (not a peer): ``python _echo_client.py PORT N``.

Connects to the echo server under test on 127.0.0.1:PORT with a blocking socket, sends
:func:`_common.line_payload` (``N`` lines) pipelined in big writes from a thread while the main
thread reads the echo, until every byte came back; then checks that the echo is byte-identical,
closes the connection (the server sees end of file) and prints one JSON line,
``{"seconds": ...}``: wall time from the connection being established to the last echoed byte.

It runs in a process of its own so that the load generator neither shares the server's event
loop nor competes with it for the GIL.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time

from _common import CHUNK_BYTES, line_payload

#: Bytes per ``sendall`` from the client.
SEND_BYTES = 16 * CHUNK_BYTES


def main() -> None:
    """Run one exchange and print its duration."""
    port, n = int(sys.argv[1]), int(sys.argv[2])
    payload = line_payload(n)
    view = memoryview(payload)
    total = len(payload)
    received = bytearray()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def send() -> None:
            for i in range(0, total, SEND_BYTES):
                sock.sendall(view[i : i + SEND_BYTES])

        start = time.perf_counter()
        sender = threading.Thread(target=send)
        sender.start()
        recv = sock.recv
        while len(received) < total:
            data = recv(1 << 20)
            if not data:
                break
            received += data
        seconds = time.perf_counter() - start
        sender.join()
    if received != payload:
        msg = f"echo differs: {len(received)} bytes back of {total}"
        raise SystemExit(msg)
    sys.stdout.write(json.dumps({"seconds": seconds}) + "\n")


if __name__ == "__main__":
    main()
