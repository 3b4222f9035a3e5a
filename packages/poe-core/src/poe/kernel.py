"""The kernel: POE::Kernel's public verbs.

:class:`Kernel` is what programs use: ``post``, ``yield_``, ``call``, timers, watchers, signals,
aliases, ids, refcounts, job control and ``run``. Its machinery (the queue, batches, lifetimes,
signal propagation) lives in :mod:`poe._core`, whose module docstring explains how it works.

Port of POE::Kernel (POE 1.370).
"""

from __future__ import annotations

import functools
import weakref
from typing import TYPE_CHECKING, Any, Final

from poe import _aio, _trace
from poe._core import (
    _GC,
    _POST,
    _SIGNAL,
    _TRACE_CALLER,
    KernelCore,
    _caller_where,
    _heappush,
    _os_signal,
    _Timer,
)
from poe._filehandles import fileno
from poe.errors import (
    AliasInUse,
    InvalidArgument,
    NotInSession,
    NotPermitted,
    SessionNotFound,
    TimerNotFound,
)
from poe.events import RESERVED_EVENTS
from poe.loop import Loop, Mode
from poe.session import EMPTY, SessionBase

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Awaitable, Callable

    from typing_extensions import Self

    from poe.clock import Clock

__all__ = ["Kernel"]


