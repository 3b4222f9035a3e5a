"""Summarise a ``./dev test`` log: one line per nox session, then the pytest totals.

``./dev test`` tees nox's output into a log and calls ``python tools/dev_summary.py LOG`` at
the end, so the last lines on screen say which sessions failed and how many tests ran, instead
of leaving that information hundreds of lines up. The last line is a pytest-style summary line
whose counts add up every pytest run in the log.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Session", "parse", "render", "total"]

_RUNNING = re.compile(r"^nox > Running session (?P<name>\S.*?)\s*$")
_RESULT = re.compile(r"^nox > \* (?P<name>\S.*?): (?P<status>\w+)\b")
_SINGLE = re.compile(
    r"^nox > Session (?P<name>\S.*?) (?P<status>was successful|failed|was skipped|aborted)\b"
)
_PYTEST = re.compile(r"^=+ (?P<body>.+?) in (?P<secs>\d+(?:\.\d+)?)s(?: \([\d:]+\))? =+$")
_COUNT = re.compile(r"(?P<n>\d+) (?P<kind>[a-z]+)")
_ORDER = ("failed", "passed", "skipped", "deselected", "xfailed", "xpassed", "warnings", "errors")
_ALIASES = {"warning": "warnings", "error": "errors"}
_SINGULAR = {"warnings": "warning", "errors": "error"}
_WIDTH = 80


@dataclass
class Session:
    """What the log says about one nox session."""

    name: str
    status: str = "?"
    pytest_lines: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def parse(lines: list[str]) -> list[Session]:
    """Sessions in the order they ran, with their pytest summary lines and final status."""
    sessions: dict[str, Session] = {}
    current: Session | None = None
    for raw in lines:
        line = raw.rstrip("\n")
        if m := _RUNNING.match(line):
            current = sessions.setdefault(m["name"], Session(m["name"]))
        elif m := _RESULT.match(line) or _SINGLE.match(line):
            status = m["status"].removeprefix("was ").replace("successful", "success")
            sessions.setdefault(m["name"], Session(m["name"])).status = status
        elif (m := _PYTEST.match(line)) and current is not None:
            current.pytest_lines.append(f"{m['body']} in {m['secs']}s")
            current.seconds += float(m["secs"])
            for c in _COUNT.finditer(m["body"]):
                kind = _ALIASES.get(c["kind"], c["kind"])
                current.counts[kind] = current.counts.get(kind, 0) + int(c["n"])
    return list(sessions.values())


def total(sessions: list[Session]) -> str | None:
    """A pytest-style summary line adding up every pytest run, or None if none ran."""
    runs = [s for s in sessions if s.pytest_lines]
    if not runs:
        return None
    counts: dict[str, int] = {}
    for session in runs:
        for kind, n in session.counts.items():
            counts[kind] = counts.get(kind, 0) + n
    kinds = [k for k in _ORDER if counts.get(k)] + sorted(set(counts) - set(_ORDER))
    parts = [f"{counts[k]} {_SINGULAR.get(k, k) if counts[k] == 1 else k}" for k in kinds]
    body = ", ".join(parts) or "no tests ran"
    secs = sum(s.seconds for s in runs)
    return f" {body} in {secs:.2f}s ".center(_WIDTH, "=")


def render(sessions: list[Session], log: str, exit_status: int | None = None) -> list[str]:
    """The summary block printed at the end of ``./dev test``."""
    out = [f" ./dev test summary (full log: {log}) ".center(_WIDTH, "=")]
    width = max((len(s.name) for s in sessions), default=10) + 2
    for session in sessions:
        detail = "; ".join(session.pytest_lines)
        out.append(f"{session.name:<{width}}{session.status:<9}{detail}".rstrip())
    failed = [s.name for s in sessions if s.status not in {"success", "skipped"}]
    if failed:
        out.append(f"FAILED: {len(failed)} of {len(sessions)} sessions: {', '.join(failed)}")
    elif exit_status not in {None, 0}:
        out.append(f"FAILED: nox exited with status {exit_status}")
    else:
        out.append(f"OK: {len(sessions)} session{'s' if len(sessions) != 1 else ''} passed")
    runs = sum(1 for s in sessions if s.pytest_lines)
    line = total(sessions)
    if line is None:
        out.append("(no pytest run in this log)")
    else:
        out.append(f"pytest totals over {runs} run{'s' if runs > 1 else ''}:")
        out.append(line)
    return out


def main(argv: list[str] | None = None) -> int:
    """``dev_summary.py LOG [EXIT_STATUS]``: print the summary of a nox log."""
    args = sys.argv[1:] if argv is None else argv
    if not 1 <= len(args) <= 2:
        print("usage: dev_summary.py LOG [EXIT_STATUS]", file=sys.stderr)
        return 2
    log = Path(args[0])
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    status = int(args[1]) if len(args) > 1 else None
    print("\n".join(render(parse(lines), args[0], status)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
