"""What the attack benchmarks' server peers share: the attacker process and the bookkeeping.

``attack-unterminated`` and ``attack-nonreader`` run a line server (the peer's own) against
``_attack_client.py`` (one connection, a process of its own); ``attack-slowloris`` uses the C
load client through :class:`_tcp.LoadRun`. The server peer listens on 127.0.0.1, port 0, and
from inside its running loop creates the attack object, feeds it what its server sees
(:meth:`Unterminated.connected`, :meth:`Unterminated.consumed`, :meth:`Unterminated.lost`, the
same on :class:`NonReader`) and calls ``tick()`` every :data:`TICK` seconds until it returns
True; then it stops its loop and calls ``report(what)``, which prints the JSON result line.

* ``attack-unterminated``: the client sends ``N`` MiB of ``x`` without a line end. The figure
  is the server process's CPU time (user + system, ``getrusage``) from the connection being
  accepted to the moment the server cut it or had consumed all ``N`` MiB, divided by the MiB
  consumed (counted where the server's line parser is fed), in ms per MiB.
* ``attack-nonreader``: the client sends ``N`` MiB of 1 KiB lines to an echo server and never
  reads. The figure is the server's peak RSS (``VmHWM``) minus its RSS when the connection was
  accepted, in MiB, once the client has sent everything, been cut, or stalled (the server
  stopped reading it).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from _common import emit
from _tcp import rss_bytes

#: The attacker program.
CLIENT = Path(__file__).resolve().with_name("_attack_client.py")

#: Seconds between two looks from the server's loop.
TICK = 0.02

#: Bytes in a MiB (the benchmarks' N is in MiB).
MIB = 1024 * 1024

#: Seconds an attack may take in all before the server peer stops waiting and reports.
LIMIT = 240.0

#: Seconds a server may take to consume what the client has sent, once it has sent it all.
DRAIN = 10.0


def cpu_seconds() -> float:
    """This process's CPU time so far, user + system."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_bytes() -> int:
    """This process's peak resident set size (``VmHWM`` of ``/proc/self/status``)."""
    with Path("/proc/self/status").open(encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    msg = "no VmHWM in /proc/self/status"
    raise RuntimeError(msg)


class Attacker:
    """The ``_attack_client.py`` process: started at once, its one JSON line read as it comes."""

    def __init__(self, mode: str, port: int, total: int) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(CLIENT), mode, str(port), str(total)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert self.process.stdout is not None
        os.set_blocking(self.process.stdout.fileno(), False)
        self._said = b""
        self.result: dict[str, object] | None = None

    def poll(self) -> dict[str, object] | None:
        """The client's report once it has printed it (the attack is over), else None.

        Raises:
            RuntimeError: the client exited without a report (its last stderr line says why).
        """
        if self.result is None:
            stdout = self.process.stdout
            assert stdout is not None
            self._said += stdout.read() or b""
            if b"\n" in self._said:
                self.result = json.loads(self._said.split(b"\n", 1)[0])
            elif self.process.poll() is not None:
                assert self.process.stderr is not None
                lines = self.process.stderr.read().decode(errors="replace").strip().splitlines()
                msg = f"attack client exited with status {self.process.returncode}: "
                raise RuntimeError(msg + (lines[-1] if lines else "no message"))
        return self.result

    def finish(self) -> None:
        """Let the client close its connection and exit (or kill it if it does not)."""
        stdin = self.process.stdin
        assert stdin is not None
        try:
            stdin.close()
            self.process.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()


class Unterminated:
    """``attack-unterminated``: CPU per MiB consumed until the server cut or took everything."""

    def __init__(self, port: int, mib: int) -> None:
        self.total = mib * MIB
        self.attacker = Attacker("unterminated", port, self.total)
        self.started = time.monotonic()
        self.cpu_start: float | None = None
        self.cpu_end: float | None = None
        self.bytes = 0
        self.cut: str | None = None

    def connected(self) -> None:
        """The server accepted the attacker's connection: the CPU clock starts."""
        self.cpu_start = cpu_seconds()

    def consumed(self, octets: int) -> None:
        """The server's line parser was fed ``octets`` more bytes."""
        self.bytes += octets
        if self.bytes >= self.total and self.cpu_end is None:
            self.cpu_end = cpu_seconds()

    def lost(self, why: str) -> None:
        """The server closed (or lost) the connection; ``why`` says how (errno name...)."""
        if self.cpu_end is None:
            self.cpu_end = cpu_seconds()
            self.cut = why

    def tick(self) -> bool:
        """True once the figure is known (or the attack took too long)."""
        self.attacker.poll()
        if self.cpu_end is None and time.monotonic() - self.started > LIMIT:
            self.cpu_end = cpu_seconds()
            self.cut = f"still taking it after {LIMIT:.0f} s (gave up)"
        return self.cpu_end is not None

    def report(self, what: str) -> None:
        """Print the result line: server CPU ms per MiB consumed.

        Raises:
            RuntimeError: the connection was never accepted, or nothing was consumed.
        """
        self.attacker.finish()
        if self.cpu_start is None or self.cpu_end is None or not self.bytes:
            msg = "the server never accepted the connection or consumed nothing"
            raise RuntimeError(msg)
        cpu = self.cpu_end - self.cpu_start
        mib = self.bytes / MIB
        if self.cut is None:
            outcome = f"took all {mib:,.0f} MiB"
        else:
            outcome = f"cut after {self.bytes:,} bytes ({self.cut})"
        emit(cpu * 1e3 / mib, "ms/MiB", f"{what}; {outcome}; CPU {cpu:.2f} s")


class NonReader:
    """``attack-nonreader``: peak RSS growth while a client sends and never reads."""

    def __init__(self, port: int, mib: int, line_bytes: int = 1024) -> None:
        self.total = mib * MIB
        self.line_bytes = line_bytes
        self.attacker = Attacker("nonreader", port, self.total)
        self.started = time.monotonic()
        self.baseline: int | None = None
        self.lines = 0
        self.cut: str | None = None
        self.growth: float | None = None
        self._sent_all_at: float | None = None

    def connected(self) -> None:
        """The server accepted the attacker's connection: the RSS baseline is taken."""
        self.baseline = rss_bytes()

    def consumed(self, lines: int = 1) -> None:
        """The server got ``lines`` more lines (and echoed them)."""
        self.lines += lines

    def lost(self, why: str) -> None:
        """The server closed (or lost) the connection; ``why`` says how (ignored once measured:
        a loop's teardown may close it too)."""
        if self.cut is None and self.growth is None:
            self.cut = why

    def tick(self) -> bool:
        """True once the attack is over and the peak has been read."""
        result = self.attacker.poll()
        now = time.monotonic()
        if result is None and now - self.started < LIMIT:
            return False
        if result is not None and result["end"] == "all":
            if self._sent_all_at is None:
                self._sent_all_at = now
            consumed = self.lines * self.line_bytes
            if self.cut is None and consumed < self.total and now - self._sent_all_at < DRAIN:
                return False  # let the server take what is still in the socket buffers
        self.growth = (peak_rss_bytes() - (self.baseline or 0)) / MIB
        return True

    def report(self, what: str) -> None:
        """Print the result line: peak RSS growth in MiB, and what the server did.

        Raises:
            RuntimeError: the connection was never accepted.
        """
        self.attacker.finish()
        if self.baseline is None or self.growth is None:
            msg = "the server never accepted the connection"
            raise RuntimeError(msg)
        result = self.attacker.result or {"sent": 0, "end": "gave-up"}
        sent = int(str(result["sent"])) / MIB
        server = f"server cut it ({self.cut})" if self.cut else "server did not cut it"
        emit(
            self.growth,
            "MiB",
            f"{what}; client sent {sent:,.0f} MiB, then {result['end']}; {server}; "
            f"echoed {self.lines * self.line_bytes / MIB:,.0f} MiB",
        )