class Kernel(KernelCore):
    """POE's kernel: an event queue, the sessions it serves, and the loop underneath.

    Kernels are ordinary objects: pass them around explicitly. Several may exist, and a kernel can
    be run again after :meth:`run` returns.

    Args:
        loop: a backend name (``"asyncio"``, ``"uvloop"``, ``"select"``), a :class:`poe.loop.Loop`
            instance, or ``None`` for the ``POE_EVENT_LOOP`` environment variable, else asyncio.
        clock: where time comes from (default :class:`poe.clock.MonotonicClock`); tests pass a
            :class:`poe.testing.FakeClock`.
    """

    # ================================================================ identity & introspection

    @property
    def ID(self) -> str:  # noqa: N802 - POE's name
        """The kernel's id: ``hostname-xxxxxxxx-xxxxxxxx-xxxxxxxx``."""
        return self._id

    @property
    def loop(self) -> Loop:
        """The loop backend underneath."""
        return self._loop

    @property
    def clock(self) -> Clock:
        """The kernel's clock."""
        return self._clock

    def __repr__(self) -> str:
        return f"<Kernel {self._id} loop={self._loop.name} sessions={self._sessions}>"

    def close(self) -> None:
        """Release the loop backend's resources (its asyncio loop, its wake-up pipe).

        Call it when the kernel will not run again; ``with Kernel() as kernel:`` does. Closing
        a kernel that still has sessions stops them first.

        Raises:
            RuntimeError: the kernel is running.
        """
        if self._running:
            msg = "close() called while the kernel is running: stop() it first"
            raise RuntimeError(msg)
        if self._sessions:
            self.stop()
        self._loop.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def get_active_session(self) -> Any:
        """The session being dispatched, or the kernel outside any handler."""
        return self._active_session

    def get_active_event(self) -> str | None:
        """The event being handled, or None outside any handler."""
        return self._active_event

    def get_event_count(self) -> int:
        """Queued events and pending timers (kernel bookkeeping excluded)."""
        return len(self._fifo) - self._internal_queued + len(self._timer_by_id)

    def get_next_event_time(self) -> float | None:
        """The due time (epoch) of the next queued event or timer, or None.

        Like :meth:`get_event_count`, it leaves out the kernel's own bookkeeping entries.
        """
        self._next_due()  # drops cancelled timers from the top of the heap
        fifo_due = next((entry[0] for entry in self._fifo if entry[6] != _GC), None)
        timer_due = self._timer_heap[0][0] if self._timer_heap else None
        dues = [due for due in (fifo_due, timer_due) if due is not None]
        return self._epoch_of(min(dues)) if dues else None

    # ================================================================ posting and calling

    def post(self, dest: Any, event: str, *args: Any) -> None:
        """Queue ``event`` for ``dest`` (a session, its id, an alias, or the kernel).

        Raises:
            SessionNotFound: ``dest`` resolves to no live session.
        """
        if _ASSERT_USAGE:
            _check_user_event(event)
        session = self._lookup.get(dest)
        if session is None:
            session = self._resolve_slow(dest)
        sender = self._active_session
        self._seq = seq = self._seq + 1
        self._push(
            (
                self._now(),
                seq,
                session,
                sender,
                event,
                args,
                _POST,
                self._active_event,
                _caller_where() if _TRACE_CALLER else None,
            )
        )
        session._k_rc += 1
        sender._k_rc += 1
        if self._arm_on_post:
            self._rearm()

    def yield_(self, event: str, *args: Any) -> None:
        """Queue ``event`` for the active session (POE's ``yield``).

        Raises:
            NotInSession: called outside any handler.
        """
        if _ASSERT_USAGE:
            _check_user_event(event)
        session = self._active_session
        if session is self:
            if self._dispatching:
                return  # after stop() in a handler: POE posts to the kernel, which drops it
            msg = f"yield_({event!r}) called outside any session: use post() with a destination"
            raise NotInSession(msg)
        if not session._k_alive:
            return  # a stopping session's new events would be discarded anyway
        self._seq = seq = self._seq + 1
        self._push(
            (
                self._now(),
                seq,
                session,
                session,
                event,
                args,
                _POST,
                self._active_event,
                _caller_where() if _TRACE_CALLER else None,
            )
        )
        session._k_rc += 2
        if self._arm_on_post:
            self._rearm()

    def call(self, dest: Any, event: str, *args: Any) -> Any:
        """Dispatch ``event`` to ``dest`` now and return the handler's value.

        Calling the active session takes the direct path: the handler runs in the caller's frame
        and its exceptions propagate to the caller. Calling another session switches the active
        session; an exception there becomes a ``DIE`` signal and ``call`` returns None.

        Raises:
            SessionNotFound: ``dest`` resolves to no live session.
        """
        session = self._lookup.get(dest)
        if session is None:
            session = self._resolve_slow(dest)
        if session is self:
            return None
        where = _caller_where() if _TRACE_CALLER else None
        active = self._active_session
        if session is active:
            return session._invoke(session, event, args, self._active_event, where)
        return self._dispatch(session, active, event, args, self._active_event, where)

    def post_threadsafe(self, dest: Any, event: str, *args: Any) -> None:
        """Post from any thread. Resolution happens on the kernel's thread; failures are logged."""
        self._from_thread(functools.partial(self._post_logged, dest, event, args))

    # ================================================================ running

    def run(self) -> None:
        """Run until no session is left, then return (POE's ``run``).

        Returns at once when there are no sessions. Can be called again afterwards.

        Raises:
            BaseException: the exception of a handler that nobody handled (a ``DIE`` signal
                without ``sig_handled``), after every session has been stopped.
            RuntimeError: the kernel is already running.
        """
        self._start_running()
        try:
            if self._sessions:
                self._loop.run()
        finally:
            self._stop_running()
        self._raise_pending()

    async def run_async(self) -> None:
        """Run inside an already-running asyncio loop until no session is left.

        Raises:
            RuntimeError: the kernel's loop backend is not asyncio-based, or already running.
        """
        run_async = getattr(self._loop, "run_async", None)
        if run_async is None:
            msg = f"the {self._loop.name!r} loop cannot run inside asyncio: use loop='asyncio'"
            raise RuntimeError(msg)
        self._start_running()
        try:
            if self._sessions:
                await run_async()
        finally:
            self._stop_running()
        self._raise_pending()

    def run_one_timeslice(self) -> bool:
        """Run one batch (waiting for I/O or the next timer first). False when no session is left."""
        if not self._sessions:
            self._raise_pending()
            return False
        self._start_running()
        self._one_batch = True
        self._slice_done = False
        try:
            self._loop.run_once(None)
        finally:
            self._one_batch = False
            self._stop_running()
        self._raise_pending()
        return True

    def run_while(self, condition: Callable[[], bool]) -> None:
        """Run timeslices while ``condition()`` is true and sessions remain."""
        while condition() and self.run_one_timeslice():
            pass

    # ================================================================ aliases and ids

    def alias_set(self, name: str) -> None:
        """Give the active session another name.

        Raises:
            AliasInUse: another session has that alias.
        """
        session = self._require_session()
        owner = self._aliases.get(name)
        if owner is session:
            return
        if owner is not None:
            msg = f"alias {name!r} already belongs to {owner!r}"
            raise AliasInUse(msg)
        if name in self._lookup:
            msg = f"alias {name!r} would shadow the kernel's id"
            raise AliasInUse(msg)
        self._aliases[name] = session
        if not name.isdigit():
            # A digit-string alias stays out of the fast table: POE resolves ids first.
            self._lookup[name] = session
        session._k_aliases += (name,)
        session._k_rc += 1

    def alias_remove(self, name: str) -> None:
        """Remove one of the active session's aliases.

        Raises:
            SessionNotFound: no session has that alias.
            NotPermitted: another session owns it.
        """
        session = self._require_session()
        owner = self._aliases.get(name)
        if owner is None:
            msg = f"no alias {name!r}"
            raise SessionNotFound(msg)
        if owner is not session:
            msg = f"alias {name!r} belongs to {owner!r}, not {session!r}"
            raise NotPermitted(msg)
        del self._aliases[name]
        self._lookup.pop(name, None)
        session._k_aliases = tuple(alias for alias in session._k_aliases if alias != name)
        session._k_rc -= 1
        if session._k_rc <= 0:
            self._gc_marks.append(session)

    def alias_resolve(self, name: Any) -> Any:
        """The session for a session object, id, alias or the kernel's id.

        Raises:
            SessionNotFound: nothing by that name is alive.
        """
        session = self._lookup.get(name)
        return session if session is not None else self._resolve_slow(name)

    def alias_list(self, session: Any = None) -> list[str]:
        """The aliases of ``session`` (default: the active one), sorted."""
        target = self._active_session if session is None else self.alias_resolve(session)
        if target is self:
            return []
        return sorted(target._k_aliases)

    def ID_id_to_session(self, session_id: int | str) -> Any:  # noqa: N802 - POE's name
        """The live session with this id (the kernel for the kernel's own id).

        Raises:
            SessionNotFound: no live session has it.
        """
        if session_id == self._id:
            return self
        return self._session_by_id(session_id)

    def ID_session_to_id(self, session: Any) -> int | str:  # noqa: N802 - POE's name
        """The id of a live session (or of what resolves to one); the kernel's id for the kernel."""
        target = self.alias_resolve(session)
        if target is self:
            kernel_id: str = self._id
            return kernel_id
        result: int = target._k_id
        return result

    def _session_by_id(self, session_id: object) -> SessionBase:
        session = self._lookup.get(session_id)
        if not isinstance(session, SessionBase) or session._k_id != session_id:
            msg = f"no session with id {session_id!r}"
            raise SessionNotFound(msg)
        return session

    # ================================================================ extra references

    def refcount_increment(self, session_id: int, tag: str) -> int:
        """Hold session ``session_id`` alive under ``tag``; return the tag's new count.

        Raises:
            SessionNotFound: no live session has that id.
        """
        return self._extref_change(session_id, tag, 1)

    def refcount_decrement(self, session_id: int, tag: str) -> int:
        """Release one hold of ``tag``; return the new count (it may go negative, holding nothing).

        Raises:
            SessionNotFound: no live session has that id.
        """
        return self._extref_change(session_id, tag, -1)

    def _extref_change(self, session_id: int, tag: str, delta: int) -> int:
        # Callable from outside any handler (another component, an asyncio task): when the
        # last reference goes, the sweep and the loop's timer must still happen.
        session = self._session_by_id(session_id)
        outer = self._enter()
        try:
            return self._extref_add(session, tag, delta)
        finally:
            self._leave(outer)

    # ================================================================ handlers and job control

    def state(self, event: str, handler: Any = None, method: str | None = None) -> None:
        """Add, replace or (with no handler) remove a handler of the active session.

        ``state("ev", func)``; ``state("ev", obj, "method")``; ``state("ev", obj)`` binds
        ``obj.ev``; ``state("ev")`` removes the handler.
        """
        session = self._require_session()
        if handler is not None and (method is not None or isinstance(handler, type)):
            bound = getattr(handler, method or event, None)
            if not callable(bound):
                msg = f"{handler!r} has no method {method or event!r}"
                raise InvalidArgument(msg)
            handler = bound
        elif handler is not None and not callable(handler):
            bound = getattr(handler, event, None)
            if not callable(bound):
                msg = f"{handler!r} is not callable and has no method {event!r}"
                raise InvalidArgument(msg)
            handler = bound
        session._set_handler(event, handler)

    def detach_myself(self) -> None:
        """Make the active session a child of the kernel.

        Raises:
            NotPermitted: it already is one.
        """
        session = self._require_session()
        parent = session._k_parent
        if parent is self:
            msg = f"{session!r} is already a child of the kernel"
            raise NotPermitted(msg)
        if not session._k_starting:
            self._dispatch(parent, self, "_child", ("lose", session, None), None)
        self._dispatch(session, self, "_parent", (parent, self), None)
        self._move_session(session, self)

    def detach_child(self, child: Any) -> None:
        """Make a child of the active session a child of the kernel.

        Raises:
            SessionNotFound: ``child`` resolves to no session.
            NotPermitted: it is not a child of the active session.
        """
        session = self._require_session()
        target = self.alias_resolve(child)
        if target is self or target._k_parent is not session:
            msg = f"{target!r} is not a child of {session!r}"
            raise NotPermitted(msg)
        self._dispatch(session, self, "_child", ("lose", target, None), None)
        self._dispatch(target, self, "_parent", (session, self), None)
        self._move_session(target, self)

    def _post_logged(self, dest: Any, event: str, args: tuple[Any, ...]) -> None:
        try:
            self.post(dest, event, *args)
        except SessionNotFound as exc:
            _trace.log.warning("post_threadsafe(%r, %r) dropped: %s", dest, event, exc)

    def _at_epoch(
        self, session: SessionBase, name: str, epoch: float, args: tuple[Any, ...]
    ) -> _Timer:
        _check_time(name, epoch)
        return self._add_timer(session, name, epoch - self._wall_offset, epoch, args)

    def _after(
        self, session: SessionBase, name: str, seconds: float, args: tuple[Any, ...]
    ) -> _Timer:
        _check_time(name, seconds)
        due = self._clock.now() + seconds
        return self._add_timer(session, name, due, due + self._wall_offset, args)

    def _clear_named(self, session: SessionBase, name: str) -> None:
        _check_name(name)
        for timer in [t for t in session._k_timers.values() if t.name == name]:
            self._cancel_timer(timer)

    def _cancel_timer(self, timer: _Timer) -> tuple[str, float, tuple[Any, ...]]:
        session = timer.session
        del self._timer_by_id[timer.id]
        del session._k_timers[timer.id]
        timer.seq = -1
        session._k_rc -= 1
        if session._k_rc <= 0:
            self._gc_marks.append(session)
        return (timer.name, timer.epoch, timer.args)

    def _own_timer(self, alarm_id: int) -> _Timer:
        session = self._require_session()
        timer = session._k_timers.get(alarm_id)
        if timer is None:
            if alarm_id in self._timer_by_id:
                msg = f"alarm {alarm_id} belongs to another session"
                raise NotPermitted(msg)
            msg = f"no pending alarm with id {alarm_id!r}"
            raise TimerNotFound(msg)
        result: _Timer = timer
        return result

    def _move_timer(self, timer: _Timer, due: float, epoch: float) -> float:
        self._seq += 1
        timer.seq = self._seq
        timer.due = due
        timer.epoch = epoch
        _heappush(self._timer_heap, (due, timer.seq, timer))
        if self._arm_on_post:
            self._rearm()
        return epoch

    def _add_timer(
        self, session: SessionBase, name: str, due: float, epoch: float, args: tuple[Any, ...]
    ) -> _Timer:
        _check_name(name)
        self._last_timer_id += 1
        self._seq += 1
        timer = _Timer(
            self._last_timer_id, session, name, args, due, self._seq, epoch, self._active_event
        )
        _heappush(self._timer_heap, (due, self._seq, timer))
        self._timer_by_id[timer.id] = timer
        if session._k_timers is EMPTY:
            session._k_timers = {}
        session._k_timers[timer.id] = timer
        session._k_rc += 1
        if self._arm_on_post:
            self._rearm()
        return timer

    def alarm(self, name: str, epoch: float | None = None, *args: Any) -> None:
        """Clear every timer named ``name`` in this session, then set one at ``epoch`` if given."""
        session = self._require_session()
        self._clear_named(session, name)
        if epoch is not None:
            self._at_epoch(session, name, epoch, args)

    def alarm_add(self, name: str, epoch: float, *args: Any) -> None:
        """Add a timer at wall-clock ``epoch`` without clearing others of the same name."""
        self._at_epoch(self._require_session(), name, epoch, args)

    def alarm_set(self, name: str, epoch: float, *args: Any) -> int:
        """Add a timer at wall-clock ``epoch``; return its id."""
        return self._at_epoch(self._require_session(), name, epoch, args).id

    def alarm_adjust(self, alarm_id: int, delta: float) -> float:
        """Move a timer by ``delta`` seconds; return its new due epoch.

        Raises:
            TimerNotFound: no such pending timer.
            NotPermitted: it belongs to another session.
        """
        timer = self._own_timer(alarm_id)
        if not delta:
            return timer.epoch  # POE's adjust_priority keeps the item's place for a zero delta
        return self._move_timer(timer, timer.due + delta, timer.epoch + delta)

    def alarm_remove(self, alarm_id: int) -> tuple[str, float, tuple[Any, ...]]:
        """Cancel a timer; return ``(name, due_epoch, args)``.

        Raises:
            TimerNotFound: no such pending timer.
            NotPermitted: it belongs to another session.
        """
        return self._cancel_timer(self._own_timer(alarm_id))

    def alarm_remove_all(self) -> list[tuple[str, float, tuple[Any, ...]]]:
        """Cancel every timer of the active session; return them as ``(name, due_epoch, args)``."""
        session = self._require_session()
        timers = sorted(session._k_timers.values(), key=lambda t: (t.due, t.seq))
        return [self._cancel_timer(timer) for timer in timers]

    def delay(self, name: str, seconds: float | None = None, *args: Any) -> None:
        """Clear every timer named ``name`` in this session, then set one ``seconds`` from now."""
        session = self._require_session()
        self._clear_named(session, name)
        if seconds is not None:
            self._after(session, name, seconds, args)

    def delay_add(self, name: str, seconds: float, *args: Any) -> None:
        """Add a timer ``seconds`` from now without clearing others of the same name."""
        self._after(self._require_session(), name, seconds, args)

    def delay_set(self, name: str, seconds: float, *args: Any) -> int:
        """Add a timer ``seconds`` from now; return its id."""
        return self._after(self._require_session(), name, seconds, args).id

    def delay_adjust(self, alarm_id: int, seconds: float) -> float:
        """Re-base a timer to ``seconds`` from now; return its new due epoch.

        Raises:
            TimerNotFound: no such pending timer.
            NotPermitted: it belongs to another session.
        """
        timer = self._own_timer(alarm_id)
        due = self._clock.now() + seconds
        return self._move_timer(timer, due, due + self._wall_offset)

    # ================================================================ file handle watchers

    def select_read(self, handle: Any, event: str | None = None, *args: Any) -> None:
        """Watch ``handle`` for reading (``event`` None: stop). Handlers get ``(handle, mode, *args)``."""
        self._select(handle, Mode.READ, event, args)

    def select_write(self, handle: Any, event: str | None = None, *args: Any) -> None:
        """Watch ``handle`` for writing (``event`` None: stop)."""
        self._select(handle, Mode.WRITE, event, args)

    def select_expedite(self, handle: Any, event: str | None = None, *args: Any) -> None:
        """Watch ``handle`` for out-of-band data (``event`` None: stop)."""
        self._select(handle, Mode.EXPEDITE, event, args)

    def select(
        self,
        handle: Any,
        read_event: str | None = None,
        write_event: str | None = None,
        expedite_event: str | None = None,
        *args: Any,
    ) -> None:
        """Set or clear all three watchers of ``handle`` at once."""
        self._select(handle, Mode.READ, read_event, args)
        self._select(handle, Mode.WRITE, write_event, args)
        self._select(handle, Mode.EXPEDITE, expedite_event, args)

    def select_pause_read(self, handle: Any) -> bool:
        """Stop reporting readability without releasing the watcher. True if one exists."""
        return self._pause(handle, Mode.READ, paused=True)

    def select_resume_read(self, handle: Any) -> bool:
        """Resume a paused read watcher. True if one exists."""
        return self._pause(handle, Mode.READ, paused=False)

    def select_pause_write(self, handle: Any) -> bool:
        """Stop reporting writability without releasing the watcher. True if one exists."""
        return self._pause(handle, Mode.WRITE, paused=True)

    def select_resume_write(self, handle: Any) -> bool:
        """Resume a paused write watcher. True if one exists."""
        return self._pause(handle, Mode.WRITE, paused=False)

    def _select(self, handle: Any, mode: Mode, event: str | None, args: tuple[Any, ...]) -> None:
        session = self._require_session()
        if event is None:
            self._files.unwatch(session, fileno(handle), mode)
        else:
            self._files.watch(session, handle, mode, event, args)

    def _pause(self, handle: Any, mode: Mode, *, paused: bool) -> bool:
        return self._files.pause(handle, mode, paused=paused)

    # ================================================================ signals

    def sig(self, name: str, event: str | None = None, *args: Any) -> None:
        """Watch signal ``name`` (``"INT"``, ``"USR1"``, ``"CHLD"``, or any invented name).

        The handler gets ``(name, *signal_args, *args)``. ``event`` None stops watching. Watching
        a signal does not keep the session alive.
        """
        session = self._require_session()
        if name == "CLD":
            name = "CHLD"
        if event is None:
            if session._k_sigs.pop(name, None) is not None:
                self._sig_unwatch_count(name)
            return
        if name not in session._k_sigs:
            count = self._sig_watchers.get(name, 0)
            self._sig_watchers[name] = count + 1
            if not count:
                signum = _os_signal(name)
                if signum is not None:
                    self._loop.watch_signal(signum)
        if session._k_sigs is EMPTY:
            session._k_sigs = {}
        session._k_sigs[name] = (event, args)

    def sig_handled(self) -> None:
        """Mark the signal being dispatched as handled: terminal signals then stop nobody."""
        self._sig_handled = True

    def signal(self, dest: Any, name: str, *args: Any) -> None:
        """Queue signal ``name`` for ``dest`` and its descendants (the kernel: everybody).

        Raises:
            SessionNotFound: ``dest`` resolves to no live session.
        """
        session = self._lookup.get(dest)
        if session is None:
            session = self._resolve_slow(dest)
        self._enqueue(session, self._active_session, name, args, _SIGNAL)

    def signal_ui_destroy(self, widget: Any) -> None:
        """Signal ``UIDESTROY`` (non-maskable: everything stops) when ``widget`` is destroyed.

        "Destroyed" means garbage-collected: no GUI toolkit loop is built in, so the widget must
        support weak references.
        """
        weakref.finalize(widget, self._from_thread, self._ui_destroyed)

    # ================================================================ child processes

    def sig_child(self, pid: int, event: str | None = None, *args: Any) -> None:
        """Watch child process ``pid`` once: ``event("CHLD", pid, wait_status, *args)`` when it exits.

        The watch keeps the session alive until the event is delivered or the watch is cleared
        (``event`` None). The status is the raw ``os.waitpid`` status (use
        ``os.waitstatus_to_exitcode``); -1 if something else reaped the child first.
        """
        session = self._require_session()
        if event is None:
            self._children.unwatch(session, pid)
        else:
            self._children.watch(session, pid, event, args)

    # ================================================================ asyncio and threads

    def await_into(
        self,
        awaitable: Awaitable[Any],
        event: str,
        error_event: str | None = None,
        *args: Any,
    ) -> asyncio.Future[Any] | None:
        """Run ``awaitable`` on the kernel's asyncio loop; its outcome becomes an event.

        The active session gets ``event(result, *args)``, or ``error_event(exception, *args)``
        (without an error event, the exception is raised in the session as a ``DIE`` signal).
        The session stays alive until then; if it stops first, the awaitable is cancelled.

        Returns:
            The asyncio future wrapping the awaitable; None when called before the kernel runs
            (the awaitable then starts on whichever loop runs the kernel: ``run()``'s own, or
            the caller's under ``run_async()``).

        Raises:
            RuntimeError: the loop backend is not asyncio-based.
        """
        return _aio.await_into(self, awaitable, event, error_event, args)

    async def ask(self, dest: Any, event: str, *args: Any) -> Any:
        """Post ``event`` with a reply callable as its last argument, and await the reply.

        The handler answers with ``reply(value)``. If it drops the reply without calling it,
        the await raises :class:`poe.errors.SessionNotFound`.
        """
        return await _aio.ask(self, dest, event, args)


_ASSERT_USAGE: Final = _trace.ASSERT_USAGE


def _check_user_event(event: str) -> None:
    # POE_ASSERT_USAGE: programs must not fake the kernel's own events.
    if event in RESERVED_EVENTS:
        msg = f"{event!r} is an event POE reserves for itself; programs may not post it"
        raise InvalidArgument(msg)


def _check_name(name: object) -> None:
    # Typed callers cannot get this wrong; untyped ones get POE's EINVAL as an exception.
    if not isinstance(name, str):
        msg = f"a timer needs an event name (a str), not {name!r}"
        raise InvalidArgument(msg)


def _check_time(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        msg = f"timer {name!r} needs a time in seconds, not {value!r}"
        raise InvalidArgument(msg)
