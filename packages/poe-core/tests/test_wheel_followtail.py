"""POE::Wheel::FollowTail: start positions, polling, truncation, rotation, select mode.

Ports POE 1.370's ``t/20_resources/.../wheel_tail``, ``t/90_regression/bingos-followtail.t``,
``whjackson-followtail.t`` and ``pipe-followtail.t`` (poe-tests.md item 32) with real files.
Polling tests run on the fake clock: each step of a scenario runs when the wheel reports
``idle_event`` (a poll that found nothing), so no test sleeps for the poll interval and none
depends on timing.
"""

from __future__ import annotations

import gc
import os
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from poe.driver import SysRWDriver
from poe.errors import InvalidArgument, NotInSession
from poe.filter import BlockFilter, LineFilter
from poe.session import Context, Session
from poe.wheel.followtail import DEFAULT_SEEK_BACK, FollowTailWheel

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from poe.driver import Handle
    from poe.kernel import Kernel

Log = list[tuple[Any, ...]]


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


def append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write(text)


def lines(prefix: str, count: int) -> str:
    return "".join(f"{prefix}{i}\n" for i in range(count))


def follow(
    kernel: Kernel,
    steps: Sequence[Callable[[], object]],
    *,
    log_idle: bool = False,
    **kwargs: Any,
) -> Log:
    """Run a FollowTail wheel; run one step per idle event; close it when steps run out."""
    log: Log = []

    def start(ctx: Context) -> None:
        wheel = FollowTailWheel(
            ctx.kernel,
            input_event="got",
            reset_event="reset",
            error_event="error",
            idle_event="idle",
            **kwargs,
        )
        ctx.heap["wheel"] = wheel
        ctx.heap["steps"] = list(steps)

    def got(ctx: Context, record: Any, wheel_id: int) -> None:
        assert wheel_id == ctx.heap["wheel"].ID
        log.append(("input", record))

    def reset(ctx: Context, wheel_id: int) -> None:
        assert wheel_id == ctx.heap["wheel"].ID
        log.append(("reset",))

    def error(ctx: Context, op: str, errno: int, errstr: str, wheel_id: int) -> None:
        log.append(("error", op, errno))
        ctx.heap.pop("wheel").close()

    def idle(ctx: Context, wheel_id: int) -> None:
        assert wheel_id == ctx.heap["wheel"].ID
        if log_idle:
            log.append(("idle",))
        pending: list[Callable[[], object]] = ctx.heap["steps"]
        if not pending:
            ctx.heap.pop("wheel").close()
            return
        pending.pop(0)()

    Session.create(
        kernel,
        inline_states={"_start": start, "got": got, "reset": reset, "error": error, "idle": idle},
    )
    kernel.run()
    return log


def inputs(log: Log) -> list[Any]:
    return [entry[1] for entry in log if entry[0] == "input"]


@pytest.fixture
def logfile(tmp_path: Path) -> Path:
    return tmp_path / "app.log"


# ---------------------------------------------------------------------------------------------
# start positions (bingos-followtail and friends)
# ---------------------------------------------------------------------------------------------


def test_bingos_default_start_skips_existing_content(fake_kernel: Kernel, logfile: Path) -> None:
    logfile.write_text("This is the first line\n")
    log = follow(
        fake_kernel, [lambda: append(logfile, "This is the second line\n")], filename=logfile
    )
    assert log == [("input", "This is the second line")]


def test_default_start_skips_a_big_file(fake_kernel: Kernel, logfile: Path) -> None:
    logfile.write_text(lines("old", 2000))  # well over DEFAULT_SEEK_BACK octets
    assert logfile.stat().st_size > DEFAULT_SEEK_BACK
    log = follow(fake_kernel, [lambda: append(logfile, lines("new", 3))], filename=logfile)
    assert log == [("input", "new0"), ("input", "new1"), ("input", "new2")]


