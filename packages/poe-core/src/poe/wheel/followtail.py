"""Follow a growing file, like ``tail -f`` (POE::Wheel::FollowTail).

Port of POE::Wheel::FollowTail 1.370. The wheel reads new data from a file (``filename``) or an
already open handle (``handle``), turns it into records with a filter (default
:class:`poe.filter.LineFilter`) and ``call``-s the owner session with
``input_event(record, wheel_id)`` for each.

Modes:

* **Timer polling** for regular files (and for a ``filename`` that does not exist yet): the wheel
  reads until end of file, polling again at once (a zero delay) after data was read and after
  ``poll_interval`` seconds (default 1) when it found nothing (``idle_event(wheel_id)``).
* **Select mode** for pipes, FIFOs, sockets and ttys: the handle is watched for reading. End of
  file on a socket or tty, or a read error, becomes ``error_event("read", errno, errstr, id)``;
  end of file on anything else becomes ``idle_event(id)``. Either way the watcher is removed.
  A FIFO given by ``filename`` is opened read-write (as POE does) so it never reports end of
  file when a writer goes away.

Start position (regular files open at construction): ``seek`` (>= 0: from the start, < 0: from
the end) or ``seek_back`` (octets back from the end; 0: at the end). Without either the wheel
goes 4096 octets back from the end (or to the start of a smaller file), and parses and
*discards* everything up to the end, so the first record emitted is new and complete.

Resets (timer mode). When a poll finds no data, the wheel compares ``stat`` of the file (the
name in ``filename`` mode, the handle otherwise) with the previous one: a different inode,
device, device type (device files only) or link count, or a smaller size, is a reset.

* ``filename`` mode: the old file is closed and the name reopened on the next poll, with
  ``reset_event(id)`` when it opens (also when a file missing at construction appears). A
  missing file is waited for, with ``idle_event`` on each poll.
* ``handle`` mode: ``reset_event(id)`` and the handle is rewound to the start.

``error_event`` operations are ``"read"`` and ``"stat"``; after an error the wheel stops polling.

Deviations from POE 1.370 (deliberate):

* **Fast truncation** (POE's known "FollowTail missing fast truncation" bug). POE only notices a
  truncation when a poll sees the size *smaller* than at the previous poll, so a file truncated
  and refilled past its old size between two polls was read from the stale offset, giving
  garbage records and losing the new start. The port checks the open file before *every* read:
  it is a reset when the file is now shorter than the read position, or when the octets just
  before the read position (the last up to 64 octets the wheel read or skipped) changed. The
  second comparison reads at most 64 octets with ``pread``, and only when the file's size,
  mtime or ctime changed since the last check. The rule is sound for any rewrite that changes
  the bytes before the read position; a rewrite that leaves them identical is indistinguishable
  from an append (and then reading on is correct for those bytes).
* **Rotation drain**: when ``filename`` mode detects that the name points to a new file, the
  wheel reads the old file to its end once more before switching, so lines written to it
  between the last read and the rotation check are not lost (POE dropped them).
* **inotify** (``use_inotify=True``, Linux only, otherwise ignored): an inotify descriptor
  (``inotify_init1`` through :mod:`ctypes`, non-blocking) watches the file's directory
  (``filename`` mode) or the open file (``handle`` mode); any event triggers a poll right away.
  Polling every ``poll_interval`` continues as a fallback, so behaviour never depends on it.
* Files opened by the wheel are opened non-blocking and closed by :meth:`close`; a ``handle``
  passed in is never closed by the wheel.
* Constructor problems raise :class:`poe.errors.InvalidArgument` instead of croaking; POE's
  carps ("can't SeekBack special files", "does not need PollInterval for special files") are
  :class:`RuntimeWarning` s.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno as _errno
import os
import stat as _stat
import sys
import warnings
from typing import TYPE_CHECKING, Any, Final

from poe.driver import SysRWDriver
from poe.errors import InvalidArgument
from poe.filter import LineFilter
from poe.loop import Mode
from poe.wheel._base import WheelBase, error_of, rename_events

if TYPE_CHECKING:
    from poe.driver import Driver
    from poe.filter import Filter
    from poe.kernel import Kernel

__all__ = ["DEFAULT_SEEK_BACK", "FollowTailWheel"]

#: How far back from the end the default start goes (then discards up to the end).
DEFAULT_SEEK_BACK: Final = 4096
#: Octets before the read position remembered to detect rewrites (fast truncation).
_SIGNATURE_SIZE: Final = 64

_EVENTS: Final = {
    "input_event": "_input_event",
    "error_event": "_error_event",
    "reset_event": "_reset_event",
    "idle_event": "_idle_event",
}

# POE's (stat)[0..7]: dev, ino, mode, nlink, uid, gid, rdev, size.
_StatKey = tuple[int, int, int, int, int, int, int, int]
_NO_STAT: Final[_StatKey] = (-1, -1, -1, -1, -1, -1, -1, -1)

# inotify(7) event bits.
_IN_MODIFY: Final = 0x002
_IN_ATTRIB: Final = 0x004
_IN_CLOSE_WRITE: Final = 0x008
_IN_MOVED_FROM: Final = 0x040
_IN_MOVED_TO: Final = 0x080
_IN_CREATE: Final = 0x100
_IN_DELETE: Final = 0x200
_IN_DELETE_SELF: Final = 0x400
_IN_MOVE_SELF: Final = 0x800
_DIR_MASK: Final = (
    _IN_MODIFY
    | _IN_ATTRIB
    | _IN_CLOSE_WRITE
    | _IN_MOVED_FROM
    | _IN_MOVED_TO
    | _IN_CREATE
    | _IN_DELETE
    | _IN_DELETE_SELF
    | _IN_MOVE_SELF
)
_FILE_MASK: Final = _IN_MODIFY | _IN_ATTRIB | _IN_CLOSE_WRITE | _IN_DELETE_SELF | _IN_MOVE_SELF


def _stat_key(st: os.stat_result) -> _StatKey:
    return (
        st.st_dev,
        st.st_ino,
        st.st_mode,
        st.st_nlink,
        st.st_uid,
        st.st_gid,
        st.st_rdev,
        st.st_size,
    )


def _fileno(handle: Any) -> int:
    return handle if isinstance(handle, int) else int(handle.fileno())


def _open_file(filename: str) -> int | None:
    """Open ``filename`` for reading (a FIFO read-write, so it never reports EOF), or None."""
    try:
        flags = os.O_RDWR if _stat.S_ISFIFO(os.stat(filename).st_mode) else os.O_RDONLY
        return os.open(filename, flags | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None


def _inotify_watch(path: str, mask: int) -> int | None:
    """A non-blocking inotify descriptor watching ``path``, or None where unavailable."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fd = int(libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC))
    except (OSError, AttributeError):
        return None
    if fd < 0:
        return None
    if int(libc.inotify_add_watch(fd, os.fsencode(path), ctypes.c_uint32(mask))) < 0:
        os.close(fd)
        return None
    return fd


