"""What every wheel shares: wheel ids, the owner session, handler and watcher bookkeeping.

Port of POE::Wheel (POE 1.370). A wheel is created inside a handler of its owner session. It
installs uniquely named handlers in that session (``poe.wheel.<Class>(<id>) <purpose>``) and
watches file descriptors for it. :meth:`WheelBase.close` (also run by ``__del__`` and by ``with``)
removes them again and frees the wheel id.

Handlers reference their wheel weakly, so dropping the last reference to a wheel (POE's
``delete $heap->{wheel}``) closes it, exactly like POE's ``DESTROY``.

The kernel is passed explicitly (``ReadWriteWheel(ctx.kernel, handle=...)``): unlike POE there
is no process-wide ``$poe_kernel``, and several kernels may live in one process. The wheel binds
to the kernel's *active* session at construction; that session owns it.
"""

from __future__ import annotations

import contextlib
import errno as _errno
import os
import weakref
from typing import TYPE_CHECKING, Any

from poe._core import _TRACE_CALLER
from poe.errors import InvalidArgument, NotInSession
from poe.session import BUILTIN_HANDLERS

if TYPE_CHECKING:
    from collections.abc import Callable

    from typing_extensions import Self

    from poe.kernel import Kernel
    from poe.loop import Mode
    from poe.session import Context, SessionBase

__all__ = ["WheelBase", "allocate_wheel_id", "free_wheel_id", "strerror"]

_next_id = 0
_live_ids: set[int] = set()


def allocate_wheel_id() -> int:
    """Return the next wheel id: a process-wide counter from 1 that skips ids still in use."""
    global _next_id
    while True:
        _next_id += 1
        if _next_id not in _live_ids:
            _live_ids.add(_next_id)
            return _next_id


def free_wheel_id(wheel_id: int) -> None:
    """Release a wheel id (POE's ``free_wheel_id``)."""
    _live_ids.discard(wheel_id)


def strerror(code: int) -> str:
    """The message of an errno value (POE's ``$!`` in string context); ``""`` for 0."""
    return os.strerror(code) if code else ""


def error_of(exc: OSError) -> tuple[int, str]:
    """``(errno, errstr)`` of an exception, as POE's ``($!+0, $!)``."""
    code = exc.errno or _errno.EIO
    return code, exc.strerror or strerror(code)