def test_default_start_completes_a_partial_last_line(fake_kernel: Kernel, logfile: Path) -> None:
    # POE discards the parsed records but keeps the filter's partial record.
    logfile.write_text("whole\npart")
    log = follow(fake_kernel, [lambda: append(logfile, "ial\nnext\n")], filename=logfile)
    assert inputs(log) == ["partial", "next"]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"seek": 0}, ["a0", "a1", "a2", "a3", "new"]),
        ({"seek_back": 0}, ["new"]),
        ({"seek_back": 6}, ["a2", "a3", "new"]),
        ({"seek": -3}, ["a3", "new"]),
        ({"seek": 3}, ["a1", "a2", "a3", "new"]),
        ({"seek": 10_000}, ["new"]),
        ({"seek_back": 10_000}, ["a0", "a1", "a2", "a3", "new"]),
    ],
)
def test_seek_and_seek_back(
    fake_kernel: Kernel, logfile: Path, kwargs: dict[str, Any], expected: list[str]
) -> None:
    logfile.write_text(lines("a", 4))
    log = follow(fake_kernel, [lambda: append(logfile, "new\n")], filename=logfile, **kwargs)
    assert inputs(log) == expected


def test_handle_mode_default_start(fake_kernel: Kernel, logfile: Path) -> None:
    logfile.write_text(lines("old", 5))
    with logfile.open("rb") as handle:
        log = follow(fake_kernel, [lambda: append(logfile, lines("new", 2))], handle=handle)
    assert inputs(log) == ["new0", "new1"]


def test_tell_reports_the_read_offset(fake_kernel: Kernel, logfile: Path) -> None:
    logfile.write_text(lines("x", 10))
    seen: list[int | None] = []

    def start(ctx: Context) -> None:
        wheel = FollowTailWheel(ctx.kernel, filename=logfile, input_event="got")
        seen.append(wheel.tell())
        missing = FollowTailWheel(ctx.kernel, filename=logfile.with_name("nope"), input_event="got")
        seen.append(missing.tell())
        missing.close()
        wheel.close()
        seen.append(wheel.tell())

    Session.create(fake_kernel, inline_states={"_start": start, "got": lambda ctx, *a: None})
    fake_kernel.run()
    assert seen == [logfile.stat().st_size, None, None]


# ---------------------------------------------------------------------------------------------
# polling: appended data, partial lines, idle
# ---------------------------------------------------------------------------------------------


def test_appends_in_pieces_are_framed(fake_kernel: Kernel, logfile: Path) -> None:
    logfile.write_text("")
    steps = [
        lambda: append(logfile, "one\ntw"),
        lambda: append(logfile, "o\nthr"),
        lambda: append(logfile, "ee\n"),
        lambda: append(logfile, lines("bulk", 50)),
    ]
    log = follow(fake_kernel, steps, filename=logfile, seek=0)
    assert inputs(log) == ["one", "two", "three", *[f"bulk{i}" for i in range(50)]]
    assert ("reset",) not in log


def test_idle_event_on_every_empty_poll(fake_kernel: Kernel, logfile: Path) -> None:
    logfile.write_text("")
    steps = [lambda: None, lambda: append(logfile, "x\n"), lambda: None]
    log = follow(fake_kernel, steps, filename=logfile, seek=0, log_idle=True)
    assert log == [("idle",), ("idle",), ("input", "x"), ("idle",), ("idle",)]


def test_large_append_larger_than_block_size(fake_kernel: Kernel, logfile: Path) -> None:
    logfile.write_text("")
    big = lines("line-with-some-padding-", 3000)
    log = follow(
        fake_kernel,
        [lambda: append(logfile, big)],
        filename=logfile,
        driver=SysRWDriver(block_size=512),
    )
    assert inputs(log) == big.splitlines()


# ---------------------------------------------------------------------------------------------
# truncation (ResetEvent)
# ---------------------------------------------------------------------------------------------


def truncate_to(path: Path, text: str) -> Callable[[], None]:
    def step() -> None:
        with path.open("r+", encoding="utf-8") as f:
            f.truncate(0)
            f.write(text)

    return step


def test_truncation_by_name(fake_kernel: Kernel, logfile: Path) -> None:
    logfile.write_text("")
    steps = [lambda: append(logfile, lines("a", 5)), truncate_to(logfile, "b0\n")]
    log = follow(fake_kernel, steps, filename=logfile)
    assert log == [*[("input", f"a{i}") for i in range(5)], ("reset",), ("input", "b0")]


def test_truncation_by_handle(fake_kernel: Kernel, logfile: Path) -> None:
    logfile.write_text("")
    steps = [lambda: append(logfile, lines("a", 5)), truncate_to(logfile, "b0\n")]
    with logfile.open("rb") as handle:
        log = follow(fake_kernel, steps, handle=handle)
    assert log == [*[("input", f"a{i}") for i in range(5)], ("reset",), ("input", "b0")]


