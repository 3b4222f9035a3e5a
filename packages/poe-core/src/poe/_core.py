"""The kernel's machinery: one event queue, the sessions it serves, and their lifetimes.

:class:`KernelCore` holds the state and the dispatch loop; :class:`poe.kernel.Kernel` adds the
public verbs on top of it.

Theory of operation
-------------------
* **One queue ordered by due time, FIFO on ties.** Posts, yields and signals are due "now"; they
  live in a deque, which stays sorted because the clock is monotonic. Timers live in a heap keyed
  ``(due, seq)``. Dispatch always takes the smaller ``(due, seq)`` of the two heads, which is
  exactly the order of one merged queue, without paying a heap operation per post.
* **Batches.** Like POE's timeslice, a batch dispatches the events that were queued before it
  began and are due; what they post waits for the next batch. Sessions left without work are
  swept at the end of the batch (``_stop`` in reverse marking order). While file descriptors are
  watched, the loop polls I/O after every batch, as POE does; while none are, the kernel runs
  further batches in the same wake-up (up to :attr:`Kernel.BATCH_BUDGET` events), so a yield
  chain does not cost a system call per event when there is no I/O to interleave.
* **Synchronous paths.** ``call`` and I/O readiness dispatch immediately, never through the queue.
  ``call`` into the active session takes POE's direct path: no new dispatch frame, no exception
  trap.
* **Lifetimes by reference counts.** A session lives while something holds it: an event to or
  from it, a timer, a child, a watched fd, an alias, an extra refcount tag, a child-process watch.
  When only aliases and children are left everywhere, the kernel is idle: it signals ``IDLE``
  (terminal), then ``ZOMBIE`` (non-maskable) if that did not help.
* **Exceptions** in handlers become ``DIE`` signals (POE's CATCH_EXCEPTIONS); unhandled, they stop
  the program and :meth:`Kernel.run` raises the original exception.
* **Entries and exits.** Every way into the kernel from outside (the loop's callbacks, a session
  created at top level, a reference released by a finalizer or an asyncio callback) goes through
  ``_enter``/``_leave``: the outermost exit sweeps, halts the loop when no session is left, and
  points the loop's single timer at the next due event (or signals ``IDLE``).

Port of POE::Kernel and POE::Resource::* (POE 1.370).
"""

from __future__ import annotations

import heapq
import os
import signal as _signal
import socket
import sys
import traceback
from collections import deque
from typing import TYPE_CHECKING, Any, Final, cast

from poe import _trace
from poe._children import Children
from poe._filehandles import FileHandles, find_watcher
from poe.clock import Clock, MonotonicClock
from poe.errors import (
    InvalidArgument,
    NotInSession,
    SessionNotFound,
)
from poe.events import DieInfo, SignalClass, signal_class
from poe.loop import Loop, Mode, get_loop
from poe.session import BUILTIN_HANDLERS, EMPTY, Context, SessionBase

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Callable

    from poe.kernel import Kernel

__all__ = ["KernelCore"]

# Kinds of queued events (position 6 of a queue entry).
_POST: Final = 0
_SIGNAL: Final = 1
_GC: Final = 2

# A queue entry: (due, seq, dest, sender, event, args, kind, caller_state, where).
_Entry = tuple[
    float, int, Any, Any, str, tuple[Any, ...], int, "str | None", "tuple[str, int] | None"
]

_TRACE_CALLER: Final = _trace.TRACE_CALLER
_TRACE_EVENTS: Final = _trace.TRACE_EVENTS
_TRACE_SESSIONS: Final = _trace.TRACE_SESSIONS
_heappush = heapq.heappush
_tuple_new = tuple.__new__
_heappop = heapq.heappop


class _Timer:
    """A pending alarm or delay. Valid in the heap while ``seq`` matches the heap entry."""

    __slots__ = ("args", "caller_state", "due", "epoch", "id", "name", "seq", "session")

    def __init__(
        self,
        tid: int,
        session: Any,
        name: str,
        args: tuple[Any, ...],
        due: float,
        seq: int,
        epoch: float,
        caller_state: str | None,
    ) -> None:
        self.id = tid
        self.session = session
        self.name = name
        self.args = args
        self.due = due
        self.seq = seq
        self.epoch = epoch
        self.caller_state = caller_state


