"""Benchmark harness: poe against its peers, side by side, in one run.

Usage::

    python bench/run.py [--quick] [--repeats K] [--json PATH] [NAME ...]

Every (benchmark, implementation) pair runs in a fresh subprocess
(``bench/peers/<peer>.py BENCH N`` or ``perl bench/peers/perl/poe_peer.pl BENCH N``), which prints
one JSON line. Repeats are interleaved (round-robin over the implementations) so that drift of a
noisy machine hits every implementation alike, and the median is reported together with the ratio
of poe's figure to each peer's and the stated target. Targets are reported as met or not met;
nothing is asserted and the exit status is 0 unless the harness itself fails.

``--json PATH`` writes one record per (benchmark, implementation)::

    {
        "benchmark": "dispatch",
        "implementation": "poe[asyncio]",
        "value": 812345.6,
        "unit": "events/s",
        "higher_is_better": true,
        "loop": "asyncio",
    }

(``loop`` only on poe's records). See ``bench/README.md`` for how to read the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
PEERS = BENCH_DIR / "peers"
PERL_PEER = PEERS / "perl" / "poe_peer.pl"

#: Builds the TCP benchmarks' C load client and prints its path (``bench/peers/_tcp.py``).
TCP_LOAD_BUILDER = PEERS / "_tcp.py"

#: The environment variable through which the peers get the load client the harness built.
TCP_LOAD_ENV = "POE_BENCH_TCP_LOAD"

#: Loop backends poe is run on where a benchmark says ``poe[*]``, in this order.
POE_LOOPS = ("asyncio", "uvloop", "select")

#: Seconds one peer run may take before it is killed and reported as failed.
RUN_TIMEOUT = 300.0

#: Seconds a probe (is X installed?) may take.
PROBE_TIMEOUT = 60.0


# --------------------------------------------------------------------------------------------
# What is measured


@dataclass(frozen=True)
class Target:
    """A stated goal for poe's figure; evaluated and printed, never asserted.

    ``kind``: ``"ratio>="`` (poe/peer >= amount), ``"ratio<="`` (poe/peer <= amount),
    ``"abs<="`` (poe <= amount, in the benchmark's unit), ``"plus<="`` (poe - peer <= amount).

    ``subject``: the implementation whose figure is checked, when it is not the benchmark's
    reference (poe on the default loop), e.g. ``poe-slowloris`` against ``poe``. ``figure``: a
    secondary figure the peers report (``p99_ms``) instead of the benchmark's value. A ``peer``
    of ``"poe"`` is poe on the default loop (the reference), as in ``Bench.impls``.
    """

    kind: str
    amount: float
    peer: str | None = None
    subject: str | None = None
    figure: str | None = None

    def describe(self, poe: str, unit: str) -> str:
        """The target as a sentence fragment, e.g. ``poe[asyncio] >= 1.2x uvloop``."""
        if self.figure is not None:
            poe = f"{poe} {self.figure}"
            unit = self.figure.rpartition("_")[2]
        if self.kind == "ratio>=":
            return f"{poe} >= {self.amount:g}x {self.peer}"
        if self.kind == "ratio<=":
            return (
                f"{poe} <= {self.amount:g}x {self.peer}"
                if self.amount != 1
                else f"{poe} <= {self.peer}"
            )
        if self.kind == "abs<=":
            return f"{poe} <= {self.amount:,g} {unit}"
        return f"{poe} <= {self.peer} + {self.amount:g} {unit}"

    def evaluate(self, poe: float, peer: float | None) -> tuple[str, bool]:
        """(observed figure as text, met?) for poe's median and the peer's median."""
        if self.kind == "abs<=":
            return f"{poe:,.0f}", poe <= self.amount
        if peer is None:
            msg = "a relative target needs the peer's figure"
            raise ValueError(msg)
        if self.kind == "plus<=":
            return f"{poe - peer:+.1f}", poe - peer <= self.amount
        ratio = poe / peer
        met = ratio >= self.amount if self.kind == "ratio>=" else ratio <= self.amount
        return f"{ratio:.2f}x", met


@dataclass(frozen=True)
class Bench:
    """One benchmark: its size, unit, implementations and target."""

    name: str
    title: str
    n: int
    unit: str
    higher_is_better: bool
    #: Implementation names; ``poe[*]`` expands to every poe loop, ``poe`` to the default loop.
    impls: tuple[str, ...]
    target: Target | None = None
    #: The implementation whose figure is divided by every other one (``poe`` = default loop).
    reference: str = "poe"
    repeats: int = 5
    quick_repeats: int = 3
    #: ``n`` under ``--quick`` when it differs (start-up: spawns per run).
    quick_n: int | None = None
    #: Further targets, each reported on a line of its own.
    more_targets: tuple[Target, ...] = ()
    #: Availability keys every implementation of this benchmark needs (``tcp-load``: the C client).
    needs: tuple[str, ...] = ()
    #: (row, baseline) pairs whose ratios get a line of their own (with an attack / without).
    compare: tuple[tuple[str, str], ...] = ()

    @property
    def targets(self) -> tuple[Target, ...]:
        """Every stated target, :attr:`target` first."""
        return ((self.target,) if self.target else ()) + self.more_targets


#: The line echo servers of the TCP benchmarks.
TCP_IMPLS = (
    "poe[*]",
    "asyncio-protocol",
    "asyncio-streams",
    "uvloop-protocol",
    "uvloop-streams",
    "twisted",
    "perl-poe",
)

BENCHES: tuple[Bench, ...] = (
    Bench(
        "dispatch",
        'one handler re-scheduling itself "now", 200,000 times',
        200_000,
        "events/s",
        higher_is_better=True,
        impls=("poe[*]", "asyncio", "uvloop", "twisted", "perl-poe"),
        target=Target("ratio>=", 1.2, "uvloop"),
    ),
    Bench(
        "pingpong",
        "two sessions bouncing an event with post, 200,000 events",
        200_000,
        "events/s",
        higher_is_better=True,
        impls=("poe[*]", "asyncio", "uvloop", "twisted", "perl-poe"),
        target=Target("ratio>=", 2.0, "asyncio"),
    ),
    Bench(
        "call",
        "synchronous cross-session kernel.call, 200,000 times",
        200_000,
        "calls/s",
        higher_is_better=True,
        impls=("poe", "perl-poe"),
        target=Target("ratio>=", 5.0, "perl-poe"),
    ),
    Bench(
        "timers",
        "100,000 timers spread over 1 s, all firing: CPU per timer, setting included",
        100_000,
        "us/timer",
        higher_is_better=False,
        impls=("poe[*]", "asyncio", "uvloop", "twisted", "perl-poe"),
        target=Target("ratio<=", 1.0, "uvloop"),
        repeats=3,
        quick_repeats=2,
    ),
    Bench(
        "sessions",
        "sessions created and destroyed (one yield each, batches of 1,000), 20,000 in all",
        20_000,
        "sessions/s",
        higher_is_better=True,
        impls=("poe", "perl-poe"),
        target=Target("ratio>=", 10.0, "perl-poe"),
    ),
    Bench(
        "idle-sessions",
        "memory per idle session holding only an alias, 10,000 sessions",
        10_000,
        "bytes",
        higher_is_better=False,
        impls=("poe", "asyncio", "uvloop", "twisted", "perl-poe"),
        target=Target("abs<=", 1000.0),
        repeats=3,
        quick_repeats=1,
    ),
    Bench(
        "startup",
        "wall time of a minimal program (one session, one yield), median of N spawns per run",
        10,
        "ms",
        higher_is_better=False,
        impls=("poe[*]", "python", "asyncio", "uvloop", "twisted", "perl-poe"),
        target=Target("plus<=", 30.0, "asyncio"),
        repeats=3,
        quick_repeats=2,
        quick_n=5,
    ),
    Bench(
        "handler-convention",
        "ns per dispatched event whose handler does heap['acc'] += x",
        1_000_000,
        "ns/event",
        higher_is_better=False,
        impls=("poe-yield", "poe-call", "python-ctx", "python-bare"),
        reference="poe-call",
        quick_n=300_000,
    ),
    Bench(
        "filter-line",
        "LineFilter get() + put() of 200,000 32-byte lines fed in ~64 KiB chunks (no loop)",
        200_000,
        "lines/s",
        higher_is_better=True,
        impls=("poe-literal", "poe-default", "python-split", "twisted"),
        reference="poe-literal",
    ),
    Bench(
        "readwrite-echo",
        "line echo over 127.0.0.1 TCP (ReadWriteWheel + LineFilter), client in its own process",
        200_000,
        "lines/s",
        higher_is_better=True,
        impls=("poe[*]", "asyncio", "uvloop"),
        reference="asyncio",
        quick_n=100_000,
    ),
    Bench(
        "tcp-echo-pipelined",
        "line echo, C load client: 50 connections x N pipelined 32-byte lines each, all checked",
        20_000,
        "lines/s",
        higher_is_better=True,
        impls=TCP_IMPLS,
        target=Target("ratio>=", 1.2, "twisted"),
        more_targets=(Target("ratio>=", 5.0, "perl-poe"),),
        needs=("tcp-load",),
        repeats=3,
        quick_repeats=2,
        quick_n=5_000,
    ),
    Bench(
        "tcp-echo-rr",
        "line echo, C load client: 50 connections x N lines, one line in flight per connection",
        2_000,
        "lines/s",
        higher_is_better=True,
        impls=TCP_IMPLS,
        target=Target("ratio>=", 1.0, "asyncio-protocol"),
        needs=("tcp-load",),
        repeats=3,
        quick_repeats=2,
        quick_n=1_000,
    ),
    Bench(
        "tcp-idle",
        "server memory per idle connection (with its session), N connections held",
        10_000,
        "bytes/conn",
        higher_is_better=False,
        impls=TCP_IMPLS,
        target=Target("abs<=", 3072.0),
        needs=("tcp-load",),
        repeats=2,
        quick_repeats=1,
        quick_n=2_000,
    ),
    Bench(
        "attack-unterminated",
        "server CPU per MiB consumed while one client sends N MiB without a line end, "
        "until the server cuts it or has it all",
        16,
        "ms/MiB",
        higher_is_better=False,
        impls=("poe", "poe-64MiB", "twisted", "twisted-64MiB"),
        target=Target("ratio<=", 1.0, "twisted"),
        more_targets=(Target("ratio<=", 1.0, "twisted-64MiB", subject="poe-64MiB"),),
        repeats=3,
        quick_repeats=1,
        quick_n=4,
    ),
    Bench(
        "attack-nonreader",
        "server peak RSS growth while one client sends N MiB of 1 KiB lines to an echo server "
        "and never reads",
        300,
        "MiB",
        higher_is_better=False,
        impls=("poe", "twisted"),
        target=Target("abs<=", 64.0),
        repeats=2,
        quick_repeats=1,
        quick_n=100,
    ),
    Bench(
        "attack-slowloris",
        "rr line echo, C load client: 50 connections x N lines, with and without 1,000 "
        "slowloris connections sending a byte a second",
        2_000,
        "lines/s",
        higher_is_better=True,
        impls=("poe", "poe-slowloris", "twisted", "twisted-slowloris"),
        target=Target("ratio>=", 0.9, "poe", subject="poe-slowloris"),
        more_targets=(Target("ratio<=", 2.0, "poe", subject="poe-slowloris", figure="p99_ms"),),
        needs=("tcp-load",),
        repeats=3,
        quick_repeats=1,
        quick_n=1_000,
        compare=(("poe-slowloris", "poe"), ("twisted-slowloris", "twisted")),
    ),
)

BENCH_BY_NAME = {bench.name: bench for bench in BENCHES}


# --------------------------------------------------------------------------------------------
# Who measures it


@dataclass(frozen=True)
class Impl:
    """How to run one implementation: ``[*command, BENCH, N, *options]``."""

    name: str
    command: tuple[str, ...]
    options: tuple[str, ...] = ()
    #: Availability key (see :func:`probe_environment`).
    needs: str = "python"
    loop: str | None = None

    def argv(self, bench: str, n: int) -> list[str]:
        """The command line that measures ``bench`` at size ``n``."""
        return [*self.command, bench, str(n), *self.options]


def python_peer(script: str) -> tuple[str, ...]:
    """The command prefix running ``bench/peers/<script>`` with this interpreter."""
    return (sys.executable, str(PEERS / script))


def catalogue(default_loop: str, convention_loop: str) -> dict[str, Impl]:
    """Every implementation by name.

    ``handler-convention``'s poe rows run on ``convention_loop``: the default loop when it can be
    built, else any loop that can (the calling convention does not depend on the loop).
    """
    poe = python_peer("poe_impl.py")
    impls = {
        f"poe[{loop}]": Impl(f"poe[{loop}]", poe, ("--loop", loop), f"poe-loop:{loop}", loop)
        for loop in POE_LOOPS
    }
    for variant in ("call", "yield"):
        name = f"poe-{variant}"
        options = ("--loop", convention_loop, "--variant", variant)
        impls[name] = Impl(name, poe, options, f"poe-loop:{convention_loop}", convention_loop)
    for variant in ("literal", "default"):
        name = f"poe-{variant}"
        impls[name] = Impl(name, poe, ("--variant", variant), "poe")
    for variant in ("bare", "ctx"):
        name = f"python-{variant}"
        impls[name] = Impl(name, python_peer("python_peer.py"), ("--variant", variant))
    impls["python-split"] = Impl("python-split", python_peer("python_peer.py"))
    impls["python"] = Impl("python", python_peer("python_peer.py"))
    impls["asyncio"] = Impl("asyncio", python_peer("asyncio_peer.py"))
    for variant in ("protocol", "streams"):
        chosen = ("--variant", variant)
        name = f"asyncio-{variant}"
        impls[name] = Impl(name, python_peer("asyncio_peer.py"), chosen)
        name = f"uvloop-{variant}"
        impls[name] = Impl(name, python_peer("uvloop_peer.py"), chosen, needs="uvloop")
    impls["uvloop"] = Impl("uvloop", python_peer("uvloop_peer.py"), needs="uvloop")
    impls["twisted"] = Impl("twisted", python_peer("twisted_peer.py"), needs="twisted")
    for variant in ("64MiB", "slowloris"):
        name = f"poe-{variant}"
        options = ("--loop", default_loop, "--variant", variant)
        impls[name] = Impl(name, poe, options, f"poe-loop:{default_loop}", default_loop)
        name = f"twisted-{variant}"
        chosen = ("--variant", variant)
        impls[name] = Impl(name, python_peer("twisted_peer.py"), chosen, needs="twisted")
    impls["perl-poe"] = Impl("perl-poe", ("perl", str(PERL_PEER)), needs="perl-poe")
    return impls


def expand(bench: Bench, default_loop: str, usable: Sequence[str]) -> list[str]:
    """The implementation names of ``bench``, with ``poe[*]`` and ``poe`` spelled out.

    ``poe`` is poe on the default loop; when that loop cannot be built but another can, poe on
    the other loop is run as well, so that a figure exists (the target still names the default).
    """
    names: list[str] = []
    for name in bench.impls:
        if name == "poe[*]":
            loops = [default_loop, *(loop for loop in POE_LOOPS if loop != default_loop)]
            names.extend(f"poe[{loop}]" for loop in loops)
        elif name == "poe":
            names.append(f"poe[{default_loop}]")
            if default_loop not in usable and usable:
                names.append(f"poe[{usable[0]}]")
        else:
            names.append(name)
    return names


def reference_name(bench: Bench, default_loop: str) -> str:
    """The implementation every ratio of ``bench`` is taken against."""
    return f"poe[{default_loop}]" if bench.reference == "poe" else bench.reference


# --------------------------------------------------------------------------------------------
# The machine and what is installed on it


@dataclass
class Environment:
    """Facts about the machine, and which implementations can run (``needs`` -> reason or None)."""

    facts: list[tuple[str, str]] = field(default_factory=list)
    missing: dict[str, str] = field(default_factory=dict)

    @property
    def poe_loops(self) -> list[str]:
        """The poe loop backends that can be built, in :data:`POE_LOOPS` order."""
        return [loop for loop in POE_LOOPS if f"poe-loop:{loop}" not in self.missing]


def _probe(argv: Sequence[str]) -> tuple[bool, str]:
    """Run ``argv``; (succeeded, stdout or the last line of the error)."""
    try:
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, str(exc)
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        return False, lines[-1] if lines else f"exit status {done.returncode}"
    return True, done.stdout.strip()


def _cpu_model() -> str:
    try:
        with Path("/proc/cpuinfo").open(encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def probe_environment(default_loop: str, wanted: set[str]) -> Environment:
    """Collect machine facts and find out which implementations are available.

    ``wanted``: the benchmark-wide needs of the selected benchmarks (``tcp-load``: build the C load
    client, and hand its path to the peers through :data:`TCP_LOAD_ENV`).
    """
    env = Environment()
    facts = env.facts
    facts.append(
        (
            "python",
            f"{platform.python_implementation()} {platform.python_version()} ({sys.executable})",
        ),
    )
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    facts.append(("cpus", f"{os.cpu_count()} ({affinity} usable), {_cpu_model()}"))
    facts.append(("platform", platform.platform()))
    if hasattr(os, "getloadavg"):
        facts.append(("load average", " ".join(f"{x:.2f}" for x in os.getloadavg())))

    for dist, key in (("uvloop", "uvloop"), ("Twisted", "twisted")):
        version = _version(dist)
        if version is None:
            env.missing[key] = f"{dist} is not installed"
        facts.append((key, version or "not installed"))

    if shutil.which("perl") is None:
        env.missing["perl-poe"] = "perl is not on PATH"
        facts.append(("perl POE", "perl not found"))
    else:
        ok, out = _probe(["perl", "-MPOE", "-e", 'printf "perl %vd, POE %s", $^V, $POE::VERSION'])
        if ok:
            facts.append(("perl POE", out))
        else:
            env.missing["perl-poe"] = f"perl -MPOE fails: {out}"
            facts.append(("perl POE", "not installed (perl -MPOE -e1 fails)"))

    ok, out = _probe([*python_peer("poe_impl.py"), "probe", "0"])
    loops: list[str] = []
    if ok:
        info = json.loads(out.splitlines()[-1])
        loops = list(info["loops"])
        where = "this checkout" if info["from_tree"] else "installed"
        facts.append(("poe", f"{info['origin']} ({where}); loops: {', '.join(loops) or 'none'}"))
    else:
        env.missing["poe"] = f"poe.kernel does not import: {out}"
        facts.append(("poe", f"not importable: {out}"))
    facts.append(("poe default loop", default_loop))
    if "tcp-load" in wanted:
        ok, out = _probe([sys.executable, str(TCP_LOAD_BUILDER)])
        if ok:
            os.environ[TCP_LOAD_ENV] = out.splitlines()[-1]
            facts.append(("tcp load client", f"{out.splitlines()[-1]} (cc -O2)"))
        else:
            env.missing["tcp-load"] = f"the C load client cannot be built: {out}"
            facts.append(("tcp load client", f"not built: {out}"))
    for loop in POE_LOOPS:
        if "poe" in env.missing:
            env.missing[f"poe-loop:{loop}"] = env.missing["poe"]
        elif loop not in loops:
            env.missing[f"poe-loop:{loop}"] = f"poe loop backend {loop!r} cannot be built"
    return env


# --------------------------------------------------------------------------------------------
# Running


@dataclass
class Outcome:
    """Every repeat of one implementation on one benchmark."""

    values: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: The secondary figures of each repeat (``{"p99_ms": 3.2}``), when the peer reports any.
    figures: list[dict[str, float]] = field(default_factory=list)
    error: str | None = None

    @property
    def median(self) -> float:
        """The median of the repeats."""
        return statistics.median(self.values)

    def figure(self, name: str) -> float | None:
        """The median of the secondary figure ``name`` over the repeats that reported it."""
        found = [figures[name] for figures in self.figures if name in figures]
        return statistics.median(found) if found else None

    @property
    def spread(self) -> float:
        """(max - min) / median of the repeats."""
        return (max(self.values) - min(self.values)) / self.median if self.median else 0.0

    @property
    def note(self) -> str:
        """The note printed by the repeat nearest the median."""
        if not self.notes:
            return ""
        median = self.median
        best = min(range(len(self.values)), key=lambda i: abs(self.values[i] - median))
        return self.notes[best] if best < len(self.notes) else ""


def run_once(impl: Impl, bench: Bench, n: int) -> tuple[float, str, dict[str, float]]:
    """Run one repeat in a fresh subprocess; (value, note, figures).

    Raises:
        RuntimeError: the peer failed, timed out or printed no readable result.
    """
    argv = impl.argv(bench.name, n)
    try:
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            check=False,
            cwd=ROOT,
        )
    except subprocess.TimeoutExpired as exc:
        msg = f"timed out after {RUN_TIMEOUT:.0f} s"
        raise RuntimeError(msg) from exc
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or [f"exit status {done.returncode}"]
        raise RuntimeError(lines[-1][:300])
    lines = done.stdout.strip().splitlines()
    if not lines:
        msg = "printed no result"
        raise RuntimeError(msg)
    try:
        record = json.loads(lines[-1])
        value = float(record["value"])
        unit = str(record["unit"])
        figures = {str(k): float(v) for k, v in dict(record.get("figures") or {}).items()}
    except (ValueError, KeyError, TypeError) as exc:
        msg = f"unreadable result {lines[-1][:200]!r}"
        raise RuntimeError(msg) from exc
    if unit != bench.unit:
        msg = f"reported unit {unit!r}, expected {bench.unit!r}"
        raise RuntimeError(msg)
    return value, str(record.get("note", "")), figures


def format_value(value: float, unit: str) -> str:
    """A compact figure: 812.3k for rates, 7.22 for small values, 1,030 for large ones."""
    if unit.endswith("/s"):
        for scale, suffix in ((1e6, "M"), (1e3, "k")):
            if value >= scale:
                return (
                    f"{value / scale:.2f}{suffix}"
                    if suffix == "M"
                    else f"{value / scale:.1f}{suffix}"
                )
        return f"{value:.0f}"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}"


def log(message: str) -> None:
    """Progress on stderr, so that stdout carries only the report."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def run_bench(
    bench: Bench,
    impls: dict[str, Impl],
    env: Environment,
    default_loop: str,
    quick: bool,
    repeats: int | None,
) -> dict[str, Outcome]:
    """Run every implementation of ``bench`` ``repeats`` times, interleaved."""
    names = expand(bench, default_loop, env.poe_loops)
    outcomes = {name: Outcome() for name in names}
    for name in names:
        reasons = (env.missing.get(need) for need in (*bench.needs, impls[name].needs))
        reason = next((r for r in reasons if r), None)
        if reason:
            outcomes[name].error = f"not measurable: {reason}"
    count = repeats or (bench.quick_repeats if quick else bench.repeats)
    n = bench.quick_n if quick and bench.quick_n else bench.n
    for round_no in range(1, count + 1):
        for name in names:
            outcome = outcomes[name]
            if outcome.error:
                continue
            started = time.perf_counter()
            try:
                value, note, figures = run_once(impls[name], bench, n)
            except RuntimeError as exc:
                outcome.error = f"failed: {exc}"
                log(f"[{bench.name}] {name} {round_no}/{count}: {outcome.error}")
                continue
            outcome.values.append(value)
            outcome.notes.append(note)
            outcome.figures.append(figures)
            took = time.perf_counter() - started
            figure = f"{format_value(value, bench.unit)} {bench.unit}"
            log(f"[{bench.name}] {name} {round_no}/{count}: {figure} ({took:.1f} s)")
    return outcomes


