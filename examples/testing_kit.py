"""The testing kit: pytest fixtures, a fake clock, and the leak check.

This file is a pytest test module. Run it the usual way (``pytest examples/testing_kit.py``,
with poe-core installed so its ``poe`` pytest plugin is registered), or as a script: then it
runs itself under pytest, loading the plugin by hand if it is not installed, and prints one
line per test.
"""

from __future__ import annotations

import os
import sys
import time

import pytest

from poe.kernel import Kernel
from poe.session import Context, Handler, Session
from poe.testing import FakeClock, leaks, run_until_idle


def ticker(log: list[float], clock: FakeClock) -> dict[str, Handler]:
    """Handlers for a session that ticks three times, one minute apart."""

    def start(ctx: Context) -> None:
        ctx.kernel.delay("tick", 60.0, 1)

    def tick(ctx: Context, n: int) -> None:
        log.append(clock.now())
        if n < 3:
            ctx.kernel.delay("tick", 60.0, n + 1)

    return {"_start": start, "tick": tick}


def test_three_minutes_in_no_time(fake_kernel: Kernel, fake_clock: FakeClock) -> None:
    """``fake_kernel`` runs on ``fake_clock``, which jumps to the next timer when idle."""
    log: list[float] = []
    Session.create(fake_kernel, inline_states=ticker(log, fake_clock))
    started = time.monotonic()
    fake_kernel.run()
    assert log == [60.0, 120.0, 180.0]
    assert time.monotonic() - started < 1.0  # three fake minutes, no real waiting


def test_time_moves_only_when_told() -> None:
    """A FakeClock without autojump: the test decides when time passes."""
    clock = FakeClock(autojump=None)
    kernel = Kernel(clock=clock)
    rang: list[float] = []
    Session.create(
        kernel,
        inline_states={
            "_start": lambda ctx: ctx.kernel.delay("ding", 10.0),
            "ding": lambda ctx: rang.append(clock.now()),
        },
    )
    kernel.run_one_timeslice()  # start-up bookkeeping only: the timer is not due yet
    assert rang == []
    clock.advance(10.0)
    run_until_idle(kernel)
    assert rang == [10.0]
    assert leaks(kernel) == []
    kernel.loop.close()


def test_echo_session(kernel: Kernel) -> None:
    """``kernel`` is a real-clock kernel; after the test the plugin checks it for leaks."""
    heard: list[str] = []

    def start(ctx: Context) -> None:
        ctx.kernel.alias_set("echo")
        ctx.kernel.yield_("hear", "hello")

    def hear(ctx: Context, text: str) -> None:
        heard.append(text)
        ctx.kernel.alias_remove("echo")  # forget this, and the leak check fails the test

    Session.create(kernel, inline_states={"_start": start, "hear": hear})
    kernel.run()
    assert heard == ["hello"]


class _Report:
    """A tiny reporter: one deterministic line per test (no timings)."""

    def __init__(self) -> None:
        self.failed = 0

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call" or report.outcome != "passed":
            name = report.nodeid.split("::")[-1].split("[")[0]  # without the loop parameter
            print(f"{report.outcome.upper():<7} {name}")
            if report.outcome == "failed":
                self.failed += 1
                print(report.longreprtext)


def main() -> int:
    from importlib.metadata import entry_points

    here = os.path.dirname(os.path.abspath(__file__))
    # An empty configuration (-c /dev/null): the example must not depend on the repository's.
    args = [__file__, "-p", "no:terminal", "-p", "no:cacheprovider", "-c", os.devnull]
    args += ["--rootdir", here]
    if not any(ep.name == "poe" for ep in entry_points(group="pytest11")):
        args += ["-p", "poe.testing.plugin"]  # poe-core is not installed, only on the path
    report = _Report()
    code = pytest.main(args, plugins=[report])
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
