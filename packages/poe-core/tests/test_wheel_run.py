"""RunWheel (POE::Wheel::Run) with real child processes, on every loop backend.

Ports the behaviour checked by POE's t/30_loops/wheel_run, hinrik-wheel-run-die,
z_leolo_wheel_run and rt56417-wheel-run: stdio events, CloseEvent, exit statuses, kill, ptys.
No timing is asserted; a guard timer only turns a hang into a failure.
"""

from __future__ import annotations

import errno
import os
import shlex
import signal
import sys
import textwrap
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from poe.errors import InvalidArgument, NotPermitted
from poe.filter import BlockFilter, StreamFilter
from poe.kernel import Kernel
from poe.session import Context, Session
from poe.wheel.run import RunWheel

GUARD_SECONDS = 60.0
PY = sys.executable


def py(code: str) -> list[str]:
    return [PY, "-c", textwrap.dedent(code)]


@dataclass
class Result:
    stdout: list[Any] = field(default_factory=list)
    stderr: list[Any] = field(default_factory=list)
    errors: list[tuple[Any, ...]] = field(default_factory=list)
    flushed: int = 0
    closed: int = 0
    status: int | None = None
    chld_args: tuple[Any, ...] = ()
    timed_out: bool = False
    wheel_id: int = 0
    pid: int = 0
    events: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        assert self.status is not None
        return os.waitstatus_to_exitcode(self.status)


Hook = Callable[[Context, RunWheel, Result], None]
RecordHook = Callable[[Context, RunWheel, Result, Any], None]


def run_wheel(
    kernel: Kernel,
    program: Any,
    *,
    after_start: Hook | None = None,
    on_stdout: RecordHook | None = None,
    wait_close: bool = True,
    use_exit_event: bool = False,
    also_wait: Callable[[Result], bool] | None = None,
    **params: Any,
) -> Result:
    """Run one wheel in a session until CloseEvent (if expected) and CHLD have both arrived."""
    result = Result()
    events: dict[str, Any] = {
        "stdout_event": "out",
        "stderr_event": "err",
        "error_event": "error",
        "close_event": "closed",
        "stdin_event": "flushed",
    }
    events.update(params)
    events = {k: v for k, v in events.items() if v is not ...}

    def finish(ctx: Context) -> None:
        if also_wait is not None and not also_wait(result):
            return
        if (result.closed or not wait_close) and result.status is not None:
            ctx.kernel.delay("guard")
            wheel = ctx.heap.pop("wheel", None)
            if wheel is not None:
                wheel.close()

    def start(ctx: Context) -> None:
        if use_exit_event:
            wheel = RunWheel(ctx.kernel, program, exit_event="chld", **events)
        else:
            wheel = RunWheel(ctx.kernel, program, **events)
            ctx.kernel.sig_child(wheel.PID, "chld")
        ctx.heap["wheel"] = wheel
        result.wheel_id = wheel.ID
        result.pid = wheel.PID
        ctx.kernel.delay("guard", GUARD_SECONDS)
        if after_start is not None:
            after_start(ctx, wheel, result)

    def out(ctx: Context, record: Any, wheel_id: int) -> None:
        assert wheel_id == result.wheel_id
        result.stdout.append(record)
        result.events.append("out")
        if on_stdout is not None and "wheel" in ctx.heap:
            on_stdout(ctx, ctx.heap["wheel"], result, record)

    def err(ctx: Context, record: Any, wheel_id: int) -> None:
        assert wheel_id == result.wheel_id
        result.stderr.append(record)
        result.events.append("err")

    def error(ctx: Context, *args: Any) -> None:
        result.errors.append(args)
        result.events.append(f"error {args[0]} {args[4]}")
        finish(ctx)

    def flushed(ctx: Context, wheel_id: int) -> None:
        assert wheel_id == result.wheel_id
        result.flushed += 1

    def closed(ctx: Context, wheel_id: int) -> None:
        assert wheel_id == result.wheel_id
        result.closed += 1
        result.events.append("closed")
        finish(ctx)

    def chld(ctx: Context, name: str, pid: int, status: int, *args: Any) -> None:
        assert name == "CHLD"
        assert pid == result.pid
        result.status = status
        result.chld_args = args
        finish(ctx)

    def guard(ctx: Context) -> None:
        result.timed_out = True
        wheel = ctx.heap.pop("wheel", None)
        if wheel is not None:
            wheel.kill(signal.SIGKILL)
            wheel.close()

    Session.create(
        kernel,
        inline_states={
            "_start": start,
            "out": out,
            "err": err,
            "error": error,
            "flushed": flushed,
            "closed": closed,
            "chld": chld,
            "guard": guard,
        },
    )
    kernel.run()
    assert not result.timed_out, f"the child hung: {result}"
    return result


