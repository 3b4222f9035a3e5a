"""Check that every package keeps the shared ``poe`` namespace a PEP 420 namespace.

``poe`` is shared by every ``poe-*`` distribution: ``poe-core`` ships ``poe/kernel.py``,
``poe-tcp`` ships ``poe/tcp/``, and so on. A single ``poe/__init__.py`` in any of them turns
``poe`` into a regular package that hides every other distribution's part of it (depending on
install order and mode), so it must never exist. Every package must also be typed (PEP 561): a
``py.typed`` marker either in ``src/poe/`` (poe-core, whose modules sit directly in the
namespace) or in each subpackage it ships (``src/poe/tcp/py.typed``).

Usage: ``python tools/check_namespace.py [REPO_ROOT]``; exit status 1 lists the violations.
``find_violations(root)`` is the same check for tests.
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["NAMESPACES", "find_violations", "main"]

NAMESPACES: tuple[str, ...] = ("poe",)
"""Namespace directories shared between distributions (under each package's ``src/``)."""

_INIT_NAMES = ("__init__.py", "__init__.pyi")


def _package_dirs(root: Path) -> list[Path]:
    packages = root / "packages"
    if not packages.is_dir():
        return []
    return sorted(p for p in packages.iterdir() if (p / "pyproject.toml").is_file())


def _is_shipped(entry: Path) -> bool:
    """Whether *entry* (a child of a namespace dir) is part of the distribution's code."""
    if entry.name.startswith(".") or entry.name in {"__pycache__", *_INIT_NAMES}:
        return False
    return entry.is_dir() or entry.suffix in {".py", ".pyi"}


def find_violations(root: Path | str) -> list[str]:
    """Return one message per violation found under ``root/packages/*`` (empty: all good)."""
    root = Path(root)
    violations: list[str] = []
    for package in _package_dirs(root):
        rel = package.relative_to(root).as_posix()
        src = package / "src"
        found_namespace = False
        for namespace in NAMESPACES:
            ns_dir = src / namespace
            if not ns_dir.is_dir():
                continue
            found_namespace = True
            violations.extend(
                f"{rel}/src/{namespace}/{init}: '{namespace}' is a PEP 420 namespace shared by "
                f"every poe-* distribution; delete this file (put code in {namespace}/<name>/ "
                f"or in a module of {namespace}/)"
                for init in _INIT_NAMES
                if (ns_dir / init).exists()
            )
            if (ns_dir / "py.typed").is_file():
                continue
            shipped = sorted(e for e in ns_dir.iterdir() if _is_shipped(e))
            untyped = [e for e in shipped if not (e.is_dir() and (e / "py.typed").is_file())]
            if not shipped:
                violations.append(f"{rel}/src/{namespace}/: empty, the package ships no code")
            for entry in untyped:
                where = f"{rel}/src/{namespace}/{entry.name}"
                if entry.is_dir():
                    violations.append(f"{where}/py.typed is missing (PEP 561 marker)")
                else:
                    violations.append(
                        f"{where}: module outside a typed subpackage; add "
                        f"{rel}/src/{namespace}/py.typed (PEP 561 marker)"
                    )
        if not found_namespace:
            expected = " or ".join(f"src/{ns}/" for ns in NAMESPACES)
            violations.append(f"{rel}: no {expected} (every package is a portion of the namespace)")
    return violations


def main(argv: list[str] | None = None) -> int:
    """Run the check on the repository given in *argv* (default: this file's repository)."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) > 1 or (args and args[0].startswith("-")):
        print("usage: check_namespace.py [REPO_ROOT]", file=sys.stderr)
        return 2
    root = Path(args[0]) if args else Path(__file__).resolve().parent.parent
    packages = _package_dirs(root)
    violations = find_violations(root)
    if violations:
        print(f"check_namespace: {len(violations)} violation(s):", file=sys.stderr)
        for violation in violations:
            print(f"  {violation}", file=sys.stderr)
        return 1
    names = ", ".join(p.name for p in packages) or "none"
    print(f"check_namespace: ok ({len(packages)} package(s): {names})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
