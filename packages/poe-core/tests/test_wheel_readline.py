"""POE::Wheel::ReadLine on prompt_toolkit, driven through a real pty.

Each test runs a small program in a child Python attached to a pty (TERM=xterm), types into the
master side and reads it until the child prints its result line. The child also runs a ticker
session whose ticks are printed above the prompt with ``put``: they appear while the prompt
waits, proving that it does not block the kernel. Timeouts only turn a hang into a failure.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("prompt_toolkit")

from poe.kernel import Kernel
from poe.session import Context, Session
from poe.testing.pty import PtyChild
from poe.wheel.readline import ReadLineWheel

if not hasattr(os, "openpty"):  # pragma: no cover - platform
    pytest.skip("no pty on this platform", allow_module_level=True)

SRC = Path(__file__).resolve().parents[1] / "src"


def _spawn(*args: str) -> PtyChild:
    """The test program on a pty (skipped where no pty can be opened)."""
    try:
        return PtyChild(PROGRAM, *args, pythonpath=[str(SRC)], env={"PROMPT_TOOLKIT_NO_CPR": "1"})
    except OSError as exc:  # pragma: no cover - no ptys in this sandbox
        pytest.skip(f"no pty available: {exc}")


PROGRAM = """
import json, sys
from poe.kernel import Kernel
from poe.session import Session
from poe.wheel.readline import ReadLineWheel

loop, mode, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
kernel = Kernel(loop=loop)
shared = {"wheel": None, "ticks": 0, "lines": []}

def start(ctx):
    wheel = ReadLineWheel(ctx.kernel, input_event="got", put_mode=mode, idle_time=0.05)
    shared["wheel"] = wheel
    ctx.heap["wheel"] = wheel
    wheel.get("p1> ")

def got(ctx, line, exception, wheel_id):
    wheel = ctx.heap["wheel"]
    assert wheel_id == wheel.ID
    shared["lines"].append([line, exception])
    if line:
        wheel.add_history(line)
    done = len(shared["lines"])
    if done < steps:
        wheel.get(f"p{done + 1}> ")
        return
    shared["history"] = wheel.get_history()
    shared["size"] = list(wheel.terminal_size())
    wheel.close()
    shared["wheel"] = None
    del ctx.heap["wheel"]
    ctx.kernel.post("ticker", "stop")

def tick_start(ctx):
    ctx.kernel.alias_set("ticker")
    ctx.kernel.delay("tick", 0.1)

def tick(ctx):
    shared["ticks"] += 1
    if shared["wheel"] is not None:
        shared["wheel"].put(f"tick {shared['ticks']}")
    ctx.kernel.delay("tick", 0.1)

def stop(ctx):
    ctx.kernel.delay("tick")
    ctx.kernel.alias_remove("ticker")

Session.create(kernel, inline_states={"_start": start, "got": got})
Session.create(kernel, inline_states={"_start": tick_start, "tick": tick, "stop": stop})
kernel.run()
del shared["wheel"]
print("RESULT " + json.dumps(shared), flush=True)
"""


def run_child(poe_loop: str, mode: str, steps: int, script: list[tuple[bytes, bytes]]) -> Any:
    """Run PROGRAM for ``steps`` input events: wait for each pattern, then type its keys."""
    child = _spawn(poe_loop, mode, str(steps))
    try:
        for wait_for, keys in script:
            child.expect(wait_for)
            child.send(keys)
        return child.result()
    finally:
        child.close()


@pytest.mark.poe_loops("asyncio", "uvloop")
def test_lines_history_interrupt_eot(poe_loop: str) -> None:
    result = run_child(
        poe_loop,
        "immediate",
        4,
        [
            # The ticker prints above the prompt while it waits for the first key.
            (rb"p1>[\s\S]*tick 3\r?\n", b"hello\r"),
            # Once a key has been echoed, the prompt has loaded its history (a background task).
            (rb"p2>", b"x"),
            (rb"x", b"\x7f\x1b[A\r"),  # recall "hello" from the history
            (rb"p3>", b"abc\x03"),  # Ctrl-C abandons the line
            (rb"p4>", b"xy\x7f\x7f\x04"),  # Ctrl-D on an empty line (after two backspaces)
        ],
    )
    assert result["lines"] == [["hello", None], ["hello", None], [None, "interrupt"], [None, "eot"]]
    assert result["history"] == ["hello", "hello"]
    assert result["ticks"] >= 3
    assert result["size"] == [80, 24]


@pytest.mark.poe_loops("asyncio", "uvloop")
def test_cancel_and_editing(poe_loop: str) -> None:
    result = run_child(
        poe_loop,
        "after",
        2,
        [
            (rb"p1>", b"wrld\x1b[D\x1b[D\x1b[Do\r"),  # left arrows then insert
            (rb"p2>", b"zz\x07"),  # Ctrl-G: cancel
        ],
    )
    assert result["lines"] == [["world", None], [None, "cancel"]]


@pytest.mark.poe_loops("asyncio", "uvloop")
def test_idle_put_mode_prints_while_waiting(poe_loop: str) -> None:
    # idle_time is 0.05 s in the child: ticks appear above the prompt once no key is pressed.
    result = run_child(poe_loop, "idle", 1, [(rb"p1>[\s\S]*tick \d+\r?\n", b"ok\r")])
    assert result["lines"] == [["ok", None]]


# -- in-process checks (no terminal needed) -----------------------------------------------------


def run_session(kernel: Kernel, start: Any) -> dict[str, Any]:
    heap: dict[str, Any] = {}
    Session.create(kernel, inline_states={"_start": start}, heap=heap)
    kernel.run()
    return heap


@pytest.mark.poe_loops("select")
def test_select_loop_is_refused(kernel: Kernel) -> None:
    def start(ctx: Context) -> None:
        with pytest.raises(RuntimeError, match="loop='asyncio'"):
            ReadLineWheel(ctx.kernel, input_event="got")
        ctx.heap["ok"] = True

    assert run_session(kernel, start) == {"ok": True}


@pytest.mark.poe_loops("asyncio")
def test_bad_arguments(kernel: Kernel) -> None:
    from poe.errors import InvalidArgument, NotInSession

    def start(ctx: Context) -> None:
        with pytest.raises(InvalidArgument, match="put_mode"):
            ReadLineWheel(ctx.kernel, input_event="got", put_mode="later")
        with pytest.raises(InvalidArgument, match="idle_time"):
            ReadLineWheel(ctx.kernel, input_event="got", idle_time=0)
        with pytest.raises(InvalidArgument, match="input_event"):
            ReadLineWheel(ctx.kernel, input_event="")
        ctx.heap["ok"] = True

    assert run_session(kernel, start) == {"ok": True}
    with pytest.raises(NotInSession):
        ReadLineWheel(kernel, input_event="got")


def test_history_files(tmp_path: Path) -> None:
    kernel = Kernel(loop="asyncio")
    path = tmp_path / "history"

    def start(ctx: Context) -> None:
        with ReadLineWheel(ctx.kernel, input_event="got") as wheel:
            with pytest.raises(RuntimeError, match="only one"):
                ReadLineWheel(ctx.kernel, input_event="got")
            wheel.add_history("one", "two", "three")
            wheel.write_history(path)
            assert path.read_text() == "one\ntwo\nthree\n"
            wheel.history_truncate_file(path, 2)
            wheel.read_history(path, 1)
            assert wheel.get_history() == ["one", "two", "three", "three"]
        ctx.heap["ok"] = True

    try:
        assert run_session(kernel, start) == {"ok": True}
    finally:
        kernel.loop.close()
