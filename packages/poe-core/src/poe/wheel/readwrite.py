"""Buffered, filtered, non-blocking I/O on a handle or a pair of handles (POE::Wheel::ReadWrite).

Port of POE::Wheel::ReadWrite 1.370. Reading: when the input handle is readable the driver reads
once, the input filter turns the octets into records and each record is ``call``-ed to the owner
session as ``input_event(record, wheel_id)``, one :meth:`~poe.filter.Filter.get_one` at a time so
a filter switched inside the handler applies to the very next record. A read error or end of
file becomes ``error_event("read", errno, errstr, wheel_id)`` (end of file: errno 0, errstr
``""``) and reading stops.

Writing: :meth:`ReadWriteWheel.put` serializes records with the output filter and queues them in
the driver; the write watcher runs while output is queued. A write error becomes
``error_event("write", errno, errstr, wheel_id)``; an emptied buffer ``flushed_event(wheel_id)``.

Watermarks (deliberate deviation from POE 1.370, see ``poe-api.md`` §17 item 12): the wheel has
a high-water state with hysteresis. It enters it, emitting ``high_event(wheel_id)``, as soon as
the queued octets reach ``high_mark``, whether :meth:`~ReadWriteWheel.put` or a partial flush
got them there; it leaves it, emitting ``low_event(wheel_id)``, when a flush drains the queue to
``low_mark`` or below. A ``put`` below the mark never resets the state (POE's ``put`` swallowed
HighEvent and could skip LowEvent).

Output cap (not in POE, whose output buffer grows without bound): with ``max_output``, a
:meth:`~ReadWriteWheel.put` that takes the queue over ``max_output`` octets makes the wheel
drop everything queued, stop reading and writing, and *post* ``error_event("write",
errno.ENOBUFS, errstr, wheel_id)``: the session hears of it after the handler that put,
never as an exception from ``put`` (which returns True, "stop putting", from then on; later
records are dropped). Close the wheel in the error handler. Both checks cost the hot path one
int comparison: ``put`` compares the queue with the next octet count at which anything has
to happen (the high mark or the cap).

Input accounting (for a server's input budget and timeouts): ``input_meter(wheel, delta)``
is called after a read changed the input filter's pending octets (see
:meth:`~poe.filter.FilterBase.pending_octets`), and once with minus the rest when the wheel
closes; :meth:`~ReadWriteWheel.get_read_count` counts the reads that brought octets.

TLS (a driver with a ``want_write`` property, such as :class:`poe.driver.TLSDriver`): the
driver, not the queued octet count, decides when the write watcher runs, because the handshake
and close_notify records must go out when no application data is queued, and queued data must
wait while the handshake waits for the peer. Reads that only move the handshake on yield no
records and are not end of file. ``flushed_event`` fires once the application data put and all
ciphertext have reached the socket. ``close(flush=True)`` calls the driver's ``shutdown`` (a
close_notify after the queued data) and closes once that has been written. The handshake needs
the input read, so give a TLS wheel an ``input_event``.
"""

from __future__ import annotations

import contextlib
import errno as _errno
import os
import socket
import sys
from typing import TYPE_CHECKING, Any, Final

from poe._core import _TRACE_CALLER
from poe.driver import SysRWDriver
from poe.errors import InvalidArgument
from poe.filter import FilterError, LineFilter, TextDecodeError, pending_octets
from poe.loop import Mode
from poe.session import Context
from poe.wheel._base import WheelBase, error_of, rename_events

_tuple_new = tuple.__new__

if TYPE_CHECKING:
    from collections.abc import Callable

    from poe.driver import Driver
    from poe.filter import Filter
    from poe.kernel import Kernel

__all__ = ["ReadWriteWheel"]

#: The queue size that never triggers anything (no marks, no cap): one int to compare with.
_NO_LIMIT: Final = sys.maxsize

