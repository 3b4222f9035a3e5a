"""``tools/new_package.py`` scaffolds a component that passes the namespace check."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tools.check_namespace import find_violations
from tools.new_package import core_requirement, main, scaffold

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A minimal copy of the repository: poe-core's metadata and namespace, nothing else."""
    core = tmp_path / "packages" / "poe-core"
    (core / "src" / "poe").mkdir(parents=True)
    shutil.copy(ROOT / "packages" / "poe-core" / "pyproject.toml", core / "pyproject.toml")
    (core / "src" / "poe" / "py.typed").write_text("")
    (core / "src" / "poe" / "kernel.py").write_text("")
    return tmp_path


def test_scaffold_creates_a_valid_package(repo: Path) -> None:
    target = scaffold(repo, "ping", "ICMP echo, the POE::Component::Client::Ping way.")
    assert target == repo / "packages" / "poe-ping"
    files = sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())
    assert files == [
        "CHANGELOG.md",
        "README.md",
        "pyproject.toml",
        "src/poe/ping/__init__.py",
        "src/poe/ping/py.typed",
        "tests/test_ping.py",
    ]
    assert not (target / "src" / "poe" / "__init__.py").exists()
    assert find_violations(repo) == []
    for path in target.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            assert "{{" not in text, path
            if path.suffix == ".py":
                compile(text, str(path), "exec")
    init = (target / "src" / "poe" / "ping" / "__init__.py").read_text(encoding="utf-8")
    assert "__all__" in init
    assert "from __future__ import annotations" in init
    assert "## [0.1.0] - Unreleased" in (target / "CHANGELOG.md").read_text(encoding="utf-8")


def test_scaffolded_pyproject(repo: Path) -> None:
    tomllib = pytest.importorskip("tomllib", reason="tomllib is new in Python 3.11")
    target = scaffold(repo, "dbi")
    meta = tomllib.loads((target / "pyproject.toml").read_text(encoding="utf-8"))
    project = meta["project"]
    assert project["name"] == "poe-dbi"
    assert project["dependencies"] == ["poe-core>=0.1,<0.2"]
    assert project["requires-python"] == ">=3.10"
    assert "Typing :: Typed" in project["classifiers"]
    assert project["entry-points"]["poe.components"] == {"dbi": "poe.dbi"}
    assert meta["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == ["src/poe"]


def test_core_requirement_follows_core_minor(repo: Path) -> None:
    assert core_requirement(ROOT).startswith("poe-core>=")
    pyproject = repo / "packages" / "poe-core" / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(text.replace('version = "0.1.0"', 'version = "0.7.3"'), encoding="utf-8")
    assert core_requirement(repo) == "poe-core>=0.7,<0.8"


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("Bad", "lowercase Python identifier"),
        ("1tcp", "lowercase Python identifier"),
        ("my-tcp", "lowercase Python identifier"),
        ("class", "not usable"),
        ("_tcp", "lowercase Python identifier"),
        ("core", "already exists"),
        ("kernel", "already exists"),
    ],
)
def test_bad_names_are_refused(repo: Path, name: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        scaffold(repo, name)
    assert sorted(p.name for p in (repo / "packages").iterdir()) == ["poe-core"]


def test_existing_package_is_refused(repo: Path) -> None:
    scaffold(repo, "irc")
    with pytest.raises(ValueError, match="already exists"):
        scaffold(repo, "irc")


def test_command_line(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serial", "--root", str(repo), "--description", "Serial ports."]) == 0
    out = capsys.readouterr().out
    assert "noxfile.py, PACKAGES" in out
    assert '"poe-serial": {"path": "packages/poe-serial"' in out
    assert (repo / "packages" / "poe-serial" / "src" / "poe" / "serial" / "py.typed").is_file()
    assert main(["serial", "--root", str(repo)]) == 1
    assert "already exists" in capsys.readouterr().err
