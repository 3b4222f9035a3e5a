"""Nox sessions for the poe monorepo, all generated from the ``PACKAGES`` table below.

Session names are stable (``./dev test``, CI and DEVELOPERS.md use them):

``namespace``
    ``tools/check_namespace.py`` (no ``poe/__init__.py`` anywhere, ``py.typed`` everywhere),
    then the cross-package tests in ``tests/`` except ``tests/test_examples.py``.
``lint``
    ``ruff check`` and ``ruff format --check`` over the whole repository.
``typecheck``
    ``mypy`` (strict, configured in the root ``pyproject.toml``) on every ``packages/*/src``,
    ``bench/``, ``examples/``, ``tools/``, ``tests/`` and this file, then once more per package
    on ``packages/<pkg>/tests`` (each package's tests are their own top-level modules).
``tests-<python>(<package>)``, e.g. ``tests-3.12(poe-core)``
    Builds the package's wheel with ``uv build`` (plus the wheels of the workspace packages it
    depends on), installs ONLY those wheels with their declared dependencies and extras and the
    ``test`` dependency group into a fresh venv, checks that no other workspace package is
    importable and that the code comes from the wheel (not from ``src/``), then runs
    ``packages/<package>/tests``. One session per package and per Python of ``PYTHONS`` found.
``loops(<package>, <loop>)``, e.g. ``loops(poe-core, select)``
    The same wheel install on the default Python; the package's tests run with
    ``POE_EVENT_LOOP=<loop>``.
``docs``
    ``sphinx-build -W --keep-going -b html docs docs/_build/html`` with the workspace packages
    installed, then ``tests/test_examples.py`` if present.

``nox`` alone runs all of them (``nox.options.sessions``). Examples::

    nox -l                              # list
    nox -s lint typecheck
    nox -s tests                        # every package x every Python found
    nox -s "tests-3.12(poe-core)"
    nox -s loops
    nox -s "tests-3.11(poe-core)" -- -k alarm -x   # extra arguments go to pytest

Pythons: ``PYTHONS`` lists the supported versions; a session is declared only for the ones that
run here (``pythonX.Y`` on PATH and working), so a machine without 3.13 skips it instead of
failing, even with ``CI=true``. Under pyenv, a ``pythonX.Y`` shim only works when its version is
in ``PYENV_VERSION``, so this file appends to that variable (or to ``pyenv version-name``) the
newest installed patch of each ``PYTHONS`` entry not selected yet. Interpreters are never downloaded
(``UV_PYTHON_DOWNLOADS=never``); every ``uv`` call gets ``--python`` pointing at the session's
venv, whose base interpreter is the one found here.

Adding a package: ``python tools/new_package.py NAME``, then one line in ``PACKAGES``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TypedDict

import nox
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

nox.needs_version = ">=2025.5.1"


class PackageSpec(TypedDict):
    """One row of ``PACKAGES``."""

    path: str
    """The package directory (``pyproject.toml``, ``src/``, ``tests/``)."""
    loops: list[str]
    """``POE_EVENT_LOOP`` values its tests are run under by the ``loops`` session."""
    extras: list[str]
    """Extras installed with its wheel in ``tests`` and ``loops``."""
    module: str
    """A module the installed wheel must provide (checked before the tests run)."""


PACKAGES: dict[str, PackageSpec] = {
    "poe-core": {
        "path": "packages/poe-core",
        "loops": ["asyncio", "uvloop", "select"],
        "extras": ["uvloop", "readline"],
        "module": "poe.kernel",
    },
    "poe-tcp": {
        "path": "packages/poe-tcp",
        "loops": ["asyncio", "uvloop", "select"],
        "extras": ["uvloop"],
        "module": "poe.tcp",
    },
    "poe-irc": {
        "path": "packages/poe-irc",
        "loops": ["asyncio", "uvloop", "select"],
        "extras": ["uvloop"],
        "module": "poe.irc",
    },
}

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
"""Supported Pythons (``requires-python = ">=3.10"``); keep in step with the classifiers."""

ROOT = Path(__file__).resolve().parent
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")

os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")
nox.options.default_venv_backend = "uv"
nox.options.download_python = "never"
nox.options.sessions = ["namespace", "lint", "typecheck", "tests", "loops", "docs"]


def _expose_pyenv_versions() -> None:
    """Extend ``PYENV_VERSION`` so that every pyenv-installed ``PYTHONS`` entry is on PATH.

    The versions already selected stay first (a pyenv shim running nox sets the variable to its
    own version); the newest installed patch of each missing ``PYTHONS`` entry is appended.
    """
    if shutil.which("pyenv") is None:
        return
    try:
        current = (
            os.environ.get("PYENV_VERSION")
            or subprocess.run(
                ["pyenv", "version-name"], capture_output=True, text=True, check=True, timeout=30
            ).stdout.strip()
        )
        installed = subprocess.run(
            ["pyenv", "versions", "--bare"], capture_output=True, text=True, check=True, timeout=30
        ).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return
    chosen = [v for v in current.split(":") if v]
    for wanted in PYTHONS:
        if any(v == wanted or v.startswith(wanted + ".") for v in chosen):
            continue
        patches = [v for v in installed if re.fullmatch(re.escape(wanted) + r"\.\d+", v)]
        if patches:
            chosen.append(max(patches, key=lambda v: tuple(int(p) for p in v.split("."))))
    if chosen:
        os.environ["PYENV_VERSION"] = ":".join(chosen)


def _interpreter(version: str) -> str | None:
    """The real executable behind ``python<version>`` on PATH, if it exists and runs."""
    exe = shutil.which(f"python{version}")
    if exe is None:
        return None
    probe = "import sys; print(sys.executable); print('%d.%d' % sys.version_info[:2])"
    try:
        out = subprocess.run(
            [exe, "-c", probe], capture_output=True, text=True, check=True, timeout=60
        ).stdout.split("\n")
    except (OSError, subprocess.SubprocessError):
        return None  # e.g. a pyenv shim whose version is not selected
    return out[0] if len(out) > 1 and out[1] == version else None


_expose_pyenv_versions()
INTERPRETERS = {v: exe for v in PYTHONS if (exe := _interpreter(v)) is not None}
AVAILABLE_PYTHONS = list(INTERPRETERS)
DEFAULT_PYTHON = (
    "3.11" if "3.11" in INTERPRETERS else (AVAILABLE_PYTHONS[0] if AVAILABLE_PYTHONS else None)
)


# -- workspace helpers ---------------------------------------------------------------------------


def _workspace() -> dict[str, Path]:
    """Every workspace member (``packages/*/pyproject.toml``): distribution name -> directory."""
    members: dict[str, Path] = {}
    for pyproject in sorted(ROOT.glob("packages/*/pyproject.toml")):
        name = nox.project.load_toml(pyproject)["project"]["name"]
        members[canonicalize_name(name)] = pyproject.parent
    return members


def _workspace_requirements(package: str) -> list[str]:
    """The workspace members *package* needs at run time, transitively (not itself)."""
    members = _workspace()
    needed: list[str] = []
    todo = [canonicalize_name(package)]
    while todo:
        project = nox.project.load_toml(members[todo.pop()] / "pyproject.toml")["project"]
        for spec in project.get("dependencies", []):
            name = canonicalize_name(Requirement(spec).name)
            if name in members and name not in needed and name != canonicalize_name(package):
                needed.append(name)
                todo.append(name)
    return needed


def _venv_python(session: nox.Session) -> str:
    bin_dir = Path(session.bin)
    return str(bin_dir / ("python.exe" if sys.platform == "win32" else "python"))


def _uv_pip_install(session: nox.Session, *args: str) -> None:
    session.run("uv", "pip", "install", "--quiet", "--python", _venv_python(session), *args)


def _check_python(session: nox.Session) -> None:
    """Log which interpreter the venv runs on; fail if it is not the requested version."""
    if session.python is None:
        return
    want = str(session.python)
    probe = (
        "import sys; v = '%d.%d' % sys.version_info[:2]; "
        f"assert v == {want!r}, f'venv runs Python {{v}}, wanted {want}'; "
        "print(sys.version.split()[0], sys.base_prefix)"
    )
    out = session.run("python", "-c", probe, silent=True, log=False)
    version, _, base = str(out).strip().partition(" ")
    expected = INTERPRETERS.get(want, "?")
    session.log(f"Python {version} from {base} (python{want} on PATH: {expected})")


def _install_wheel(session: nox.Session, package: str) -> None:
    """Build *package* (and the workspace packages it needs) and install only those wheels."""
    _check_python(session)
    spec = PACKAGES[package]
    needed = [package, *_workspace_requirements(package)]
    dist_dir = Path(session.create_tmp()).resolve() / "dist"
    shutil.rmtree(dist_dir, ignore_errors=True)
    python = _venv_python(session)
    requirements: list[str] = []
    for name in needed:
        out = dist_dir / name
        session.run(
            *("uv", "build", "--quiet", "--package", name, "--wheel", "--python", python),
            *("--out-dir", str(out)),
        )
        (wheel,) = out.glob("*.whl")
        extras = f"[{','.join(spec['extras'])}]" if name == package and spec["extras"] else ""
        requirements.append(f"{name}{extras} @ {wheel.as_uri()}")
    test_deps = nox.project.dependency_groups(PYPROJECT, "test")
    _uv_pip_install(session, *requirements, *test_deps, "--reinstall-package", package)
    members = _workspace()
    absent = {
        name: PACKAGES[name]["module"] if name in PACKAGES else "poe." + name[4:].replace("-", "_")
        for name in members
        if name not in {canonicalize_name(n) for n in needed}
    }
    absent_args = [f"--absent={dist}={module}" for dist, module in absent.items()]
    session.run("python", "tools/check_isolation.py", spec["module"], *absent_args)


def _pytest(session: nox.Session, *args: str, env: dict[str, str] | None = None) -> None:
    # Run from the repository root so that the root pyproject.toml is pytest's configfile.
    session.chdir(ROOT)
    session.run("pytest", *args, *session.posargs, env=env)


# -- sessions ------------------------------------------------------------------------------------


@nox.session(python=DEFAULT_PYTHON)
def namespace(session: nox.Session) -> None:
    """PEP 420 / PEP 561 layout check, then the cross-package tests in tests/."""
    session.run("python", "tools/check_namespace.py")
    _check_python(session)
    editables = [arg for path in _workspace().values() for arg in ("-e", str(path))]
    _uv_pip_install(session, *editables, *nox.project.dependency_groups(PYPROJECT, "test"))
    _pytest(session, "tests", "--ignore=tests/test_examples.py")


@nox.session(python=DEFAULT_PYTHON)
def lint(session: nox.Session) -> None:
    """Ruff lint and format check over the repository."""
    _uv_pip_install(session, *nox.project.dependency_groups(PYPROJECT, "lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


def _script_dirs(*tops: str) -> list[Path]:
    """Directories of scripts under *tops*: they import their siblings as top-level modules."""
    dirs = {p.parent for top in tops for p in (ROOT / top).glob("**/*.py")}
    return sorted(
        d for d in dirs if "__pycache__" not in d.parts and not (d / "__init__.py").exists()
    )


@nox.session(python=DEFAULT_PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy --strict on sources, tests, bench, examples and tools."""
    _check_python(session)
    _uv_pip_install(session, *nox.project.dependency_groups(PYPROJECT, "typecheck"))
    members = _workspace()
    src_dirs = [(path / "src").relative_to(ROOT).as_posix() for path in members.values()]
    # (targets, extra MYPYPATH entries). Each package's tests and each script directory get
    # their own run, with that directory on MYPYPATH as it is on sys.path at run time: two
    # packages may both have tests/conftest.py, bench/ and examples/ scripts import siblings.
    runs: list[tuple[list[str], list[str]]] = [
        ([*src_dirs, *(p for p in ("tools", "tests", "noxfile.py") if (ROOT / p).exists())], [])
    ]
    for path in members.values():
        tests = (path / "tests").relative_to(ROOT).as_posix()
        if any((ROOT / tests).glob("**/*.py")):
            runs.append(([tests], [tests]))
    script_dirs = _script_dirs("bench", "examples")
    for directory in script_dirs:
        rel = directory.relative_to(ROOT).as_posix()
        if any(d != directory and d.is_relative_to(directory) for d in script_dirs):
            targets = [p.relative_to(ROOT).as_posix() for p in sorted(directory.glob("*.py"))]
        else:
            targets = [rel]
        runs.append((targets, [rel]))
    failed: list[str] = []
    for targets, extra in runs:
        env = {"MYPYPATH": os.pathsep.join([*extra, *src_dirs])}
        try:
            session.run("mypy", *targets, env=env)
        except nox.command.CommandFailed:
            failed.append(" ".join(targets) if len(targets) < 4 else f"{targets[0]} ...")
    if failed:
        session.log("mypy failed on: " + "; ".join(failed))
        raise nox.command.CommandFailed("mypy")


@nox.session(python=AVAILABLE_PYTHONS)
@nox.parametrize("package", list(PACKAGES), ids=list(PACKAGES))
def tests(session: nox.Session, package: str) -> None:
    """One package's tests against its built wheel, nothing else from the workspace."""
    _install_wheel(session, package)
    _pytest(session, f"{PACKAGES[package]['path']}/tests")


@nox.session(python=DEFAULT_PYTHON)
@nox.parametrize(
    ("package", "loop"),
    [(name, loop) for name, spec in PACKAGES.items() for loop in spec["loops"]],
    ids=[f"{name}, {loop}" for name, spec in PACKAGES.items() for loop in spec["loops"]],
)
def loops(session: nox.Session, package: str, loop: str) -> None:
    """One package's tests with POE_EVENT_LOOP=<loop> (the kernel's default loop)."""
    _install_wheel(session, package)
    session.log(f"POE_EVENT_LOOP={loop}")
    _pytest(session, f"{PACKAGES[package]['path']}/tests", env={"POE_EVENT_LOOP": loop})


@nox.session(python=DEFAULT_PYTHON)
def docs(session: nox.Session) -> None:
    """Sphinx HTML build with warnings as errors, then the examples' tests."""
    if not (ROOT / "docs" / "conf.py").is_file():
        session.error("docs/conf.py is missing")
    _check_python(session)
    editables: list[str] = []
    for name, path in _workspace().items():
        extras = PACKAGES[name]["extras"] if name in PACKAGES else []
        editables += ["-e", f"{path}[{','.join(extras)}]" if extras else str(path)]
    groups = [*nox.project.dependency_groups(PYPROJECT, "docs", "test")]
    _uv_pip_install(session, *editables, *groups)
    session.chdir(ROOT)
    session.run("sphinx-build", "-W", "--keep-going", "-b", "html", "docs", "docs/_build/html")
    if (ROOT / "tests" / "test_examples.py").is_file():
        _pytest(session, "tests/test_examples.py")