# --------------------------------------------------------------------------------------------
# Reporting


@dataclass(frozen=True)
class Verdict:
    """A target's outcome for the summary."""

    bench: str
    text: str
    observed: str | None
    met: bool | None


def evaluate(
    bench: Bench,
    target: Target,
    outcomes: dict[str, Outcome],
    reference: str,
    fallback: str | None,
) -> Verdict:
    """Check one of ``bench``'s targets against the medians.

    When ``reference`` (poe on the default loop) has no figure, the target is not measurable;
    if ``fallback`` (poe on another loop) has one, what it would give is added for information.
    A target with a ``subject`` checks that implementation instead (no fallback), and one with
    a ``figure`` compares that secondary figure's medians.
    """
    subject = target.subject or reference
    if target.subject is not None:
        fallback = None
    if target.peer == "poe":
        target = replace(target, peer=reference)
    text = target.describe(subject, bench.unit)

    def figure(name: str) -> float | None:
        outcome = outcomes[name]
        return outcome.median if target.figure is None else outcome.figure(target.figure)

    def check(poe_name: str) -> tuple[str, bool] | str:
        for name in [poe_name] if target.peer is None else [poe_name, target.peer]:
            outcome = outcomes.get(name)
            if outcome is None or not outcome.values:
                why = outcome.error if outcome and outcome.error else "not run"
                return f"{name} {why}"
            if figure(name) is None:
                return f"{name} reported no {target.figure}"
        poe = figure(poe_name)
        assert poe is not None
        return target.evaluate(poe, figure(target.peer) if target.peer else None)

    result = check(subject)
    if not isinstance(result, str):
        return Verdict(bench.name, text, result[0], result[1])
    if fallback is not None:
        other = check(fallback)
        if not isinstance(other, str):
            state = "met" if other[1] else "NOT MET"
            result += f"; on {fallback} instead: {other[0]}, would be {state}"
    return Verdict(bench.name, text, result, None)


