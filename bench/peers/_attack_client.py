"""The attacker of ``attack-unterminated`` and ``attack-nonreader``: a process of its own, not a peer.

``python bench/peers/_attack_client.py MODE PORT BYTES``; one connection to 127.0.0.1:PORT.

MODE
    ``unterminated``: send BYTES bytes of ``x`` (never a line end) in writes of 64 KiB, watching
    for the server closing the connection (end of file or a reset).
    ``nonreader``: send BYTES bytes of 1 KiB lines (LF-terminated) in writes of 64 KiB and never
    read the echo; stop when all are sent, when the server resets the connection, or when the
    socket has taken nothing for :data:`STALL` seconds (the server stopped reading: paused).

When the attack ends the client prints one JSON line, ``{"sent": BYTES_SENT, "end": "all" |
"closed" | "reset" | "stalled", "seconds": S}``, then waits for end of file on its stdin (the
server peer closes it once it has measured), closes the connection and exits 0.
"""

from __future__ import annotations

import json
import selectors
import socket
import sys
import time

#: Bytes per write.
WRITE = 64 * 1024

#: Bytes per line in ``nonreader`` mode, the LF included.
LINE = 1024

#: Seconds without progress after which a non-reader says the server ``stalled`` it.
STALL = 3.0

#: Seconds the whole attack may take before the client gives up (it then reports what it did).
LIMIT = 240.0


def block(mode: str) -> bytes:
    """The 64 KiB every write sends: ``x`` only, or 64 distinct-enough 1 KiB lines."""
    if mode == "unterminated":
        return b"x" * WRITE
    return b"".join(b"%09d " % i + b"y" * (LINE - 11) + b"\n" for i in range(WRITE // LINE))


def attack(sock: socket.socket, mode: str, total: int) -> tuple[int, str]:
    """Send up to ``total`` bytes; (bytes sent, how it ended)."""
    data = memoryview(block(mode))
    sel = selectors.DefaultSelector()
    events = selectors.EVENT_WRITE | (selectors.EVENT_READ if mode == "unterminated" else 0)
    sel.register(sock, events)
    sent = 0
    offset = 0
    last_progress = time.monotonic()
    deadline = last_progress + LIMIT
    while sent < total:
        ready = sel.select(timeout=0.5)
        now = time.monotonic()
        if now > deadline:
            return sent, "gave-up"
        if not ready and mode == "nonreader" and now - last_progress > STALL:
            return sent, "stalled"
        for _, mask in ready:
            if mask & selectors.EVENT_READ:
                try:
                    if not sock.recv(65536):
                        return sent, "closed"
                except ConnectionError:
                    return sent, "reset"
            if mask & selectors.EVENT_WRITE:
                want = min(len(data) - offset, total - sent)
                try:
                    n = sock.send(data[offset : offset + want])
                except BlockingIOError:
                    continue
                except ConnectionError:
                    return sent, "reset"
                sent += n
                offset = (offset + n) % len(data)
                last_progress = now
    return sent, "all"


def main() -> None:
    """Parse ``MODE PORT BYTES``, attack, report, wait for stdin to close."""
    mode, port, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    if mode not in ("unterminated", "nonreader"):
        sys.exit(f"unknown mode {mode!r}")
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setblocking(False)
    start = time.monotonic()
    sent, end = attack(sock, mode, total)
    seconds = time.monotonic() - start
    sys.stdout.write(json.dumps({"sent": sent, "end": end, "seconds": seconds}) + "\n")
    sys.stdout.flush()
    sys.stdin.buffer.read()
    sock.close()


if __name__ == "__main__":
    main()
