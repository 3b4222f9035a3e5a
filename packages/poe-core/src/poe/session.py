"""Sessions: POE's cooperative tasks, each with its own heap and handlers.

Port of POE::Session (POE 1.370). The kernel dispatches an event by calling
``session._invoke(sender, event, args, caller_state)``; a session finds the handler (falling back
to ``_default``), builds a :class:`Context` and calls ``handler(ctx, *args)``.

Why ``handler(ctx, *args)``: the event's own arguments arrive as ordinary, typed positional
parameters (``def on_line(ctx, line: str, wheel_id: int)``), so a handler reads like a function
signature instead of a list of offsets; everything POE puts before ``ARG0`` (kernel, session, heap,
event name, sender, caller state) travels in one immutable :class:`Context`. ``Context`` is a
``NamedTuple``: attribute access is C-fast, it is built without running Python code, and it still
unpacks positionally for programs ported from POE's ``@_[KERNEL, HEAP]`` style.

What this module does not own: queues, timers, refcounts and lifetimes live in the kernel; the
bookkeeping slots below belong to the kernel and are only read here.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Final, NamedTuple

from poe import _trace
from poe.errors import InvalidArgument

if TYPE_CHECKING:
    from poe.kernel import Kernel

__all__ = [
    "Callback",
    "Context",
    "Handler",
    "Postback",
    "Session",
    "SessionBase",
]

#: A handler: called as ``handler(ctx, *args)``; its return value matters for ``call``,
#: ``_start`` and ``_stop`` only.
Handler = Callable[..., Any]

_tuple_new = tuple.__new__


#: Handlers every session has without an entry in its own table, for the kernel's internals
#: (wheel I/O: see ``poe.wheel._base``). Looked up only when the session's table has no
#: handler for the event, before ``_default``; a session's own handler of the same name wins.
BUILTIN_HANDLERS: dict[str, Handler] = {}


class _SharedEmpty(dict[Any, Any]):
    """The empty table every session shares until it writes its own (see ``EMPTY``)."""

    __slots__ = ()

    def __setitem__(self, key: Any, value: Any) -> None:
        msg = "write to the shared EMPTY table: give the owner its own dict first"
        raise TypeError(msg)


#: One empty, write-protected dict shared by every session table that is still empty.
EMPTY: Final[dict[Any, Any]] = _SharedEmpty()


class Context(NamedTuple):
    """What a handler knows besides its arguments (POE's ``@_`` before ``ARG0``).

    Attributes:
        kernel: the kernel dispatching the event (``KERNEL``).
        session: the session handling it (``SESSION``).
        heap: that session's private data (``HEAP``).
        event: the event name being handled (``STATE``); ``"_default"`` inside a default handler.
        sender: the session (or the kernel) that caused the event (``SENDER``).
        args: the event's arguments as one tuple (``@_[ARG0..$#_]``).
        caller_state: the event being handled when this one was created (``CALLER_STATE``).
        caller_file: where the event was created (``CALLER_FILE``); only with ``POE_TRACE_CALLER=1``.
        caller_line: the line there (``CALLER_LINE``); only with ``POE_TRACE_CALLER=1``.
    """

    kernel: Kernel
    session: SessionBase
    heap: Any
    event: str
    sender: Any
    args: tuple[Any, ...]
    caller_state: str | None = None
    caller_file: str | None = None
    caller_line: int | None = None


class SessionBase:
    """What the kernel needs of a session: identity, bookkeeping slots and ``_invoke``.

    :class:`Session` and :class:`poe.nfa.NFA` are the two adapters, as in POE. Subclasses implement
    :meth:`_invoke`. Every ``_k_*`` slot is owned by the kernel.
    """

    __slots__ = (
        "__weakref__",
        "_k_aliases",
        "_k_alive",
        "_k_children",
        "_k_extrefs",
        "_k_fast",
        "_k_fds",
        "_k_id",
        "_k_kernel",
        "_k_parent",
        "_k_pids",
        "_k_rc",
        "_k_sigs",
        "_k_starting",
        "_k_stopping",
        "_k_timers",
        "_options",
        "heap",
    )

    def __init__(self, heap: Any = None, options: Mapping[str, Any] | None = None) -> None:
        self.heap: Any = {} if heap is None else heap
        # Every table starts as the shared EMPTY dict and is replaced by a real one on its first
        # write: an idle session then costs a few hundred bytes, not a dozen empty dicts.
        self._options: dict[str, Any] = EMPTY
        if options:
            self.option(**options)
        self._k_kernel: Kernel | None = None
        self._k_id = 0
        self._k_rc = 0
        self._k_alive = False
        self._k_starting = False
        self._k_stopping = False
        self._k_parent: Any = None
        self._k_children: dict[SessionBase, None] = EMPTY
        self._k_aliases: tuple[str, ...] = ()
        self._k_extrefs: dict[str, int] = EMPTY
        #: The fds it watches, each with how many modes: ``(fd, count, fd, count, ...)``
        #: (a dict would cost every connection's session 160 bytes; see poe._filehandles).
        self._k_fds: tuple[int, ...] = ()
        self._k_sigs: dict[str, tuple[str, tuple[Any, ...]]] = EMPTY
        self._k_pids: dict[int, tuple[str, tuple[Any, ...]]] = EMPTY
        self._k_timers: dict[int, Any] = EMPTY
        #: The handler table the kernel may call directly, bypassing ``_invoke``; None when
        #: dispatch needs ``_invoke`` (other session types, or tracing options set).
        self._k_fast: dict[str, Handler] | None = None

    # -- identity ---------------------------------------------------------------------------

    @property
    def ID(self) -> int:  # noqa: N802 - POE's name, kept so its docs stay a map
        """The session's id: an integer from 1 upward, unique among live sessions of a kernel."""
        return self._k_id

    @property
    def kernel(self) -> Kernel:
        """The kernel this session was created in."""
        if self._k_kernel is None:
            msg = "session is not registered with a kernel"
            raise RuntimeError(msg)
        return self._k_kernel

    @property
    def alive(self) -> bool:
        """True from ``_start`` until the session has been stopped and freed."""
        return self._k_alive

    def get_heap(self) -> Any:
        """The session's heap (POE's ``get_heap``)."""
        return self.heap

    def __repr__(self) -> str:
        aliases = f" ({', '.join(sorted(self._k_aliases))})" if self._k_aliases else ""
        return f"<{type(self).__name__} {self._k_id}{aliases}>"

    # -- options ------------------------------------------------------------------------------

    def option(self, name: str | None = None, *value: Any, **many: Any) -> Any:
        """Get or set session options (POE's ``option``).

        ``option("trace")`` returns the value; ``option("trace", True)`` sets it and returns the
        previous value; ``option(trace=1, default=1)`` sets several and returns a dict of previous
        values. Names are case-insensitive; ``"on"``/``"yes"``/``"true"`` read as True and
        ``"off"``/``"no"``/``"false"`` as False; setting ``None`` deletes the option. Known
        options: ``trace`` (log every event), ``debug`` (warn on redefined handlers), ``default``
        (warn on unhandled events). Unknown names are kept for the user.
        """
        if name is not None and not value and not many:
            return self._options.get(name.lower())
        if name is not None:
            if len(value) != 1:
                msg = "option(name, value) takes exactly one value"
                raise InvalidArgument(msg)
            many = {name: value[0]}
        previous = {}
        for key, raw in many.items():
            key = key.lower()
            previous[key] = self._options.get(key)
            if raw is None:
                self._options.pop(key, None)
            else:
                if self._options is EMPTY:
                    self._options = {}
                self._options[key] = _option_value(raw)
        self._options_changed()
        if name is not None:
            return previous[name.lower()]
        return previous

    def _options_changed(self) -> None:
        """Hook: options that affect dispatch changed."""

    # -- postbacks ----------------------------------------------------------------------------

    def postback(self, event: str, *context: Any) -> Postback:
        """A callable that posts ``event`` here with ``(context, call_args)`` as its arguments.

        The session stays alive while the postback exists (refcount tag ``anon_event``);
        :meth:`Postback.release` or dropping the last reference lets it go.
        """
        return Postback(self, event, context)

    def callback(self, event: str, *context: Any) -> Callback:
        """Like :meth:`postback`, but calls synchronously and returns the handler's value."""
        return Callback(self, event, context)

    # -- dispatch -----------------------------------------------------------------------------

    def _invoke(
        self,
        sender: Any,
        event: str,
        args: tuple[Any, ...],
        caller_state: str | None,
        where: tuple[str, int] | None = None,
    ) -> Any:
        raise NotImplementedError

    def _set_handler(self, event: str, handler: Handler | None) -> None:
        raise NotImplementedError


def _callable(handler: object, what: str) -> Handler:
    if not callable(handler):
        msg = f"{what} is not callable: {handler!r}"
        raise InvalidArgument(msg)
    return handler


def _option_value(raw: Any) -> Any:
    if isinstance(raw, str):
        low = raw.lower()
        if low in ("on", "yes", "true"):
            return True
        if low in ("off", "no", "false"):
            return False
    return raw


def _bind_states(
    owner: Any, states: Mapping[str, str] | Iterable[str], table: dict[str, Handler]
) -> None:
    """Bind ``owner``'s methods for an ``object_states``/``package_states`` entry."""
    pairs = states.items() if isinstance(states, Mapping) else ((ev, ev) for ev in states)
    for event, method in pairs:
        handler = getattr(owner, method, None)
        if not callable(handler):
            msg = f"{owner!r} has no method {method!r} for event {event!r}"
            raise InvalidArgument(msg)
        table[event] = handler


class Session(SessionBase):
    """A session whose handlers come from functions, objects and classes (POE::Session)."""

    __slots__ = ("_handlers", "_shared")

    def __init__(
        self,
        handlers: Mapping[str, Handler] | None = None,
        heap: Any = None,
        options: Mapping[str, Any] | None = None,
        *,
        _shared_table: dict[str, Handler] | None = None,
    ) -> None:
        if _shared_table is None:
            self._handlers: dict[str, Handler] = dict(handlers or {})
            self._shared = False
        else:
            self._handlers = _shared_table  # copied on the first write (_set_handler)
            self._shared = True
        super().__init__(heap, options)
        self._options_changed()

    def _options_changed(self) -> None:
        # Options that log or warn need _invoke; without them the kernel calls handlers itself.
        slow = self._options.get("trace") or self._options.get("default") or _trace.ASSERT_STATES
        self._k_fast = None if slow else self._handlers

    @classmethod
    def create(
        cls,
        kernel: Kernel,
        *,
        inline_states: Mapping[str, Handler] | None = None,
        object_states: Iterable[tuple[Any, Mapping[str, str] | Iterable[str]]] = (),
        package_states: Iterable[tuple[type, Mapping[str, str] | Iterable[str]]] = (),
        heap: Any = None,
        args: Iterable[Any] = (),
        options: Mapping[str, Any] | None = None,
    ) -> Session:
        """Build a session, register it as a child of the active session, and run ``_start``.

        Args:
            kernel: the kernel to run in.
            inline_states: ``{event: handler}``.
            object_states: ``[(obj, {event: method_name} | [event, ...]), ...]``; methods are
                bound when the session is created.
            package_states: the same with classes (class- or static methods).
            heap: the session's private data (default: a new ``dict``).
            args: passed to ``_start`` as its positional arguments.
            options: initial session options (see :meth:`SessionBase.option`).

        Returns:
            The session, after its ``_start`` handler and the parent's ``_child`` have run.

        Raises:
            InvalidArgument: a handler is not callable, a method is missing, a handler is named
                ``_signal``, or there is no ``_start`` handler.
        """
        object_states = tuple(object_states)
        package_states = tuple(package_states)
        shared = not object_states and not package_states and _TABLES.matches(inline_states)
        if shared:
            table = _TABLES.table
        else:
            table = {}
            for event, handler in (inline_states or {}).items():
                table[event] = _callable(handler, f"inline state for {event!r}")
            for obj, states in object_states:
                _bind_states(obj, states, table)
            for klass, states in package_states:
                _bind_states(klass, states, table)
        if "_signal" in table:
            msg = "the _signal event is deprecated: use kernel.sig() to watch signals"
            raise InvalidArgument(msg)
        if "_start" not in table:
            msg = "session has no '_start' handler: nothing would ever run in it"
            raise InvalidArgument(msg)
        if not shared and not object_states and not package_states and inline_states:
            _TABLES.remember(inline_states, table)
            shared = True
        session = (
            cls(heap=heap, options=options, _shared_table=table)
            if shared
            else cls(table, heap, options)
        )
        kernel._session_alloc(session, tuple(args))
        return session

    def _set_handler(self, event: str, handler: Handler | None) -> None:
        if self._shared:
            # Copy on write: sessions made from the same inline_states share one table.
            self._handlers = dict(self._handlers)
            self._shared = False
            self._options_changed()
        if handler is None:
            self._handlers.pop(event, None)
            return
        if self._options.get("debug") and event in self._handlers:
            _trace.log.warning("session %d: redefining handler for event %r", self._k_id, event)
        self._handlers[event] = handler

    def _invoke(
        self,
        sender: Any,
        event: str,
        args: tuple[Any, ...],
        caller_state: str | None,
        where: tuple[str, int] | None = None,
    ) -> Any:
        handler = self._handlers.get(event)
        if handler is None:
            handler = BUILTIN_HANDLERS.get(event)
        if handler is None:
            handler = self._handlers.get("_default")
            if handler is None:
                if self._options.get("default") or _trace.ASSERT_STATES:
                    _trace.log.warning(
                        "session %d: event %r has no handler and there is no _default",
                        self._k_id,
                        event,
                    )
                return None
            if self._options.get("trace"):
                _trace.log.info("%d -> %s redirected to _default", self._k_id, event)
            args = (event, args)
            event = "_default"
        if self._options.get("trace"):
            _trace.log.info("%d -> %s", self._k_id, event)
        if where is None:
            ctx = _tuple_new(
                Context,
                (self._k_kernel, self, self.heap, event, sender, args, caller_state, None, None),
            )
        else:
            ctx = _tuple_new(
                Context,
                (self._k_kernel, self, self.heap, event, sender, args, caller_state, *where),
            )
        return handler(ctx, *args)


class _TableCache:
    """The handler table last built from an ``inline_states`` mapping, to share it.

    Programs create many sessions from one mapping (a session per connection, per job); they
    all get the same table until one of them changes a handler with ``kernel.state()``. The
    cache checks the mapping's contents, not just its identity, so mutating it is safe.
    """

    __slots__ = ("snapshot", "source", "table")

    def __init__(self) -> None:
        self.source: Mapping[str, Handler] | None = None
        self.snapshot: dict[str, Handler] = {}
        self.table: dict[str, Handler] = {}

    def matches(self, inline_states: Mapping[str, Handler] | None) -> bool:
        """True when ``inline_states`` is the remembered mapping, with the same contents."""
        return inline_states is self.source and inline_states == self.snapshot

    def remember(self, inline_states: Mapping[str, Handler], table: dict[str, Handler]) -> None:
        """Share ``table`` with later sessions made from ``inline_states``."""
        self.source = inline_states
        self.snapshot = dict(inline_states)
        self.table = table


_TABLES: Final = _TableCache()


class Postback:
    """A callable that posts an event to a session; keeps the session alive until released.

    Calling it posts ``event`` with two arguments: the tuple of context given at creation and the
    tuple of arguments given to the call (POE's ``ARG0 = [@ctx]``, ``ARG1 = [@args]``).
    """

    __slots__ = ("__weakref__", "_finalizer", "context", "event", "kernel", "session_id")

    _tag: ClassVar[str] = "anon_event"

    def __init__(self, session: SessionBase, event: str, context: tuple[Any, ...]) -> None:
        self.kernel: Kernel = session.kernel
        self.session_id = session.ID
        self.event = event
        self.context = context
        self.kernel.refcount_increment(self.session_id, self._tag)
        self._finalizer = weakref.finalize(
            self, _release_ref, self.kernel, self.session_id, self._tag
        )

    def release(self) -> None:
        """Stop keeping the session alive (POE's ``weaken``); the callable still works."""
        self._finalizer()

    weaken = release

    def __call__(self, *args: Any) -> None:
        """Post the event; returns nothing (POE returns 0)."""
        self.kernel.post(self.session_id, self.event, self.context, args)


class Callback(Postback):
    """Like :class:`Postback`, but calls the handler synchronously and returns its value."""

    __slots__ = ()

    def __call__(self, *args: Any) -> Any:
        """Call the event's handler now and return what it returned."""
        return self.kernel.call(self.session_id, self.event, self.context, args)


def _release_ref(kernel: Kernel, session_id: int, tag: str) -> None:
    # Runs at most once (weakref.finalize): when released explicitly or garbage-collected.
    kernel._release_extref(session_id, tag)
