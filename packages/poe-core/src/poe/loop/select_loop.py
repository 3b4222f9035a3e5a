"""``SelectLoop``: POE::Loop::Select's timeslice on epoll, poll or select, with no asyncio.

One iteration (:meth:`SelectLoop.run_once`) does what POE's ``loop_do_timeslice`` does:

1. wait for fd readiness, at most until the single timer is due (or the caller's timeout);
2. dispatch the ready fds grouped by mode: every READ, then every WRITE, then every EXPEDITE;
3. dispatch the OS signals that arrived;
4. call ``host.on_timer()`` once if the timer is due or :meth:`SelectLoop.wake` was called.

The readiness mechanism is chosen once per loop: ``select.epoll`` on Linux (it reports
``EPOLLPRI``, i.e. TCP urgent data, for :attr:`~poe.loop.Mode.EXPEDITE`), else ``select.poll``
(``POLLPRI``), else ``select.select`` (its exception list). All three are level-triggered, as POE is.

One non-blocking socket pair serves both :meth:`SelectLoop.wake` and signals: ``wake`` writes a NUL
byte to it, and it is the process's :func:`signal.set_wakeup_fd` while signals are watched, so the C
signal handler writes each caught signal's number into it. The loop only ever reads it on its own
thread, which is what keeps every host callback off the C handler.
"""

from __future__ import annotations

import errno
import os
import select
import signal
import socket
from time import monotonic
from typing import TYPE_CHECKING, Final

from poe.loop import Mode
from poe.loop._common import NULL_HOST, UNPOLLABLE_ERRNO, restore_signal

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import FrameType

    from poe.loop import LoopHost
    from poe.loop._common import SignalHandler

__all__ = ["MECHANISMS", "SelectLoop", "default_mechanism"]

# Enum member lookups go through the enum metaclass; the dispatch loops use these plain names.
_READ: Final = Mode.READ
_WRITE: Final = Mode.WRITE
_EXPEDITE: Final = Mode.EXPEDITE

#: The readiness mechanisms this platform offers, best first.
MECHANISMS: Final[tuple[str, ...]] = tuple(
    name for name in ("epoll", "poll", "select") if hasattr(select, name)
)

# Event bits. epoll and poll share the classic poll(2) values (POLLIN=1, POLLPRI=2, POLLOUT=4,
# POLLERR=8, POLLHUP=16, POLLNVAL=32) on every platform that has them; the select() mechanism
# translates its three lists into the same bits, so one dispatch routine serves all three.
_IN: Final = 0x01
_PRI: Final = 0x02
_OUT: Final = 0x04
_ERR: Final = 0x08
_HUP: Final = 0x10
_NVAL: Final = 0x20

#: What ``watch(fd, mode)`` asks the poller for, indexed by mode.
_WANT: Final = (_IN, _OUT, _PRI)
#: Which reported bits make an fd ready for READ / WRITE. An error or hang-up counts for both,
#: because select(2) reports such an fd readable and writable (the next read/write tells why).
#: POLLNVAL (a closed fd poll() still holds) too: the host learns of it from its read or write.
_READY_READ: Final = _IN | _ERR | _HUP | _NVAL
_READY_WRITE: Final = _OUT | _ERR | _HUP | _NVAL
#: An error or hang-up on an fd watched ONLY for EXPEDITE is reported as EXPEDITE: epoll and poll
#: report those conditions whatever was asked, level-triggered, so staying silent would spin the
#: loop at 100% CPU with nothing dispatched. select() never reports them (no spin, no report).
_ERR_HUP: Final = _ERR | _HUP | _NVAL
#: What a regular file (which epoll refuses) is reported as on each dispatch, indexed by mode:
#: select(2) says "always readable and writable, never exceptional" for regular files.
_FILE_READY: Final = (_IN, _OUT, 0)

#: The byte :meth:`SelectLoop.wake` writes: 0 is no signal number, so it never reads as a signal.
_WAKE_BYTE: Final = b"\0"
_DRAIN_SIZE: Final = 4096


def default_mechanism() -> str:
    """The readiness mechanism :class:`SelectLoop` uses here by default (``"epoll"`` on Linux)."""
    return MECHANISMS[0]


def _ignore_signal_frame(signum: int, frame: FrameType | None) -> None:
    """The Python-level handler of every watched signal: deliberately does nothing.

    A Python handler must be installed for CPython's C handler to run at all, and that C handler
    already recorded the signal by writing its number to the wakeup fd; the loop reads it there.
    """