# -- pipes ----------------------------------------------------------------------------------------


def test_put_echoes_through_the_child(kernel: Kernel) -> None:
    program = py(
        """
        import sys
        for line in sys.stdin:
            sys.stdout.write(line.upper())
            sys.stdout.flush()
        """
    )

    def start(ctx: Context, wheel: RunWheel, result: Result) -> None:
        assert wheel.put("hello", "world") is False
        assert wheel.get_driver_out_octets() == len(b"hello\nworld\n")
        assert wheel.get_driver_out_messages() >= 1

    def got(ctx: Context, wheel: RunWheel, result: Result, record: Any) -> None:
        if len(result.stdout) == 2:
            wheel.shutdown_stdin()
            with pytest.raises(NotPermitted):
                wheel.put("too late")

    result = run_wheel(kernel, program, after_start=start, on_stdout=got)
    assert result.stdout == ["HELLO", "WORLD"]
    assert result.flushed >= 1
    assert result.exit_code == 0
    assert result.closed == 1
    assert ("read", 0, "", result.wheel_id, "STDOUT") in result.errors
    assert ("read", 0, "", result.wheel_id, "STDERR") in result.errors
    assert result.events[-1] == "closed"


def test_stdout_stderr_and_exit_code(kernel: Kernel) -> None:
    program = py(
        """
        import sys
        print("out 1")
        print("out 2")
        print("err 1", file=sys.stderr)
        sys.exit(3)
        """
    )
    result = run_wheel(kernel, program)
    assert result.stdout == ["out 1", "out 2"]
    assert result.stderr == ["err 1"]
    assert result.exit_code == 3
    assert result.closed == 1
    handles = sorted(e[4] for e in result.errors)
    assert handles == ["STDERR", "STDOUT"]


def test_shell_string_program_and_program_args(kernel: Kernel) -> None:
    command = f"{shlex.quote(PY)} -c 'import sys; print(*sys.argv[1:])'"
    result = run_wheel(kernel, command, program_args=["a", "b c"])
    # A string goes through the shell with the arguments joined by spaces (POE's exec(SCALAR)).
    assert result.stdout == ["a b c"]
    assert result.exit_code == 0


def test_list_program_args_are_not_split(kernel: Kernel) -> None:
    result = run_wheel(
        kernel, py("import sys; print(repr(sys.argv[1:]))"), program_args=["a", "b c"]
    )
    assert result.stdout == ["['a', 'b c']"]


def test_exec_failure_reports_errno(kernel: Kernel, tmp_path: Path) -> None:
    result = run_wheel(kernel, [str(tmp_path / "no-such-program")])
    assert result.exit_code == 2  # ENOENT, POE's _warn_and_exit_child(..., int($!))
    assert any("can't exec" in line for line in result.stderr)


def test_exit_event_extra(kernel: Kernel) -> None:
    result = run_wheel(kernel, py("raise SystemExit(4)"), use_exit_event=True)
    assert result.exit_code == 4
    assert result.chld_args == (result.wheel_id,)


# -- callables ------------------------------------------------------------------------------------


def _child_adds(a: int, b: int) -> None:
    print(a + b)
    print("to stderr", file=sys.stderr)
    sys.exit(7)


def _child_returns() -> None:
    sys.stdout.write("no newline")


def _child_dies() -> None:
    print("before")
    raise RuntimeError("boom")


