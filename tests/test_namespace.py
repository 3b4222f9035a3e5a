"""The shared ``poe`` namespace stays PEP 420 (no ``__init__.py``) and every package is typed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tools.check_namespace import find_violations

ROOT = Path(__file__).resolve().parent.parent
CHECK = ROOT / "tools" / "check_namespace.py"


def _package(root: Path, dist: str, files: list[str]) -> Path:
    package = root / "packages" / dist
    package.mkdir(parents=True)
    (package / "pyproject.toml").write_text(f'[project]\nname = "{dist}"\n', encoding="utf-8")
    for rel in files:
        path = package / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("", encoding="utf-8")
    return package


@pytest.fixture
def good_tree(tmp_path: Path) -> Path:
    _package(tmp_path, "poe-core", ["src/poe/py.typed", "src/poe/kernel.py", "src/poe/loop/x.py"])
    _package(tmp_path, "poe-tcp", ["src/poe/tcp/__init__.py", "src/poe/tcp/py.typed"])
    return tmp_path


def test_repository_has_no_violations() -> None:
    assert find_violations(ROOT) == []
    assert (ROOT / "packages" / "poe-core" / "src" / "poe" / "py.typed").is_file()
    assert not (ROOT / "packages" / "poe-core" / "src" / "poe" / "__init__.py").exists()


def test_good_tree_passes(good_tree: Path) -> None:
    assert find_violations(good_tree) == []


def test_init_in_namespace_dir_is_reported(good_tree: Path) -> None:
    (good_tree / "packages" / "poe-tcp" / "src" / "poe" / "__init__.py").write_text("")
    (violation,) = find_violations(good_tree)
    assert violation.startswith("packages/poe-tcp/src/poe/__init__.py:")
    assert "PEP 420" in violation


def test_init_in_a_subpackage_is_fine(good_tree: Path) -> None:
    (good_tree / "packages" / "poe-core" / "src" / "poe" / "loop" / "__init__.py").write_text("")
    assert find_violations(good_tree) == []


@pytest.mark.parametrize(
    ("dist", "marker", "expected"),
    [
        ("poe-core", "src/poe/py.typed", "packages/poe-core/src/poe/kernel.py: module outside"),
        ("poe-tcp", "src/poe/tcp/py.typed", "packages/poe-tcp/src/poe/tcp/py.typed is missing"),
    ],
)
def test_missing_py_typed_is_reported(
    good_tree: Path, dist: str, marker: str, expected: str
) -> None:
    (good_tree / "packages" / dist / marker).unlink()
    violations = find_violations(good_tree)
    assert violations
    assert all(v.startswith(f"packages/{dist}/") for v in violations)
    assert any(v.startswith(expected) for v in violations)


def test_package_without_namespace_dir_is_reported(good_tree: Path) -> None:
    _package(good_tree, "poe-flat", ["src/poe_flat/__init__.py"])
    (violation,) = find_violations(good_tree)
    assert violation.startswith("packages/poe-flat: no src/poe/")


def test_command_line_exit_status(good_tree: Path) -> None:
    ok = subprocess.run(
        [sys.executable, str(CHECK), str(good_tree)], capture_output=True, text=True, check=False
    )
    assert ok.returncode == 0, ok.stderr
    assert "ok (2 package(s): poe-core, poe-tcp)" in ok.stdout

    (good_tree / "packages" / "poe-core" / "src" / "poe" / "__init__.py").write_text("")
    bad = subprocess.run(
        [sys.executable, str(CHECK), str(good_tree)], capture_output=True, text=True, check=False
    )
    assert bad.returncode == 1
    assert "1 violation(s)" in bad.stderr
    assert "packages/poe-core/src/poe/__init__.py" in bad.stderr
