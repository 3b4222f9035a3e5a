"""Run every program in ``examples/`` and check what it prints.

Each ``examples/<name>.py`` runs in its own interpreter (the kernel, signals and child processes
must not leak between examples) with every ``packages/*/src`` on ``PYTHONPATH``, so the examples
work from a plain checkout. It must exit with status 0 within the timeout. When
``examples/<name>.out`` exists, standard output must equal it exactly; the documentation shows
those same files, so the docs cannot drift from what the programs really print. Examples whose
output depends on timing or process ids (the kernel tour) have no ``.out`` file.

A file whose name starts with ``_`` (``examples/_tcp_script.py``) is not an example but a helper
that several examples import (they run with ``examples/`` as their script directory, so a plain
``import _name`` finds it): it is not run by itself, and needs no ``.out`` file.

To refresh an expected output after an intended change::

    PYTHONPATH=packages/poe-core/src python examples/NAME.py > examples/NAME.out
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
DOCS = ROOT / "docs"
SOURCES = [str(src) for src in sorted((ROOT / "packages").glob("*/src"))]
TIMEOUT = 60.0

#: The examples; files named ``_*.py`` are helpers they import, not programs of their own.
SCRIPTS = sorted(p for p in EXAMPLES.glob("*.py") if not p.name.startswith("_"))
#: Examples that use POSIX-only facilities (OS signals, child processes).
POSIX_ONLY = {"os_signals", "kernel_tour"}


def _env() -> dict[str, str]:
    env = dict(os.environ)
    paths = [*SOURCES, *filter(None, [env.get("PYTHONPATH")])]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env["PYTHONIOENCODING"] = "utf-8"
    return env


@pytest.mark.parametrize("script", SCRIPTS, ids=[script.stem for script in SCRIPTS])
def test_example(script: Path) -> None:
    if script.stem in POSIX_ONLY and os.name != "posix":
        pytest.skip("needs POSIX signals and processes")
    try:
        result = subprocess.run(
            [sys.executable, str(script)],
            cwd=ROOT,
            env=_env(),
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{script.name} still running after {TIMEOUT:.0f} s:\n{exc.stdout!r}")
    assert result.returncode == 0, (
        f"{script.name} exited with {result.returncode}\n"
        f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    )
    expected = script.with_suffix(".out")
    if expected.is_file():
        assert result.stdout == expected.read_text(encoding="utf-8"), (
            f"{script.name}: output differs from {expected.name}\n--- stderr\n{result.stderr}"
        )


def test_every_expected_output_has_its_program() -> None:
    orphans = [out.name for out in EXAMPLES.glob("*.out") if not out.with_suffix(".py").is_file()]
    assert not orphans, f"expected outputs without a program: {orphans}"


def test_every_example_is_in_the_docs() -> None:
    included = set()
    for page in DOCS.rglob("*.rst"):
        included.update(re.findall(r"examples/(\w+)\.py", page.read_text(encoding="utf-8")))
    missing = [script.name for script in SCRIPTS if script.stem not in included]
    assert not missing, f"examples no documentation page includes: {missing}"
