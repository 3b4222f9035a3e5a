"""``AsyncioLoop`` (the default backend) and ``UvloopLoop``: the loop interface on asyncio.

The kernel's single timer is one ``asyncio.TimerHandle``; fd watches are ``add_reader`` /
``add_writer``; :meth:`AsyncioLoop.wake` is ``call_soon_threadsafe``; signals use
``add_signal_handler``. Because the kernel lives inside an asyncio loop, asyncio libraries
(aiohttp, dnspython, ...) run in the same thread as POE sessions.

Binding. The backend exists before any asyncio loop runs (the kernel is built, sessions call
``select_read``/``delay`` in ``_start``, then ``kernel.run()``), so it records every registration and
applies it to an asyncio loop when it *binds* to one:

* :meth:`AsyncioLoop.run` / :meth:`AsyncioLoop.run_once` bind to the backend's own loop, made by a
  factory (``asyncio.new_event_loop``, or uvloop's) on first need and kept open between runs, so
  objects tied to it (tasks, client sessions) stay valid; :meth:`AsyncioLoop.close` closes it.
* :meth:`AsyncioLoop.run_async` binds to the running loop for its duration and unbinds when it
  returns (that loop may be closed afterwards, by ``asyncio.run`` for one).
* :attr:`AsyncioLoop.asyncio_loop` binds lazily: to the running loop if any, else the own loop.

Unbinding takes every registration off the loop and keeps it recorded; the timer keeps its
deadline. While unbound, watched signals are caught by a recording Python handler (so a watched
signal never falls back to its default action, e.g. terminating the process) and delivered when
the backend binds again.

EXPEDITE. asyncio cannot watch for exceptional conditions, so on Linux the backend keeps a private
``select.epoll`` with ``EPOLLPRI`` registrations, and ``add_reader``-s the epoll's own fd (an epoll
fd is readable while any of its fds has an event). Where epoll is missing, the watched fds are
checked with ``select()`` every :data:`EXPEDITE_POLL_INTERVAL` seconds instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import select
import signal
import threading
from asyncio import events as _asyncio_events
from time import monotonic
from typing import TYPE_CHECKING, Final, cast

from poe.loop import Mode
from poe.loop._common import NULL_HOST, UNPOLLABLE_ERRNO, restore_signal

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import FrameType

    from poe.loop import LoopHost
    from poe.loop._common import SignalHandler

__all__ = ["EXPEDITE_POLL_INTERVAL", "TIMER_SLACK", "AsyncioLoop", "UvloopLoop"]

_READ: Final = Mode.READ
_WRITE: Final = Mode.WRITE
_EXPEDITE: Final = Mode.EXPEDITE

#: A :meth:`AsyncioLoop.set_timer` whose deadline lies within this many seconds of the armed one
#: keeps the armed ``TimerHandle`` instead of cancelling it and scheduling a new one. The kernel
#: re-arms the timer after every batch, usually for the same due event, and the recomputed
#: deadline differs only by clock jitter. asyncio itself rounds its waits up to whole
#: milliseconds, so 0.1 ms changes no observable timing; a timer that fires that early finds
#: nothing due and the kernel simply re-arms it.
TIMER_SLACK: Final = 1e-4

# _timer_when of a timer armed with call_soon (delay <= 0): earlier than any loop time.
_DUE_NOW: Final = float("-inf")

#: Where ``select.epoll`` is missing, how often the fds watched for EXPEDITE are checked.
EXPEDITE_POLL_INTERVAL: Final = 0.01

_HAVE_EPOLL: Final = hasattr(select, "epoll")
# The classic poll bits (identical for epoll); see select_loop for why ERR/HUP count as EXPEDITE
# on an fd watched for nothing else.
_PRI: Final = 0x02
_ERR_HUP: Final = 0x08 | 0x10

# Who is driving the bound loop right now.
_IDLE: Final = 0
_RUN: Final = 1  # run(): run_forever on the own loop until halt()
_ONCE: Final = 2  # run_once(): run_forever on the own loop, stopped after the first dispatch
_ASYNC: Final = 3  # run_async(): awaiting a future in someone else's running loop

_RUNNING_MSG: Final = (
    "an asyncio event loop is already running in this thread: use await kernel.run_async() "
    "instead of kernel.run()"
)


def _current_event_loop() -> asyncio.AbstractEventLoop | None:
    """The loop set with ``asyncio.set_event_loop`` in this thread, or None, creating nothing.

    ``asyncio.get_event_loop()`` would create (and set) a loop when none is set, and warn on new
    Pythons, so this peeks at the default policy's thread-local instead; any other policy, or a
    future asyncio without those attributes, reads as "none set".
    """
    policy = getattr(_asyncio_events, "_event_loop_policy", None)
    loop = getattr(getattr(policy, "_local", None), "_loop", None)
    return loop if isinstance(loop, asyncio.AbstractEventLoop) else None


class AsyncioLoop:
    """A :class:`poe.loop.Loop` on a stdlib asyncio event loop.

    Contracts beyond the :class:`~poe.loop.Loop` protocol:

    * Dispatch order is asyncio's: per iteration, ready fds in the order the selector reports
      them (per fd, READ then WRITE), EXPEDITE when the private epoll's fd comes up, signals and
      wake-ups as asyncio schedules them, the timer when due. An fd unwatched during a batch is
      not dispatched later in that batch (``remove_reader`` cancels its pending handle).
    * A regular file (which epoll refuses) is reported ready for READ and WRITE on every
      iteration and never for EXPEDITE, as select(2) does.
    * An exception raised by a host callback stops the loop and is re-raised from :meth:`run`,
      :meth:`run_once` or :meth:`run_async` (asyncio would otherwise log it and carry on). With
      no POE driver running (someone else runs the bound loop), asyncio reports it as usual.
    * :meth:`halt` (thread-safe) makes a :meth:`run` or :meth:`run_async` in progress return
      once the current iteration completes; with neither in progress it does nothing.
    * :meth:`unwatch_signal` restores the handler the signal had before :meth:`watch_signal`.
    * Constructing the backend creates no asyncio loop and opens no fd.
    """

    name: str = "asyncio"
    #: Whether signals go through the loop's ``add_signal_handler`` while bound. uvloop's
    #: loses signals that arrive between two runs (its wakeup fd exists only while it runs),
    #: so :class:`UvloopLoop` always uses the recording handler instead (see _record_signal).
    _native_signals: bool = True

    def __init__(self) -> None:
        self._host: LoopHost = NULL_HOST
        self._aloop: asyncio.AbstractEventLoop | None = None  # the bound loop
        self._own: asyncio.AbstractEventLoop | None = None  # made by _new_loop, reused by run()
        self._close_own_after_run = False
        # What the host watches (the truth, kept while unbound).
        self._readers: set[int] = set()
        self._writers: set[int] = set()
        self._expediters: set[int] = set()
        # Watched fds the bound loop refused (regular files): reported every iteration.
        self._file_readers: set[int] = set()
        self._file_writers: set[int] = set()
        self._files_handle: asyncio.Handle | None = None
        # EXPEDITE support (see the module docstring).
        self._xpoll: select.epoll | None = None
        self._xcheck: asyncio.TimerHandle | None = None
        # The timer: a Handle and its loop-time deadline (_DUE_NOW for a call_soon handle) while
        # bound, a monotonic() deadline while unbound.
        self._timer: asyncio.Handle | None = None
        self._timer_when = 0.0
        self._deadline: float | None = None
        self._wake_pending = False
        self._signals: dict[int, SignalHandler] = {}  # watched signum -> its previous handler
        self._pending_signals: list[int] = []  # caught by _record_signal, not yet delivered
        self._driver = _IDLE
        self._driver_thread = 0
        self._halt_future: asyncio.Future[None] | None = None
        self._once_loop: asyncio.AbstractEventLoop | None = None  # set by run_once only
        self._error: BaseException | None = None

    def _new_loop(self) -> asyncio.AbstractEventLoop:
        """Make the loop :meth:`run` drives (overridden by :class:`UvloopLoop`)."""
        return asyncio.new_event_loop()

    # ------------------------------------------------------------------ binding

    @property
    def asyncio_loop(self) -> asyncio.AbstractEventLoop:
        """The asyncio loop the backend is bound to, binding it first if needed.

        Unbound, it binds to the loop running in this thread if there is one, else to the
        backend's own loop (created on first need), which :meth:`run` will then drive.
        """
        loop = self._aloop
        if loop is not None and not loop.is_closed():
            return loop
        running = _asyncio_events._get_running_loop()
        loop = running if running is not None else self._own_loop()
        self._bind(loop)
        return loop

    def _own_loop(self) -> asyncio.AbstractEventLoop:
        loop = self._own
        if loop is None or loop.is_closed():
            loop = self._own = self._new_loop()
        return loop

    def _bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Apply every recorded registration to ``loop`` (leaving any previous loop first)."""
        current = self._aloop
        if current is loop:
            return
        if current is not None:
            self._unbind()
        self._aloop = loop
        for fd in self._readers:
            self._add_io(loop, fd, _READ, bound=True)
        for fd in self._writers:
            self._add_io(loop, fd, _WRITE, bound=True)
        if self._xpoll is not None:
            loop.add_reader(self._xpoll.fileno(), self._on_expedite)
        elif self._expediters:
            self._schedule_xcheck(loop)
        deadline = self._deadline
        if deadline is not None:
            self._deadline = None
            self.set_timer(deadline - monotonic())
        if self._native_signals:
            for signum in self._signals:
                loop.add_signal_handler(signum, self._on_signal, signum)
        if self._pending_signals:
            loop.call_soon(self._flush_signals)
        if self._wake_pending:
            loop.call_soon(self._on_wake)

    def _unbind(self) -> None:
        """Take every registration off the bound loop, keeping it recorded."""
        loop = self._aloop
        if loop is None:
            return
        self._aloop = None
        if loop.is_closed():
            # Its selector and signal handlers are gone already; only our handles remain.
            self._forget_loop_handles(loop)
            return
        for fd in self._readers:
            if fd not in self._file_readers:
                self._quietly(loop.remove_reader, fd)
        for fd in self._writers:
            if fd not in self._file_writers:
                self._quietly(loop.remove_writer, fd)
        if self._xpoll is not None:
            self._quietly(loop.remove_reader, self._xpoll.fileno())
        if self._native_signals:
            for signum in self._signals:
                self._quietly(loop.remove_signal_handler, signum)
                # Until the next bind, catch it ourselves rather than leave asyncio's SIG_DFL.
                signal.signal(signum, self._record_signal)
        self._forget_loop_handles(loop)

    def _forget_loop_handles(self, loop: asyncio.AbstractEventLoop) -> None:
        self._file_readers.clear()
        self._file_writers.clear()
        if self._files_handle is not None:
            self._files_handle.cancel()
            self._files_handle = None
        if self._xcheck is not None:
            self._xcheck.cancel()
            self._xcheck = None
        timer = self._timer
        if timer is not None:
            timer.cancel()
            self._timer = None
            when = self._timer_when
            self._deadline = monotonic() + (0.0 if when == _DUE_NOW else when - loop.time())

    @staticmethod
    def _quietly(remove: Callable[[int], object], arg: int) -> None:
        # try/except, not contextlib.suppress: this runs on every unwatch (pause/resume).
        try:  # noqa: SIM105
            remove(arg)
        except (OSError, RuntimeError, ValueError):
            # The fd was closed behind our back, or the loop is shutting down: nothing to undo.
            pass

    # ------------------------------------------------------------------ lifecycle

    def attach(self, host: LoopHost) -> None:
        """Start delivering callbacks to ``host`` (replacing any earlier host)."""
        self._host = host

    def close(self) -> None:
        """Drop every watch, the timer and every signal hook; close the own asyncio loop.

        Restores each watched signal's previous handler. A :meth:`run` or :meth:`run_async` in
        progress returns at the end of the current iteration (the own loop is then closed when
        :meth:`run` returns). Idempotent; :meth:`attach` makes the backend usable again.
        """
        self._halt_driver()
        try:
            for signum in list(self._signals):
                self.unwatch_signal(signum)
        finally:
            self._pending_signals = []
            for fd in list(self._readers):
                self.unwatch(fd, _READ)
            for fd in list(self._writers):
                self.unwatch(fd, _WRITE)
            for fd in list(self._expediters):
                self.unwatch(fd, _EXPEDITE)
            self.set_timer(None)
            self._unbind()
            if self._xpoll is not None:
                self._xpoll.close()
                self._xpoll = None
            self._deadline = None
            self._wake_pending = False
            self._error = None
            self._host = NULL_HOST
            self._close_own_loop()

    def _close_own_loop(self) -> None:
        loop = self._own
        if loop is None:
            return
        if loop.is_running():
            self._close_own_after_run = True  # run()'s epilogue closes it
            return
        self._own = None
        self._close_own_after_run = False
        if loop.is_closed():
            return
        if _asyncio_events._get_running_loop() is None:
            # What asyncio.run() does before closing: finish async generators and let the
            # default executor's threads exit.
            try:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.run_until_complete(loop.shutdown_default_executor())
            except RuntimeError:
                pass
        loop.close()

    # ------------------------------------------------------------------ file descriptors

    def watch(self, fd: int, mode: Mode) -> None:
        """Start watching ``fd`` for ``mode`` (idempotent).

        Raises:
            OSError: the bound loop (or, for EXPEDITE, epoll) refused ``fd``, e.g. ``EBADF``.
        """
        if mode == _READ:
            watched = self._readers
        elif mode == _WRITE:
            watched = self._writers
        else:
            if fd not in self._expediters:
                self._watch_expedite(fd)
                self._expediters.add(fd)
            return
        if fd in watched:
            return
        loop = self._aloop
        if loop is not None:
            self._add_io(loop, fd, mode, bound=False)
        watched.add(fd)

    def _add_io(self, loop: asyncio.AbstractEventLoop, fd: int, mode: Mode, *, bound: bool) -> None:
        """add_reader/add_writer ``fd``; a regular file goes on the always-ready list instead.

        Args:
            loop: the bound loop.
            fd: the fd to watch.
            mode: READ or WRITE.
            bound: True while replaying registrations in :meth:`_bind`: then an fd the loop
                refuses for another reason (the host closed it while unbound) is reported as
                ready too, so the host's own read or write tells it what went wrong.
        """
        try:
            if mode == _READ:
                loop.add_reader(fd, self._on_read, fd)
            else:
                loop.add_writer(fd, self._on_write, fd)
        except RuntimeError:
            if not loop.is_closed():
                raise
            # Bound to a loop someone else closed: fall back to recording only.
            self._unbind()
            return
        except OSError as exc:
            if exc.errno != UNPOLLABLE_ERRNO and not bound:
                raise
            (self._file_readers if mode == _READ else self._file_writers).add(fd)
            if self._files_handle is None:
                self._files_handle = loop.call_soon(self._on_files)

    def unwatch(self, fd: int, mode: Mode) -> None:
        """Stop watching ``fd`` for ``mode`` (idempotent; safe after the host closed ``fd``)."""
        if mode == _READ:
            if fd not in self._readers:
                return
            self._readers.discard(fd)
            if fd in self._file_readers:
                self._file_readers.discard(fd)
            elif self._aloop is not None:
                self._quietly(self._aloop.remove_reader, fd)
        elif mode == _WRITE:
            if fd not in self._writers:
                return
            self._writers.discard(fd)
            if fd in self._file_writers:
                self._file_writers.discard(fd)
            elif self._aloop is not None:
                self._quietly(self._aloop.remove_writer, fd)
        elif fd in self._expediters:
            self._expediters.discard(fd)
            if self._xpoll is not None:
                # Closed already (epoll forgot it), or a regular file that was never registered.
                with contextlib.suppress(OSError):
                    self._xpoll.unregister(fd)
            elif not self._expediters and self._xcheck is not None:
                self._xcheck.cancel()
                self._xcheck = None

    def _watch_expedite(self, fd: int) -> None:
        if not _HAVE_EPOLL:
            loop = self._aloop
            if loop is not None and self._xcheck is None:
                self._schedule_xcheck(loop)
            return
        xpoll = self._xpoll
        if xpoll is None:
            xpoll = self._xpoll = select.epoll()
            if self._aloop is not None:
                self._aloop.add_reader(xpoll.fileno(), self._on_expedite)
        try:
            xpoll.register(fd, select.EPOLLPRI)
        except FileExistsError:
            xpoll.modify(fd, select.EPOLLPRI)  # a closed fd's dup kept it registered
        except OSError as exc:
            # A regular file is never exceptional (select(2) agrees): watched, never reported.
            if exc.errno != UNPOLLABLE_ERRNO:
                raise

    def _schedule_xcheck(self, loop: asyncio.AbstractEventLoop) -> None:
        self._xcheck = loop.call_later(EXPEDITE_POLL_INTERVAL, self._on_xcheck)

    # ------------------------------------------------------------------ timer and wake-up

    def set_timer(self, delay: float | None) -> None:
        """Arm the single timer ``delay`` seconds from now, replacing any earlier one.

        ``None`` cancels it. A deadline within :data:`TIMER_SLACK` of the armed one keeps the
        armed ``TimerHandle`` (no cancel, no new handle), which is what makes the kernel's
        re-arm after every batch cheap.
        """
        loop = self._aloop
        if loop is None:
            self._deadline = None if delay is None else monotonic() + delay
            return
        timer = self._timer
        if delay is None:
            if timer is not None:
                timer.cancel()
                self._timer = None
            return
        if delay <= 0.0:
            # Due now (the kernel has events queued, the commonest case): a plain Handle on the
            # ready queue fires in the same iteration a past-due TimerHandle would, without
            # loop.time() or the heap push and pop; one already pending serves as is.
            if timer is not None:
                if self._timer_when == _DUE_NOW:
                    return
                timer.cancel()
            self._timer_when = _DUE_NOW
            self._timer = loop.call_soon(self._on_timer)
            return
        when = loop.time() + delay
        if timer is not None:
            if -TIMER_SLACK <= when - self._timer_when <= TIMER_SLACK:
                return
            timer.cancel()
        self._timer_when = when
        self._timer = loop.call_at(when, self._on_timer)

    def wake(self) -> None:
        """Make the loop call ``host.on_timer()`` soon, on its own thread. Thread-safe.

        Wake-ups coalesce while one is pending. The flag is set before the bound loop is read,
        and :meth:`_bind` sets the loop before reading the flag, so a wake racing a bind is
        never lost (at worst it is delivered twice, which ``on_timer`` tolerates).
        """
        if self._wake_pending:
            return
        self._wake_pending = True
        loop = self._aloop
        if loop is not None:
            try:  # noqa: SIM105 - wake() is hot (post_threadsafe); suppress() costs more
                loop.call_soon_threadsafe(self._on_wake)
            except RuntimeError:
                pass  # the loop closed: the next bind delivers the pending wake-up

    # ------------------------------------------------------------------ signals

    def watch_signal(self, signum: int) -> None:
        """Deliver OS signal ``signum`` to ``host.on_signal`` (call from the main thread).

        Raises:
            ValueError: ``signum`` is not a valid signal, or not called from the main thread.
            RuntimeError: the signal cannot be caught, or asyncio refused (not the main thread).
        """
        if signum in self._signals:
            return
        previous = signal.getsignal(signum)
        loop = self._aloop
        if loop is not None and self._native_signals:
            loop.add_signal_handler(signum, self._on_signal, signum)
        else:
            signal.signal(signum, self._record_signal)
        self._signals[signum] = previous

    def unwatch_signal(self, signum: int) -> None:
        """Give ``signum`` back the handler it had before :meth:`watch_signal` (idempotent)."""
        if signum not in self._signals:
            return
        previous = self._signals.pop(signum)
        loop = self._aloop
        if loop is not None and self._native_signals:
            self._quietly(loop.remove_signal_handler, signum)
        restore_signal(signum, previous)

    def _record_signal(self, signum: int, frame: FrameType | None) -> None:
        """Python-level handler of watched signals while unbound (or always, on uvloop).

        It runs on the main thread between two bytecodes, so it only appends to a list (atomic)
        and asks the bound loop, if any, to deliver the list on its own thread; unbound, the
        next bind delivers it.
        """
        self._pending_signals.append(signum)
        loop = self._aloop
        if loop is not None:
            try:  # noqa: SIM105 - keep a signal handler minimal
                loop.call_soon_threadsafe(self._flush_signals)
            except RuntimeError:
                pass  # closed: the next bind delivers the list

    def _flush_signals(self) -> None:
        # Swap rather than clear: the handler may append at any bytecode, and the list swapped
        # out is ours alone.
        pending, self._pending_signals = self._pending_signals, []
        for signum in pending:
            self._on_signal(signum)

    # ------------------------------------------------------------------ running

    def run(self) -> None:
        """Run the own asyncio loop until :meth:`halt` is called.

        The own loop is the current event loop (``asyncio.get_event_loop()``) for the duration,
        then the previous one is restored; the loop stays open for the next :meth:`run`.

        Raises:
            RuntimeError: an asyncio loop is already running in this thread (use
                :meth:`run_async`), or this backend is already being run.
            BaseException: whatever a host callback raised.
        """
        if _asyncio_events._get_running_loop() is not None:
            raise RuntimeError(_RUNNING_MSG)
        self._check_idle()
        loop = self._own_loop()
        self._bind(loop)
        previous = _current_event_loop()
        asyncio.set_event_loop(loop)
        self._driver = _RUN
        self._driver_thread = threading.get_ident()
        try:
            loop.run_forever()
        finally:
            self._driver = _IDLE
            if previous is not loop:
                asyncio.set_event_loop(previous)
            if self._close_own_after_run:
                self._close_own_loop()
        self._raise_error()

    def run_once(self, timeout: float | None) -> None:
        """Run about one iteration of the own asyncio loop.

        Semantics: the loop runs until it has dispatched at least one host callback (an fd,
        signal, wake-up or the timer) and finished that asyncio iteration, or until ``timeout``
        seconds have passed, whichever is first. ``timeout`` 0 (or less) is exactly one
        non-blocking iteration (``loop.stop()`` before ``run_forever()``); ``None`` waits for the
        first host callback. asyncio callbacks that are not the host's (tasks, futures) run as
        usual but do not end the call. On uvloop, "one iteration" may be two, because uvloop's
        ``stop()`` takes effect in the following libuv iteration.

        Raises:
            RuntimeError: an asyncio loop is already running in this thread.
            BaseException: whatever a host callback raised.
        """
        if _asyncio_events._get_running_loop() is not None:
            raise RuntimeError(_RUNNING_MSG)
        loop = self._aloop
        if loop is None or loop is not self._own or loop.is_closed():
            self._check_idle()
            loop = self._own_loop()
            self._bind(loop)
        stopper = None
        if timeout is not None:
            if timeout <= 0.0:
                # Documented asyncio behaviour: stop() before run_forever() polls the selector
                # once with a zero timeout, runs the callbacks that are ready, and returns.
                loop.stop()
            else:
                stopper = loop.call_later(timeout, loop.stop)
        self._driver = _ONCE
        self._once_loop = loop
        try:
            loop.run_forever()
        finally:
            self._driver = _IDLE
            self._once_loop = None
            if stopper is not None:
                stopper.cancel()
            if self._close_own_after_run:
                self._close_own_loop()
        self._raise_error()

    async def run_async(self) -> None:
        """Dispatch on the running asyncio loop until :meth:`halt` is called.

        Binds to the running loop for the duration and unbinds on return (or cancellation).

        Raises:
            RuntimeError: this backend is already being run.
            BaseException: whatever a host callback raised.
        """
        loop = asyncio.get_running_loop()
        self._check_idle()
        self._bind(loop)
        future: asyncio.Future[None] = loop.create_future()
        self._halt_future = future
        self._driver = _ASYNC
        self._driver_thread = threading.get_ident()
        try:
            await future
        finally:
            self._driver = _IDLE
            self._halt_future = None
            if self._aloop is loop:
                self._unbind()
        self._raise_error()

    def halt(self) -> None:
        """Make a :meth:`run` / :meth:`run_async` in progress return. Thread-safe.

        It returns once the current asyncio iteration completes. Without one in progress (a
        :meth:`run_once` included) this does nothing.
        """
        driver = self._driver
        if driver not in (_RUN, _ASYNC):
            return
        if threading.get_ident() == self._driver_thread:
            self._halt_driver()
            return
        loop = self._aloop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # closed meanwhile: nothing left to halt
                loop.call_soon_threadsafe(self._halt_driver)

    def _halt_driver(self) -> None:
        driver = self._driver
        if driver in (_RUN, _ONCE):
            if self._aloop is not None:
                self._aloop.stop()
        elif driver == _ASYNC:
            future = self._halt_future
            if future is not None and not future.done():
                future.set_result(None)

    def _check_idle(self) -> None:
        if self._driver != _IDLE:
            msg = f"{type(self).__name__} is already running"
            raise RuntimeError(msg)

    def _raise_error(self) -> None:
        error = self._error
        if error is not None:
            self._error = None  # no reference cycle through the traceback
            raise error

    def _fail(self, exc: BaseException) -> None:
        """A host callback raised ``exc``: stop the driver, which re-raises it."""
        if self._driver == _IDLE:
            raise exc  # someone else runs the loop: asyncio's exception handler reports it
        if self._error is None:
            self._error = exc
        self._halt_driver()

    # ------------------------------------------------------------------ callbacks (hot path)

    def _on_read(self, fd: int) -> None:
        try:
            self._host.on_io(fd, _READ)
        except BaseException as exc:  # noqa: BLE001 - re-raised from run()/run_once()/run_async()
            self._fail(exc)
        if self._once_loop is not None:
            self._once_loop.stop()

    def _on_write(self, fd: int) -> None:
        try:
            self._host.on_io(fd, _WRITE)
        except BaseException as exc:  # noqa: BLE001
            self._fail(exc)
        if self._once_loop is not None:
            self._once_loop.stop()

    def _on_timer(self) -> None:
        self._timer = None  # fired: the next set_timer schedules afresh
        try:
            self._host.on_timer()
        except BaseException as exc:  # noqa: BLE001
            self._fail(exc)
        if self._once_loop is not None:
            self._once_loop.stop()

    def _on_wake(self) -> None:
        # Cleared before the call, so a wake() during on_timer schedules another one.
        self._wake_pending = False
        try:
            self._host.on_timer()
        except BaseException as exc:  # noqa: BLE001
            self._fail(exc)
        if self._once_loop is not None:
            self._once_loop.stop()

    def _on_signal(self, signum: int) -> None:
        if signum in self._signals:  # not unwatched since it was queued
            try:
                self._host.on_signal(signum)
            except BaseException as exc:  # noqa: BLE001
                self._fail(exc)
        if self._once_loop is not None:
            self._once_loop.stop()

    def _on_files(self) -> None:
        """Report the watched regular files ready, and come back next iteration."""
        self._files_handle = None
        host = self._host
        try:
            for fd in list(self._file_readers):
                if fd in self._file_readers:
                    host.on_io(fd, _READ)
            for fd in list(self._file_writers):
                if fd in self._file_writers:
                    host.on_io(fd, _WRITE)
        except BaseException as exc:  # noqa: BLE001
            self._fail(exc)
        loop = self._aloop
        if loop is not None and (self._file_readers or self._file_writers):
            self._files_handle = loop.call_soon(self._on_files)
        if self._once_loop is not None:
            self._once_loop.stop()

    def _on_expedite(self) -> None:
        """The private epoll has events: report EXPEDITE for each fd it names."""
        xpoll = self._xpoll
        if xpoll is None:
            return
        self._dispatch_expedite(xpoll.poll(0))

    def _on_xcheck(self) -> None:
        """No epoll: check the EXPEDITE fds with select() and come back later."""
        self._xcheck = None
        fds = list(self._expediters)
        if not fds:
            return
        try:
            _, _, exceptional = select.select([], [], fds, 0)
        except OSError:
            exceptional = []  # one was closed: the host's other watches will tell it
        self._dispatch_expedite([(fd, _PRI) for fd in exceptional])
        loop = self._aloop
        if loop is not None and self._expediters and self._xcheck is None:
            self._schedule_xcheck(loop)

    def _dispatch_expedite(self, events: list[tuple[int, int]]) -> None:
        host = self._host
        expediters = self._expediters
        readers = self._readers
        writers = self._writers
        dispatched = False
        try:
            for fd, bits in events:
                if fd in expediters and (
                    bits & _PRI or (bits & _ERR_HUP and fd not in readers and fd not in writers)
                ):
                    dispatched = True
                    host.on_io(fd, _EXPEDITE)
        except BaseException as exc:  # noqa: BLE001
            self._fail(exc)
        if dispatched and self._once_loop is not None:
            self._once_loop.stop()


class UvloopLoop(AsyncioLoop):
    """:class:`AsyncioLoop` whose own loop is a uvloop loop (``pip install poe-core[uvloop]``).

    Raises:
        ImportError: uvloop is not installed.
    """

    name: str = "uvloop"
    _native_signals = False

    def __init__(self) -> None:
        try:
            uvloop = importlib.import_module("uvloop")
        except ImportError as exc:
            msg = "the 'uvloop' event loop needs the uvloop package: pip install poe-core[uvloop]"
            raise ImportError(msg, name="uvloop") from exc
        self._uvloop_factory = cast(
            "Callable[[], asyncio.AbstractEventLoop]", uvloop.new_event_loop
        )
        super().__init__()

    def _new_loop(self) -> asyncio.AbstractEventLoop:
        """Make a uvloop loop."""
        return self._uvloop_factory()
