"""Helpers shared by the Python peer programs (not a benchmark itself).

Every peer program is run as ``python bench/peers/X.py BENCH N [--loop NAME] [--variant NAME]``
in a fresh interpreter and prints exactly one JSON line on standard output::

    {"value": 812345.6, "unit": "events/s", "note": "optional free text"}

The harness (``bench/run.py``) parses that line; anything else a peer prints goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
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


def timer_delay(i: int, n: int) -> float:
    """Seconds from now at which timer ``i`` of ``n`` is due (see :data:`TIMER_STRIDE`)."""
    return ((i * TIMER_STRIDE) % n) / n


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


def emit(value: float, unit: str, note: str | None = None) -> None:
    """Print the one JSON result line the harness reads."""
    record: dict[str, float | str] = {"value": value, "unit": unit}
    if note:
        record["note"] = note
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