def test_truncation_to_empty_then_refill(fake_kernel: Kernel, logfile: Path) -> None:
    logfile.write_text("")
    steps = [
        lambda: append(logfile, lines("a", 3)),
        truncate_to(logfile, ""),
        lambda: append(logfile, "b0\n"),
    ]
    log = follow(fake_kernel, steps, filename=logfile)
    assert log == [*[("input", f"a{i}") for i in range(3)], ("reset",), ("input", "b0")]


@pytest.mark.parametrize("by", ["filename", "handle"])
def test_fast_truncation_refilled_past_the_old_size(
    fake_kernel: Kernel, logfile: Path, by: str
) -> None:
    # POE's "FollowTail missing fast truncation": truncated and refilled past the old size
    # between two polls. POE read on from the stale offset; the port detects the rewrite.
    logfile.write_text("")
    steps = [lambda: append(logfile, lines("a", 3)), truncate_to(logfile, lines("fresh", 10))]
    if by == "filename":
        log = follow(fake_kernel, steps, filename=logfile)
    else:
        with logfile.open("rb") as handle:
            log = follow(fake_kernel, steps, handle=handle)
    assert log == [
        *[("input", f"a{i}") for i in range(3)],
        ("reset",),
        *[("input", f"fresh{i}") for i in range(10)],
    ]


def test_fast_truncation_refilled_to_the_same_size(fake_kernel: Kernel, logfile: Path) -> None:
    logfile.write_text("")
    steps = [lambda: append(logfile, "aaaa\n"), truncate_to(logfile, "bbbb\n")]
    log = follow(fake_kernel, steps, filename=logfile)
    assert log == [("input", "aaaa"), ("reset",), ("input", "bbbb")]


# ---------------------------------------------------------------------------------------------
# rotation (whjackson-followtail)
# ---------------------------------------------------------------------------------------------


def test_whjackson_rotation_by_rename_and_recreate(fake_kernel: Kernel, logfile: Path) -> None:
    rotated = logfile.with_name("app.log.1")
    logfile.write_text("")
    expected: Log = []
    steps: list[Callable[[], object]] = []
    for rotation in range(3):

        def write_and_rotate(r: int = rotation) -> None:
            append(logfile, lines(f"r{r}-", 5))
            os.replace(logfile, rotated)
            append(rotated, f"r{r}-late\n")  # written to the old file after the rename
            logfile.write_text(lines(f"r{r}-new", 2))

        steps.append(write_and_rotate)
        expected += [("input", f"r{rotation}-{i}") for i in range(5)]
        expected += [("input", f"r{rotation}-late"), ("reset",)]
        expected += [("input", f"r{rotation}-new{i}") for i in range(2)]
    log = follow(fake_kernel, steps, filename=logfile)
    assert log == expected


class RacyDriver(SysRWDriver):
    """At the first end of file, the writer appends to the old file and rotates it."""

    def __init__(self) -> None:
        super().__init__()
        self.race: Callable[[], None] | None = None

    def get(self, handle: Handle) -> list[bytes] | None:
        result = super().get(handle)
        if result is None and self.race is not None:
            race, self.race = self.race, None
            race()
        return result


def test_rotation_drains_data_written_after_the_last_read(
    fake_kernel: Kernel, logfile: Path
) -> None:
    rotated = logfile.with_name("app.log.1")
    logfile.write_text("")

    def race() -> None:
        append(logfile, "late\n")
        os.replace(logfile, rotated)
        logfile.write_text("new\n")

    driver = RacyDriver()

    def step() -> None:
        append(logfile, "early\n")
        driver.race = race

    log = follow(fake_kernel, [step], filename=logfile, driver=driver)
    assert log == [("input", "early"), ("input", "late"), ("reset",), ("input", "new")]


def test_file_that_appears_later(fake_kernel: Kernel, logfile: Path) -> None:
    steps = [
        lambda: None,
        lambda: logfile.write_text(lines("x", 3)),
        lambda: append(logfile, "y\n"),
    ]
    log = follow(fake_kernel, steps, filename=logfile, log_idle=True)
    assert log == [
        ("idle",),
        ("idle",),
        ("reset",),
        *[("input", f"x{i}") for i in range(3)],
        ("idle",),
        ("input", "y"),
        ("idle",),
    ]