def _os_signal(name: str) -> int | None:
    """The OS signal number for a POE signal name, or None for invented ones."""
    if name == "CLD":
        name = "CHLD"
    num = getattr(_signal, "SIG" + name, None)
    if not isinstance(num, int) or name in ("KILL", "STOP"):
        return None
    return num


class KernelCore:
    """The kernel's state and machinery: queue, dispatch, lifetimes, the loop host.

    :class:`poe.kernel.Kernel` adds the public verbs. Nothing here is public API except
    :meth:`stop` and the :class:`poe.loop.LoopHost` callbacks.
    """

    #: Most events dispatched per loop wake-up before the loop gets to poll I/O again.
    BATCH_BUDGET: int = 2048

    def __init__(self, loop: str | Loop | None = None, clock: Clock | None = None) -> None:
        self._loop: Loop = (
            loop if loop is not None and not isinstance(loop, str) else get_loop(loop)
        )
        self._clock: Clock = clock if clock is not None else MonotonicClock()
        self._now = self._clock.now
        # Wall-clock epochs and monotonic due times convert with one offset, read once (POE's
        # default): two alarms set for the same epoch get the same due time and stay FIFO.
        self._wall_offset = self._clock.wall() - self._clock.now()
        self._fifo: deque[_Entry] = deque()
        self._push = self._fifo.append
        self._timer_heap: list[tuple[float, int, _Timer]] = []
        self._timer_by_id: dict[int, _Timer] = {}
        self._seq = 0
        self._last_timer_id = 0
        self._last_session_id = 0
        self._internal_queued = 0
        # The kernel is the root of the session tree and a valid destination.
        self._k_children: dict[SessionBase, None] = {}
        self._k_rc = 0
        self._k_alive = True
        self._gc_marks: list[SessionBase] = []
        self._gc_marks_append = self._gc_marks.append
        self._lookup: dict[Any, Any] = {}
        self._aliases: dict[str, SessionBase] = {}
        self._sessions = 0
        self._extref_tags = 0
        self._files = FileHandles(self._loop, self._gc_marks_append)
        self._sig_watchers: dict[str, int] = {}
        self._children = Children(self)
        self._futures: dict[int, set[asyncio.Future[Any]]] = {}
        self._active_session: Any = self
        self._active_event: str | None = None
        self._sig_handled = False
        self._in_die: list[BaseException] | None = None
        self._errors: list[BaseException] = []
        self._inbox: deque[Callable[[], object]] = deque()
        self._running = False
        self._dispatching = False
        self._arm_on_post = False
        self._one_batch = False
        self._slice_done = False
        self._idle_pending = False
        self._id = f"{socket.gethostname()}-{int(self._clock.now()) & 0xFFFFFFFF:08x}-{os.getpid():08x}-{id(self) & 0xFFFFFFFF:08x}"
        self._lookup[self] = self
        self._lookup[self._id] = self
        self._loop.attach(self)
        self._clock.attach(self._loop.wake)

    def _debug_state(self) -> dict[str, Any]:
        """Every resource the kernel still tracks (for :func:`poe.testing.leaks`)."""
        return {
            "sessions": list(self._k_children) if self._sessions else [],
            "aliases": sorted(self._aliases),
            "events": len(self._fifo),
            "timers": len(self._timer_by_id),
            "fds": sorted(self._files.table),
            "signal watchers": sorted(self._sig_watchers),
            "child watchers": sorted(self._children.watchers),
            "child fds": sorted(self._children.pidfds),
            "futures": sorted(self._futures),
            "queued actions": len(self._inbox),
        }

    def _from_thread(self, action: Callable[[], object]) -> None:
        # deque.append is atomic under the GIL; the loop's wake() is thread-safe by contract.
        self._inbox.append(action)
        self._loop.wake()

    def _enqueue(
        self, session: Any, sender: Any, event: str, args: tuple[Any, ...], kind: int
    ) -> None:
        self._seq = seq = self._seq + 1
        self._fifo.append(
            (self._now(), seq, session, sender, event, args, kind, self._active_event, None)
        )
        session._k_rc += 1
        sender._k_rc += 1
        if kind == _GC:
            self._internal_queued += 1
        if self._arm_on_post:
            self._rearm()

    def _dispatch(
        self,
        session: Any,
        sender: Any,
        event: str,
        args: tuple[Any, ...],
        caller_state: str | None,
        where: tuple[str, int] | None = None,
    ) -> Any:
        handlers = session._k_fast
        if handlers is not None and where is None:
            handler = handlers.get(event)
            if handler is None:
                handler = BUILTIN_HANDLERS.get(event)
                if handler is None and "_default" not in handlers:
                    return None  # nobody handles it, and no option asks for a warning
        else:
            handler = None
        previous_session = self._active_session
        previous_event = self._active_event
        self._active_session = session
        self._active_event = event
        if _TRACE_EVENTS:
            _trace.log.debug("<ev> dispatching %r to %r from %r", event, session, sender)
        try:
            if handler is None:
                return session._invoke(sender, event, args, caller_state, where)
            return handler(
                _tuple_new(
                    Context,
                    (self, session, session.heap, event, sender, args, caller_state, None, None),
                ),
                *args,
            )
        except Exception as exc:  # noqa: BLE001 - every handler error becomes a DIE signal
            self._handler_failed(exc, session, sender, event, caller_state)
            return None
        finally:
            self._active_session = previous_session
            self._active_event = previous_event

    def _handler_failed(
        self, exc: BaseException, session: Any, sender: Any, event: str, caller_state: str | None
    ) -> None:
        if self._in_die is not None:
            # An error in a DIE handler ends run(); it is reported after the original error.
            self._in_die.append(exc)
            return
        if not _trace.CATCH_EXCEPTIONS or event == "_stop":
            # POE cannot turn these into DIE signals: they end run() directly.
            self._add_error(exc)
            return
        frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
        info = DieInfo(
            error=exc,
            error_str=f"{type(exc).__name__}: {exc}",
            dest_session=session,
            event=event,
            source_session=sender,
            from_state=caller_state,
            file=frame.filename if frame else None,
            line=frame.lineno if frame else None,
        )
        self._enqueue(session, self, "DIE", (info,), _SIGNAL)

    def _add_error(self, exc: BaseException) -> None:
        if self._errors and exc is not self._errors[0]:
            first = self._errors[0]
            note = f"Additional error thrown in handler for previous error: {type(exc).__name__}: {exc}"
            notes = getattr(first, "__notes__", None)
            if notes is None:
                notes = []
                first.__notes__ = notes  # type: ignore[attr-defined]
            notes.append(note)
        elif not self._errors:
            self._errors.append(exc)

    def _run_batch(self, budget: int = 1) -> int:
        """Dispatch due events, batch after batch, until ``budget`` events ran or none is due.

        A batch is what was queued before it began and is due by then (POE's timeslice); what
        a batch posts belongs to the next one. Batch boundaries are where sessions out of work
        are swept. Only ``budget`` spans batches: with ``budget=1`` exactly one batch runs.
        Returns how many events were dispatched.
        """
        fifo = self._fifo
        timers = self._timer_heap
        marks = self._gc_marks
        now = self._now()
        limit = self._seq + 1
        fresh = True  # no event dispatched since now/limit were read
        count = 0
        single = budget == 1
        kernel_session = self._active_session
        kernel_event = self._active_event
        try:
            while True:
                if timers:
                    top = timers[0]
                    timer = top[2]
                    if timer.seq != top[1]:
                        _heappop(timers)  # cancelled or moved: lazy deletion
                        continue
                    if (
                        not fifo
                        or top[0] < fifo[0][0]
                        or (top[0] == fifo[0][0] and top[1] < fifo[0][1])
                    ):
                        due = top[0]
                        if due > now or (due == now and top[1] >= limit):
                            if fresh or single:
                                break
                            if marks:
                                if len(marks) == 1 and marks[0]._k_rc > 0:
                                    marks.clear()  # it posted again: nothing to sweep
                                else:
                                    self._gc_sweep()
                            if count >= budget or self._errors or self._io_watched():
                                break
                            now = self._now()
                            limit = self._seq + 1
                            fresh = True
                            continue
                        _heappop(timers)
                        self._fire_timer(timer)
                        count += 1
                        fresh = False
                        if self._errors:
                            break
                        continue
                elif not fifo:
                    break
                entry = fifo[0]
                due = entry[0]
                if due > now or (due == now and entry[1] >= limit):
                    # The end of a batch.
                    if fresh or single:
                        break
                    swept = False
                    if marks:
                        if len(marks) == 1 and marks[0]._k_rc > 0:
                            marks.clear()  # it posted again: nothing to sweep
                        else:
                            self._gc_sweep()
                            swept = True
                    if count >= budget or self._errors or self._io_watched():
                        break
                    now = self._now()
                    limit = self._seq + 1
                    fresh = True
                    if swept or timers or due > now:
                        continue  # the head may have changed, or nothing is due yet
                    # Otherwise the same entry opens the next batch (a yield chain's case).
                fifo.popleft()
                count += 1
                fresh = False
                dest = entry[2]
                sender = entry[3]
                # POE marks a session whose references reach zero before the handler runs
                # (_data_ev_refcount_dec): the mark order is the sweep order.
                dest._k_rc -= 1
                sender._k_rc -= 1
                # Where a mark would go if the handler leaves dest or sender without references:
                # the sweep order is the mark order, and POE marks before the handler runs.
                mark_at = len(marks) if dest._k_rc <= 0 or sender._k_rc <= 0 else -1
                kind = entry[6]
                if kind == _POST:
                    if dest is not self:
                        # _dispatch, inlined: this is the hottest path of the kernel.
                        event = entry[4]
                        self._active_session = dest
                        self._active_event = event
                        try:
                            # A plain Session's handler is called right here (no _invoke
                            # frame) unless it has options that change dispatch.
                            handlers = dest._k_fast
                            handler = None if handlers is None else handlers.get(event)
                            if handler is None or entry[8] is not None:
                                dest._invoke(sender, event, entry[5], entry[7], entry[8])
                            else:
                                args = entry[5]
                                handler(
                                    _tuple_new(
                                        Context,
                                        (
                                            self,
                                            dest,
                                            dest.heap,
                                            event,
                                            sender,
                                            args,
                                            entry[7],
                                            None,
                                            None,
                                        ),
                                    ),
                                    *args,
                                )
                        except Exception as exc:  # noqa: BLE001 - becomes a DIE signal
                            self._handler_failed(exc, dest, sender, event, entry[7])
                        self._active_session = kernel_session
                        self._active_event = kernel_event
                elif kind == _SIGNAL:
                    self._dispatch_signal(dest, entry[4], entry[5], entry[7])
                else:  # _GC: the creation-time hold is released
                    self._internal_queued -= 1
                if mark_at >= 0:
                    if sender._k_rc <= 0 and sender is not self and sender is not dest:
                        marks.insert(mark_at, sender)
                    if dest._k_rc <= 0 and dest is not self:
                        marks.insert(mark_at, dest)
                if self._errors:
                    break
        finally:
            self._active_session = kernel_session
            self._active_event = kernel_event
        if self._gc_marks:
            self._gc_sweep()
        if self._errors:
            self.stop()  # an unhandled error ends the program, as in POE
        return count

    def _io_watched(self) -> bool:
        """True when a file descriptor is watched: then every batch ends with an I/O poll.

        POE polls I/O between timeslices. With nothing to poll, the next batch can start at
        once without a trip through the loop; with watchers, readiness must be able to slip in
        between two batches, as it does in POE (a session that keeps yielding does not starve
        its readers).
        """
        return bool(self._files.table or self._children.internal_fds)

    def _fire_timer(self, timer: _Timer) -> None:
        session = timer.session
        if session is self:  # kernel-internal timer: args[0] is what to run
            timer.args[0]()
            return
        del self._timer_by_id[timer.id]
        del session._k_timers[timer.id]
        session._k_rc -= 1
        if session._k_rc <= 0:
            self._gc_marks.append(session)  # before the handler, as POE marks
        self._dispatch(session, session, timer.name, timer.args, timer.caller_state)

    def _gc_sweep(self) -> None:
        while self._gc_marks:
            marks = self._gc_marks[:]
            self._gc_marks.clear()
            for session in reversed(marks):
                if session._k_alive and not session._k_stopping and session._k_rc <= 0:
                    if _trace.TRACE_REFCNT:
                        _trace.log.debug("<rc> %r has no references left: stopping it", session)
                    self._stop_session(session)

    def on_timer(self) -> None:
        """LoopHost: the loop's timer expired (or :meth:`Loop.wake` was called)."""
        self._clock.timer_fired()
        outer = self._enter()
        try:
            if self._inbox:
                self._drain_inbox()
            if not self._one_batch:
                self._run_batch(self.BATCH_BUDGET)
            elif not self._slice_done:
                # run_one_timeslice: exactly one batch, however often the loop calls back.
                self._slice_done = True
                self._run_batch(1)
        finally:
            self._leave(outer)

    def on_io(self, fd: int, mode: Mode) -> None:
        """LoopHost: ``fd`` is ready for ``mode``; its watchers run synchronously."""
        entry = self._files.table.get(fd)
        outer = self._enter()
        try:
            if entry is None:
                internal = self._children.internal_fds.get(fd)
                if internal is not None:
                    internal()
            else:
                # POE passes no caller state to select events: they come from the loop.
                watchers = entry.watchers[mode]  # a tuple: changes replace it
                for index in range(0, len(watchers), 3):
                    session, event, args = watchers[index : index + 3]
                    # Still there: an earlier watcher's handler may have removed this one.
                    if session._k_alive and (
                        entry.watchers[mode] is watchers
                        or find_watcher(entry.watchers[mode], session) >= 0
                    ):
                        if _trace.TRACE_FILES:
                            _trace.log.debug(
                                "<fh> fd %d ready for %s -> %r", fd, mode.name, session
                            )
                        self._dispatch(session, session, event, (entry.handle, mode, *args), None)
            if self._gc_marks:
                self._gc_sweep()
            if self._errors:
                self.stop()
        finally:
            self._leave(outer)

    def on_signal(self, signum: int) -> None:
        """LoopHost: OS signal ``signum`` arrived; it becomes a signal to the kernel."""
        outer = self._enter()
        try:
            name = _signal.Signals(signum).name.removeprefix("SIG")
            if _trace.TRACE_SIGNALS:
                _trace.log.debug("<sg> OS signal %s", name)
            if name in ("CHLD", "CLD"):
                self._children.reap(None)
            else:
                self._enqueue(self, self, name, (), _SIGNAL)
        finally:
            self._leave(outer)

    def _enter(self) -> bool:
        """Mark the start of kernel work; True if this is the outermost entry."""
        outer = not self._dispatching
        self._dispatching = True
        self._arm_on_post = False
        return outer

    def _leave(self, outer: bool) -> None:
        """End kernel work: sweep (while running), then point the loop's timer at what is next."""
        if not outer:
            return
        if self._running and self._gc_marks:
            self._gc_sweep()
        if self._running and not self._sessions:
            self._loop.halt()
        self._dispatching = False
        self._arm_on_post = self._running
        self._rearm()

    def _drain_inbox(self) -> None:
        inbox = self._inbox
        while inbox:
            inbox.popleft()()

    def _next_due(self) -> float | None:
        timers = self._timer_heap
        while timers and timers[0][2].seq != timers[0][1]:
            _heappop(timers)
        if self._fifo:
            head = self._fifo[0][0]
            return min(head, timers[0][0]) if timers else head
        return timers[0][0] if timers else None

    def _rearm(self) -> None:
        """Point the loop's single timer at the next due event (or signal IDLE)."""
        if not self._running or self._dispatching:
            return
        due = self._next_due()
        if self._inbox:
            due = self._now()
        if due is None:
            if self._sessions and not self._idle_pending and self._is_idle():
                self._idle_pending = True
                if _trace.TRACE_SIGNALS:
                    _trace.log.debug("<sg> kernel is idle: signalling IDLE")
                self._seq = seq = self._seq + 1
                self._fifo.append((self._now(), seq, self, self, "IDLE", (), _SIGNAL, None, None))
                self._loop.set_timer(0.0)
            else:
                self._loop.set_timer(None)
            return
        self._loop.set_timer(self._clock.sleep_time(due))

    def _is_idle(self) -> bool:
        return (
            len(self._fifo) == self._internal_queued
            and not self._timer_by_id
            and not self._files.pairs
            and not self._extref_tags
            and not self._children.watchers
            and not self._inbox
        )

    def _start_running(self) -> None:
        if self._running:
            msg = "the kernel is already running"
            raise RuntimeError(msg)
        self._running = True
        self._arm_on_post = True
        self._idle_pending = False
        self._rearm()

    def _stop_running(self) -> None:
        self._running = False
        self._arm_on_post = False
        self._loop.set_timer(None)

    def _raise_pending(self) -> None:
        if self._errors:
            error = self._errors[0]
            self._errors.clear()
            raise error

    def stop(self) -> None:
        """Stop every session, children before parents, delivering ``_stop`` to each.

        ``run()`` then returns. Unlike POE's documentation (and like its code) sessions are
        notified.
        """
        outer = self._enter()
        try:
            order: list[SessionBase] = []
            level = list(self._k_children)
            while level:
                order.extend(level)
                level = [child for session in level for child in session._k_children]
            for session in reversed(order):
                self._stop_session(session)
            self._gc_sweep()
        finally:
            self._leave(outer)
        # POE forces the active session back to the kernel, so sessions created later in the
        # same handler are not children of a stopped session.
        self._active_session = self
        self._active_event = None

    def _session_alloc(self, session: SessionBase, args: tuple[Any, ...]) -> None:
        """Register ``session`` under the active session and run its ``_start``."""
        if session._k_kernel is not None:
            msg = f"{session!r} is already registered with a kernel"
            raise InvalidArgument(msg)
        self._last_session_id += 1
        sid = self._last_session_id
        parent = self._active_session
        session._k_kernel = cast("Kernel", self)
        session._k_id = sid
        session._k_alive = True
        session._k_parent = parent
        if parent._k_children is EMPTY:
            parent._k_children = {}
        parent._k_children[session] = None
        parent._k_rc += 1
        self._lookup[session] = session
        self._lookup[sid] = session
        self._sessions += 1
        if _TRACE_SESSIONS:
            _trace.log.debug("<ss> %r created under %r", session, parent)
        session._k_starting = True
        outer = not self._dispatching  # a top-level create is an entry into the kernel
        if outer:
            self._enter()
        try:
            try:
                result = self._dispatch(session, parent, "_start", args, self._active_event)
            finally:
                session._k_starting = False
            if not session._k_alive:
                return
            new_parent = session._k_parent
            if new_parent is not self:
                self._dispatch(new_parent, self, "_child", ("create", session, result), None)
            if session._k_alive:
                # POE's _garbage_collect event: the session survives until the next batch even
                # with nothing to do, so its creator can still post start-up events to it.
                self._enqueue(session, self, "_garbage_collect", (), _GC)
        finally:
            if outer:
                self._leave(outer)

    def _stop_session(self, session: SessionBase) -> None:
        """POE's ``_data_ses_stop``: reparent children, ``_stop``, ``_child('lose')``, free."""
        if session._k_stopping or not session._k_alive:
            return
        session._k_stopping = True
        parent = session._k_parent
        for child in list(session._k_children):
            if parent is not self:
                self._dispatch(parent, self, "_child", ("gain", child, None), None)
            self._dispatch(child, self, "_parent", (session, parent), None)
        result = self._dispatch(session, self._active_session, "_stop", (), None)
        if parent is not self:
            self._dispatch(parent, self, "_child", ("lose", session, result), None)
        self._free_session(session)

    def _free_session(self, session: SessionBase) -> None:
        """Release everything ``session`` holds (POE's ``_data_ses_free``); it is then gone.

        ``held`` tracks the session's references that are not accounted for by a resource:
        what is left are queued events to or from it, which must be purged too.
        """
        parent = session._k_parent
        if _TRACE_SESSIONS:
            _trace.log.debug("<ss> %r freed", session)
        held = session._k_rc
        children = session._k_children
        if children:
            if parent._k_children is EMPTY:
                parent._k_children = {}
            for child in children:
                child._k_parent = parent
                parent._k_children[child] = None
                parent._k_rc += 1
            held -= len(children)
            session._k_children = EMPTY
        del parent._k_children[session]
        parent._k_rc -= 1
        if parent is not self and parent._k_rc <= 0:
            self._gc_marks.append(parent)
        lookup = self._lookup
        del lookup[session]
        del lookup[session._k_id]
        if session._k_sigs:
            for name in session._k_sigs:
                self._sig_unwatch_count(name)
            session._k_sigs = EMPTY
        if session._k_pids:
            held -= len(session._k_pids)
            self._children.clear_session(session)
        if session._k_aliases:
            for alias in session._k_aliases:
                del self._aliases[alias]
                lookup.pop(alias, None)
            held -= len(session._k_aliases)
            session._k_aliases = ()
        if session._k_extrefs:
            for count in session._k_extrefs.values():
                if count > 0:
                    self._extref_tags -= 1
                    held -= 1
            session._k_extrefs = EMPTY
        if session._k_fds:
            held -= len(session._k_fds) // 2
            self._files.clear_session(session)
        if session._k_timers:
            for tid in session._k_timers:
                self._timer_by_id.pop(tid).seq = -1
            held -= len(session._k_timers)
            session._k_timers = EMPTY
        if self._futures:
            for future in self._futures.pop(session._k_id, ()):
                future.cancel()
        if held > 0:
            self._purge_events(session)
        session._k_alive = False
        session._k_rc = 0
        self._sessions -= 1
        # run() ends when the last session is gone, but only once the kernel's current work is
        # over (_leave): a handler may still create a session after stop(), as in POE.

    def _purge_events(self, session: SessionBase) -> None:
        """Drop every queued event to or from ``session`` (POE's ``_data_ev_clear_session``)."""
        kept: deque[_Entry] = deque()
        for entry in self._fifo:
            dest = entry[2]
            sender = entry[3]
            if dest is session or sender is session:
                if entry[6] == _GC:
                    self._internal_queued -= 1
                other = sender if dest is session else dest
                if other is not session:
                    other._k_rc -= 1
                    if other is not self and other._k_rc <= 0:
                        self._gc_marks.append(other)
            else:
                kept.append(entry)
        self._fifo.clear()
        self._fifo.extend(kept)

    def _require_session(self) -> SessionBase:
        session = self._active_session
        if session is self:
            frame = sys._getframe(1).f_code.co_name
            msg = f"{frame}() must be called from inside a session's handler"
            raise NotInSession(msg)
        result: SessionBase = session
        return result

    def _resolve_slow(self, dest: Any) -> Any:
        if isinstance(dest, str) and dest.isdigit():
            # POE's order: a session id first, then an alias that looks like one.
            session = self._lookup.get(int(dest))
            if session is None:
                session = self._aliases.get(dest)
            if session is not None:
                return session
        if isinstance(dest, SessionBase):
            msg = f"{dest!r} has stopped"
        else:
            msg = f"no session {dest!r} (not a live session, id or alias)"
        raise SessionNotFound(msg)

    def _extref_add(self, session: SessionBase, tag: str, delta: int) -> int:
        before = session._k_extrefs.get(tag, 0)
        after = before + delta
        if after:
            if session._k_extrefs is EMPTY:
                session._k_extrefs = {}
            session._k_extrefs[tag] = after
        else:
            session._k_extrefs.pop(tag, None)
        if before <= 0 < after:
            session._k_rc += 1
            self._extref_tags += 1
        elif after <= 0 < before:
            session._k_rc -= 1
            self._extref_tags -= 1
            if session._k_rc <= 0:
                self._gc_marks.append(session)  # swept at the end of the batch, as in POE
        return after

    def _release_extref(self, session_id: int, tag: str) -> None:
        session = self._lookup.get(session_id)
        if isinstance(session, SessionBase) and session._k_extrefs.get(tag, 0) > 0:
            outer = self._enter()
            try:
                self._extref_add(session, tag, -1)
            finally:
                self._leave(outer)

    def _move_session(self, session: SessionBase, new_parent: Any) -> None:
        old = session._k_parent
        del old._k_children[session]
        old._k_rc -= 1
        if old is not self and old._k_rc <= 0:
            self._gc_marks.append(old)
        session._k_parent = new_parent
        if new_parent._k_children is EMPTY:
            new_parent._k_children = {}
        new_parent._k_children[session] = None
        new_parent._k_rc += 1

    def _epoch_of(self, due: float) -> float:
        return due + self._wall_offset

    def _sig_unwatch_count(self, name: str) -> None:
        count = self._sig_watchers[name] - 1
        if count:
            self._sig_watchers[name] = count
            return
        del self._sig_watchers[name]
        signum = _os_signal(name)
        if signum is not None:
            self._loop.unwatch_signal(signum)

    def _ui_destroyed(self) -> None:
        self._enqueue(self, self, "UIDESTROY", (), _SIGNAL)

    def _signal_targets(self, dest: Any, name: str) -> list[Any]:
        touched: list[Any] = []
        level = list(dest._k_children) if dest is self else [dest]
        while level:
            touched.extend(level)
            level = [child for session in level for child in session._k_children]
        if name == "DIE" and dest is not self:
            ancestors = []
            parent = dest._k_parent
            while parent is not self:
                ancestors.append(parent)
                parent = parent._k_parent
            touched[:0] = reversed(ancestors)
        return touched

    def _dispatch_signal(
        self, dest: Any, name: str, args: tuple[Any, ...], caller_state: str | None = None
    ) -> bool:
        """POE's ``_dispatch_signal_event``: watchers deepest first, then the class rule."""
        touched = self._signal_targets(dest, name)
        kind = signal_class(name)
        saved_handled, saved_die = self._sig_handled, self._in_die
        self._sig_handled = False
        die_errors: list[BaseException] = []
        self._in_die = die_errors if name == "DIE" else saved_die
        try:
            if name in self._sig_watchers:
                for session in reversed(touched):
                    watcher = session._k_sigs.get(name)
                    if watcher is not None and session._k_alive:
                        if _trace.TRACE_SIGNALS:
                            _trace.log.debug("<sg> %s -> %r", name, session)
                        self._dispatch(
                            session, self, watcher[0], (name, *args, *watcher[1]), caller_state
                        )
            handled = self._sig_handled
        finally:
            self._sig_handled, self._in_die = saved_handled, saved_die
        if kind is SignalClass.NONMASKABLE or (kind is SignalClass.TERMINAL and not handled):
            for session in reversed(touched):
                self._stop_session(session)
        if name == "DIE" and not handled and args and isinstance(args[0], DieInfo):
            self._add_error(args[0].error)
        for error in die_errors:
            self._add_error(error)
        if name == "IDLE" and dest is self:
            self._idle_pending = False
            if handled and self._sessions and self._is_idle():
                self._enqueue(self, self, "ZOMBIE", (), _SIGNAL)
        return handled

    def _signal_watched(self, name: str) -> bool:
        return name in self._sig_watchers

    def _internal_timer(self, seconds: float, action: Callable[[], None]) -> None:
        """Run ``action`` in ``seconds``, outside any session (kernel bookkeeping)."""
        self._seq += 1
        timer = _Timer(0, self, "", (action,), self._now() + seconds, self._seq, 0.0, None)
        _heappush(self._timer_heap, (timer.due, timer.seq, timer))


def _caller_where() -> tuple[str, int]:
    frame = sys._getframe(2)
    return (frame.f_code.co_filename, frame.f_lineno)