def test_callable_child_prints_and_exits_with_code(kernel: Kernel) -> None:
    result = run_wheel(kernel, _child_adds, program_args=[1, 2])
    assert result.stdout == ["3"]
    assert result.stderr == ["to stderr"]
    assert result.exit_code == 7


def test_callable_child_returning_exits_zero(kernel: Kernel) -> None:
    result = run_wheel(kernel, _child_returns, stdout_filter=StreamFilter())
    assert b"".join(result.stdout) == b"no newline"
    assert result.exit_code == 0


def test_callable_child_raising_exits_255(kernel: Kernel) -> None:
    # hinrik-wheel-run-die: an exception in the child code is reported and the child dies.
    result = run_wheel(kernel, _child_dies)
    assert result.stdout == ["before"]
    assert result.exit_code == 255
    assert any("RuntimeError: boom" in line for line in result.stderr)


def test_close_on_call_closes_inherited_fds(kernel: Kernel) -> None:
    read_end, write_end = os.pipe()
    os.set_inheritable(write_end, True)

    def child() -> None:
        try:
            os.fstat(write_end)
        except OSError:
            print("closed")
        else:
            print("open")

    try:
        result = run_wheel(kernel, child, close_on_call=True)
    finally:
        os.close(read_end)
        os.close(write_end)
    assert result.stdout == ["closed"]


# -- ptys -----------------------------------------------------------------------------------------


def test_pty_conduit_child_sees_a_tty(kernel: Kernel) -> None:
    program = py(
        """
        import os, sys
        print("tty", os.isatty(0), os.isatty(1), os.isatty(2))
        sys.stdout.flush()
        line = sys.stdin.readline()
        print("got", line.strip()[::-1])
        print("stderr goes here too", file=sys.stderr)
        """
    )

    def start(ctx: Context, wheel: RunWheel, result: Result) -> None:
        wheel.put("olleh")

    with pytest.warns(UserWarning, match="stderr_event"):
        result = run_wheel(kernel, program, conduit="pty", after_start=start)
    assert result.stdout == ["tty True True True", "got hello", "stderr goes here too"]
    assert result.stderr == []
    assert result.exit_code == 0
    assert result.closed == 1
    # The master reports the hang-up as a read error (EIO on Linux), as in POE.
    assert [e[0] for e in result.errors] == ["read"]
    assert result.errors[0][4] == "STDOUT"


def test_pty_winsize(kernel: Kernel) -> None:
    program = py(
        """
        import os
        size = os.get_terminal_size(0)
        print(size.lines, size.columns)
        """
    )
    result = run_wheel(kernel, program, conduit="pty", stderr_event=..., winsize=(33, 101))
    assert result.stdout == ["33 101"]


def test_pty_pipe_has_separate_stderr(kernel: Kernel) -> None:
    program = py(
        """
        import os, sys
        print("out", os.isatty(1))
        print("err", os.isatty(2), file=sys.stderr)
        """
    )
    result = run_wheel(kernel, program, conduit="pty-pipe")
    assert result.stdout == ["out True"]
    assert result.stderr == ["err False"]
    assert result.exit_code == 0
    assert result.closed == 1
    assert sorted(e[4] for e in result.errors) == ["STDERR", "STDOUT"]


# -- control --------------------------------------------------------------------------------------


def test_kill_terminates_the_child(kernel: Kernel) -> None:
    program = py(
        """
        import time
        print("ready", flush=True)
        time.sleep(120)
        """
    )

    def got(ctx: Context, wheel: RunWheel, result: Result, record: Any) -> None:
        assert wheel.kill() is True

    result = run_wheel(kernel, program, on_stdout=got)
    assert result.stdout == ["ready"]
    assert result.exit_code == -signal.SIGTERM


def test_kill_by_name_and_after_exit(kernel: Kernel) -> None:
    program = py(
        """
        import time
        print("ready", flush=True)
        time.sleep(120)
        """
    )
    kept: list[RunWheel] = []

    def got(ctx: Context, wheel: RunWheel, result: Result, record: Any) -> None:
        kept.append(wheel)
        assert wheel.kill("KILL") is True

    result = run_wheel(kernel, program, on_stdout=got)
    assert result.exit_code == -signal.SIGKILL
    assert kept[0].kill() is False  # reaped: nobody left to signal
    with pytest.raises(InvalidArgument):
        kept[0].kill("NOSUCHSIGNAL")