def test_file_deleted_then_recreated(fake_kernel: Kernel, logfile: Path) -> None:
    logfile.write_text("")
    steps = [
        lambda: append(logfile, "a\n"),
        logfile.unlink,
        lambda: None,
        lambda: logfile.write_text("b\n"),
    ]
    log = follow(fake_kernel, steps, filename=logfile)
    assert log == [("input", "a"), ("reset",), ("input", "b")]


# ---------------------------------------------------------------------------------------------
# filters and event() (wheel_tail)
# ---------------------------------------------------------------------------------------------


def test_block_filter(fake_kernel: Kernel, logfile: Path) -> None:
    logfile.write_text("")
    steps = [lambda: append(logfile, "abcdefg"), lambda: append(logfile, "hijklmnop")]
    log = follow(fake_kernel, steps, filename=logfile, filter=BlockFilter(block_size=4))
    assert inputs(log) == [b"abcd", b"efgh", b"ijkl", b"mnop"]


def test_line_filter_with_custom_literal(fake_kernel: Kernel, logfile: Path) -> None:
    logfile.write_text("")
    steps = [lambda: append(logfile, "a;b;c")]
    log = follow(fake_kernel, steps, filename=logfile, filter=LineFilter(literal=b";"))
    assert inputs(log) == ["a", "b"]


def test_event_renaming_and_disabling(fake_kernel: Kernel, logfile: Path) -> None:
    logfile.write_text("")
    log: Log = []

    def start(ctx: Context) -> None:
        ctx.heap["wheel"] = FollowTailWheel(
            ctx.kernel, filename=logfile, input_event="first", idle_event="idle"
        )
        ctx.heap["step"] = 0

    def first(ctx: Context, record: str, wheel_id: int) -> None:
        log.append(("first", record))
        ctx.heap["wheel"].event(input_event="second", reset_event="reset")

    def second(ctx: Context, record: str, wheel_id: int) -> None:
        log.append(("second", record))

    def reset(ctx: Context, wheel_id: int) -> None:
        log.append(("reset",))
        ctx.heap["wheel"].event(reset_event=None)

    def idle(ctx: Context, wheel_id: int) -> None:
        step = ctx.heap["step"]
        ctx.heap["step"] = step + 1
        if step == 0:
            append(logfile, "a\nb\n")
        elif step == 1:
            truncate_to(logfile, "c\n")()
        elif step == 2:
            truncate_to(logfile, "d\n")()  # reset_event disabled now
        else:
            ctx.heap.pop("wheel").close()

    Session.create(
        fake_kernel,
        inline_states={
            "_start": start,
            "first": first,
            "second": second,
            "reset": reset,
            "idle": idle,
        },
    )
    fake_kernel.run()
    assert log == [("first", "a"), ("second", "b"), ("reset",), ("second", "c"), ("second", "d")]


def test_event_rejects_bad_names(fake_kernel: Kernel, logfile: Path) -> None:
    logfile.write_text("")
    errors: list[str] = []

    def start(ctx: Context) -> None:
        with FollowTailWheel(ctx.kernel, filename=logfile, input_event="got") as wheel:
            for bad in ({"input_event": None}, {"flushed_event": "x"}, {"idle_event": 3}):
                with pytest.raises(InvalidArgument) as info:
                    wheel.event(**bad)
                errors.append(str(info.value))

    Session.create(fake_kernel, inline_states={"_start": start, "got": lambda ctx, *a: None})
    fake_kernel.run()
    assert len(errors) == 3


# ---------------------------------------------------------------------------------------------
# select mode: FIFOs, pipes, sockets (pipe-followtail)
# ---------------------------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_pipe_followtail_fifo_by_name(kernel: Kernel, tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    records: list[str] = []

    def start(ctx: Context) -> None:
        ctx.heap["wheel"] = FollowTailWheel(ctx.kernel, filename=fifo, input_event="got")
        writer = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        os.write(writer, b"line one\nline two\nline ")
        os.write(writer, b"three\n")
        os.close(writer)  # opened read-write by the wheel: no end of file

    def got(ctx: Context, record: str, wheel_id: int) -> None:
        records.append(record)
        if len(records) == 3:
            ctx.heap.pop("wheel").close()

    Session.create(kernel, inline_states={"_start": start, "got": got})
    kernel.run()
    assert records == ["line one", "line two", "line three"]


