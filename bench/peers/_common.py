"""Helpers shared by the Python peer programs (not a benchmark itself).

Every peer program is run as ``python bench/peers/X.py BENCH N [--loop NAME] [--variant NAME]``
in a fresh interpreter and prints exactly one JSON line on standard output::

    {"value": 812345.6, "unit": "events/s", "note": "optional free text"}

and, for a benchmark that reports more than one figure, ``"figures": {"p99_ms": 3.2}``.

The harness (``bench/run.py``) parses that line; anything else a peer prints goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

#: The pseudo-random but reproducible order in which timer benchmarks hand out due times: timer
#: ``i`` of ``n`` is due ``((i * TIMER_STRIDE) % n) / n`` seconds from when it is set. The stride is
#: prime, so this is a permutation of a uniform grid over one second, set in a scattered order (an
#: in-order insertion would hide the O(n) insert of a sorted-list timer queue). The Perl peer uses
#: the same formula.
TIMER_STRIDE = 7919

#: Sessions (or actors) created per batch in the ``sessions`` benchmark.
SESSION_BATCH = 1000

#: Bytes per line in ``filter-line`` and ``readwrite-echo``, the LF terminator included.
LINE_BYTES = 32

#: Bytes per chunk fed to the filters in ``filter-line`` (about 64 KiB). Not a multiple of
#: :data:`LINE_BYTES`, so lines straddle chunk boundaries as they do on a socket.
CHUNK_BYTES = 65_000

#: The load driver of ``readwrite-echo``: ``python _echo_client.py PORT N``.
ECHO_CLIENT = Path(__file__).resolve().with_name("_echo_client.py")

#: Seconds the echo client may take before the server gives up on it.
ECHO_TIMEOUT = 240.0


def timer_delay(i: int, n: int) -> float:
    """Seconds from now at which timer ``i`` of ``n`` is due (see :data:`TIMER_STRIDE`)."""
    return ((i * TIMER_STRIDE) % n) / n


def line_payload(n: int) -> bytes:
    """``n`` distinct ASCII lines of :data:`LINE_BYTES` bytes each, every one ending in LF."""
    pad = "abcdefghijklmnopqrstuvwxyz0123456789"[: LINE_BYTES - 11]
    return "".join(f"{i:09d} {pad}\n" for i in range(n)).encode("ascii")


def chunked(data: bytes, size: int = CHUNK_BYTES) -> list[bytes]:
    """``data`` cut into chunks of ``size`` bytes (the last one shorter)."""
    return [data[i : i + size] for i in range(0, len(data), size)]


def echo_listener() -> tuple[socket.socket, int]:
    """A blocking TCP socket listening on 127.0.0.1 on a free port; (socket, port)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    return listener, int(listener.getsockname()[1])


def start_echo_client(port: int, n: int) -> subprocess.Popen[str]:
    """Start the load driver (:data:`ECHO_CLIENT`) against ``port`` with ``n`` lines."""
    return subprocess.Popen(
        [sys.executable, str(ECHO_CLIENT), str(port), str(n)],
        stdout=subprocess.PIPE,
        text=True,
    )


def accept_echo_connection(listener: socket.socket) -> socket.socket:
    """Accept the echo client's connection: non-blocking, TCP_NODELAY (as asyncio sets it)."""
    conn, _ = listener.accept()
    listener.close()
    conn.setblocking(False)
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return conn


def echo_client_seconds(client: subprocess.Popen[str]) -> float:
    """Wait for the echo client; the seconds it measured for the whole exchange.

    Raises:
        RuntimeError: the client failed (it checks every echoed byte) or printed no figure.
    """
    out, _ = client.communicate(timeout=ECHO_TIMEOUT)
    if client.returncode != 0:
        msg = f"echo client exited with status {client.returncode}"
        raise RuntimeError(msg)
    return float(json.loads(out.strip().splitlines()[-1])["seconds"])


def parse_args(
    benches: Sequence[str],
    *,
    loops: Sequence[str] = (),
    variants: Sequence[str] = (),
) -> argparse.Namespace:
    """Parse ``BENCH N [--loop NAME] [--variant NAME]`` for a peer that implements ``benches``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("bench", choices=list(benches))
    parser.add_argument("n", type=int, help="problem size (events, timers, sessions, spawns)")
    if loops:
        parser.add_argument("--loop", choices=list(loops), default=None)
    if variants:
        parser.add_argument("--variant", choices=list(variants), default=None)
    return parser.parse_args()


def emit(
    value: float,
    unit: str,
    note: str | None = None,
    figures: Mapping[str, float] | None = None,
) -> None:
    """Print the one JSON result line the harness reads.

    ``figures``: secondary figures by name (``{"p99_ms": 3.2}``), which targets may name.
    """
    record: dict[str, object] = {"value": value, "unit": unit}
    if note:
        record["note"] = note
    if figures:
        record["figures"] = dict(figures)
    sys.stdout.write(json.dumps(record) + "\n")
    sys.stdout.flush()


def time_program(
    argv: Sequence[str],
    n: int,
    env: Mapping[str, str] | None = None,
) -> tuple[float, float]:
    """Spawn ``argv`` ``n`` times (after one untimed warm-up) and time each run.

    The program is started with :func:`os.posix_spawn` and reaped with :func:`os.wait4`, so the
    figure is the wall time from spawn to exit and the child's own peak RSS, with no shell and
    no :mod:`subprocess` bookkeeping in between.

    Returns:
        (median wall seconds, median peak RSS in MiB).

    Raises:
        RuntimeError: the program exited with a non-zero status.
    """
    spawn_env = dict(os.environ if env is None else env)
    # Let the warm-up run write bytecode, as installing a package does: otherwise a source tree
    # (poe's, here) is compiled on every start while the stdlib and site-packages are not.
    spawn_env.pop("PYTHONDONTWRITEBYTECODE", None)
    devnull = [(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)]
    walls: list[float] = []
    rss: list[float] = []
    for index in range(n + 1):
        start = time.perf_counter()
        pid = os.posix_spawn(argv[0], list(argv), spawn_env, file_actions=devnull)
        _, status, usage = os.wait4(pid, 0)
        wall = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            msg = f"{argv!r} exited with status {os.waitstatus_to_exitcode(status)}"
            raise RuntimeError(msg)
        if index:  # the first run only warms the page cache
            walls.append(wall)
            rss.append(usage.ru_maxrss / 1024)  # ru_maxrss is in KiB on Linux
    return statistics.median(walls), statistics.median(rss)
