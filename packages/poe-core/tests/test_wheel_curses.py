"""POE::Wheel::Curses through a real pty.

A child Python attached to a pty (TERM=xterm) puts the terminal in curses mode; the test types
letters and an arrow key into the master side and reads it until the child prints its result
line. A ticker session in the child keeps running while the wheel waits for keys. Timeouts only
turn a hang into a failure.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from poe.errors import InvalidArgument
from poe.kernel import Kernel
from poe.session import Context, Session
from poe.testing.pty import PtyChild
from poe.wheel.curses import CursesWheel, key_name

curses = pytest.importorskip("curses")

if not hasattr(os, "openpty"):  # pragma: no cover - platform
    pytest.skip("no pty on this platform", allow_module_level=True)

SRC = Path(__file__).resolve().parents[1] / "src"


def _spawn(*args: str) -> PtyChild:
    """The test program on a pty (skipped where no pty can be opened)."""
    try:
        return PtyChild(PROGRAM, *args, pythonpath=[str(SRC)])
    except OSError as exc:  # pragma: no cover - no ptys in this sandbox
        pytest.skip(f"no pty available: {exc}")


PROGRAM = """
import json, os, sys
from poe.kernel import Kernel
from poe.session import Session
from poe.wheel.curses import CursesWheel

kernel = Kernel(loop=sys.argv[1])
shared = {"keys": [], "ticks": 0, "closed": None}

def start(ctx):
    ctx.heap["wheel"] = CursesWheel(ctx.kernel, input_event="key")

def key(ctx, name, wheel_id):
    wheel = ctx.heap["wheel"]
    assert wheel_id == wheel.ID
    shared["keys"].append(name)
    if name == "q":
        wheel.close()
        shared["closed"] = wheel.closed
        del ctx.heap["wheel"]
        ctx.kernel.post("ticker", "stop")

def tick_start(ctx):
    ctx.kernel.alias_set("ticker")
    ctx.kernel.delay("tick", 0.05)

def tick(ctx):
    shared["ticks"] += 1
    os.write(2, f"TICK {shared['ticks']}\\n".encode())
    ctx.kernel.delay("tick", 0.05)

def stop(ctx):
    ctx.kernel.delay("tick")
    ctx.kernel.alias_remove("ticker")

Session.create(kernel, inline_states={"_start": start, "key": key})
Session.create(kernel, inline_states={"_start": tick_start, "tick": tick, "stop": stop})
kernel.run()
print("RESULT " + json.dumps(shared), flush=True)
"""


@pytest.mark.poe_loops("asyncio", "uvloop", "select")
def test_keys_arrive_while_other_sessions_run(poe_loop: str) -> None:
    child = _spawn(poe_loop)
    try:
        child.expect(rb"TICK 2\b")  # the wheel is set up and the ticker keeps running
        child.send(b"ab\xc3\xa9\x1bOA\rq")  # a, b, e-acute, up arrow (keypad mode), Enter, q
        result = child.result()
    finally:
        child.close()
    assert result["keys"] == ["a", "b", "\u00e9", "KEY_UP", "\r", "q"]
    assert result["closed"] is True
    assert result["ticks"] >= 2
    # endwin() restored the terminal: the result line was printed in cooked mode.
    assert b"RESULT" in child.output


def test_key_name() -> None:
    assert key_name("x") == "x"
    assert key_name(curses.KEY_UP) == "KEY_UP"
    assert key_name(curses.KEY_LEFT) == "KEY_LEFT"


@pytest.mark.poe_loops("asyncio")
def test_bad_arguments(kernel: Kernel) -> None:
    def start(ctx: Context) -> None:
        with pytest.raises(InvalidArgument, match="input_event"):
            CursesWheel(ctx.kernel, input_event="")
        ctx.heap["ok"] = True

    heap: dict[str, Any] = {}
    Session.create(kernel, inline_states={"_start": start}, heap=heap)
    kernel.run()
    assert heap == {"ok": True}