def test_pipe_handle_end_of_file_is_idle(kernel: Kernel) -> None:
    read_end, write_end = os.pipe()
    log: Log = []

    def start(ctx: Context) -> None:
        ctx.heap["wheel"] = FollowTailWheel(
            ctx.kernel, handle=read_end, input_event="got", idle_event="idle", error_event="err"
        )
        os.write(write_end, b"a\nb\n")
        os.close(write_end)

    def idle(ctx: Context, wheel_id: int) -> None:
        log.append(("idle",))
        del ctx.heap["wheel"]  # dropping the wheel closes it

    Session.create(
        kernel,
        inline_states={
            "_start": start,
            "got": lambda ctx, rec, wid: log.append(("input", rec)),
            "idle": idle,
            "err": lambda ctx, *a: log.append(("error", *a[:-1])),
        },
    )
    kernel.run()
    os.close(read_end)
    assert log == [("input", "a"), ("input", "b"), ("idle",)]


def test_socket_end_of_file_is_an_error(kernel: Kernel) -> None:
    a, b = socket.socketpair()
    log: Log = []

    def start(ctx: Context) -> None:
        ctx.heap["wheel"] = FollowTailWheel(
            ctx.kernel, handle=a, input_event="got", idle_event="idle", error_event="err"
        )
        b.sendall(b"hello\n")
        b.close()

    def err(ctx: Context, op: str, errno: int, errstr: str, wheel_id: int) -> None:
        log.append(("error", op, errno, errstr))
        ctx.heap.pop("wheel").close()

    Session.create(
        kernel,
        inline_states={
            "_start": start,
            "got": lambda ctx, rec, wid: log.append(("input", rec)),
            "idle": lambda ctx, wid: log.append(("idle",)),
            "err": err,
        },
    )
    kernel.run()
    a.close()
    assert log == [("input", "hello"), ("error", "read", 0, "")]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_special_files_warn_about_seek_back_and_poll_interval(
    kernel: Kernel, tmp_path: Path
) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)

    def start(ctx: Context) -> None:
        with pytest.warns(RuntimeWarning, match="poll_interval"):
            FollowTailWheel(ctx.kernel, filename=fifo, input_event="got", poll_interval=5).close()
        with pytest.warns(RuntimeWarning, match="seek_back"):
            FollowTailWheel(ctx.kernel, filename=fifo, input_event="got", seek_back=10).close()

    Session.create(kernel, inline_states={"_start": start, "got": lambda ctx, *a: None})
    kernel.run()


# ---------------------------------------------------------------------------------------------
# inotify (optional, Linux)
# ---------------------------------------------------------------------------------------------


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux only")
@pytest.mark.parametrize("by", ["filename", "handle"])
def test_inotify_polls_without_waiting_for_the_interval(
    kernel: Kernel, logfile: Path, by: str
) -> None:
    logfile.write_text("")
    log: Log = []
    handles: list[Any] = []

    def start(ctx: Context) -> None:
        source: dict[str, Any] = {"filename": logfile}
        if by == "handle":
            handles.append(logfile.open("rb"))
            source = {"handle": handles[0]}
        ctx.heap["wheel"] = FollowTailWheel(
            ctx.kernel,
            input_event="got",
            idle_event="idle",
            poll_interval=3600,  # only inotify can wake it up in time
            use_inotify=True,
            **source,
        )
        ctx.kernel.delay("give_up", 30)

    def idle(ctx: Context, wheel_id: int) -> None:
        if "appended" not in ctx.heap:
            ctx.heap["appended"] = True
            append(logfile, "via inotify\n")

    def got(ctx: Context, record: str, wheel_id: int) -> None:
        log.append(("input", record))
        ctx.heap.pop("wheel").close()
        ctx.kernel.delay("give_up")

    def give_up(ctx: Context) -> None:
        log.append(("gave up",))
        ctx.heap.pop("wheel").close()

    Session.create(
        kernel, inline_states={"_start": start, "idle": idle, "got": got, "give_up": give_up}
    )
    kernel.run()
    for handle in handles:
        handle.close()
    assert log == [("input", "via inotify")]


