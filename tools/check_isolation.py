"""Check, inside a nox session's venv, that a package was installed alone from its wheel.

Usage::

    python tools/check_isolation.py MODULE [--absent DIST=MODULE ...]

fails (exit 1) if ``MODULE`` is not imported from the venv's ``site-packages`` (for instance
from a ``src/`` directory on ``sys.path`` or an editable install), or if any ``--absent``
workspace distribution is installed or its module importable. ``noxfile.py`` runs it after
installing one package's wheel, before that package's tests.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import os
import sys
import sysconfig

__all__ = ["find_problems", "main"]


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a parent package is missing
        return False


def find_problems(module: str, absent: dict[str, str]) -> tuple[list[str], str | None]:
    """Return (problems, where *module* was found) for the running interpreter."""
    problems: list[str] = []
    for dist, dist_module in sorted(absent.items()):
        try:
            importlib.metadata.distribution(dist)
        except importlib.metadata.PackageNotFoundError:
            pass
        else:
            problems.append(f"distribution {dist} is installed but not a declared dependency")
        if _importable(dist_module):
            problems.append(f"{dist_module} (from {dist}) is importable but not declared")
    site = os.path.realpath(sysconfig.get_paths()["purelib"])
    spec = importlib.util.find_spec(module) if _importable(module) else None
    origin = os.path.realpath(spec.origin) if spec is not None and spec.origin else None
    if origin is None:
        problems.append(f"{module} is not importable")
    elif not origin.startswith(site + os.sep):
        problems.append(f"{module} comes from {origin}, not from the installed wheel in {site}")
    return problems, origin


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("module", help="a module the package under test provides")
    parser.add_argument(
        "--absent", action="append", default=[], metavar="DIST=MODULE", help="must be missing"
    )
    args = parser.parse_args(argv)
    absent = dict(item.split("=", 1) for item in args.absent)
    problems, origin = find_problems(args.module, absent)
    if problems:
        print("isolation check failed:", *problems, sep="\n  ", file=sys.stderr)
        return 1
    others = ", ".join(sorted(absent)) or "none in the workspace"
    print(f"isolation ok: {args.module} from {origin}; other packages absent: {others}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