def test_shutdown_stdin_flushes_queued_input_first(kernel: Kernel) -> None:
    size = 1_000_000
    program = py(
        """
        import sys
        print(len(sys.stdin.buffer.read()))
        """
    )

    def start(ctx: Context, wheel: RunWheel, result: Result) -> None:
        wheel.put(b"x" * size)
        assert wheel.get_driver_out_octets() == size
        wheel.shutdown_stdin()
        with pytest.raises(NotPermitted):
            wheel.put(b"y")

    result = run_wheel(kernel, program, stdin_filter=StreamFilter(), after_start=start)
    assert result.stdout == [str(size)]
    assert result.exit_code == 0
    assert result.flushed == 1


def test_write_error_when_the_child_never_reads(kernel: Kernel) -> None:
    def start(ctx: Context, wheel: RunWheel, result: Result) -> None:
        wheel.put(b"z" * 1_000_000)  # more than a pipe holds: the child exits before reading

    def write_failed(result: Result) -> bool:
        return any(e[0] == "write" for e in result.errors)

    result = run_wheel(
        kernel,
        py("print('bye')"),
        stdin_filter=StreamFilter(),
        after_start=start,
        also_wait=write_failed,
    )
    failures = [e for e in result.errors if e[0] == "write"]
    assert failures == [("write", errno.EPIPE, os.strerror(errno.EPIPE), result.wheel_id, "STDIN")]
    assert result.flushed == 0
    assert result.exit_code == 0


def test_fork_with_threads_running(kernel: Kernel) -> None:
    # Python 3.12+ warns about fork() in a threaded process; the wheel silences that warning
    # (pytest turns warnings into errors here).
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        result = run_wheel(kernel, _child_adds, program_args=[2, 2])
    finally:
        stop.set()
        thread.join()
    assert result.stdout == ["4"]


@pytest.mark.parametrize("conduit", ["socketpair", "inet"])
def test_other_conduits_use_pipes_as_in_poe(kernel: Kernel, conduit: str) -> None:
    def start(ctx: Context, wheel: RunWheel, result: Result) -> None:
        wheel.put("ping")
        wheel.shutdown_stdin()

    result = run_wheel(
        kernel,
        py("import sys; print(sys.stdin.readline().strip())"),
        conduit=conduit,
        after_start=start,
    )
    assert result.stdout == ["ping"]


def test_priority_and_process_group(kernel: Kernel) -> None:
    program = py(
        """
        import os
        print(os.nice(0), os.getpgrp() == os.getpid())
        """
    )
    base = os.nice(0)
    result = run_wheel(kernel, program, priority=3)
    assert result.stdout == [f"{min(base + 3, 19)} True"]
    result = run_wheel(kernel, program, no_setpgrp=True)
    assert result.stdout == [f"{base} False"]


def test_no_stdin(kernel: Kernel) -> None:
    def start(ctx: Context, wheel: RunWheel, result: Result) -> None:
        with pytest.raises(NotPermitted):
            wheel.put("nowhere")
        wheel.shutdown_stdin()  # nothing to shut down: harmless

    result = run_wheel(
        kernel, py("print('fine')"), no_stdin=True, stdin_event=..., after_start=start
    )
    assert result.stdout == ["fine"]
    assert result.exit_code == 0


def test_pause_and_resume_stdout(kernel: Kernel) -> None:
    def start(ctx: Context, wheel: RunWheel, result: Result) -> None:
        assert wheel.pause_stdout() is True
        assert wheel.resume_stdout() is True
        assert wheel.pause_stderr() is True
        assert wheel.resume_stderr() is True

    result = run_wheel(kernel, py("print('x')"), after_start=start)
    assert result.stdout == ["x"]


