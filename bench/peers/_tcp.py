"""What the TCP benchmarks' server peers share: the C load client and the way a run goes.

``tcp-echo-pipelined``, ``tcp-echo-rr`` and ``tcp-idle`` measure a line echo server; the load
comes from ``tcp_load.c``, a C client built at bench time with ``cc -O2`` and cached in
``bench/.build/tcp_load-<hash of the source>`` (``python bench/peers/_tcp.py`` builds it and prints
its path; ``POE_BENCH_TCP_LOAD`` names a ready binary instead). The server peer listens on
127.0.0.1, port 0, and from inside its running loop creates a :class:`LoadRun`, which starts the
client, and calls :meth:`LoadRun.tick` every :data:`TICK` seconds until it returns True (the
client has exited); then :meth:`LoadRun.report` prints the JSON result line.

* Echo modes: :data:`CONNECTIONS` connections, ``N`` lines of 32 bytes per connection; the client
  checks every echoed byte and times from all connections established to the last echoed byte.
* ``attack-slowloris``: rr (as above) while ``slow`` more connections trickle one byte a second
  each, never a line end (``slow=0``: the same rr with no attack, the comparison). The client
  opens the slow connections first and says ``slow-open``; once the server peer's own count of
  connections (``accepted()``) has reached ``slow`` the rr exchange starts. The client also
  measures each line's latency: the p50 and p99 go into the figures of the result line.
* ``tcp-idle``: ``N`` connections held idle. The client first echoes one line on a warm-up
  connection and says ``warm``: the server's RSS is read; then it opens the ``N`` (each echoes
  one line) and says ``ready``: RSS is read again, and (after - before) / N is the figure. The
  soft ``RLIMIT_NOFILE`` is raised to the hard limit first; if that is still too low, ``N`` is
  reduced and the note says so.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING

from _common import emit

if TYPE_CHECKING:
    from collections.abc import Callable

#: The load client's source, and where its binaries are cached (gitignored).
SOURCE = Path(__file__).resolve().with_name("tcp_load.c")
BUILD_DIR = SOURCE.parents[1] / ".build"

#: Environment variable naming a ready load client binary (the harness builds it once and sets it).
BINARY_ENV = "POE_BENCH_TCP_LOAD"

#: The benchmarks and the load client's mode for each.
MODES = {
    "tcp-echo-pipelined": "pipelined",
    "tcp-echo-rr": "rr",
    "tcp-idle": "idle",
    "attack-slowloris": "slowloris",
}
#: The benchmarks a peer's ``tcp()`` runs (``attack-slowloris`` goes through its ``attack()``).
BENCHES = ("tcp-echo-pipelined", "tcp-echo-rr", "tcp-idle")

#: Connections the load client opens in the echo modes.
CONNECTIONS = 50

#: Seconds between two looks at the load client from the server's loop.
TICK = 0.02

#: Seconds the load client may take before it gives up (it then exits non-zero).
CLIENT_TIMEOUT = 240.0

#: File descriptors kept free for everything but the idle connections, in each process.
SPARE_FDS = 64


def build() -> Path:
    """The load client binary, compiled with ``cc -O2`` unless a build of this source exists.

    Raises:
        RuntimeError: no C compiler, or the compilation failed (with the compiler's message).
    """
    ready = os.environ.get(BINARY_ENV)
    if ready:
        return Path(ready)
    source = SOURCE.read_bytes()
    target = BUILD_DIR / f"tcp_load-{hashlib.sha1(source).hexdigest()[:12]}"
    if target.exists():
        return target
    compiler = os.environ.get("CC") or next(
        (found for cc in ("cc", "gcc", "clang") if (found := shutil.which(cc))),
        None,
    )
    if compiler is None:
        msg = f"no C compiler (cc, gcc or clang; or $CC) to build the load client {SOURCE.name}"
        raise RuntimeError(msg)
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    done = subprocess.run(
        [compiler, "-O2", "-o", str(partial), str(SOURCE)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        lines = (done.stderr or done.stdout).strip().splitlines() or ["no message"]
        msg = f"{compiler} -O2 {SOURCE.name} failed: {lines[0][:200]}"
        raise RuntimeError(msg)
    partial.replace(target)  # atomic: a concurrent build never runs a half-written binary
    for stale in BUILD_DIR.glob("tcp_load-*"):
        if stale != target and not stale.name.endswith(".tmp"):
            stale.unlink(missing_ok=True)
    return target


def raise_nofile() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit; the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            return soft
        return target
    return soft


def rss_bytes() -> int:
    """This process's resident set size, from ``/proc/self/statm``."""
    with Path("/proc/self/statm").open(encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class LoadRun:
    """One run of the load client against the server peer listening on 127.0.0.1:``port``.

    Create it from inside the server's running loop; call :meth:`tick` every :data:`TICK`
    seconds; once it returns True, stop the loop and call :meth:`report`.
    """

    def __init__(
        self,
        bench: str,
        port: int,
        n: int,
        *,
        slow: int = 0,
        accepted: Callable[[], int] | None = None,
    ) -> None:
        self.mode = MODES[bench]
        self.n = n
        self.reduced = ""
        self.slow = slow
        self.accepted = accepted
        self._go = slow == 0
        if self.mode == "slowloris":
            raise_nofile()
        if self.mode == "idle":
            limit = raise_nofile()
            if n + 1 > limit - SPARE_FDS:
                self.n = max(1, limit - SPARE_FDS - 1)
                self.reduced = f"; reduced from {n:,}: RLIMIT_NOFILE hard limit {limit:,}"
        conns, lines = (self.n, 1) if self.mode == "idle" else (CONNECTIONS, n)
        self.before: int | None = None
        self.per_connection: float | None = None
        self._said = b""
        argv = [str(build()), self.mode, str(port), str(conns), str(lines), str(CLIENT_TIMEOUT)]
        if self.mode == "slowloris":
            argv.append(str(slow))
        self.process = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE if self.mode == "idle" or slow else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert self.process.stdout is not None
        os.set_blocking(self.process.stdout.fileno(), False)

    def tick(self) -> bool:
        """Look at the client (measure, in idle mode); True once it has exited."""
        if self.mode == "idle" and self.per_connection is None:
            self._idle_step()
        elif not self._go:
            self._slow_step()
        return self.process.poll() is not None

    def _slow_step(self) -> None:
        stdout, stdin = self.process.stdout, self.process.stdin
        assert stdout is not None
        assert stdin is not None
        self._said += stdout.read() or b""
        accepted = self.accepted() if self.accepted is not None else self.slow
        if b"slow-open\n" in self._said and accepted >= self.slow:
            stdin.write(b"go\n")
            stdin.flush()
            self._go = True

    def _idle_step(self) -> None:
        stdout, stdin = self.process.stdout, self.process.stdin
        assert stdout is not None
        assert stdin is not None
        chunk = stdout.read()
        if chunk:
            self._said += chunk
        if self.before is None and b"warm\n" in self._said:
            self.before = rss_bytes()
            stdin.write(b"go\n")
            stdin.flush()
        elif self.before is not None and b"ready\n" in self._said:
            self.per_connection = (rss_bytes() - self.before) / self.n
            stdin.close()  # the client closes every connection and exits

    def report(self, what: str) -> None:
        """Check the client's exit and print the result line (lines/s or bytes per connection).

        Raises:
            RuntimeError: the client failed (its message is in the exception) or said nothing.
        """
        stdout, stderr = self.process.stdout, self.process.stderr
        assert stdout is not None
        assert stderr is not None
        self.process.wait()
        os.set_blocking(stdout.fileno(), True)
        said = self._said + (stdout.read() or b"")
        problem = _last_line(stderr)
        if self.process.returncode != 0:
            msg = f"load client exited with status {self.process.returncode}: {problem}"
            raise RuntimeError(msg)
        result = json.loads(said.decode().strip().splitlines()[-1])
        if self.mode == "idle":
            if self.per_connection is None:
                msg = "the load client exited before the connections were measured"
                raise RuntimeError(msg)
            emit(
                self.per_connection,
                "bytes/conn",
                f"{what}; {self.n:,} held (RSS delta){self.reduced}, "
                f"opened in {result['seconds']:.1f} s",
            )
        elif self.mode == "slowloris":
            attack = (
                f"; {result['slow']:,} slowloris, {result['slow_bytes']:,} bytes trickled, "
                f"{result['slow_cut']:,} cut by the server"
                if self.slow
                else "; no slowloris"
            )
            emit(
                float(result["lines_per_s"]),
                "lines/s",
                f"{what}; {CONNECTIONS} x {self.n:,} rr lines in {result['seconds']:.2f} s, "
                f"p50 {result['p50_ms']:.2f} ms, p99 {result['p99_ms']:.2f} ms{attack}",
                figures={"p99_ms": float(result["p99_ms"]), "p50_ms": float(result["p50_ms"])},
            )
        else:
            emit(
                float(result["lines_per_s"]),
                "lines/s",
                f"{what}; {CONNECTIONS} x {self.n:,} lines in {result['seconds']:.2f} s",
            )


def _last_line(stream: IO[bytes]) -> str:
    lines = stream.read().decode(errors="replace").strip().splitlines()
    return lines[-1] if lines else "no message"


if __name__ == "__main__":
    try:
        sys.stdout.write(f"{build()}\n")
    except RuntimeError as exc:
        sys.exit(str(exc))
