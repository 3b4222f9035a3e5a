r"""Run a program in a child process and talk to its stdio with events (POE::Wheel::Run).

Port of POE::Wheel::Run 1.370. The wheel forks a child, connects the child's stdin, stdout and
stderr to the parent through pipes or a pseudo-terminal, and turns them into events of its owner
session (every event is ``call``-ed, as in POE):

* ``stdout_event(record, wheel_id)`` / ``stderr_event(record, wheel_id)``: one per record the
  stdout / stderr filter finds (default :class:`poe.filter.LineFilter` with ``literal=b"\n"``).
* ``stdin_event(wheel_id)``: everything :meth:`RunWheel.put` queued has been written.
* ``error_event(operation, errno, errstr, wheel_id, handle_name)``: ``operation`` is ``"read"``
  or ``"write"``, ``handle_name`` ``"STDIN"``, ``"STDOUT"`` or ``"STDERR"``. ``("read", 0, "",
  ...)`` means the child closed that handle. A pty master reports the child's hang-up as a read
  error ``EIO``, as in POE.
* ``close_event(wheel_id)``: once, when the last *watched* output handle (stdout and/or stderr
  with an event) has closed.

The program is a string (run by ``/bin/sh -c``), a sequence (``execvp`` without a shell) or a
Python callable, called in the forked child with ``program_args``; the child then leaves with
``os._exit`` (status 0, or the code of a ``SystemExit``), so no ``atexit`` handler or finalizer of
the parent's objects runs in it. An exception escaping the callable prints its traceback on the
child's stderr and exits with status 255 (POE: ``warn`` + ``exit -1``).

The wheel does not reap the child. As in POE, ask the kernel for its exit status:
``ctx.kernel.sig_child(wheel.PID, "child_exited")`` delivers
``("CHLD", pid, wait_status, *args)`` once (``os.waitstatus_to_exitcode`` decodes the status).
Python extra: ``exit_event="child_exited"`` does that call for you, with the wheel id as the
extra argument: ``("CHLD", pid, wait_status, wheel_id)``. ``CHLD`` may arrive before or after
``close_event``.

Deviations from POE 1.370, on purpose:

* :meth:`RunWheel.shutdown_stdin` first writes what is still queued for the child's stdin, then
  closes it (POE closed at once and dropped the queued data). Until then the wheel keeps itself
  and its session alive, even if dropped.
* A stdout/stderr filter changed with ``set_*_filter`` is used for every later read (POE 1.370's
  readers kept using the filter they were built with).
* ``conduit="socketpair"`` and ``"inet"`` are accepted and, as in POE 1.370, still use pipes.
* ``NoSetSid`` (deprecated in POE) is not offered; Windows is not supported (``os.fork``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from poe.driver import SysRWDriver
from poe.errors import InvalidArgument, NotPermitted
from poe.filter import LineFilter
from poe.loop import Mode
from poe.wheel._base import WheelBase, error_of, rename_events
from poe.wheel._run_child import Program, child_main
from poe.wheel._run_child import close_fd as _close

if TYPE_CHECKING:
    from poe.driver import Driver
    from poe.filter import Filter
    from poe.kernel import Kernel

__all__ = ["CONDUITS", "Program", "RunWheel"]

#: What ``program`` may be: a shell command, an argv list, or a callable run in the child.

#: The accepted ``conduit`` values.
CONDUITS: Final = ("pipe", "pty", "pty-pipe", "socketpair", "inet")

_EVENTS: Final = {
    "stdin_event": "_stdin_event",
    "stdout_event": "_stdout_event",
    "stderr_event": "_stderr_event",
    "error_event": "_error_event",
    "close_event": "_close_event",
}

_OUTPUTS: Final = ("stdout", "stderr")

# The status a callable child exits with when it raises (POE's ``exit -1``).


def _redirect_fd(target: Any, *, writing: bool) -> int:
    """A new fd for a ``redirect_*`` argument: a path, an fd or an object with ``fileno()``."""
    if isinstance(target, int):
        return os.dup(target)
    if isinstance(target, (str, bytes, os.PathLike)):
        if writing:
            return os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666)
        return os.open(target, os.O_RDONLY | os.O_CLOEXEC)
    fileno = getattr(target, "fileno", None)
    if fileno is None:
        msg = f"bad file specifier {target!r}: a path, an fd or an object with fileno()"
        raise InvalidArgument(msg)
    return os.dup(int(fileno()))


class RunWheel(WheelBase):
    r"""Run ``program`` in a child process; its stdio become events of the owner session.

    Args:
        kernel: the kernel; its active session owns the wheel.
        program: a shell command string, an argv sequence (no shell) or a callable run in the
            forked child (POE's ``Program``).
        program_args: appended to the command (joined with spaces for a string), or passed to
            the callable.
        conduit: ``"pipe"`` (default), ``"pty"`` (stdin and stdout on a pseudo-terminal,
            stderr merged into it, ``stderr_event`` ignored), ``"pty-pipe"`` (a pty plus a
            separate stderr pipe); ``"socketpair"`` and ``"inet"`` are accepted and use pipes.
        winsize: pty size, ``(rows, cols)`` or ``(rows, cols, xpixels, ypixels)``.
        close_on_call: callable programs only: close every fd but 0, 1 and 2 before calling.
        stdio_driver: the driver of stdin and stdout (default one new
            :class:`poe.driver.SysRWDriver`); ``stdin_driver``/``stdout_driver`` override it.
        stdin_driver: the driver writing the child's stdin.
        stdout_driver: the driver reading the child's stdout.
        stderr_driver: the driver reading the child's stderr (default a new SysRW driver).
        stdio_filter: the filter of stdin and stdout (default one
            ``LineFilter(literal=b"\n")``); ``stdin_filter``/``stdout_filter`` override it.
        stdin_filter: serializes what :meth:`put` gets.
        stdout_filter: parses the child's stdout.
        stderr_filter: parses the child's stderr (default ``LineFilter(literal=b"\n")``).
        stdin_event: ``(wheel_id)`` when the stdin buffer has been flushed.
        stdout_event: ``(record, wheel_id)`` per stdout record. Without it (pipe conduit) the
            child writes to the parent's stdout.
        stderr_event: ``(record, wheel_id)`` per stderr record. Without it (pipe conduit) the
            child writes to the parent's stderr.
        error_event: ``(operation, errno, errstr, wheel_id, handle_name)``.
        close_event: ``(wheel_id)`` once the last watched output has closed.
        redirect_stdin: a file name, fd or file object the child reads as stdin.
        redirect_stdout: a file name, fd or file object the child's stdout goes to.
        redirect_stderr: the same for stderr.
        redirect_output: both stdout and stderr go there.
        no_stdin: give the child no stdin pipe (it inherits the parent's stdin).
        user: numeric user id the child switches to (``setuid``).
        group: numeric group id the child switches to (``setgid``), before ``user``.
        priority: ``nice`` delta of the child (errors ignored, as in POE).
        no_setpgrp: do not put the child in its own process group (pipe conduits; pty conduits
            always make the child a session leader owning the pty).
        exit_event: Python extra: ``kernel.sig_child(pid, exit_event, wheel_id)`` is called for
            you, so the owner gets ``("CHLD", pid, wait_status, wheel_id)`` when the child exits.

    Raises:
        InvalidArgument: a missing or bad program, an unknown conduit, a ``redirect_*`` with its
            matching event, or a redirection with a pty conduit.
        NotInSession: not created inside a session's handler.
        OSError: pipes, the pty or the fork could not be made.
    """

    def __init__(
        self,
        kernel: Kernel,
        program: Program,
        *,
        program_args: Sequence[Any] = (),
        conduit: str = "pipe",
        winsize: Sequence[int] | None = None,
        close_on_call: bool = False,
        stdio_driver: Driver | None = None,
        stdin_driver: Driver | None = None,
        stdout_driver: Driver | None = None,
        stderr_driver: Driver | None = None,
        stdio_filter: Filter[Any, Any] | None = None,
        stdin_filter: Filter[Any, Any] | None = None,
        stdout_filter: Filter[Any, Any] | None = None,
        stderr_filter: Filter[Any, Any] | None = None,
        stdin_event: str | None = None,
        stdout_event: str | None = None,
        stderr_event: str | None = None,
        error_event: str | None = None,
        close_event: str | None = None,
        redirect_stdin: Any = None,
        redirect_stdout: Any = None,
        redirect_stderr: Any = None,
        redirect_output: Any = None,
        no_stdin: bool = False,
        user: int | None = None,
        group: int | None = None,
        priority: int = 0,
        no_setpgrp: bool = False,
        exit_event: str | None = None,
    ) -> None:
        given: object = program  # checked at run time: callers may not be type-checked
        if not callable(given) and not isinstance(given, (str, Sequence)):
            msg = f"RunWheel needs a program: a string, a sequence or a callable, not {program!r}"
            raise InvalidArgument(msg)
        if not callable(program) and not isinstance(program, str) and not program:
            msg = "RunWheel's program sequence is empty"
            raise InvalidArgument(msg)
        if isinstance(program_args, str) or not isinstance(program_args, Sequence):
            msg = f"program_args must be a sequence, not {program_args!r}"
            raise InvalidArgument(msg)
        if conduit not in CONDUITS:
            msg = f"RunWheel's conduit type ({conduit}) is unknown; known: {', '.join(CONDUITS)}"
            raise InvalidArgument(msg)
        pty_conduit = conduit in ("pty", "pty-pipe")
        size = _check_winsize(winsize, pty_conduit=pty_conduit)
        if conduit == "pty" and stderr_event is not None:
            warnings.warn("ignoring stderr_event with a pty conduit", stacklevel=2)
            stderr_event = None
        if redirect_output is not None:
            redirect_stdout = redirect_stderr = redirect_output
        if (
            (redirect_stdin is not None and stdin_event is not None)
            or (redirect_stdout is not None and stdout_event is not None)
            or (redirect_stderr is not None and stderr_event is not None)
        ):
            msg = "redirect_* and *_event stdio options are mutually exclusive"
            raise InvalidArgument(msg)
        if pty_conduit and (
            redirect_stdin is not None or redirect_stdout is not None or redirect_stderr is not None
        ):
            msg = "redirection with a pty conduit is unsupported"
            raise InvalidArgument(msg)
        if stdio_filter is None:
            stdio_filter = LineFilter(literal=b"\n")
        if conduit == "pty" and stderr_filter is not None:
            warnings.warn("ignoring stderr_filter with a pty conduit", stacklevel=2)
            stderr_filter = None
        if stderr_filter is None:
            stderr_filter = LineFilter(literal=b"\n")
        if stdio_driver is None:
            stdio_driver = SysRWDriver()

        super().__init__(kernel)
        self._pid = 0
        self._conduit = conduit
        self._stdin_fd: int | None = None
        self._stdout_fd: int | None = None
        self._stderr_fd: int | None = None
        self._stdin_driver: Driver = stdin_driver if stdin_driver is not None else stdio_driver
        self._stdout_driver: Driver = stdout_driver if stdout_driver is not None else stdio_driver
        self._stderr_driver: Driver = stderr_driver if stderr_driver is not None else SysRWDriver()
        self._stdin_filter: Filter[Any, Any] = (
            stdin_filter if stdin_filter is not None else stdio_filter
        )
        self._stdout_filter: Filter[Any, Any] = (
            stdout_filter if stdout_filter is not None else stdio_filter
        )
        self._stderr_filter: Filter[Any, Any] = stderr_filter
        self._stdin_event = stdin_event
        self._stdout_event = stdout_event
        self._stderr_event = stderr_event
        self._error_event = error_event
        self._close_event = close_event
        self._stdin_closing = False
        self._stdin_watched = False
        #: Outputs still being read ("stdout", "stderr"), and how many of them have an event.
        self._reading: set[str] = set()
        self._active = 0
        try:
            self._stdin_fd, self._stdout_fd, self._stderr_fd = self._spawn(
                program,
                tuple(program_args),
                pty_conduit=pty_conduit,
                winsize=size,
                close_on_call=close_on_call,
                redirects=(redirect_stdin, redirect_stdout, redirect_stderr),
                same_output=redirect_output is not None,
                no_stdin=no_stdin,
                ids=(user, group),
                priority=priority,
                no_setpgrp=no_setpgrp,
            )
            self._stdin_state = self._define("select stdin", "_on_stdin")
            self._stdout_state = self._define("select stdout", "_on_stdout")
            self._stderr_state = self._define("select stderr", "_on_stderr")
            if self._stdin_fd is not None:
                self._watch(self._stdin_fd, Mode.WRITE, self._stdin_state)
                self._pause(self._stdin_fd, Mode.WRITE, paused=True)
                self._stdin_watched = True
            if self._stdout_fd is not None:
                self._reading.add("stdout")
            if self._stderr_fd is not None:
                self._reading.add("stderr")
            self._define_readers()
            if exit_event is not None:
                kernel.sig_child(self._pid, exit_event, self._id)
        except BaseException:
            self.close()
            raise

    # -- starting the child ---------------------------------------------------------------------

    def _spawn(
        self,
        program: Program,
        program_args: tuple[Any, ...],
        *,
        pty_conduit: bool,
        winsize: tuple[int, int, int, int] | None,
        close_on_call: bool,
        redirects: tuple[Any, Any, Any],
        same_output: bool,
        no_stdin: bool,
        ids: tuple[int | None, int | None],
        priority: int,
        no_setpgrp: bool,
    ) -> tuple[int | None, int | None, int | None]:
        """Fork the child; return the parent's ends: ``(stdin_fd, stdout_fd, stderr_fd)``."""
        redirect_stdin, redirect_stdout, redirect_stderr = redirects
        stdin_fd: int | None = None
        stdout_fd: int | None = None
        stderr_fd: int | None = None
        # Child ends (dup2-ed onto 0, 1, 2) and every fd the parent must close after the fork.
        child_in: int | None = None
        child_out: int | None = None
        child_err: int | None = None
        parent_only: list[int] = []
        child_only: list[int] = []
        try:
            if redirect_stdin is not None:
                child_in = _redirect_fd(redirect_stdin, writing=False)
                child_only.append(child_in)
            if redirect_stdout is not None:
                child_out = _redirect_fd(redirect_stdout, writing=True)
                child_only.append(child_out)
            if same_output and child_out is not None:
                child_err = os.dup(child_out)
                child_only.append(child_err)
            elif redirect_stderr is not None:
                child_err = _redirect_fd(redirect_stderr, writing=True)
                child_only.append(child_err)
            wants_io = (
                self._stdout_event is not None
                or self._stdin_event is not None
                or self._stderr_event is not None
                or not no_stdin
            )
            if wants_io and pty_conduit:
                master, slave = os.openpty()
                stdin_fd = stdout_fd = master
                parent_only.append(master)
                child_only.append(slave)
                child_in = child_out = slave
                if self._conduit == "pty":
                    child_err = slave
                else:
                    stderr_fd, child_err = os.pipe()
                    parent_only.append(stderr_fd)
                    child_only.append(child_err)
            elif wants_io:
                if self._stdout_event is not None and redirect_stdout is None:
                    stdout_fd, child_out = os.pipe()
                    parent_only.append(stdout_fd)
                    child_only.append(child_out)
                if self._stderr_event is not None and redirect_stderr is None:
                    stderr_fd, child_err = os.pipe()
                    parent_only.append(stderr_fd)
                    child_only.append(child_err)
                if redirect_stdin is None and (self._stdin_event is not None or not no_stdin):
                    child_in, stdin_fd = os.pipe()
                    parent_only.append(stdin_fd)
                    child_only.append(child_in)
            sem_read, sem_write = os.pipe()
            child_only.append(sem_write)
            parent_only.append(sem_read)
        except BaseException:
            for fd in {*parent_only, *child_only}:
                _close(fd)
            raise

        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()  # or the child would write the parent's buffered output again
        old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
        try:
            with warnings.catch_warnings():
                # Python 3.12+ warns that fork() in a process with threads may deadlock the
                # child. The child only runs this module's setup before exec (or the callable
                # the user chose to run there), as POE does.
                warnings.filterwarnings(
                    "ignore", message=r".*fork\(\)", category=DeprecationWarning
                )
                pid = os.fork()
        except BaseException:
            signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
            for fd in {*parent_only, *child_only}:
                _close(fd)
            raise
        if pid == 0:  # pragma: no cover - the child never returns (coverage cannot see it)
            child_main(
                program,
                program_args,
                stdio=(child_in, child_out, child_err),
                parent_fds=parent_only,
                sem_write=sem_write,
                pty_slave=child_in if pty_conduit else None,
                winsize=winsize,
                close_on_call=close_on_call,
                ids=ids,
                priority=priority,
                setpgrp=not no_setpgrp,
            )
        signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
        self._pid = pid
        for fd in set(child_only):
            _close(fd)
        # Wait until the child has set up its stdio (POE's "go" on the semaphore pipe).
        received = b""
        try:
            while not received.endswith(b"\n"):
                chunk = os.read(sem_read, 64)
                if not chunk:
                    break
                received += chunk
        finally:
            _close(sem_read)
        return stdin_fd, stdout_fd, stderr_fd

    # -- reading the child's stdout and stderr --------------------------------------------------

    def _define_readers(self) -> None:
        """Watch each open output that has an event; recount the active ones (POE's IS_ACTIVE)."""
        self._active = 0
        for which in _OUTPUTS:
            fd = self._stdout_fd if which == "stdout" else self._stderr_fd
            if fd is None or which not in self._reading:
                continue
            state = self._stdout_state if which == "stdout" else self._stderr_state
            if getattr(self, f"_{which}_event") is not None:
                self._active += 1
                if self._watching(fd, Mode.READ) < 0:
                    self._watch(fd, Mode.READ, state)
            else:
                self._unwatch(fd, Mode.READ)

    def _on_stdout(self, handle: Any, mode: Mode, *args: Any) -> None:
        self._on_output("stdout", self._stdout_driver, handle)

    def _on_stderr(self, handle: Any, mode: Mode, *args: Any) -> None:
        self._on_output("stderr", self._stderr_driver, handle)

    def _on_output(self, which: str, driver: Driver, handle: Any) -> None:
        try:
            raw = driver.get(handle)
        except OSError as exc:
            self._output_closed(which, *error_of(exc))
            return
        if raw is None:
            self._output_closed(which, 0, "")
            return
        if raw:
            filt: Filter[Any, Any] = getattr(self, f"_{which}_filter")
            filt.get_one_start(raw)
            self._drain(which, filt)

    def _drain(self, which: str, filt: Filter[Any, Any]) -> None:
        """Emit one record at a time, so a filter switched by a handler applies to the next."""
        attr = f"_{which}_filter"
        while not self._closed and getattr(self, attr) is filt:
            event: str | None = getattr(self, f"_{which}_event")
            if event is None:
                return
            records = filt.get_one()
            if not records:
                return
            for record in records:
                self._emit(event, record, self._id)

    def _output_closed(self, which: str, code: int, text: str) -> None:
        self._emit(self._error_event, "read", code, text, self._id, which.upper())
        if self._closed or which not in self._reading:
            return
        self._reading.discard(which)
        fd = self._stdout_fd if which == "stdout" else self._stderr_fd
        if fd is not None:
            self._unwatch(fd, Mode.READ)
            if fd != self._stdin_fd:  # a pty master is stdin too
                _close(fd)
                setattr(self, f"_{which}_fd", None)
        self._active -= 1
        if self._active == 0:
            self._emit(self._close_event, self._id)

    # -- writing the child's stdin --------------------------------------------------------------

    def put(self, *records: Any) -> bool:
        """Serialize ``records`` with the stdin filter and queue them for the child's stdin.

        Returns:
            False (POE's Wheel::Run has no watermarks).

        Raises:
            NotPermitted: the child's stdin is closed (``no_stdin``, a redirection, or after
                :meth:`shutdown_stdin`).
        """
        if self._stdin_fd is None or self._stdin_closing or self._closed:
            msg = "put() on a RunWheel without an open stdin"
            raise NotPermitted(msg)
        octets = self._stdin_driver.put(self._stdin_filter.put(list(records)))
        if octets and self._stdin_watched:
            self._pause(self._stdin_fd, Mode.WRITE, paused=False)
        return False

    def _on_stdin(self, handle: Any, mode: Mode, *args: Any) -> None:
        try:
            left = self._stdin_driver.flush(handle)
        except OSError as exc:
            code, text = error_of(exc)
            self._emit(self._error_event, "write", code, text, self._id, "STDIN")
            if self._closed:
                return
            if self._stdin_closing:
                self._close_stdin()
            elif self._stdin_fd is not None and self._stdin_watched:
                self._stdin_watched = False
                self._unwatch(self._stdin_fd, Mode.WRITE)
            return
        if left:
            return
        if self._stdin_closing:
            self._close_stdin()
        elif self._stdin_fd is not None:
            self._pause(self._stdin_fd, Mode.WRITE, paused=True)
        self._emit(self._stdin_event, self._id)

    def shutdown_stdin(self) -> None:
        """Close the child's stdin so that it reads end of file, once queued input is written.

        Deviation from POE (which closed at once and dropped unwritten input): what :meth:`put`
        queued is written first; the wheel keeps itself and its session alive meanwhile. With a
        pty conduit the pty stays open (it is the child's stdout too): only writing stops, as
        in POE. :meth:`put` raises from now on.
        """
        if self._stdin_fd is None or self._stdin_closing or self._closed:
            return
        if self._stdin_watched and self._stdin_driver.get_out_octets_buffered():
            self._stdin_closing = True
            # A strong handler: dropping the wheel now must not lose the queued input.
            self._define_strong("select stdin", self._on_stdin)
            self._pause(self._stdin_fd, Mode.WRITE, paused=False)
            return
        self._close_stdin()

    def _close_stdin(self) -> None:
        fd = self._stdin_fd
        self._stdin_closing = False
        self._stdin_fd = None
        if fd is None:
            return
        if self._stdin_watched:
            self._stdin_watched = False
            self._unwatch(fd, Mode.WRITE)
        self._undefine(self._stdin_state)
        if fd != self._stdout_fd:
            _close(fd)

    # -- configuration --------------------------------------------------------------------------

    def event(self, **renames: str | None) -> None:
        """Rename (or, with None, disable) events: ``stdin_event``, ``stdout_event``, ...

        Raises:
            InvalidArgument: an unknown event name.
        """
        if self._conduit == "pty" and "stderr_event" in renames:
            warnings.warn("ignoring stderr_event on a pty conduit", stacklevel=2)
            renames = {k: v for k, v in renames.items() if k != "stderr_event"}
        rename_events(self, _EVENTS, renames)
        if not self._closed:
            self._define_readers()

    def get_stdin_filter(self) -> Filter[Any, Any]:
        """The filter serializing :meth:`put`'s records."""
        return self._stdin_filter

    def get_stdout_filter(self) -> Filter[Any, Any]:
        """The filter parsing the child's stdout."""
        return self._stdout_filter

    def get_stderr_filter(self) -> Filter[Any, Any]:
        """The filter parsing the child's stderr."""
        return self._stderr_filter

    def set_stdio_filter(self, new_filter: Filter[Any, Any]) -> None:
        """Use ``new_filter`` for stdout and stdin (see :meth:`set_stdout_filter`)."""
        self.set_stdout_filter(new_filter)
        self.set_stdin_filter(new_filter)

    def set_stdin_filter(self, new_filter: Filter[Any, Any]) -> None:
        """Use ``new_filter`` for later :meth:`put` calls (queued octets are not re-serialized)."""
        self._stdin_filter = new_filter

    def set_stdout_filter(self, new_filter: Filter[Any, Any]) -> None:
        """Parse stdout with ``new_filter``; input the old one buffered is moved into it.

        Records the new filter finds in that input are emitted at once.
        """
        self._switch("stdout", new_filter)

    def set_stderr_filter(self, new_filter: Filter[Any, Any]) -> None:
        """Parse stderr with ``new_filter``, as :meth:`set_stdout_filter`."""
        self._switch("stderr", new_filter)

    def _switch(self, which: str, new_filter: Filter[Any, Any]) -> None:
        attr = f"_{which}_filter"
        old: Filter[Any, Any] = getattr(self, attr)
        pending = old.get_pending()
        setattr(self, attr, new_filter)
        if pending:
            new_filter.get_one_start(pending)
            self._drain(which, new_filter)

    # -- flow control ---------------------------------------------------------------------------

    def pause_stdout(self) -> bool:
        """Stop reading stdout (the pipe fills and the child blocks). True if it is read."""
        return self._pause_output(self._stdout_fd, paused=True)

    def resume_stdout(self) -> bool:
        """Resume reading stdout. True if it is read."""
        return self._pause_output(self._stdout_fd, paused=False)

    def pause_stderr(self) -> bool:
        """Stop reading stderr. True if it is read."""
        return self._pause_output(self._stderr_fd, paused=True)

    def resume_stderr(self) -> bool:
        """Resume reading stderr. True if it is read."""
        return self._pause_output(self._stderr_fd, paused=False)

    def _pause_output(self, fd: int | None, *, paused: bool) -> bool:
        if fd is None or self._watching(fd, Mode.READ) < 0:
            return False
        return self._pause(fd, Mode.READ, paused=paused)

    # -- accessors ------------------------------------------------------------------------------

    @property
    def PID(self) -> int:  # noqa: N802 - POE's name
        """The child's process id."""
        return self._pid

    def kill(self, sig: int | str = signal.SIGTERM) -> bool:
        """Send ``sig`` (a number, or a name like ``"TERM"``/``"SIGTERM"``) to the child only.

        Returns:
            True if the signal was sent (POE: the count of processes signalled).

        Raises:
            InvalidArgument: an unknown signal name.
        """
        signum: int
        if isinstance(sig, str):
            name = sig.upper() if sig.upper().startswith("SIG") else "SIG" + sig.upper()
            try:
                signum = signal.Signals[name]
            except KeyError:
                msg = f"unknown signal {sig!r}"
                raise InvalidArgument(msg) from None
        else:
            signum = sig
        try:
            os.kill(self._pid, signum)
        except OSError:
            return False
        return True

    def get_driver_out_octets(self) -> int:
        """Octets queued for the child's stdin."""
        return self._stdin_driver.get_out_octets_buffered()

    def get_driver_out_messages(self) -> int:
        """Chunks queued for the child's stdin."""
        return self._stdin_driver.get_out_messages_buffered()

    # -- lifetime -------------------------------------------------------------------------------

    def _release(self) -> None:
        super()._release()
        self._stdin_closing = False
        self._stdin_watched = False
        self._reading.clear()
        for fd in {self._stdin_fd, self._stdout_fd, self._stderr_fd}:
            _close(fd)
        self._stdin_fd = self._stdout_fd = self._stderr_fd = None


def _check_winsize(
    winsize: Sequence[int] | None, *, pty_conduit: bool
) -> tuple[int, int, int, int] | None:
    if winsize is None:
        return None
    if not pty_conduit:
        warnings.warn("winsize can only be specified for a pty conduit", stacklevel=3)
        return None
    size = tuple(int(v) for v in winsize)
    if len(size) == 2:
        # A standard VGA cell is 9x16 pixels (as POE derives it).
        size = (size[0], size[1], size[1] * 9, size[0] * 16)
    if len(size) != 4:
        msg = f"winsize must have 2 or 4 elements, not {winsize!r}"
        raise InvalidArgument(msg)
    return size[0], size[1], size[2], size[3]