def test_redirect_stdout_to_file(kernel: Kernel, tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    result = run_wheel(
        kernel,
        py("import sys; print('to file'); print('to pipe', file=sys.stderr)"),
        stdout_event=...,
        redirect_stdout=str(target),
    )
    assert result.stderr == ["to pipe"]
    assert target.read_text() == "to file\n"
    assert result.closed == 1


def test_redirect_output_sends_both_to_one_file(kernel: Kernel, tmp_path: Path) -> None:
    target = tmp_path / "all.txt"
    result = run_wheel(
        kernel,
        py("import sys; print('a', flush=True); print('b', file=sys.stderr)"),
        stdout_event=...,
        stderr_event=...,
        redirect_output=target,
        wait_close=False,
    )
    assert result.exit_code == 0
    assert target.read_text() == "a\nb\n"


# -- filters and events ---------------------------------------------------------------------------


def test_stdout_filter_switch_moves_pending_input(kernel: Kernel) -> None:
    program = py(
        """
        import sys
        sys.stdout.write("switch\\nrest of\\ndata")
        """
    )

    def got(ctx: Context, wheel: RunWheel, result: Result, record: Any) -> None:
        if record == "switch":
            wheel.set_stdout_filter(StreamFilter())
            assert isinstance(wheel.get_stdout_filter(), StreamFilter)

    result = run_wheel(kernel, program, on_stdout=got)
    assert result.stdout[0] == "switch"
    assert b"".join(result.stdout[1:]) == b"rest of\ndata"


def test_stdio_filter_switch_changes_put(kernel: Kernel) -> None:
    program = py(
        """
        import sys
        data = sys.stdin.buffer.read()
        sys.stdout.write(repr(data) + "\\n")
        """
    )

    def start(ctx: Context, wheel: RunWheel, result: Result) -> None:
        wheel.put("line")
        wheel.set_stdin_filter(StreamFilter())
        wheel.put(b"raw")
        assert isinstance(wheel.get_stdin_filter(), StreamFilter)
        wheel.shutdown_stdin()

    result = run_wheel(kernel, program, after_start=start)
    assert result.stdout == ["b'line\\nraw'"]


def test_stdout_block_filter(kernel: Kernel) -> None:
    program = py("import sys; sys.stdout.write('abcdefghij')")
    result = run_wheel(kernel, program, stdout_filter=BlockFilter(block_size=4))
    assert result.stdout == [b"abcd", b"efgh"]  # "ij" never makes a whole block


def test_stderr_filter_and_event_rename(kernel: Kernel) -> None:
    program = py(
        """
        import sys
        print("first", flush=True)
        sys.stdin.readline()
        print("second", flush=True)
        sys.stderr.write("e1e2")
        """
    )
    renamed: list[Any] = []

    def got(ctx: Context, wheel: RunWheel, result: Result, record: Any) -> None:
        with pytest.raises(InvalidArgument):
            wheel.event(no_such_event="x")
        wheel.event(stdout_event="out2")
        ctx.kernel.state("out2", lambda c, rec, wid: renamed.append(rec))
        wheel.put("go")

    result = run_wheel(kernel, program, on_stdout=got, stderr_filter=BlockFilter(block_size=2))
    assert result.stdout == ["first"]
    assert renamed == ["second"]
    assert result.stderr == [b"e1", b"e2"]


# -- validation -----------------------------------------------------------------------------------


def test_constructor_validation(kernel: Kernel) -> None:
    caught: list[type[BaseException]] = []

    def start(ctx: Context) -> None:
        bad: list[dict[str, Any]] = [
            {"program": None},
            {"program": []},
            {"program": "true", "conduit": "carrier-pigeon"},
            {"program": "true", "program_args": "a"},
            {"program": "true", "redirect_stdout": "/dev/null", "stdout_event": "x"},
            {"program": "true", "conduit": "pty", "redirect_stdin": "/dev/null"},
        ]
        for params in bad:
            try:
                RunWheel(ctx.kernel, **params)
            except InvalidArgument as exc:
                caught.append(type(exc))

    Session.create(kernel, inline_states={"_start": start})
    kernel.run()
    assert caught == [InvalidArgument] * 6