#: What a filter raises about the input it was given: the peer's doing, reported as a "read"
#: error. A strict codec's UnicodeDecodeError is one too (EILSEQ, TextDecodeError's errno:
#: the bytes are not valid text).
_INPUT_ERRORS: Final = (FilterError, UnicodeDecodeError)


def _input_error(exc: Exception) -> tuple[int, str]:
    """``(errno, errstr)`` of an error the input filter raised."""
    if isinstance(exc, FilterError):
        return exc.errno, str(exc)
    return TextDecodeError.errno, f"undecodable input: {exc}"


_EVENTS = {
    "input_event": "_input_event",
    "error_event": "_error_event",
    "flushed_event": "_flushed_event",
    "high_event": "_high_event",
    "low_event": "_low_event",
}


def _shutdown(handle: Any, how: int) -> None:
    """``shutdown(2)`` ``handle`` if it is a socket; every error is ignored (as POE)."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        if isinstance(handle, socket.socket):
            handle.shutdown(how)
            return
        fd = handle if isinstance(handle, int) else int(handle.fileno())
        with socket.socket(fileno=os.dup(fd)) as dup:
            dup.shutdown(how)


def _close_handle(handle: Any) -> None:
    with contextlib.suppress(OSError, ValueError):
        if isinstance(handle, int):
            os.close(handle)
        else:
            handle.close()


class ReadWriteWheel(WheelBase):
    """Filtered, buffered I/O on ``handle`` (or ``input_handle`` + ``output_handle``).

    Args:
        kernel: the kernel; its active session owns the wheel.
        handle: one handle for both directions (a socket, a file object or an fd).
        input_handle: the handle to read (with ``output_handle``, instead of ``handle``).
        output_handle: the handle to write.
        driver: the I/O driver (default a new :class:`poe.driver.SysRWDriver`).
        filter: one filter for both directions (POE's ``Filter``).
        input_filter: the filter for input; the default is a new :class:`poe.filter.LineFilter`,
            shared with the output direction when ``output_filter`` is missing too.
        output_filter: the filter for output.
        input_event: ``(record, wheel_id)`` per input record; None: the input is not read.
        error_event: ``(operation, errno, errstr, wheel_id)``; operation ``"read"`` or
            ``"write"``; end of file is ``("read", 0, "", wheel_id)``. Input the filter
            refuses (:class:`~poe.filter.FilterError`: ``RecordTooLarge`` is ``EMSGSIZE``,
            other framing errors ``EINVAL``) is a ``"read"`` error too; the filter drops the
            bad input and the records after it are still delivered.
        flushed_event: ``(wheel_id)`` each time the output buffer becomes empty.
        high_mark: octets of queued output that enter the high-water state.
        low_mark: octets of queued output at or below which the state is left.
        high_event: ``(wheel_id)`` on entering the high-water state.
        low_event: ``(wheel_id)`` on leaving it.
        auto_flush: flush synchronously inside :meth:`put` when the buffer was empty.
        max_output: the most octets of queued output; a :meth:`put` that takes the queue over
            it drops the queue, stops the wheel's I/O and posts ``error_event("write",
            errno.ENOBUFS, ...)`` (see the module docs). None (default, as POE): no limit.
        input_meter: ``input_meter(wheel, delta)`` after each read that changed the octets
            the input filter holds unparsed, and with minus the rest at close (a server's
            input budget). None (default): nothing is measured.

    Raises:
        InvalidArgument: no handle, both ``handle`` and an input/output handle, watermark
            arguments that do not come together ("Water mark errors": the four come as a set,
            and both marks are positive), or a ``max_output`` that is not a positive int.
        NotInSession: not created inside a session's handler.
    """

    __slots__ = (
        "_auto_flush",
        "_batch",
        "_batch_ok",
        "_batch_room",
        "_batch_term",
        "_buffered",
        "_close_handles",
        "_closing",
        "_driver",
        "_error_event",
        "_flush_owed",
        "_flushed_event",
        "_high_event",
        "_high_mark",
        "_high_state",
        "_input_event",
        "_input_filter",
        "_input_handle",
        "_low_event",
        "_low_mark",
        "_max_output",
        "_meter",
        "_metered",
        "_next_limit",
        "_output_filter",
        "_output_handle",
        "_overflowed",
        "_plain",
        "_reading",
        "_reads",
        "_tls",
    )

    def __init__(
        self,
        kernel: Kernel,
        *,
        handle: Any = None,
        input_handle: Any = None,
        output_handle: Any = None,
        driver: Driver | None = None,
        filter: Filter[Any, Any] | None = None,  # noqa: A002 - POE's parameter name
        input_filter: Filter[Any, Any] | None = None,
        output_filter: Filter[Any, Any] | None = None,
        input_event: str | None = None,
        error_event: str | None = None,
        flushed_event: str | None = None,
        high_mark: int | None = None,
        low_mark: int | None = None,
        high_event: str | None = None,
        low_event: str | None = None,
        auto_flush: bool = False,
        max_output: int | None = None,
        input_meter: Callable[[ReadWriteWheel, int], object] | None = None,
    ) -> None:
        if handle is not None:
            if input_handle is not None or output_handle is not None:
                msg = "handle cannot be combined with input_handle or output_handle"
                raise InvalidArgument(msg)
            input_handle = output_handle = handle
        elif input_handle is None or output_handle is None:
            msg = "ReadWriteWheel needs handle, or both input_handle and output_handle"
            raise InvalidArgument(msg)
        _check_marks(high_mark, low_mark, high_event, low_event)
        given_max: object = max_output
        if given_max is not None and (
            isinstance(given_max, bool) or not isinstance(given_max, int) or given_max < 1
        ):
            msg = f"max_output must be a positive int or None, not {max_output!r}"
            raise InvalidArgument(msg)
        if filter is not None:
            if input_filter is not None or output_filter is not None:
                msg = "filter cannot be combined with input_filter or output_filter"
                raise InvalidArgument(msg)
            input_filter = output_filter = filter
        elif input_filter is None and output_filter is None:
            input_filter = output_filter = LineFilter()
        elif input_filter is None:
            input_filter = LineFilter()
        elif output_filter is None:
            output_filter = LineFilter()
        assert input_filter is not None
        assert output_filter is not None
        super().__init__(kernel)
        self._input_handle: Any = input_handle
        self._output_handle: Any = output_handle
        self._driver: Driver = driver if driver is not None else SysRWDriver()
        self._input_filter: Filter[Any, Any] = input_filter
        self._output_filter: Filter[Any, Any] = output_filter
        self._input_event = input_event
        self._error_event = error_event
        self._flushed_event = flushed_event
        self._high_event = high_event
        self._low_event = low_event
        self._high_mark = high_mark
        self._low_mark = low_mark
        self._high_state = False
        self._auto_flush = auto_flush
        #: Inside _on_read: put() leaves the write watcher alone, _on_read writes at its end.
        self._reading = False
        self._buffered = 0
        #: The driver when it says itself when it wants to write (TLS), else None.
        self._tls: Any = driver if hasattr(driver, "want_write") else None
        #: TLS only: application data was put and flushed_event has not reported it yet.
        self._flush_owed = False
        self._max_output = max_output
        #: The queue size at which put() has something to do: the high mark (outside the
        #: high-water state) or the cap, whichever is lower (see _set_limit).
        self._next_limit = _NO_LIMIT
        self._set_limit()
        #: max_output was exceeded: the output is dropped for good.
        self._overflowed = False
        self._meter = input_meter
        #: The pending input octets last reported to input_meter.
        self._metered = 0
        self._reads = 0
        #: put() has nothing but queueing and one comparison with _next_limit to do.
        self._plain = self._tls is None and not auto_flush
        #: Lines put during a read, serialized and queued together at its end (see put()).
        self._batch: list[str] | None = None
        #: Characters the batch may still take before it could reach _next_limit.
        self._batch_room = 0
        #: Octets the output filter adds to every line (its terminator): part of the estimate.
        self._batch_term = 0
        self._batch_ok = self._batchable(output_filter)
        self._closing = False
        self._close_handles = False
        try:
            self._watch_io(output_handle, Mode.WRITE, type(self)._on_write)
            self._pause(output_handle, Mode.WRITE, paused=True)
            self._define_read()
            if self._tls is not None:
                self._sync_tls_write()
        except BaseException:
            self.close()
            raise

    # -- reading ------------------------------------------------------------------------------

    def _define_read(self) -> None:
        if self._input_event is not None and not self._closing and not self._overflowed:
            self._watch_io(self._input_handle, Mode.READ, type(self)._on_read)
        else:
            self._unwatch(self._input_handle, Mode.READ)

    def _on_read(self, handle: Any, mode: Mode, *args: Any) -> None:
        try:
            raw = self._driver.get(handle)
        except OSError as exc:
            self._read_failed(*error_of(exc))
            return
        if self._tls is not None and not self._closed:
            # The read may have finished the handshake or left replies waiting for the socket.
            self._sync_tls_write()
        if raw is None:
            self._read_failed(0, "")
            return
        if not raw:
            return
        self._reads += 1
        try:
            self._input_filter.get_one_start(raw)
        except _INPUT_ERRORS as exc:
            self._emit(self._error_event, "read", *_input_error(exc), self._id)
            if self._meter is not None and not self._closed:
                self._meter_input()
            return
        if self._tls is not None:
            self._drain_input()
            if self._meter is not None and not self._closed:
                self._meter_input()
            return
        # Replies put() while this read is handled are written once, at the end, instead of
        # turning the write watcher on and off around every batch (two epoll_ctl calls, and
        # for asyncio two handle allocations): the socket is nearly always writable by then.
        self._reading = True
        try:
            self._drain_input()
        finally:
            self._reading = False
            if self._meter is not None and not self._closed:
                self._meter_input()
            if self._batch is not None:
                self._put_batch()
            if self._buffered and not self._closed and self._writable():
                self.flush()
                if self._buffered and not self._closed:
                    self._pause(self._output_handle, Mode.WRITE, paused=False)

    def _drain_input(self) -> None:
        filt = self._input_filter
        emit = self._emit
        wheel_id = self._id
        session = self._session
        kernel = self._kernel
        failed = False
        last_pending: Any = None
        # An overflow (max_output) ends the input too: the rest of the read is not delivered.
        while (
            not self._closed
            and not self._overflowed
            and self._input_event is not None
            and self._input_filter is filt
        ):
            try:
                records = filt.get_one()
            except _INPUT_ERRORS as exc:
                # The peer broke the framing (a line over max_length, bytes a strict codec
                # refuses...): the filter dropped the bad input, the owner hears of it as a
                # read error, and the records after it are still delivered unless the error
                # handler closes the wheel or stops the input. Errors in a row are fine while
                # each one consumes input (two bad lines); an error that leaves the buffer as
                # it was means the filter makes no progress: stop.
                self._emit(self._error_event, "read", *_input_error(exc), wheel_id)
                if self._input_filter is not filt:
                    return
                pending = filt.get_pending()
                if failed and pending == last_pending:
                    return
                failed, last_pending = True, pending
                continue
            failed = False
            if not records:
                return
            for record in records:
                # kernel.call's fast path, inlined (the hottest lines of a line server): a
                # plain session (no options that change dispatch: _k_fast) that is the active
                # one and alive, with its own handler for the event. Anything else, and caller
                # tracing, go through _emit and the kernel's rules.
                event = self._input_event
                table = session._k_fast
                handler = (
                    None
                    if event is None  # type: ignore[redundant-expr]  # a handler may rename it
                    or table is None
                    or _TRACE_CALLER
                    or not session._k_alive
                    or kernel._active_session is not session
                    else table.get(event)
                )
                if handler is None:
                    emit(event, record, wheel_id)
                    continue
                handler(
                    _tuple_new(
                        Context,
                        (
                            kernel,
                            session,
                            session.heap,
                            event,
                            session,
                            (record, wheel_id),
                            kernel._active_event,
                            None,
                            None,
                        ),
                    ),
                    record,
                    wheel_id,
                )

    def _meter_input(self) -> None:
        """Report the change of the input filter's pending octets to ``input_meter``."""
        pending = pending_octets(self._input_filter)
        delta = pending - self._metered
        if delta:
            self._metered = pending
            assert self._meter is not None
            self._meter(self, delta)

    def get_read_count(self) -> int:
        """How many reads brought octets so far (an idle timeout compares two looks at it)."""
        return self._reads

    def get_input_pending_octets(self) -> int:
        """The input octets held unparsed, as last reported to ``input_meter`` (else now)."""
        if self._meter is not None:
            return self._metered
        return pending_octets(self._input_filter)

    def _writable(self) -> bool:
        """The output is still watched (a failed write unwatches it: no more attempts)."""
        return self._watching(_fd(self._output_handle), Mode.WRITE) >= 0

    def _read_failed(self, code: int, text: str) -> None:
        self._emit(self._error_event, "read", code, text, self._id)
        if not self._closed:
            self._unwatch(self._input_handle, Mode.READ)

    # -- writing ------------------------------------------------------------------------------

    def put(self, *records: Any) -> bool:
        """Serialize ``records`` and queue them for writing.

        Returns:
            The high-water state: True while the wheel is in it (``high_mark`` reached and the
            buffer not yet drained to ``low_mark``); always False without watermarks. True for
            good once ``max_output`` was exceeded (the records are dropped).

        A line put by an input handler is queued at the end of the read (see the comment in
        the code); the value returned for it counts its characters, so for text that is not
        ASCII the high-water state can be reported a few octets late (``high_event`` is exact).
        """
        if self._reading and self._batch_ok and len(records) == 1 and type(records[0]) is str:
            # A line put by an input handler: the end of the read serializes and queues all of
            # them in one filter.put() and one driver.put() (a line server's replies cost a
            # third less). Only for a filter whose put() cannot fail on a str, so no error is
            # moved away from its caller; everything that looks at the output (the octet
            # counts, flush, close, a filter change, a put that is not batched) queues the
            # batch first, so no one can tell it was late.
            # With a mark or a cap, the batch is queued as soon as its characters could reach
            # the next limit: a handler that puts until put() says "high" still stops.
            line = records[0]
            batch = self._batch
            if batch is None:
                self._batch = [line]
                self._batch_room = self._next_limit - self._buffered - len(line) - self._batch_term
            else:
                batch.append(line)
                self._batch_room -= len(line) + self._batch_term
            if self._batch_room <= 0:
                self._put_batch()
            return self._high_state
        if self._batch is not None:
            self._put_batch()
        if self._overflowed:
            return True
        old = self._buffered
        new = self._buffered = self._driver.put(self._output_filter.put(records))
        if self._plain:
            # No TLS, no auto_flush: what the general path below comes to.
            if new and not old and not self._closed and not self._reading:
                self._pause(self._output_handle, Mode.WRITE, paused=False)
            if new >= self._next_limit:
                return self._grown()
            return self._high_state
        if new > old and self._tls is not None:
            self._flush_owed = True
        if self._auto_flush and new and not old:
            # Write at once; whatever the socket did not take resumes the write watcher below.
            self.flush()
            new = self._buffered
        if self._tls is not None:
            if not self._closed:
                self._sync_tls_write()
        elif new and not old and not self._closed and not self._reading:
            self._pause(self._output_handle, Mode.WRITE, paused=False)
        if self._buffered >= self._next_limit:
            return self._grown()
        return self._high_state

    def _put_batch(self) -> None:
        batch = self._batch
        self._batch = None
        if batch:
            self._buffered = self._driver.put(self._output_filter.put(batch))
            if self._buffered >= self._next_limit:
                self._grown()

    def _grown(self) -> bool:
        """The queue reached ``_next_limit``: enter the high-water state, or overflow."""
        queued = self._buffered
        if self._max_output is not None and queued > self._max_output:
            self._overflow(queued)
            return True
        if not self._high_state and self._high_mark is not None and queued >= self._high_mark:
            self._high_state = True
            self._set_limit()
            self._emit(self._high_event, self._id)
        return self._high_state

    def _overflow(self, queued: int) -> None:
        """``max_output`` exceeded: drop the output, stop the I/O, post the error."""
        self._overflowed = True
        self._plain = False
        self._batch_ok = False
        self._batch = None
        # A fresh, empty driver frees the queue at once (a TLS session cannot go on anyway:
        # its records are lost). The wheel neither reads nor writes any more.
        self._driver = SysRWDriver()
        self._tls = None
        self._buffered = 0
        self._flush_owed = False
        self._high_state = True
        self._next_limit = _NO_LIMIT
        if self._closed:
            return
        self._unwatch(self._input_handle, Mode.READ)
        self._unwatch(self._output_handle, Mode.WRITE)
        event = self._error_event
        if event is None or not self._session._k_alive:
            return
        code = _errno.ENOBUFS
        text = f"output buffer exceeds max_output ({queued} > {self._max_output} octets)"
        # Posted, not called: put() may run deep inside a handler that goes on using the
        # wheel; the owner learns of it once that handler has returned.
        with contextlib.suppress(Exception):
            self._kernel.post(self._session, event, "write", code, text, self._id)

    def _set_limit(self) -> None:
        cap = _NO_LIMIT if self._max_output is None else self._max_output + 1
        if self._high_mark is not None and not self._high_state:
            self._next_limit = min(self._high_mark, cap)
        else:
            self._next_limit = cap

    def _batchable(self, output_filter: Filter[Any, Any]) -> bool:
        if not (
            self._plain
            and not self._overflowed
            and isinstance(output_filter, LineFilter)
            and output_filter.put_never_fails
        ):
            return False
        self._batch_term = len(output_filter.put([""])[0])
        return True

    def _on_write(self, handle: Any, mode: Mode, *args: Any) -> None:
        try:
            self._buffered = self._driver.flush(handle)
        except OSError as exc:
            self._buffered = self._driver.get_out_octets_buffered()
            if self._closing:
                self._finish_close()
                return
            code, text = error_of(exc)
            self._emit(self._error_event, "write", code, text, self._id)
            if not self._closed:
                self._unwatch(self._output_handle, Mode.WRITE)
            return
        buffered = self._buffered
        idle = not buffered if self._tls is None else not self._tls.want_write
        if self._closing:
            if idle:
                self._finish_close()
            return
        if self._high_mark is not None and self._low_mark is not None:
            if self._high_state:
                if buffered <= self._low_mark:
                    self._high_state = False
                    self._set_limit()
                    self._emit(self._low_event, self._id)
            elif buffered >= self._high_mark:
                self._high_state = True
                self._set_limit()
                self._emit(self._high_event, self._id)
            # The handlers may have put more: decide on the watcher from the queue as it is now.
            buffered = self._buffered
            idle = not buffered if self._tls is None else not self._tls.want_write
        if idle and not self._closed:
            self._pause(self._output_handle, Mode.WRITE, paused=True)
            if self._tls is None:
                self._emit(self._flushed_event, self._id)
            elif not buffered and self._flush_owed:
                self._flush_owed = False
                self._emit(self._flushed_event, self._id)
        elif self._tls is not None and not self._closed:
            self._pause(self._output_handle, Mode.WRITE, paused=False)

    def _sync_tls_write(self) -> None:
        """Run the write watcher exactly while the TLS driver has something to send."""
        self._pause(self._output_handle, Mode.WRITE, paused=not self._tls.want_write)

    def flush(self) -> None:
        """Try to write queued output now, synchronously (one flush; it may be partial)."""
        if self._batch is not None:
            self._put_batch()
        pending = self._buffered or (self._tls is not None and self._tls.want_write)
        if pending and not self._closed:
            self._on_write(self._output_handle, Mode.WRITE)

    # -- configuration ------------------------------------------------------------------------

    def event(self, **renames: str | None) -> None:
        """Rename (or, with None, disable) events: ``input_event``, ``error_event``, ...

        Raises:
            InvalidArgument: an unknown event, or ``high_event``/``low_event`` without marks.
        """
        if ("high_event" in renames or "low_event" in renames) and self._high_mark is None:
            msg = "high_event and low_event need high_mark and low_mark set in the constructor"
            raise InvalidArgument(msg)
        reading = self._input_event is not None
        rename_events(self, _EVENTS, renames)
        # Watch or unwatch the input only when reading is switched on or off: re-watching
        # would resume a paused input, or read the end of file a second time.
        if not self._closed and reading != (self._input_event is not None):
            self._define_read()

    def set_filter(self, new_filter: Filter[Any, Any]) -> None:
        """Use ``new_filter`` for both directions; buffered input moves into it.

        Records the new filter finds in that input are dispatched at once.
        """
        if self._batch is not None:
            self._put_batch()
        pending = self._input_filter.get_pending()
        self._input_filter = self._output_filter = new_filter
        self._batch_ok = self._batchable(new_filter)
        self._transfer(pending)

    def set_input_filter(self, new_filter: Filter[Any, Any]) -> None:
        """Use ``new_filter`` for input; buffered input moves into it and is dispatched."""
        pending = self._input_filter.get_pending()
        self._input_filter = new_filter
        self._transfer(pending)

    def set_output_filter(self, new_filter: Filter[Any, Any]) -> None:
        """Use ``new_filter`` for output (output already queued is not re-serialized)."""
        if self._batch is not None:
            self._put_batch()
        self._output_filter = new_filter
        self._batch_ok = self._batchable(new_filter)

    def _transfer(self, pending: list[Any] | None) -> None:
        if pending:
            self._input_filter.get_one_start(pending)
            self._drain_input()
        if self._meter is not None and not self._closed:
            self._meter_input()

    def get_input_filter(self) -> Filter[Any, Any]:
        """The input filter."""
        return self._input_filter

    def get_output_filter(self) -> Filter[Any, Any]:
        """The output filter."""
        return self._output_filter

    def set_high_mark(self, mark: int) -> None:
        """Change the high watermark.

        Raises:
            InvalidArgument: no watermarks were configured, or ``mark`` is not above the low one.
        """
        if self._high_mark is None or self._low_mark is None:
            msg = "the high mark must be initialized in the constructor first"
            raise InvalidArgument(msg)
        if not mark > self._low_mark:
            msg = f"new high mark {mark} would not be greater than the low mark {self._low_mark}"
            raise InvalidArgument(msg)
        self._high_mark = mark
        if not self._overflowed:
            self._set_limit()

    def set_low_mark(self, mark: int) -> None:
        """Change the low watermark.

        Raises:
            InvalidArgument: no watermarks were configured, or ``mark`` is not in ``1..high-1``.
        """
        if self._high_mark is None or self._low_mark is None:
            msg = "the low mark must be initialized in the constructor first"
            raise InvalidArgument(msg)
        if not 0 < mark < self._high_mark:
            msg = f"new low mark {mark} must be above 0 and below the high mark {self._high_mark}"
            raise InvalidArgument(msg)
        self._low_mark = mark

    def get_driver_out_octets(self) -> int:
        """Octets queued in the driver."""
        if self._batch is not None:
            self._put_batch()
        return self._driver.get_out_octets_buffered()

    def get_driver_out_messages(self) -> int:
        """Chunks queued in the driver."""
        if self._batch is not None:
            self._put_batch()
        return self._driver.get_out_messages_buffered()

    def get_input_handle(self) -> Any:
        """The handle read."""
        return self._input_handle

    def get_output_handle(self) -> Any:
        """The handle written."""
        return self._output_handle

    # -- flow control -------------------------------------------------------------------------

    def pause_input(self) -> bool:
        """Stop reading (the watcher stays). True if the input is watched."""
        return self._pause(self._input_handle, Mode.READ, paused=True)

    def resume_input(self) -> bool:
        """Resume reading after :meth:`pause_input`. True if the input is watched."""
        return self._pause(self._input_handle, Mode.READ, paused=False)

    def shutdown_input(self) -> None:
        """``shutdown(SHUT_RD)`` the input handle (errors ignored) and stop reading it."""
        _shutdown(self._input_handle, socket.SHUT_RD)
        self._unwatch(self._input_handle, Mode.READ)

    def shutdown_output(self) -> None:
        """``shutdown(SHUT_WR)`` the output handle (errors ignored) and stop writing it."""
        if self._batch is not None:
            self._put_batch()
        _shutdown(self._output_handle, socket.SHUT_WR)
        self._unwatch(self._output_handle, Mode.WRITE)

    # -- lifetime -----------------------------------------------------------------------------

    def close(self, *, flush: bool = False, close_handles: bool = False) -> None:
        """Stop the wheel: remove its watchers and handlers, free its id.

        Args:
            flush: first write the queued output. Reading stops and no more events are emitted;
                the wheel keeps the session alive (and itself, even if dropped) until the
                buffer is empty or a write fails, then closes. A driver with ``shutdown``
                (TLS) is shut down first, so its close_notify goes out after the data.
            close_handles: close the handle(s) too, once the wheel is closed.
        """
        if self._closed:
            return
        if self._batch is not None:
            self._put_batch()
        self._close_handles = self._close_handles or close_handles
        writable = self._writable()
        if flush and writable and self._tls is not None:
            self._close_tls()
            return
        if flush and self._buffered and writable:
            self._closing = True
            self._unwatch(self._input_handle, Mode.READ)
            # The watcher now holds the wheel: it lives until the buffer is written.
            self._watch_io(self._output_handle, Mode.WRITE, type(self)._on_write, strong=True)
            return
        self._finish_close()

    def _close_tls(self) -> None:
        """``close(flush=True)`` on a TLS driver: shut it down, close once it is all written."""
        shutdown = getattr(self._tls, "shutdown", None)
        if shutdown is not None:
            try:
                self._buffered = shutdown(self._output_handle)
            except OSError:
                self._finish_close()
                return
        if not self._tls.want_write:
            self._finish_close()
            return
        self._closing = True
        self._unwatch(self._input_handle, Mode.READ)
        self._watch_io(self._output_handle, Mode.WRITE, type(self)._on_write, strong=True)

    def _finish_close(self) -> None:
        if self._closed:
            return
        self._closing = False
        super().close()
        if self._meter is not None and self._metered:
            # The input still buffered is freed with the wheel: give it back to the meter.
            metered, self._metered = self._metered, 0
            self._meter(self, -metered)
        if self._close_handles:
            _close_handle(self._input_handle)
            if self._output_handle is not self._input_handle:
                _close_handle(self._output_handle)


def _fd(handle: Any) -> int:
    try:
        return handle if isinstance(handle, int) else int(handle.fileno())
    except (OSError, ValueError):
        return -1


def _check_marks(
    high_mark: int | None, low_mark: int | None, high_event: str | None, low_event: str | None
) -> None:
    problems = []
    if (high_mark is None) != (low_mark is None):
        problems.append("high_mark and low_mark require each other")
    if high_mark is not None and low_mark is not None and not (high_mark > 0 and low_mark > 0):
        problems.append("high_mark and low_mark must be above 0")
    if (high_mark is None) != (high_event is None):
        problems.append("high_mark and high_event require each other")
    if (low_mark is None) != (low_event is None):
        problems.append("low_mark and low_event require each other")
    if problems:
        msg = "Water mark errors: " + "; ".join(problems)
        raise InvalidArgument(msg)