def verdict_text(verdict: Verdict) -> str:
    """``met`` / ``NOT MET`` / ``not measurable`` with the observed figure."""
    if verdict.met is None:
        return f"target {verdict.text}: not measurable ({verdict.observed})"
    state = "met" if verdict.met else "NOT MET"
    return f"target {verdict.text}: {verdict.observed} -> {state}"


def print_bench(
    bench: Bench,
    outcomes: dict[str, Outcome],
    reference: str,
    repeats: int,
    n: int,
) -> list[Verdict]:
    """Print one benchmark's table and its target lines."""
    better = "higher" if bench.higher_is_better else "lower"
    ahead = ">" if bench.higher_is_better else "<"
    ref = outcomes.get(reference)
    fallback = None
    if not (ref and ref.values):
        fallback = next(
            (name for name, o in outcomes.items() if name.startswith("poe[") and o.values),
            None,
        )
    shown = fallback or reference
    print(f"\n{bench.name}: {bench.title}")
    if bench.targets:
        meaning = f"{ahead} 1: poe is ahead"
    elif bench.higher_is_better:
        meaning = f"this takes that many times {shown}'s time"
    else:
        meaning = f"{shown} costs that many times this"
    print(
        f"  unit {bench.unit}, {better} is better; median of {repeats} runs (N={n:,}); "
        f"ratio = {shown}/this ({meaning})",
    )
    if fallback:
        print(f"  ({reference} has no figure: ratios are taken against {fallback})")
    ref_value = outcomes[shown].median if shown in outcomes and outcomes[shown].values else None
    header = f"  {'implementation':<16} {'value':>10}  {'spread':>6}  {'ratio':>8}  note"
    print(header)
    print("  " + "-" * (len(header) - 2))
    for name, outcome in outcomes.items():
        if not outcome.values:
            print(f"  {name:<16} {'-':>10}  {'':>6}  {'':>8}  {outcome.error}")
            continue
        value = outcome.median
        ratio = f"{ref_value / value:.2f}x" if ref_value is not None and value else "-"
        spread = f"{outcome.spread * 100:.0f}%" if len(outcome.values) > 1 else "-"
        note = outcome.note
        if outcome.error:
            note = f"{note}; {outcome.error}" if note else outcome.error
        print(
            f"  {name:<16} {format_value(value, bench.unit):>10}  {spread:>6}  {ratio:>8}  {note}",
        )
    if bench.name == "handler-convention":
        print_breakdown(outcomes)
    for row, baseline in bench.compare:
        print_comparison(row, reference if baseline == "poe" else baseline, outcomes)
    verdicts = [evaluate(bench, t, outcomes, reference, fallback) for t in bench.targets]
    for verdict in verdicts:
        print(f"  {verdict_text(verdict)}")
    return verdicts


