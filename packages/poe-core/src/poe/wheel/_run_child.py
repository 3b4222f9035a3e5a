"""The child side of :class:`poe.wheel.run.RunWheel`: what runs between ``fork()`` and ``exec``.

Everything here runs in the forked child only. It resets signals, sets up the terminal or pipes
on fds 0-2, applies user, group and priority, then execs the program or runs the callable and
leaves with ``os._exit`` (no destructors, no ``atexit``, as POE's ``POSIX::_exit``).
"""

from __future__ import annotations

import contextlib
import errno as _errno
import fcntl
import os
import signal
import struct
import sys
import termios
import traceback
import tty
from typing import TYPE_CHECKING, Any, Final, NoReturn, TypeAlias

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

__all__ = ["DIED", "Program", "child_main", "close_fd"]

#: The exit status of a child whose callable raised (POE: die in the child).
DIED: Final = 255

Program: TypeAlias = "str | Sequence[str] | Callable[..., object]"


def close_fd(fd: int | None) -> None:
    """Close ``fd`` if it is one, ignoring errors (it may already be closed)."""
    if fd is not None:
        with contextlib.suppress(OSError):
            os.close(fd)


def child_main(
    program: Program,
    program_args: tuple[Any, ...],
    *,
    stdio: tuple[int | None, int | None, int | None],
    parent_fds: list[int],
    sem_write: int,
    pty_slave: int | None,
    winsize: tuple[int, int, int, int] | None,
    close_on_call: bool,
    ids: tuple[int | None, int | None],
    priority: int,
    setpgrp: bool,
) -> NoReturn:  # pragma: no cover - runs in the forked child
    """The forked child: set up, say "go", then exec or call. Never returns."""
    status = DIED
    try:
        with contextlib.suppress(ValueError, OSError):
            signal.set_wakeup_fd(-1)  # the parent's loop owns that fd
        for signum in signal.valid_signals():
            with contextlib.suppress(OSError, ValueError, RuntimeError):
                if callable(signal.getsignal(signum)):
                    signal.signal(signum, signal.SIG_DFL)
        if not callable(program):
            # Like subprocess: exec'd programs get the default SIGPIPE / SIGXFSZ Python ignores.
            for name in ("SIGPIPE", "SIGXFZ", "SIGXFSZ"):
                extra = getattr(signal, name, None)
                if extra is not None:
                    signal.signal(extra, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, ())
        for fd in parent_fds:
            close_fd(fd)
        if pty_slave is not None:
            os.setsid()
            fcntl.ioctl(pty_slave, termios.TIOCSCTTY, 0)
            tty.setraw(pty_slave)
            if winsize is not None:
                fcntl.ioctl(pty_slave, termios.TIOCSWINSZ, struct.pack("HHHH", *winsize))
        elif setpgrp:
            with contextlib.suppress(OSError):
                os.setpgrp()
        if priority:
            with contextlib.suppress(OSError):
                os.nice(priority)
        user, group = ids
        if group is not None:
            os.setgid(group)
        if user is not None:
            os.setuid(user)
        originals: set[int] = set()
        for target, source in enumerate(stdio):
            if source is not None:
                if source != target:
                    os.dup2(source, target)
                else:
                    os.set_inheritable(source, True)
                originals.add(source)
        for source in originals:
            if source > 2:
                close_fd(source)
        if callable(program):
            _rebind_stdio()
            os.write(sem_write, b"go\n")
            close_fd(sem_write)
            if close_on_call:
                os.closerange(3, os.sysconf("SC_OPEN_MAX"))
            try:
                program(*program_args)
                status = 0
            except SystemExit as exc:
                status = _exit_code(exc)
            except BaseException:  # noqa: BLE001 - POE: warn, then exit -1
                traceback.print_exc()
                status = DIED
        else:
            if isinstance(program, str):
                argv = ["/bin/sh", "-c", " ".join([program, *map(str, program_args)])]
            else:
                argv = [*map(str, program), *map(str, program_args)]
            os.write(sem_write, b"go\n")
            close_fd(sem_write)
            try:
                os.execvp(argv[0], argv)
            except OSError as exc:
                message = f"can't exec ({' '.join(argv)}) in child pid {os.getpid()}: {exc}\n"
                with contextlib.suppress(OSError):
                    os.write(2, message.encode(errors="replace"))
                status = exc.errno or _errno.EIO
    except SystemExit as exc:
        status = _exit_code(exc)
    except BaseException:  # noqa: BLE001 - the child must reach os._exit whatever happens
        with contextlib.suppress(BaseException):
            traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(BaseException):
                stream.flush()
        os._exit(status)


def _exit_code(exc: SystemExit) -> int:  # pragma: no cover - runs in the forked child
    """The status ``sys.exit(code)`` leaves with, as Python computes it."""
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code & 0xFF
    with contextlib.suppress(BaseException):
        print(exc.code, file=sys.stderr)
    return 1


def _rebind_stdio() -> None:  # pragma: no cover - runs in the forked child
    """Point ``sys.stdin/stdout/stderr`` at fds 0, 1, 2 again (pytest or the app replaced them)."""
    for fd, name, mode in ((0, "stdin", "r"), (1, "stdout", "w"), (2, "stderr", "w")):
        try:
            os.fstat(fd)
        except OSError:
            continue
        # Line-buffered (POE sets "$| = 1"); everything is flushed before the child exits.
        stream = open(  # noqa: SIM115 - lives as long as the child
            fd, mode, buffering=1, encoding="utf-8", errors="backslashreplace", closefd=False
        )
        setattr(sys, name, stream)