class WheelBase:
    """Common machinery of the wheels.

    Args:
        kernel: the kernel whose active session will own the wheel.

    Raises:
        InvalidArgument: ``kernel`` is not a :class:`poe.kernel.Kernel`.
        NotInSession: no session is active (wheels are made inside a handler).
    """

    # Slots: a server holds one ReadWriteWheel per connection. Subclasses without __slots__
    # get a __dict__ as usual.
    __slots__ = (
        "__weakref__",
        "_closed",
        "_id",
        "_kernel",
        "_session",
        "_states",
        "_watches",
        "_weak",
    )

    def __init__(self, kernel: Kernel) -> None:
        self._closed = True  # until fully built: __del__ must not act on a half-made wheel
        from poe.kernel import Kernel

        given: object = kernel  # checked at run time: callers may not be type-checked
        if not isinstance(given, Kernel):
            msg = f"a wheel needs the kernel as its first argument, not {kernel!r}"
            raise InvalidArgument(msg)
        session = kernel.get_active_session()
        if session is kernel:
            msg = f"{type(self).__name__} must be created inside a session's handler"
            raise NotInSession(msg)
        self._kernel: Kernel = kernel
        self._session: SessionBase = session
        self._id = allocate_wheel_id()
        #: Handler names this wheel defined in its session (see _define); a set once used.
        self._states: set[str] | frozenset[str] = _NO_STATES
        #: What the I/O watchers of _watch_io hold: the wheel weakly, made on first use.
        self._weak: weakref.ref[WheelBase] | None = None
        #: What it watches, flat: ``(fd, mode, handle, fd, mode, handle, ...)`` (a dict keyed
        #: by ``(fd, mode)`` tuples cost every connection's wheel 270 bytes).
        self._watches: tuple[Any, ...] = ()
        self._closed = False

    # -- identity ---------------------------------------------------------------------------

    @property
    def ID(self) -> int:  # noqa: N802 - POE's name
        """The wheel's id, carried by every event it emits."""
        return self._id

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has run."""
        return self._closed

    def __repr__(self) -> str:
        state = " closed" if self._closed else ""
        return f"<{type(self).__name__} {self._id}{state}>"

    # -- handlers and watchers ----------------------------------------------------------------

    def _state_name(self, purpose: str) -> str:
        return f"poe.wheel.{type(self).__name__}({self._id}) {purpose}"

    def _define(self, purpose: str, method: str) -> str:
        """Install a handler calling this wheel's ``method(*args)`` (the wheel held weakly)."""
        name = self._state_name(purpose)
        ref = weakref.ref(self)

        def handler(ctx: Context, *args: Any) -> Any:
            wheel = ref()
            if wheel is None or wheel._closed:
                return None
            return getattr(wheel, method)(*args)

        self._session._set_handler(name, handler)
        self._add_state(name)
        return name

    def _add_state(self, name: str) -> None:
        if isinstance(self._states, frozenset):
            self._states = set()
        self._states.add(name)

    def _forget_state(self, name: str) -> bool:
        """Stop tracking ``name`` (its handler stays); True if it was tracked."""
        if name not in self._states or isinstance(self._states, frozenset):
            return False
        self._states.discard(name)
        return True

    def _define_strong(self, purpose: str, method: Callable[..., Any]) -> str:
        """Like :meth:`_define`, but the handler keeps the wheel alive (graceful close)."""
        name = self._state_name(purpose)

        def handler(ctx: Context, *args: Any) -> Any:
            return method(*args)

        self._session._set_handler(name, handler)
        self._add_state(name)
        return name

    def _undefine(self, name: str) -> None:
        if self._forget_state(name):
            with contextlib.suppress(Exception):
                self._session._set_handler(name, None)

    def _watching(self, fd: int, mode: Mode) -> int:
        """Index of ``(fd, mode)`` in ``_watches``, or -1."""
        watches = self._watches
        for index in range(0, len(watches), 3):
            if watches[index] == fd and watches[index + 1] == mode:
                return index
        return -1

    def _add_watch(self, fd: int, mode: Mode, handle: Any) -> None:
        index = self._watching(fd, mode)
        watches = self._watches if index < 0 else self._drop_watch(index)
        self._watches = (*watches, fd, mode, handle)

    def _drop_watch(self, index: int) -> tuple[Any, ...]:
        watches = self._watches = self._watches[:index] + self._watches[index + 3 :]
        return watches

    def _watch(self, handle: Any, mode: Mode, event: str) -> None:
        fd = handle if isinstance(handle, int) else int(handle.fileno())
        self._kernel._files.watch(self._session, handle, mode, event, ())
        self._add_watch(fd, mode, handle)

    def _watch_io(
        self, handle: Any, mode: Mode, method: Callable[..., Any], *, strong: bool = False
    ) -> None:
        """Watch ``handle``; when ready, ``method(wheel, handle, mode)`` runs in the session.

        Unlike :meth:`_define` + :meth:`_watch`, nothing is added to the session's handler
        table: the watcher carries the wheel and the function, and the builtin
        :data:`WHEEL_IO` handler calls it. That keeps the table shared between sessions made
        from one ``inline_states`` mapping, and a connection's wheel small. ``strong``: the
        watcher holds the wheel itself, keeping it alive (graceful close); a second call for
        the same handle and mode rebinds it.
        """
        if strong:
            target: Any = self
        else:
            target = self._weak
            if target is None:
                target = self._weak = weakref.ref(self)
        fd = handle if isinstance(handle, int) else int(handle.fileno())
        files = self._kernel._files
        if self._watching(fd, mode) >= 0:
            files.rebind(self._session, fd, mode, WHEEL_IO, (target, method))
        files.watch(self._session, handle, mode, WHEEL_IO, (target, method))
        self._add_watch(fd, mode, handle)

    def _unwatch(self, handle: Any, mode: Mode) -> None:
        try:
            fd = handle if isinstance(handle, int) else int(handle.fileno())
        except (OSError, ValueError):  # closed already: find it by the handle object
            watches = self._watches
            fd = next(
                (
                    watches[i]
                    for i in range(0, len(watches), 3)
                    if watches[i + 2] is handle and watches[i + 1] == mode
                ),
                -1,
            )
        index = self._watching(fd, mode)
        if index < 0:
            return
        self._drop_watch(index)
        self._kernel._files.unwatch(self._session, fd, mode)

    def _pause(self, handle: Any, mode: Mode, *, paused: bool) -> bool:
        return self._kernel._files.pause(handle, mode, paused=paused)

    def _emit(self, event: str | None, *args: Any) -> Any:
        """``call`` the owner session with ``event`` (nothing if disabled or closed)."""
        session = self._session
        if event is None or not session._k_alive:
            return None
        kernel = self._kernel
        if kernel._active_session is session and not _TRACE_CALLER:
            # What kernel.call does for the active session, minus its lookup: a wheel's
            # events come from its owner's own watchers, so this is the per-record path.
            return session._invoke(session, event, args, kernel._active_event)
        return kernel.call(session, event, *args)

    # -- lifetime -----------------------------------------------------------------------------

    def close(self) -> None:
        """Stop watching, remove the wheel's handlers and free its id. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._release()

    def _release(self) -> None:
        watches, self._watches = self._watches, ()
        for index in range(0, len(watches), 3):
            with contextlib.suppress(Exception):
                self._kernel._files.unwatch(self._session, watches[index], watches[index + 1])
        for name in list(self._states):
            self._undefine(name)
        free_wheel_id(self._id)

    def __del__(self) -> None:
        if getattr(self, "_closed", True):
            return
        with contextlib.suppress(Exception):
            self.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


#: The builtin event of the watchers made by :meth:`WheelBase._watch_io`.
WHEEL_IO = "poe.wheel io"

_NO_STATES: frozenset[str] = frozenset()


def _wheel_io(
    ctx: Context, handle: Any, mode: Mode, target: Any, method: Callable[..., Any]
) -> Any:
    wheel = target() if type(target) is weakref.ref else target
    if wheel is None or wheel._closed:
        return None
    return method(wheel, handle, mode)


BUILTIN_HANDLERS[WHEEL_IO] = _wheel_io


def rename_events(wheel: object, allowed: dict[str, str], renames: dict[str, str | None]) -> None:
    """Apply ``event(**renames)``: ``allowed`` maps keyword to attribute name.

    Raises:
        InvalidArgument: an unknown event keyword.
    """
    for key, value in renames.items():
        attr = allowed.get(key)
        if attr is None:
            msg = f"unknown event {key!r}; known: {', '.join(sorted(allowed))}"
            raise InvalidArgument(msg)
        given: object = value
        if given is not None and not isinstance(given, str):
            msg = f"{key} must be an event name or None, not {value!r}"
            raise InvalidArgument(msg)
        setattr(wheel, attr, value)