def print_breakdown(outcomes: dict[str, Outcome]) -> None:
    """Where the ns of one dispatched event go, as differences of the handler-convention rows."""
    steps = (
        ("python-ctx", "python-bare", "build + pass a Context"),
        ("poe-call", "python-ctx", "kernel.call (resolve, handler lookup, bookkeeping)"),
        ("poe-yield", "poe-call", "queueing (yield_ + loop turn) instead of call"),
    )
    parts = []
    for upper, lower, what in steps:
        a, b = outcomes.get(upper), outcomes.get(lower)
        if a and a.values and b and b.values:
            parts.append(f"{what}: {a.median - b.median:+.0f} ns")
    if parts:
        print("  breakdown: " + "; ".join(parts))


def print_comparison(row: str, baseline: str, outcomes: dict[str, Outcome]) -> None:
    """One line: ``row``'s median and secondary figures as multiples of ``baseline``'s."""
    a, b = outcomes.get(row), outcomes.get(baseline)
    if not (a and a.values and b and b.values and b.median):
        return
    parts = [f"value {a.median / b.median:.2f}x"]
    for name in sorted({key for figures in a.figures for key in figures}):
        mine, theirs = a.figure(name), b.figure(name)
        if mine is not None and theirs:
            parts.append(f"{name} {mine / theirs:.2f}x")
    print(f"  {row} / {baseline}: " + ", ".join(parts))