class SelectLoop:
    """A :class:`poe.loop.Loop` built on ``select.epoll``, ``select.poll`` or ``select.select``.

    Contracts beyond the :class:`~poe.loop.Loop` protocol:

    * Dispatch order in one iteration: ready fds grouped by mode (READ, WRITE, EXPEDITE; within a
      group, the order the OS reported), then signals, then ``on_timer`` (once, if the timer is
      due or a wake-up is pending). An fd the host unwatches during the batch is skipped for the
      rest of the batch, so closing an fd inside a callback is safe once it is unwatched.
    * A regular file (which epoll refuses) is reported ready for READ and WRITE on every
      iteration and never for EXPEDITE, as select(2) does.
    * :meth:`halt` and :meth:`wake` may be called from any thread. :meth:`halt` takes effect at
      the end of the current iteration (like asyncio's ``loop.stop()``) and only on a
      :meth:`run` in progress.
    * An exception raised by a host callback propagates out of :meth:`run_once` / :meth:`run`;
      the rest of that batch is not dispatched (level-triggered fds are reported again).
    * :meth:`unwatch_signal` restores the handler the signal had before :meth:`watch_signal`
      (not necessarily ``SIG_DFL``), and the last one restores the previous wakeup fd.
    * Resources (the poller and the wake socket pair) are opened on :meth:`attach` or on first
      use and released by :meth:`close`; constructing a loop opens nothing.

    Args:
        mechanism: ``"epoll"``, ``"poll"`` or ``"select"`` (see :data:`MECHANISMS`); ``None``
            picks :func:`default_mechanism`. Mainly for tests: all three behave the same.

    Raises:
        ValueError: ``mechanism`` is not available on this platform.
    """

    name: str = "select"

    def __init__(self, mechanism: str | None = None) -> None:
        if mechanism is None:
            mechanism = default_mechanism()
        elif mechanism not in MECHANISMS:
            msg = f"readiness mechanism {mechanism!r} is not available here: expected one of {MECHANISMS}"
            raise ValueError(msg)
        self.mechanism: Final = mechanism
        self._host: LoopHost = NULL_HOST
        # What the host watches, indexed by Mode. These sets are the truth the dispatch checks
        # before every callback, which is what makes unwatching during a batch safe.
        self._readers: set[int] = set()
        self._writers: set[int] = set()
        self._expediters: set[int] = set()
        self._by_mode: Final = (self._readers, self._writers, self._expediters)
        # fd -> event bits registered in the poller (epoll/poll only).
        self._masks: dict[int, int] = {}
        # fd -> ready bits, for fds epoll refused (regular files): reported on every iteration.
        self._files: dict[int, int] = {}
        self._epoll: select.epoll | None = None
        self._poll: select.poll | None = None
        # The select() mechanism's argument lists, rebuilt only after a watch change.
        self._select_lists: tuple[list[int], list[int], list[int]] | None = None
        self._rsock: socket.socket | None = None
        self._wsock: socket.socket | None = None
        self._internal_fd = -1
        # Waits for readiness: the poller's own method once open, or _wait_closed, which opens
        # the loop first; run_once thus needs no "am I open" test.
        self._wait: Callable[[float | None], list[tuple[int, int]]] = self._wait_closed
        self._deadline: float | None = None  # time.monotonic() value; None: no timer
        self._woken = False  # a wake() is pending (see wake() for the thread-safety argument)
        self._halted = False
        self._running = False
        self._signals: dict[int, SignalHandler] = {}  # watched signum -> its previous handler
        self._prev_wakeup_fd: int | None = None  # set while OUR wakeup fd is installed

    # ------------------------------------------------------------------ lifecycle

    def attach(self, host: LoopHost) -> None:
        """Start delivering callbacks to ``host`` (replacing any earlier host) and open the loop."""
        self._host = host
        if self._rsock is None:
            self._open()

    def close(self) -> None:
        """Drop every watch, the timer and every signal hook, and release the loop's fds.

        Restores each watched signal's previous handler and the previous wakeup fd. A
        :meth:`run` in progress returns at the end of its iteration. Idempotent; :meth:`attach`
        (or any watch) opens the loop again.
        """
        try:
            for signum in list(self._signals):
                self.unwatch_signal(signum)
        finally:
            if self._running:
                self._halted = True
            for watched in self._by_mode:
                watched.clear()
            self._masks.clear()
            self._files.clear()
            self._select_lists = None
            self._deadline = None
            self._woken = False
            self._host = NULL_HOST
            self._wait = self._wait_closed
            if self._epoll is not None:
                self._epoll.close()
                self._epoll = None
            self._poll = None
            rsock, wsock = self._rsock, self._wsock
            self._rsock = self._wsock = None
            self._internal_fd = -1
            if rsock is not None:
                rsock.close()
            if wsock is not None:
                wsock.close()

    def _open(self) -> None:
        """Create the poller and the wake socket pair (the loop was closed or never opened)."""
        rsock, wsock = socket.socketpair()
        # Non-blocking on both ends: the reader drains until EAGAIN, and a writer (wake() from a
        # thread, or the C signal handler) must never block; set_wakeup_fd insists on it too.
        rsock.setblocking(False)
        wsock.setblocking(False)
        internal = rsock.fileno()
        if self.mechanism == "epoll":
            epoll = select.epoll()
            epoll.register(internal, select.EPOLLIN)
            self._epoll = epoll
            # epoll.poll takes seconds and None for "forever", exactly run_once's timeout, and
            # rounds up to whole milliseconds so a timer never wakes the loop early.
            self._wait = epoll.poll
        elif self.mechanism == "poll":
            poller = select.poll()
            poller.register(internal, select.POLLIN)
            self._poll = poller
            self._wait = self._make_poll_wait(poller)
        else:
            self._wait = self._select_wait
        self._rsock, self._wsock, self._internal_fd = rsock, wsock, internal
        if self._woken:  # wake() was called while closed: make the first wait return at once
            self._send_wake_byte()

    def _ensure_open(self) -> None:
        if self._rsock is None:
            self._open()

    def _wait_closed(self, timeout: float | None) -> list[tuple[int, int]]:
        self._open()
        return self._wait(timeout)

    @staticmethod
    def _make_poll_wait(poller: select.poll) -> Callable[[float | None], list[tuple[int, int]]]:
        poll = poller.poll

        def wait(timeout: float | None) -> list[tuple[int, int]]:
            # poll() takes milliseconds (a float is fine: CPython rounds it up).
            return poll(None if timeout is None else timeout * 1000.0)

        return wait

    # ------------------------------------------------------------------ file descriptors

    def watch(self, fd: int, mode: Mode) -> None:
        """Start watching ``fd`` for ``mode`` (idempotent).

        Raises:
            OSError: the poller refused ``fd`` (for instance ``EBADF``: it is not open).
        """
        watched = self._by_mode[mode]
        if fd in watched:
            return
        self._ensure_open()
        if fd in self._files:
            self._files[fd] |= _FILE_READY[mode]
        elif self.mechanism == "select":
            self._select_lists = None
        else:
            old = self._masks.get(fd, 0)
            new = old | _WANT[mode]
            try:
                self._apply_mask(fd, old, new)
            except OSError as exc:
                if exc.errno != UNPOLLABLE_ERRNO or old:
                    raise
                # epoll refuses regular files; select(2) calls them always ready. Emulate it.
                self._files[fd] = _FILE_READY[mode]
            else:
                self._masks[fd] = new
        watched.add(fd)

    def unwatch(self, fd: int, mode: Mode) -> None:
        """Stop watching ``fd`` for ``mode`` (idempotent; safe after the host closed ``fd``)."""
        watched = self._by_mode[mode]
        if fd not in watched:
            return
        watched.discard(fd)
        if fd in self._files:
            if fd in self._readers or fd in self._writers or fd in self._expediters:
                self._files[fd] &= ~_FILE_READY[mode]
            else:
                del self._files[fd]
        elif self.mechanism == "select":
            self._select_lists = None
        else:
            old = self._masks.get(fd, 0)
            new = old & ~_WANT[mode]
            if new:
                self._masks[fd] = new
            else:
                self._masks.pop(fd, None)
            try:  # noqa: SIM105 - unwatch is hot (pause/resume); suppress() costs more
                self._apply_mask(fd, old, new)
            except OSError:
                # The host closed fd before unwatching it: the kernel already dropped it from
                # the poller (epoll: EBADF/ENOENT). Nothing is left to undo.
                pass

    def _apply_mask(self, fd: int, old: int, new: int) -> None:
        """Make the poller's registration of ``fd`` go from ``old`` to ``new`` event bits."""
        epoll = self._epoll
        if epoll is not None:
            if not new:
                epoll.unregister(fd)
            elif not old:
                try:
                    epoll.register(fd, new)
                except FileExistsError:
                    # A closed fd whose open file description lives on (a dup) stays in the
                    # epoll set under the same number; take it over.
                    epoll.modify(fd, new)
            else:
                try:
                    epoll.modify(fd, new)
                except FileNotFoundError:
                    # The host closed fd and a new file got the same number: epoll forgot the
                    # old one on close, so register the new one.
                    epoll.register(fd, new)
            return
        poller = self._poll
        if poller is not None:
            if new:
                poller.register(fd, new)  # poll's register also modifies
            else:
                try:  # noqa: SIM105 - hot path, as above
                    poller.unregister(fd)
                except KeyError:
                    pass

    # ------------------------------------------------------------------ select() mechanism

    def _select_wait(self, timeout: float | None) -> list[tuple[int, int]]:
        lists = self._select_lists
        if lists is None:
            lists = self._select_lists = (
                [*self._readers, self._internal_fd],
                list(self._writers),
                list(self._expediters),
            )
        try:
            readable, writable, exceptional = select.select(*lists, timeout)
        except OSError as exc:
            if exc.errno != errno.EBADF:
                raise
            return self._closed_fds(exc)
        if not (readable or writable or exceptional):
            return []
        bits: dict[int, int] = dict.fromkeys(readable, _IN)
        for fd in writable:
            bits[fd] = bits.get(fd, 0) | _OUT
        for fd in exceptional:
            bits[fd] = bits.get(fd, 0) | _PRI
        return list(bits.items())

    def _closed_fds(self, exc: OSError) -> list[tuple[int, int]]:
        """select() failed with EBADF: report each watched fd that is closed as in error.

        poll() says POLLNVAL for such an fd; this mirrors it so the host finds out from its own
        read or write instead of the whole loop dying.
        """
        events = []
        for fd in {*self._readers, *self._writers, *self._expediters}:
            try:
                os.fstat(fd)
            except OSError:
                events.append((fd, _ERR))
        if not events:
            raise exc
        return events

    # ------------------------------------------------------------------ timer and wake-up

    def set_timer(self, delay: float | None) -> None:
        """Arm the single timer ``delay`` seconds from now, replacing any earlier one.

        ``None`` cancels it; a delay of 0 or less makes it due in the next iteration.
        """
        self._deadline = None if delay is None else monotonic() + delay

    def wake(self) -> None:
        """Make the loop call ``host.on_timer()`` soon, on its own thread. Thread-safe.

        Wake-ups coalesce: while one is pending, further calls cost no syscall. This is safe
        because the loop clears the flag only right before calling ``on_timer``: a wake() that
        found the flag set was made before that ``on_timer`` call, which therefore serves it,
        and a wake() after the clear sets the flag and writes a byte anew.
        """
        if self._woken:
            return
        self._woken = True
        self._send_wake_byte()

    def _send_wake_byte(self) -> None:
        sock = self._wsock
        if sock is not None:  # closed: the flag alone survives until the loop is opened again
            try:  # noqa: SIM105 - wake() is hot (post_threadsafe); suppress() costs more
                sock.send(_WAKE_BYTE)
            except OSError:
                # Full (bytes are pending, so the loop wakes anyway) or closed concurrently.
                pass

    # ------------------------------------------------------------------ signals

    def watch_signal(self, signum: int) -> None:
        """Deliver OS signal ``signum`` to ``host.on_signal`` (call from the main thread).

        Raises:
            ValueError: not called from the main thread, or ``signum`` is not a valid signal.
            OSError: ``signum`` cannot be caught (``SIGKILL``, ``SIGSTOP``).
        """
        if signum in self._signals:
            return
        self._ensure_open()
        wsock = self._wsock
        if wsock is None:  # pragma: no cover - _ensure_open just opened it
            raise RuntimeError("the loop could not be opened")
        installed_wakeup = False
        if self._prev_wakeup_fd is None:
            # Wakeup fd before handler: a signal caught in between must already reach us.
            self._prev_wakeup_fd = signal.set_wakeup_fd(wsock.fileno(), warn_on_full_buffer=False)
            installed_wakeup = True
        try:
            self._signals[signum] = signal.signal(signum, _ignore_signal_frame)
        except BaseException:
            if installed_wakeup:
                self._restore_wakeup_fd()
            raise

    def unwatch_signal(self, signum: int) -> None:
        """Give ``signum`` back the handler it had before :meth:`watch_signal` (idempotent)."""
        if signum not in self._signals:
            return
        restore_signal(signum, self._signals.pop(signum))
        if not self._signals:
            self._restore_wakeup_fd()

    def _restore_wakeup_fd(self) -> None:
        previous = self._prev_wakeup_fd
        if previous is None:
            return
        self._prev_wakeup_fd = None
        ours = self._wsock.fileno() if self._wsock is not None else -1
        current = signal.set_wakeup_fd(previous)
        if current != ours:
            # Someone (an asyncio loop, say) replaced our wakeup fd since: leave theirs alone.
            signal.set_wakeup_fd(current)

    # ------------------------------------------------------------------ running

    def run(self) -> None:
        """Run iterations until :meth:`halt` (or :meth:`close`) is called.

        Raises:
            RuntimeError: the loop is already running.
            BaseException: whatever a host callback raised.
        """
        if self._running:
            msg = "SelectLoop.run() is already running"
            raise RuntimeError(msg)
        self._running = True
        self._halted = False
        run_once = self.run_once
        try:
            while not self._halted:
                run_once(None)
        finally:
            self._running = False
            self._halted = False

    def halt(self) -> None:
        """Make a :meth:`run` in progress return at the end of the current iteration.

        Thread-safe. Without a :meth:`run` in progress (a bare :meth:`run_once` included) this
        does nothing, so a halt never leaks into a later :meth:`run`.
        """
        if not self._running:
            return
        self._halted = True
        # From another thread the loop may be blocked in its wait: a byte ends it. The byte
        # does not set the wake flag, so it causes no on_timer call, only a spare iteration.
        self._send_wake_byte()

    def run_once(self, timeout: float | None) -> None:
        """One iteration: wait up to ``timeout`` seconds for anything, dispatch it, return.

        The wait ends early when an fd is ready, a signal arrives, :meth:`wake` is called or the
        timer is due; the effective wait is ``min(timeout, time until the timer)``, 0 when a
        wake-up is pending or a regular file is watched. ``None`` waits until something happens.
        An ``EINTR`` just ends the wait (CPython retries it itself unless a handler raises).
        """
        deadline = self._deadline
        if deadline is not None:
            remaining = deadline - monotonic()
            if remaining <= 0.0:
                timeout = 0.0
            elif timeout is None or remaining < timeout:
                timeout = remaining
        if timeout is not None and timeout < 0.0:
            timeout = 0.0
        if self._files and any(self._files.values()):
            timeout = 0.0
        try:
            events = self._wait(timeout)
        except InterruptedError:
            events = []
        if events or self._files:
            self._dispatch(events)

        # The timer and pending wake-ups last, as POE dispatches due events after I/O. The
        # deadline is read afresh because the I/O callbacks may have re-armed it.
        if self._woken:
            self._woken = False
            deadline = self._deadline
            if deadline is not None and deadline <= monotonic():
                self._deadline = None
            self._host.on_timer()
        else:
            deadline = self._deadline
            if deadline is not None and deadline <= monotonic():
                self._deadline = None  # disarmed first: on_timer re-arms with set_timer
                self._host.on_timer()

    def _dispatch(self, events: list[tuple[int, int]]) -> None:
        """Call the host for one batch of ``(fd, event bits)``: READ, WRITE, EXPEDITE, signals.

        Every callback is preceded by a membership test on the live watch sets, so an fd that a
        callback unwatched (and maybe closed) is skipped for the rest of the batch.
        """
        files = self._files
        if files:
            events = events + [(fd, bits) for fd, bits in files.items() if bits]
        host = self._host
        readers = self._readers
        writers = self._writers
        expediters = self._expediters
        internal = self._internal_fd
        internal_ready = False
        for fd, bits in events:
            if bits & _READY_READ:
                if fd in readers:
                    host.on_io(fd, _READ)
                elif fd == internal:
                    internal_ready = True
        if writers:
            for fd, bits in events:
                if bits & _READY_WRITE and fd in writers:
                    host.on_io(fd, _WRITE)
        if expediters:
            for fd, bits in events:
                if fd in expediters and (
                    bits & _PRI or (bits & _ERR_HUP and fd not in readers and fd not in writers)
                ):
                    host.on_io(fd, _EXPEDITE)
        if internal_ready:
            self._drain_internal()

    def _drain_internal(self) -> None:
        """Empty the wake/signal socket and deliver the signals recorded in it."""
        sock = self._rsock
        while sock is not None:
            try:
                data = sock.recv(_DRAIN_SIZE)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # closed by a callback (close() inside on_signal)
                return
            signals = self._signals
            if signals:
                for signum in data:
                    # 0 is a wake() byte; signals nobody watches came through someone else's
                    # Python handler (SIGINT's default one, say) and are not ours to report.
                    if signum and signum in signals:
                        self._host.on_signal(signum)
            if len(data) < _DRAIN_SIZE:
                return
            sock = self._rsock