class FollowTailWheel(WheelBase):
    """Follow a file as it grows, across truncations and rotations (POE::Wheel::FollowTail).

    Args:
        kernel: the kernel; its active session owns the wheel.
        filename: the file to follow by name (reopened after rotation; may not exist yet).
        handle: an open handle to follow instead (an fd or an object with ``fileno()``).
        input_event: ``(record, wheel_id)`` per record (required).
        reset_event: ``(wheel_id)`` when the file was reset (truncated, rotated, appeared).
        error_event: ``(operation, errno, errstr, wheel_id)``; operation ``"read"``/``"stat"``.
        idle_event: ``(wheel_id)`` when a poll found nothing new.
        driver: the I/O driver (default a new :class:`poe.driver.SysRWDriver`).
        filter: the input filter (default a new :class:`poe.filter.LineFilter`).
        poll_interval: seconds between polls that found nothing (timer mode; default 1).
        seek: start position: >= 0 from the start, < 0 from the end (regular files).
        seek_back: start this many octets back from the end (0: at the end).
        use_inotify: on Linux, poll as soon as inotify reports a change (see the module doc).

    Raises:
        InvalidArgument: not exactly one of ``filename``/``handle``, no ``input_event``, both
            ``seek`` and ``seek_back``, a negative ``poll_interval``, or a directory.
        NotInSession: not created inside a session's handler.
    """

    def __init__(
        self,
        kernel: Kernel,
        *,
        filename: str | os.PathLike[str] | None = None,
        handle: Any = None,
        input_event: str | None = None,
        reset_event: str | None = None,
        error_event: str | None = None,
        idle_event: str | None = None,
        driver: Driver | None = None,
        filter: Filter[bytes, Any] | None = None,  # noqa: A002 - POE's parameter name
        poll_interval: float | None = None,
        seek: int | None = None,
        seek_back: int | None = None,
        use_inotify: bool = False,
    ) -> None:
        if (filename is None) == (handle is None):
            msg = "FollowTailWheel requires a handle or a filename, but not both"
            raise InvalidArgument(msg)
        if not isinstance(input_event, str):
            msg = "FollowTailWheel requires input_event"
            raise InvalidArgument(msg)
        if seek is not None and seek_back is not None:
            msg = "seek and seek_back cannot be used at the same time"
            raise InvalidArgument(msg)
        if poll_interval is not None and not poll_interval >= 0:
            msg = f"poll_interval must be >= 0, not {poll_interval!r}"
            raise InvalidArgument(msg)
        super().__init__(kernel)
        self._filename = os.fspath(filename) if filename is not None else None
        self._handle: Any = handle
        self._own_fd = False
        self._driver: Driver = driver if driver is not None else SysRWDriver()
        self._filter: Filter[bytes, Any] = filter if filter is not None else LineFilter()
        self._interval = 1.0 if poll_interval is None else float(poll_interval)
        self._input_event: str | None = input_event
        self._reset_event = reset_event
        self._error_event = error_event
        self._idle_event = idle_event
        self._last_stat: _StatKey = _NO_STAT
        self._signature = b""  # the octets just before the read position
        self._seen: tuple[int, int, int] | None = None  # (size, mtime_ns, ctime_ns) last checked
        self._select_mode = False
        self._state = ""
        self._inotify_fd: int | None = None
        try:
            self._setup(seek, seek_back, poll_interval is not None, use_inotify)
        except BaseException:
            self.close()
            raise

    # -- construction -------------------------------------------------------------------------

    def _setup(
        self, seek: int | None, seek_back: int | None, interval_given: bool, use_inotify: bool
    ) -> None:
        if self._filename is not None:
            fd = _open_file(self._filename)
            if fd is not None:
                self._handle = fd
                self._own_fd = True
                with contextlib.suppress(OSError):
                    self._last_stat = _stat_key(os.stat(self._filename))
        else:
            self._last_stat = _stat_key(os.fstat(_fileno(self._handle)))
        if self._handle is None:
            self._start_timer(use_inotify)  # wait for the file to appear
            return
        fd = _fileno(self._handle)
        mode = os.fstat(fd).st_mode
        if _stat.S_ISREG(mode):
            self._position_start(fd, seek, seek_back)
            self._start_timer(use_inotify)
            return
        if _stat.S_ISDIR(mode):
            msg = "FollowTailWheel does not tail directories"
            raise InvalidArgument(msg)
        if seek_back:
            warnings.warn("FollowTailWheel can't seek_back special files", RuntimeWarning, 4)
        if interval_given:
            warnings.warn(
                "FollowTailWheel does not need poll_interval for special files", RuntimeWarning, 4
            )
        self._select_mode = True
        self._state = self._define("select read", "_on_select")
        self._watch(self._handle, Mode.READ, self._state)

    def _position_start(self, fd: int, seek: int | None, seek_back: int | None) -> None:
        offset = -seek_back if seek_back is not None else seek
        if offset is None:
            offset = -DEFAULT_SEEK_BACK
        end = os.lseek(fd, 0, os.SEEK_END)
        if offset < 0:
            os.lseek(fd, 0 if end < -offset else end + offset, os.SEEK_SET)
        elif offset > 0:
            os.lseek(fd, min(offset, end), os.SEEK_SET)
        elif seek is not None:
            os.lseek(fd, 0, os.SEEK_SET)
        # seek_back=0: stay at the end.
        self._signature = self._bytes_before(fd, os.lseek(fd, 0, os.SEEK_CUR))
        if seek is None and seek_back is None:
            # Frame the input: parse and discard everything up to the end.
            while True:
                raw = self._driver.get(self._handle)
                if not raw:
                    break
                self._remember(raw)
                self._filter.get(raw)

    def _start_timer(self, use_inotify: bool) -> None:
        if self._filename is not None:
            self._state = self._define("name timer read", "_poll")
        else:
            self._state = self._define("handle timer read", "_poll")
        if use_inotify:
            self._start_inotify()
        self._schedule(0)

    def _start_inotify(self) -> None:
        if self._filename is not None:
            path = os.path.dirname(os.path.abspath(self._filename))
            fd = _inotify_watch(path, _DIR_MASK)
        elif sys.platform.startswith("linux"):
            fd = _inotify_watch(f"/proc/self/fd/{_fileno(self._handle)}", _FILE_MASK)
        else:
            fd = None
        if fd is None:
            return
        self._inotify_fd = fd
        self._watch(fd, Mode.READ, self._define("inotify", "_on_inotify"))

    # -- events -------------------------------------------------------------------------------

    def event(self, **renames: str | None) -> None:
        """Rename (or, with None, disable) events.

        Known events: ``input_event`` (cannot be disabled), ``reset_event``, ``error_event``,
        ``idle_event``.

        Raises:
            InvalidArgument: an unknown event, or ``input_event=None``.
        """
        if "input_event" in renames and renames["input_event"] is None:
            msg = "input_event requires an event name"
            raise InvalidArgument(msg)
        rename_events(self, _EVENTS, renames)

    def tell(self) -> int | None:
        """The read offset in the file; None while no file is open.

        It may be ahead of the records delivered: the filter buffers partial records.
        """
        if self._handle is None:
            return None
        try:
            return os.lseek(_fileno(self._handle), 0, os.SEEK_CUR)
        except (OSError, ValueError):
            return None

    # -- reading helpers ----------------------------------------------------------------------

    @staticmethod
    def _bytes_before(fd: int, pos: int) -> bytes:
        size = min(pos, _SIGNATURE_SIZE)
        if size <= 0 or not hasattr(os, "pread"):
            return b""
        try:
            return os.pread(fd, size, pos - size)
        except OSError:
            return b""

    def _remember(self, raw: list[bytes]) -> None:
        joined = self._signature + b"".join(raw)
        self._signature = joined[-_SIGNATURE_SIZE:]

    def _feed(self, raw: list[bytes]) -> None:
        """Filter ``raw`` and emit its records one ``get_one`` at a time."""
        self._remember(raw)
        filt = self._filter
        filt.get_one_start(raw)
        while not self._closed:
            records = filt.get_one()
            if not records:
                return
            for record in records:  # get_one returns at most one record
                self._emit(self._input_event, record, self._id)

    def _rewritten(self, fd: int) -> bool:
        """True if the open file was truncated or rewritten under the read position."""
        try:
            st = os.fstat(fd)
            pos = os.lseek(fd, 0, os.SEEK_CUR)
        except OSError:
            return False
        if not _stat.S_ISREG(st.st_mode):
            return False
        if st.st_size < pos:
            return True
        seen = (st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        if seen == self._seen:
            return False
        self._seen = seen
        sig = self._signature
        return bool(sig) and self._bytes_before(fd, pos)[-len(sig) :] != sig

    def _rewind(self, fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        self._signature = b""
        self._seen = None

    def _close_file(self) -> None:
        handle, self._handle = self._handle, None
        self._signature = b""
        self._seen = None
        if handle is not None and self._own_fd:
            with contextlib.suppress(OSError):
                os.close(handle)
        self._own_fd = False

    def _schedule(self, seconds: float) -> None:
        if self._closed:
            return
        kernel = self._kernel
        kernel._clear_named(self._session, self._state)
        kernel._after(self._session, self._state, seconds, ())

    # -- timer mode ---------------------------------------------------------------------------

    def _poll(self) -> None:
        """One poll (POE's "name timer read" / "handle timer read")."""
        filename = self._filename
        if self._handle is None:
            if filename is None:
                self._emit(self._error_event, "read", 0, "", self._id)
                return
            fd = _open_file(filename)
            if fd is None:
                self._emit(self._idle_event, self._id)
                self._schedule(self._interval)
                return
            self._handle = fd
            self._own_fd = True
            self._emit(self._reset_event, self._id)
            if self._closed:
                return
            with contextlib.suppress(OSError):
                self._last_stat = _stat_key(os.fstat(fd))
        fd = _fileno(self._handle)
        if self._rewritten(fd):
            if filename is not None:
                self._close_file()
                try:
                    self._last_stat = _stat_key(os.stat(filename))
                except OSError:
                    self._last_stat = _NO_STAT
                self._schedule(0)
                return
            self._emit(self._reset_event, self._id)
            if self._closed:
                return
            self._rewind(fd)
            with contextlib.suppress(OSError):
                self._last_stat = _stat_key(os.fstat(fd))
        try:
            raw = self._driver.get(self._handle)
        except OSError as exc:
            self._emit(self._error_event, "read", *error_of(exc), self._id)
            return
        if raw:
            self._feed(raw)
            self._schedule(0)
            return
        self._at_eof(fd)

    def _at_eof(self, fd: int) -> None:
        """Nothing to read: check for a reset, then poll again after the interval."""
        filename = self._filename
        try:
            new = _stat_key(os.stat(filename) if filename is not None else os.fstat(fd))
        except OSError as exc:
            if filename is None or exc.errno != _errno.ENOENT:
                self._emit(self._error_event, "stat", *error_of(exc), self._id)
                return
            new = _NO_STAT
        last = self._last_stat
        if new[2] < 0 or not (_stat.S_ISBLK(new[2]) or _stat.S_ISCHR(new[2])):
            last = (*last[:6], new[6], last[7])  # rdev only matters for device files
        if new[1] != last[1] or new[0] != last[0] or new[6] != last[6] or new[3] != last[3]:
            reset = True
        else:
            reset = new[7] < last[7]
        self._last_stat = new
        if reset:
            if filename is not None:
                self._drain_old(fd)
                if self._closed:
                    return
                self._close_file()
                self._schedule(0)
                return
            self._emit(self._reset_event, self._id)
            if self._closed:
                return
            self._rewind(fd)
        else:
            self._emit(self._idle_event, self._id)
        self._schedule(self._interval)

    def _drain_old(self, fd: int) -> None:
        """Read what is left in a rotated-away file before switching to the new one."""
        if self._rewritten(fd):
            return  # truncated in place: what is there now is not a continuation
        while not self._closed:
            try:
                raw = self._driver.get(self._handle)
            except OSError:
                return
            if not raw:
                return
            self._feed(raw)

    # -- select mode --------------------------------------------------------------------------

    def _on_select(self, handle: Any, mode: Mode, *args: Any) -> None:
        try:
            raw = self._driver.get(self._handle)
        except OSError as exc:
            self._emit(self._error_event, "read", *error_of(exc), self._id)
            self._unwatch(self._handle, Mode.READ)
            return
        if raw is None:
            fd = _fileno(self._handle)
            try:
                st_mode = os.fstat(fd).st_mode
            except OSError:
                st_mode = 0
            if _stat.S_ISSOCK(st_mode) or os.isatty(fd):
                self._emit(self._error_event, "read", 0, "", self._id)
            else:
                self._emit(self._idle_event, self._id)
            if not self._closed:
                self._unwatch(self._handle, Mode.READ)
            return
        if raw:
            self._feed(raw)

    # -- inotify ------------------------------------------------------------------------------

    def _on_inotify(self, handle: Any, mode: Mode, *args: Any) -> None:
        fd = self._inotify_fd
        if fd is None:
            return
        with contextlib.suppress(OSError):
            while os.read(fd, 65536):
                pass
        self._schedule(0)

    # -- lifetime -----------------------------------------------------------------------------

    def _release(self) -> None:
        if self._state and not self._select_mode:
            with contextlib.suppress(Exception):
                self._kernel._clear_named(self._session, self._state)
        super()._release()
        if self._inotify_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._inotify_fd)
            self._inotify_fd = None
        self._close_file()
