"""``tools/dev_summary.py`` turns a nox log into the summary printed by ``./dev test``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.dev_summary import main, parse, render, total

LOG = """\
nox > Running session namespace
nox > python tools/check_namespace.py
============================== 20 passed in 1.14s ==============================
nox > Session namespace was successful in 3 seconds.
nox > Running session tests-3.11(poe-core)
=========== 1 failed, 150 passed, 2 skipped, 1 warning in 75.50s (0:01:15) ===========
nox > Running session loops(poe-core, select)
====== 3 errors, 1 xfailed in 0.50s ======
nox > Running session lint
nox > Ran multiple sessions:
nox > * namespace: success, took 3 seconds
nox > * tests-3.11(poe-core): failed, took 80 seconds
nox > * loops(poe-core, select): failed
nox > * lint: success
"""


def test_parse_attributes_pytest_lines_to_sessions() -> None:
    sessions = {s.name: s for s in parse(LOG.splitlines())}
    assert list(sessions) == [
        "namespace",
        "tests-3.11(poe-core)",
        "loops(poe-core, select)",
        "lint",
    ]
    assert sessions["namespace"].status == "success"
    assert sessions["namespace"].counts == {"passed": 20}
    core = sessions["tests-3.11(poe-core)"]
    assert core.status == "failed"
    assert core.counts == {"failed": 1, "passed": 150, "skipped": 2, "warnings": 1}
    assert core.seconds == pytest.approx(75.5)
    assert sessions["loops(poe-core, select)"].counts == {"errors": 3, "xfailed": 1}
    assert sessions["lint"].pytest_lines == []


def test_total_is_a_pytest_summary_line() -> None:
    line = total(parse(LOG.splitlines()))
    assert line is not None
    assert len(line) == 80
    assert line.strip("=").strip() == (
        "1 failed, 170 passed, 2 skipped, 1 xfailed, 1 warning, 3 errors in 77.14s"
    )
    assert total(parse(["nox > Running session lint"])) is None


def test_render_names_the_failures() -> None:
    out = render(parse(LOG.splitlines()), "x.log", 1)
    assert out[-3] == "FAILED: 2 of 4 sessions: tests-3.11(poe-core), loops(poe-core, select)"
    assert out[-1].startswith("=")
    assert out[-1].endswith("=")
    ok = render(parse(LOG.splitlines()[:4]), "x.log", 0)
    assert ok[-3] == "OK: 1 session passed"


def test_main_reads_a_log(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "nox.log"
    log.write_text(LOG, encoding="utf-8")
    assert main([str(log), "1"]) == 0
    assert "pytest totals over 3 runs:" in capsys.readouterr().out
    assert main([]) == 2