def records(
    bench: Bench,
    outcomes: dict[str, Outcome],
    impls: dict[str, Impl],
) -> list[dict[str, object]]:
    """The JSON records of one benchmark (measured implementations only)."""
    out: list[dict[str, object]] = []
    for name, outcome in outcomes.items():
        if not outcome.values:
            continue
        record: dict[str, object] = {
            "benchmark": bench.name,
            "implementation": name,
            "value": outcome.median,
            "unit": bench.unit,
            "higher_is_better": bench.higher_is_better,
        }
        if impls[name].loop is not None:
            record["loop"] = impls[name].loop
        names = sorted({key for figures in outcome.figures for key in figures})
        if names:
            record["figures"] = {key: outcome.figure(key) for key in names}
        out.append(record)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line, run the benchmarks, print the report."""
    parser = argparse.ArgumentParser(description="poe benchmarks against their peers")
    parser.add_argument("--quick", action="store_true", help="fewer repeats (about 2 minutes)")
    parser.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="repeats per implementation (overrides)",
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=None,
        metavar="PATH",
        help="write the records here",
    )
    parser.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help=f"benchmarks: {', '.join(BENCH_BY_NAME)}",
    )
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in BENCH_BY_NAME]
    if unknown:
        parser.error(
            f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(BENCH_BY_NAME)}",
        )
    selected = [BENCH_BY_NAME[name] for name in args.names] if args.names else list(BENCHES)

    default_loop = (os.environ.get("POE_EVENT_LOOP") or "asyncio").lower()
    if default_loop not in POE_LOOPS:
        default_loop = "asyncio"
    started = time.perf_counter()
    env = probe_environment(default_loop, {need for bench in selected for need in bench.needs})
    usable = env.poe_loops
    convention_loop = default_loop if default_loop in usable or not usable else usable[0]
    impls = catalogue(default_loop, convention_loop)

    all_records: list[dict[str, object]] = []
    reports: list[tuple[Bench, dict[str, Outcome], int, int]] = []
    for bench in selected:
        outcomes = run_bench(bench, impls, env, default_loop, args.quick, args.repeats)
        count = args.repeats or (bench.quick_repeats if args.quick else bench.repeats)
        n = bench.quick_n if args.quick and bench.quick_n else bench.n
        reports.append((bench, outcomes, count, n))
        all_records.extend(records(bench, outcomes, impls))

    print("poe benchmarks" + (" (--quick)" if args.quick else ""))
    for key, value in env.facts:
        print(f"  {key + ':':<18}{value}")
    targets = [
        verdict
        for bench, outcomes, count, n in reports
        for verdict in print_bench(bench, outcomes, reference_name(bench, default_loop), count, n)
    ]
    if targets:
        print("\ntargets (reported, not asserted)")
        width = max(len(verdict.bench) for verdict in targets)
        for verdict in targets:
            print(f"  {verdict.bench:<{width}} {verdict_text(verdict)}")
    load = " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    print(f"\ntotal time {time.perf_counter() - started:.0f} s; load average at the end {load}")

    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(all_records, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {len(all_records)} records to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