def test_inotify_flag_falls_back_to_polling(fake_kernel: Kernel, logfile: Path) -> None:
    logfile.write_text("")
    log = follow(fake_kernel, [lambda: append(logfile, "x\n")], filename=logfile, use_inotify=True)
    assert log == [("input", "x")]


# ---------------------------------------------------------------------------------------------
# lifetime and construction errors
# ---------------------------------------------------------------------------------------------


def test_dropping_the_wheel_stops_it(fake_kernel: Kernel, logfile: Path) -> None:
    logfile.write_text("")
    stopped: list[bool] = []

    def start(ctx: Context) -> None:
        ctx.heap["wheel"] = FollowTailWheel(ctx.kernel, filename=logfile, input_event="got")
        ctx.kernel.delay("drop", 5)

    def drop(ctx: Context) -> None:
        del ctx.heap["wheel"]
        gc.collect()

    Session.create(
        fake_kernel,
        inline_states={
            "_start": start,
            "got": lambda ctx, *a: None,
            "drop": drop,
            "_stop": lambda ctx: stopped.append(True),
        },
    )
    fake_kernel.run()
    assert stopped == [True]


def test_wheel_ids_are_distinct_and_freed(fake_kernel: Kernel, logfile: Path) -> None:
    logfile.write_text("")
    ids: list[int] = []

    def start(ctx: Context) -> None:
        one = FollowTailWheel(ctx.kernel, filename=logfile, input_event="got")
        two = FollowTailWheel(ctx.kernel, filename=logfile, input_event="got")
        ids.extend([one.ID, two.ID])
        one.close()
        two.close()
        one.close()  # idempotent
        assert one.closed
        assert "closed" in repr(one)

    Session.create(fake_kernel, inline_states={"_start": start, "got": lambda ctx, *a: None})
    fake_kernel.run()
    assert ids[0] != ids[1]


@pytest.fixture
def dir_and_file(tmp_path: Path) -> tuple[Path, Path]:
    path = tmp_path / "f"
    path.write_text("")
    return tmp_path, path


@pytest.mark.parametrize(
    "bad",
    [
        {},
        {"filename": "FILE", "handle": 0},
        {"filename": "FILE", "input_event": None},
        {"filename": "FILE", "seek": 0, "seek_back": 0},
        {"filename": "FILE", "poll_interval": -1},
        {"filename": "DIR"},
    ],
)
def test_constructor_errors(
    fake_kernel: Kernel, dir_and_file: tuple[Path, Path], bad: dict[str, Any]
) -> None:
    directory, path = dir_and_file
    args = {"input_event": "got", **bad}
    if args.get("filename") == "FILE":
        args["filename"] = path
    elif args.get("filename") == "DIR":
        args["filename"] = directory
    raised: list[BaseException] = []

    def start(ctx: Context) -> None:
        try:
            FollowTailWheel(ctx.kernel, **args)
        except InvalidArgument as exc:
            raised.append(exc)

    Session.create(fake_kernel, inline_states={"_start": start})
    fake_kernel.run()
    assert len(raised) == 1


def test_directory_handle_is_refused(fake_kernel: Kernel, tmp_path: Path) -> None:
    fd = os.open(tmp_path, os.O_RDONLY)
    raised: list[BaseException] = []

    def start(ctx: Context) -> None:
        with pytest.raises(InvalidArgument, match="directories") as info:
            FollowTailWheel(ctx.kernel, handle=fd, input_event="got")
        raised.append(info.value)

    try:
        Session.create(fake_kernel, inline_states={"_start": start})
        fake_kernel.run()
    finally:
        os.close(fd)
    assert len(raised) == 1


def test_needs_a_session_and_a_kernel(fake_kernel: Kernel, logfile: Path) -> None:
    logfile.write_text("")
    with pytest.raises(NotInSession):
        FollowTailWheel(fake_kernel, filename=logfile, input_event="got")
    with pytest.raises(InvalidArgument):
        FollowTailWheel(object(), filename=logfile, input_event="got")  # type: ignore[arg-type]


def test_read_error_is_reported(fake_kernel: Kernel, logfile: Path) -> None:
    logfile.write_text("")

    class Broken(SysRWDriver):
        def get(self, handle: Handle) -> list[bytes] | None:
            raise OSError(5, "Input/output error")

    log = follow(fake_kernel, [], filename=logfile, seek=0, driver=Broken())
    assert log == [("error", "read", 5)]
