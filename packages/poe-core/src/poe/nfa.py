"""State-machine sessions: the same event means different things in different machine states.

Port of POE::NFA (POE 1.370). A machine is a session whose handlers are grouped by *machine
state*: ``{state: {event: handler}}``. Exactly one state is current; an event is looked up in it
first. A machine starts in no state at all and is kicked off with :meth:`NFA.goto_state`.

Why transitions are events: :meth:`NFA.goto_state` normally *posts* the internal event
``poe_nfa_goto_state`` instead of switching at once, so everything already queued for the machine
is still handled in the state it was sent to. The ``immediate`` option (and the very first
transition, when there is no state to finish) switches synchronously through ``kernel.call``.

Handlers are called ``handler(ctx, *args)`` like :class:`poe.session.Session` handlers, with an
:class:`NFAContext` that names POE::NFA's fields: ``machine`` (POE's ``MACHINE``), ``runstate``
(``RUNSTATE``, the heap), ``event`` (``EVENT``) and ``state`` (``STATE``, the machine state).

What the kernel needs of a session (identity, bookkeeping slots, ``_invoke``) comes from
:class:`poe.session.SessionBase`; queues, timers and lifetimes stay in the kernel.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar, Final, NamedTuple

from poe import _trace
from poe.errors import InvalidArgument, UnhandledEvent
from poe.kernel import Kernel
from poe.session import BUILTIN_HANDLERS, Callback, Handler, Postback, SessionBase, _bind_states

__all__ = ["NFA", "NFAContext", "UnhandledEvent"]

#: Events POE::NFA reserves for itself. User handlers may not use this prefix.
RESERVED_PREFIX: Final = "poe_nfa_"
_GOTO: Final = "poe_nfa_goto_state"
_PUSH: Final = "poe_nfa_push_state"
_POP: Final = "poe_nfa_pop_state"
_STOP: Final = "poe_nfa_stop"
_INTERNAL: Final = frozenset({"_start", "_stop", _GOTO, _PUSH, _POP, _STOP})

# What object_states/package_states give per machine state: (owner, {event: method} | [event]).
_RefStates = Mapping[str, Sequence[tuple[Any, "Mapping[str, str] | Iterable[str]"]]]

_tuple_new = tuple.__new__


class NFAContext(NamedTuple):
    """What an NFA handler knows besides its arguments (POE::NFA's ``@_`` before ``ARG0``).

    Attributes:
        kernel: the kernel dispatching the event (``KERNEL``).
        machine: the machine handling it (``MACHINE``).
        runstate: the machine's private data (``RUNSTATE``).
        event: the event being handled (``EVENT``); ``"_default"`` inside a default handler.
        sender: the session (or the kernel) that caused the event (``SENDER``); the machine
            itself for ``leave`` and entry events.
        state: the machine's current state (``STATE``); None before the first transition.
        args: the event's arguments as one tuple (``@_[ARG0..$#_]``).
        caller_state: the event being handled when this one was created (``CALLER_STATE``).
        caller_file: where the event was created; only with ``POE_TRACE_CALLER=1``.
        caller_line: the line there; only with ``POE_TRACE_CALLER=1``.
    """

    kernel: Kernel
    machine: NFA
    runstate: Any
    event: str
    sender: Any
    state: str | None
    args: tuple[Any, ...]
    caller_state: str | None = None
    caller_file: str | None = None
    caller_line: int | None = None

    # Aliases so code written against poe.session.Context (wheels, helpers) works in machines.
    @property
    def session(self) -> NFA:
        """The machine (``Context.session``'s name for it)."""
        return self.machine

    @property
    def heap(self) -> Any:
        """The runstate (``Context.heap``'s name for it)."""
        return self.runstate


class NFA(SessionBase):
    """A state-machine session (POE::NFA). Build one with :meth:`spawn`."""

    __slots__ = ("_current", "_current_name", "_internals", "_stack", "_states")

    def __init__(
        self,
        states: Mapping[str, dict[str, Handler]],
        runstate: Any = None,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(runstate, options)
        self._states: dict[str, dict[str, Handler]] = dict(states)
        # Handlers added with kernel.state() (wheels): valid whatever the machine state is.
        self._internals: dict[str, Handler] = {}
        self._current: dict[str, Handler] | None = None
        self._current_name: str | None = None
        # call_state() frames: (state to return to, event to dispatch there).
        self._stack: list[tuple[str | None, str | None]] = []

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def spawn(
        cls,
        kernel: Kernel,
        *,
        inline_states: Mapping[str, Mapping[str, Handler]] | None = None,
        object_states: _RefStates | None = None,
        package_states: _RefStates | None = None,
        runstate: Any = None,
        options: Mapping[str, Any] | None = None,
    ) -> NFA:
        """Build a machine, register it as a child of the active session, in no state yet.

        Args:
            kernel: the kernel to run in.
            inline_states: ``{state: {event: handler}}``.
            object_states: ``{state: [(obj, {event: method_name} | [event, ...]), ...]}``;
                methods are bound now.
            package_states: the same with classes (class- or static methods).
            runstate: the machine's private data (default: a new ``dict``; any value works).
            options: initial options (see :meth:`SessionBase.option`), plus ``immediate``.

        Returns:
            The machine. Nothing runs until :meth:`goto_state` (``_start`` is swallowed).

        Raises:
            InvalidArgument: no kernel, none of the three ``*_states``, a malformed state
                table, a missing method, or an event using the reserved ``poe_nfa_`` prefix.
        """
        given: object = kernel  # checked at run time: callers may be untyped
        if not isinstance(given, Kernel):
            msg = f"NFA.spawn() requires a working Kernel, not {given!r}"
            raise InvalidArgument(msg)
        if inline_states is None and object_states is None and package_states is None:
            msg = (
                "NFA.spawn() requires at least one of the following parameters: "
                "inline_states, object_states, package_states"
            )
            raise InvalidArgument(msg)
        opts: object = options
        if opts is not None and not isinstance(opts, Mapping):
            msg = f"options must be a mapping of option names to values, not {opts!r}"
            raise InvalidArgument(msg)
        states: dict[str, dict[str, Handler]] = {}
        if inline_states is not None:
            _add_inline_states(states, inline_states)
        # Unlike POE, which replaces an inline state's table when object/package states name
        # the same state, tables are merged: later entries override single events.
        if object_states is not None:
            _add_ref_states(states, object_states, "object_states")
        if package_states is not None:
            _add_ref_states(states, package_states, "package_states")
        for state, table in states.items():
            for event in table:
                _check_not_reserved(event, f"in state {state!r}")
        machine = cls(states, {} if runstate is None else runstate, options)
        kernel._session_alloc(machine, ())
        return machine

    # -- introspection ------------------------------------------------------------------------

    @property
    def runstate(self) -> Any:
        """The machine's private data (POE's ``RUNSTATE``; the same object as ``heap``)."""
        return self.heap

    def get_runstate(self) -> Any:
        """The machine's runstate (POE's ``get_runstate``)."""
        return self.heap

    def get_current_state(self) -> str | None:
        """The name of the current machine state; None before the first transition."""
        return self._current_name

    def __repr__(self) -> str:
        where = "no state" if self._current_name is None else f"state {self._current_name!r}"
        return f"<NFA {self._k_id} in {where}>"

    # -- transitions --------------------------------------------------------------------------

    def goto_state(self, state: str, entry_event: str | None = None, *args: Any) -> None:
        """Switch to ``state``, then dispatch ``entry_event(*args)`` there if given.

        The switch is queued behind events already posted (so they are handled in the old
        state), except for the first transition and with the ``immediate`` option, which switch
        synchronously. Switching runs the old state's ``leave`` handler, if it has one.

        Raises:
            InvalidArgument: ``state`` does not exist, or has no handler for ``entry_event``.
                (Checked here, at the call, and again when the transition happens.)
        """
        self._check_target(state, entry_event)
        if self._current is not None and not self._options.get("immediate"):
            self.kernel.post(self, _GOTO, state, entry_event, *args)
        else:
            self.kernel.call(self, _GOTO, state, entry_event, *args)

    def call_state(
        self, return_event: str | None, state: str, entry_event: str | None = None, *args: Any
    ) -> None:
        """Like :meth:`goto_state`, remembering where to come back to with :meth:`return_state`.

        The current state and ``return_event`` are pushed when the transition happens (queued,
        as in POE even for the first one, unless the ``immediate`` option is set).

        Raises:
            InvalidArgument: ``state`` does not exist, or has no handler for ``entry_event``.
        """
        self._check_target(state, entry_event)
        send = self.kernel.call if self._options.get("immediate") else self.kernel.post
        send(self, _PUSH, return_event, state, entry_event, *args)

    def return_state(self, *args: Any) -> None:
        """Go back to the state the last :meth:`call_state` left; dispatch its return event there.

        Queued unless the ``immediate`` option is set. When it happens with an empty stack, the
        machine raises :class:`InvalidArgument` (a ``DIE`` signal unless called synchronously).
        """
        send = self.kernel.call if self._options.get("immediate") else self.kernel.post
        send(self, _POP, *args)

    def stop(self) -> None:
        """Queue a forced stop: the machine's resources are reclaimed when the event arrives."""
        self.kernel.post(self, _STOP)

    def _check_target(self, state: str | None, entry_event: str | None) -> dict[str, Handler]:
        """The handler table of ``state``, if it exists and handles ``entry_event``."""
        table = self._states.get(state) if state is not None else None
        if table is None:
            msg = f"machine {self._k_id} tried to enter nonexistent state {state!r}"
            raise InvalidArgument(msg)
        if entry_event is not None and entry_event not in table:
            msg = (
                f"machine {self._k_id} tried to invoke nonexistent enter event {entry_event!r} "
                f"in state {state!r}"
            )
            raise InvalidArgument(msg)
        return table

    def _transition(
        self, state: str | None, entry_event: str | None, args: tuple[Any, ...]
    ) -> None:
        # Checked again: pops and hand-posted poe_nfa_* events were never checked.
        table = self._check_target(state, entry_event)
        current = self._current
        if current is not None and "leave" in current:
            self._invoke(self, "leave", (), None)
        self._current = table
        self._current_name = state
        if entry_event is not None:
            self._invoke(self, entry_event, args, None)

    def _internal_event(self, event: str, args: tuple[Any, ...]) -> None:
        if event == _GOTO:
            self._transition(_arg(args, 0), _arg(args, 1), args[2:])
        elif event == _PUSH:
            state, entry_event = _arg(args, 1), _arg(args, 2)
            self._check_target(state, entry_event)  # before pushing: a failed call leaves no frame
            self._stack.append((self._current_name, _arg(args, 0)))
            self._transition(state, entry_event, args[3:])
        elif event == _POP:
            if not self._stack:
                msg = f"machine {self._k_id} tried to return_state() with an empty state stack"
                raise InvalidArgument(msg)
            state, return_event = self._stack.pop()
            self._transition(state, return_event, args)
        elif event == _STOP:
            self.kernel._stop_session(self)
        # _start and _stop are swallowed: a machine has no start-up or shutdown handlers.

    # -- dispatch -----------------------------------------------------------------------------

    def _invoke(
        self,
        sender: Any,
        event: str,
        args: tuple[Any, ...],
        caller_state: str | None,
        where: tuple[str, int] | None = None,
    ) -> Any:
        """Dispatch ``event``: current state, then ``kernel.state()`` handlers, then ``_default``.

        Raises:
            UnhandledEvent: none of the three handles it (the kernel turns this into ``DIE``).
        """
        if self._options.get("trace"):
            _trace.log.info("%d -> %s", self._k_id, event)
        if event in _INTERNAL:
            self._internal_event(event, args)
            return None
        current = self._current
        handler = current.get(event) if current is not None else None
        if handler is None:
            handler = self._internals.get(event) or BUILTIN_HANDLERS.get(event)
            if handler is None:
                handler = current.get("_default") if current is not None else None
                if handler is None:
                    raise UnhandledEvent(self._unhandled_message(event, where))
                if self._options.get("trace"):
                    _trace.log.info(
                        "%d -> %s redirected to _default in state %r",
                        self._k_id,
                        event,
                        self._current_name,
                    )
                args = (event, args)
                event = "_default"
        file, line = (None, None) if where is None else where
        ctx = _tuple_new(
            NFAContext,
            (
                self._k_kernel,
                self,
                self.heap,
                event,
                sender,
                self._current_name,
                args,
                caller_state,
                file,
                line,
            ),
        )
        return handler(ctx, *args)

    def _unhandled_message(self, event: str, where: tuple[str, int] | None) -> str:
        origin = f" from {where[0]} at {where[1]}" if where is not None else ""
        return (
            f"a {event!r} event was sent{origin} to session {self._k_id}, but session "
            f"{self._k_id} has neither a handler for it nor one for _default in its current "
            f"state, {self._current_name!r}"
        )

    def _set_handler(self, event: str, handler: Handler | None) -> None:
        """``kernel.state()``: add/replace/remove a handler valid in every machine state.

        Raises:
            InvalidArgument: ``event`` is ``_signal`` or uses the reserved ``poe_nfa_`` prefix.
        """
        if event == "_signal":
            msg = "the _signal event is deprecated: use kernel.sig() to watch signals"
            raise InvalidArgument(msg)
        _check_not_reserved(event, "added with kernel.state()")
        if handler is None:
            self._internals.pop(event, None)
            return
        if self._options.get("debug") and event in self._internals:
            _trace.log.warning("machine %d: redefining handler for event %r", self._k_id, event)
        self._internals[event] = handler

    # -- postbacks ----------------------------------------------------------------------------

    def postback(self, event: str, *context: Any) -> Postback:
        """A callable that posts ``event`` here with ``(context, call_args)``.

        Keeps the machine alive until released or dropped (refcount tag ``postback``, POE::NFA's).
        """
        return _MachinePostback(self, event, context)

    def callback(self, event: str, *context: Any) -> Callback:
        """A callable that calls ``event`` here synchronously and returns the handler's value.

        As in POE::NFA (and unlike :meth:`Session.callback`), it does not keep the machine alive.
        """
        return _MachineCallback(self, event, context)


class _MachinePostback(Postback):
    __slots__ = ()

    _tag: ClassVar[str] = "postback"


class _MachineCallback(Callback):
    __slots__ = ()

    def __init__(self, session: SessionBase, event: str, context: tuple[Any, ...]) -> None:
        # Deliberately not Postback.__init__: no refcount is taken, so none is released.
        self.kernel = session.kernel
        self.session_id = session.ID
        self.event = event
        self.context = context
        self._finalizer = weakref.finalize(self, _hold_nothing, self.kernel, self.session_id, "")


def _hold_nothing(kernel: Kernel, session_id: int, tag: str) -> None:
    """Stands in for the refcount release a machine callback has no refcount for."""


def _arg(args: tuple[Any, ...], index: int) -> Any:
    return args[index] if len(args) > index else None


def _check_not_reserved(event: Any, where: str) -> None:
    if isinstance(event, str) and event.startswith(RESERVED_PREFIX):
        msg = f"event {event!r} {where} uses the prefix {RESERVED_PREFIX!r}, reserved for POE::NFA"
        raise InvalidArgument(msg)


def _add_inline_states(states: dict[str, dict[str, Handler]], inline: object) -> None:
    if not isinstance(inline, Mapping):
        msg = f"inline_states must be a mapping {{state: {{event: handler}}}}, not {inline!r}"
        raise InvalidArgument(msg)
    for state, table in inline.items():
        if not isinstance(table, Mapping):
            msg = f"the data for state {state!r} should be a mapping {{event: handler}}"
            raise InvalidArgument(msg)
        target = states.setdefault(state, {})
        for event, handler in table.items():
            if not callable(handler):
                msg = f"inline handler for event {event!r} in state {state!r} is not callable"
                raise InvalidArgument(msg)
            target[event] = handler


def _add_ref_states(states: dict[str, dict[str, Handler]], refs: object, param: str) -> None:
    if not isinstance(refs, Mapping):
        msg = f"{param} must be a mapping {{state: [(owner, events), ...]}}, not {refs!r}"
        raise InvalidArgument(msg)
    for state, entries in refs.items():
        if not isinstance(entries, (list, tuple)):
            msg = f"the data for state {state!r} should be a list of (owner, events) pairs"
            raise InvalidArgument(msg)
        target = states.setdefault(state, {})
        for entry in entries:
            if not isinstance(entry, (list, tuple)) or len(entry) != 2:
                msg = (
                    f"the array for state {state!r} must hold (owner, events) pairs, not {entry!r}"
                )
                raise InvalidArgument(msg)
            owner, events = entry
            if not isinstance(events, Mapping) and (
                isinstance(events, (str, bytes)) or not isinstance(events, Iterable)
            ):
                msg = (
                    f"events with {owner!r} for state {state!r} need to be a mapping "
                    f"{{event: method}} or a list of events, not {events!r}"
                )
                raise InvalidArgument(msg)
            _bind_states(owner, events, target)
