"""Scaffold a new component distribution ``packages/poe-<name>/`` from ``tools/template/``.

Usage::

    python tools/new_package.py NAME [--description TEXT] [--root REPO_ROOT]

creates ``packages/poe-NAME/`` with ``pyproject.toml`` (hatchling, ``poe-core`` as a range on
its current minor, entry point in the ``poe.components`` group), ``src/poe/NAME/__init__.py``
(with ``__all__``) and ``py.typed``, ``tests/``, ``README.md`` and ``CHANGELOG.md``. There is
never a ``src/poe/__init__.py``: ``poe`` is a PEP 420 namespace.

The new package is not wired into the matrix automatically: the script prints the line to add
to ``PACKAGES`` in ``noxfile.py`` (and the ``mypy_path`` entry for editors).
"""

from __future__ import annotations

import argparse
import keyword
import re
import sys
from pathlib import Path

__all__ = ["TEMPLATE_DIR", "core_requirement", "main", "scaffold", "validate_name"]

TEMPLATE_DIR = Path(__file__).resolve().parent / "template"
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_TEMPLATE_SUFFIX = ".tmpl"


def _repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


def _taken_names(root: Path) -> set[str]:
    """Names already used directly under ``poe/`` by some package (modules and subpackages)."""
    taken: set[str] = set()
    for ns_dir in root.glob("packages/*/src/poe"):
        for entry in ns_dir.iterdir():
            if entry.is_dir() or entry.suffix in {".py", ".pyi"}:
                taken.add(entry.name.removesuffix(entry.suffix) if entry.is_file() else entry.name)
    return taken


def validate_name(name: str, root: Path) -> str | None:
    """Return why *name* cannot be a new component under *root*, or None if it can."""
    if not _NAME_RE.fullmatch(name):
        return f"{name!r}: use a lowercase Python identifier ([a-z][a-z0-9_]*), e.g. 'tcp'"
    if keyword.iskeyword(name) or name.startswith("_"):
        return f"{name!r}: not usable as a module name"
    if name in {"core", *_taken_names(root)}:
        return f"{name!r}: poe.{name} already exists in the workspace"
    dist = f"poe-{name.replace('_', '-')}"
    if (root / "packages" / dist).exists():
        return f"packages/{dist} already exists"
    return None


def core_requirement(root: Path) -> str:
    """``poe-core>=X.Y,<X.Y+1``: components follow poe-core's current minor (0.x semver)."""
    text = (root / "packages" / "poe-core" / "pyproject.toml").read_text(encoding="utf-8")
    project = re.search(r"^\[project\]\s*$(.*?)(?=^\[|\Z)", text, re.MULTILINE | re.DOTALL)
    match = re.search(r'^version\s*=\s*"(\d+)\.(\d+)[^"]*"', project[1] if project else "", re.M)
    if match is None:
        msg = "cannot read [project].version from packages/poe-core/pyproject.toml"
        raise ValueError(msg)
    major, minor = int(match[1]), int(match[2])
    upper = f"{major}.{minor + 1}" if major == 0 else f"{major + 1}"
    return f"poe-core>={major}.{minor},<{upper}"


def _render(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    if "{{" in text:
        msg = f"unknown placeholder left in template: {text[text.index('{{') :][:40]!r}"
        raise ValueError(msg)
    return text


def scaffold(root: Path, name: str, description: str | None = None) -> Path:
    """Create ``packages/poe-<name>/`` under *root* from the template; return its path.

    Raises:
        ValueError: the name is invalid or taken, or the description cannot be rendered.
    """
    root = Path(root)
    problem = validate_name(name, root)
    if problem is not None:
        raise ValueError(problem)
    dist = f"poe-{name.replace('_', '-')}"
    description = description or f"poe component: {name}."
    if any(c in description for c in '"\\\n'):
        msg = "the description must be one line without double quotes or backslashes"
        raise ValueError(msg)
    values = {
        "name": name,
        "dist": dist,
        "description": description,
        "core_requirement": core_requirement(root),
    }
    target = root / "packages" / dist
    for template in sorted(TEMPLATE_DIR.rglob("*" + _TEMPLATE_SUFFIX)):
        rel = template.relative_to(TEMPLATE_DIR).as_posix().removesuffix(_TEMPLATE_SUFFIX)
        out = target / _render(rel, values)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(_render(template.read_text(encoding="utf-8"), values), encoding="utf-8")
    return target


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; see the module docstring."""
    parser = argparse.ArgumentParser(description="Scaffold packages/poe-<name>/ from a template.")
    parser.add_argument("name", help="component name: the module becomes poe.<name>")
    parser.add_argument("--description", help="one-line summary for pyproject and README")
    parser.add_argument("--root", type=Path, default=_repo_root(), help="repository root")
    args = parser.parse_args(argv)
    try:
        target = scaffold(args.root, args.name, args.description)
    except ValueError as exc:
        print(f"new_package: {exc}", file=sys.stderr)
        return 1
    dist = target.name
    rel = target.relative_to(args.root.resolve()) if target.is_absolute() else target
    print(f"created {rel}/")
    for path in sorted(p for p in target.rglob("*") if p.is_file()):
        print(f"  {path.relative_to(target)}")
    print(
        "\nNext steps (manual):\n"
        f"  1. noxfile.py, PACKAGES: add\n"
        f'       "{dist}": {{"path": "packages/{dist}", "loops": [], "extras": [], '
        f'"module": "poe.{args.name}"}},\n'
        f"     (list loop names in 'loops' if its tests honour POE_EVENT_LOOP).\n"
        f'  2. pyproject.toml (root), [tool.mypy] mypy_path: add "packages/{dist}/src"\n'
        f"     (nox sets MYPYPATH itself; this is for editors).\n"
        f"  3. If another package will depend on it: root [tool.uv.sources] "
        f"{dist} = {{ workspace = true }}.\n"
        f"  4. ./dev setup   (uv sync installs it editable), then: .venv/bin/nox -s "
        f"'tests-3.11({dist})'\n"
        f"  5. Write its CHANGELOG.md entries under [Unreleased]; it is versioned on its own."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
