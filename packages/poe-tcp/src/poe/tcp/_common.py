r"""What the server, the client and the UDP component share: argument checks and filter specs.

Every component takes its callbacks as keyword arguments and builds its sessions from them;
these helpers give every component the same rules and the same error messages:

* a filter is given as an instance (each connection gets its own :meth:`~poe.filter.Filter.clone`,
  as POE clones a filter object), or as a class or any zero-argument factory (called once per
  connection, e.g. ``functools.partial(LineFilter, literal=b"\r\n")``);
* a callback is any callable or None; anything else is an :class:`~poe.errors.InvalidArgument`
  at construction, not a ``TypeError`` at the first event;
* extra states (POE's ``InlineStates`` and friends) may not redefine a state the component
  owns, because the component would silently stop working.
"""

from __future__ import annotations

import inspect
import socket
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final, TypeAlias

from poe.errors import InvalidArgument
from poe.filter import Filter, LineFilter

if TYPE_CHECKING:
    from poe.session import Context

FilterSpec: TypeAlias = "Filter[Any, Any] | Callable[[], Filter[Any, Any]]"
"""A filter instance (cloned per connection) or a zero-argument factory (called per connection)."""

Callback: TypeAlias = "Callable[..., Any]"
"""A handler in poe's convention: ``callback(ctx, *args)``."""


def make_filter(spec: FilterSpec | None, name: str) -> Filter[Any, Any]:
    """A fresh filter from ``spec``: a clone of an instance, a factory's product, or a LineFilter.

    Raises:
        InvalidArgument: ``spec`` is neither a filter nor a callable that returns one.
    """
    if spec is None:
        return LineFilter()
    if _is_filter(spec):
        return spec.clone()  # type: ignore[union-attr]
    if callable(spec):
        made = spec()
        if _is_filter(made):
            return made
        msg = f"{name}: the factory returned {made!r}, not a filter"
        raise InvalidArgument(msg)
    msg = f"{name} must be a filter instance or a zero-argument factory, not {spec!r}"
    raise InvalidArgument(msg)


def check_filter(spec: FilterSpec | None, name: str) -> FilterSpec | None:
    """``spec`` if it is usable, checked once at construction by building (and dropping) one."""
    if spec is not None:
        make_filter(spec, name)
    return spec


def wheel_filters(
    both: FilterSpec | None,
    input_only: FilterSpec | None,
    output_only: FilterSpec | None,
    names: tuple[str, str, str],
) -> dict[str, Any]:
    """One connection's filter arguments for :class:`~poe.wheel.ReadWriteWheel`.

    ``filter=`` made from ``both``, or, when either direction has a spec of its own,
    ``input_filter=`` and ``output_filter=`` (each falling back to ``both``). ``names``: the
    three arguments' names, for the messages.
    """
    both_name, input_name, output_name = names
    if input_only is None and output_only is None:
        return {"filter": make_filter(both, both_name)}
    return {
        "input_filter": make_filter(input_only or both, input_name),
        "output_filter": make_filter(output_only or both, output_name),
    }


def wheel_marks(
    high: int | None, low: int | None, high_event: str, low_event: str
) -> dict[str, Any]:
    """One connection's watermark arguments for :class:`~poe.wheel.ReadWriteWheel` (or none)."""
    if high is None:
        return {}
    return {"high_mark": high, "low_mark": low, "high_event": high_event, "low_event": low_event}


def _is_filter(value: object) -> bool:
    return not isinstance(value, type) and all(
        callable(getattr(value, attr, None))
        for attr in ("get_one_start", "get_one", "put", "clone")
    )


def check_callback(value: object, name: str) -> Callback | None:
    """``value`` if it is None or callable; InvalidArgument otherwise."""
    if value is not None and not callable(value):
        msg = f"{name} must be callable or None, not {value!r}"
        raise InvalidArgument(msg)
    return value


def check_watermarks(
    high: object, low: object, on_high: object, on_low: object, names: tuple[str, str, str, str]
) -> tuple[int | None, int | None]:
    """Check output watermarks and return ``(high, low)``.

    Both or neither, ints with ``1 <= low < high`` (``low`` is at least 1 because the wheel's
    low event fires at or below it); the two callbacks only with them. ``names``: the four
    arguments' names, for the messages.
    """
    high_name, low_name, high_cb, low_cb = names
    if (high is None) != (low is None):
        msg = f"{high_name} and {low_name} go together: give both or neither"
        raise InvalidArgument(msg)
    if high is None or low is None:
        if on_high is not None or on_low is not None:
            msg = f"{high_cb} and {low_cb} need {high_name} and {low_name}"
            raise InvalidArgument(msg)
        return None, None
    low_mark = check_int(low, low_name, 1)
    high_mark = check_int(high, high_name, 2)
    if not low_mark < high_mark:
        msg = f"{low_name} must be below {high_name}, got {low_name}={low} {high_name}={high}"
        raise InvalidArgument(msg)
    return high_mark, low_mark


def check_int(value: object, name: str, low: int, high: int | None = None) -> int:
    """``value`` if it is an int (not a bool) in ``low..high``; InvalidArgument otherwise."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < low
        or (high is not None and value > high)
    ):
        bounds = f">= {low}" if high is None else f"in {low}..{high}"
        msg = f"{name} must be an int {bounds}, not {value!r}"
        raise InvalidArgument(msg)
    return value


#: The socket families the components speak.
DOMAINS: Final = (socket.AF_INET, socket.AF_INET6, socket.AF_UNIX)


def check_domain(domain: object, component: str) -> int:
    """``domain`` if it is one of :data:`DOMAINS`; InvalidArgument otherwise."""
    if domain not in DOMAINS:
        msg = f"{component}: domain must be socket.AF_INET, AF_INET6 or AF_UNIX, not {domain!r}"
        raise InvalidArgument(msg)
    assert isinstance(domain, int)
    return domain


def ignore(ctx: Context, *args: Any) -> None:
    """A handler that does nothing (POE's ``sub { }``)."""


def merge_states(
    owned: Mapping[str, Callback],
    extra: Mapping[str, Callback] | None,
    component: str,
) -> dict[str, Callback]:
    """The component's states plus the user's ``inline_states``, which may not replace one.

    Raises:
        InvalidArgument: an extra state has the name of a state the component defines.
    """
    states = dict(owned)
    for event, handler in (extra or {}).items():
        if event in states:
            msg = f"{component}: inline_states may not redefine {event!r}, which it handles itself"
            raise InvalidArgument(msg)
        check_callback(handler, f"inline_states[{event!r}]")
        states[event] = handler
    return states


def check_reserved(
    object_states: Iterable[tuple[Any, Mapping[str, str] | Iterable[str]]],
    owned: Iterable[str],
    component: str,
) -> tuple[tuple[Any, Mapping[str, str] | Iterable[str]], ...]:
    """``object_states`` / ``package_states`` as a tuple, refusing events the component owns."""
    specs = tuple(
        (obj, events if isinstance(events, Mapping) else tuple(events))
        for obj, events in object_states
    )
    reserved = set(owned)
    for _obj, events in specs:
        clash = reserved.intersection(events)
        if clash:
            msg = f"{component}: object/package states may not redefine {sorted(clash)}"
            raise InvalidArgument(msg)
    return specs


def check_alias(value: object, component: str) -> str | None:
    """``value`` if it is None or a non-empty string (a session alias); InvalidArgument otherwise."""
    if value is not None and (not isinstance(value, str) or not value):
        msg = f"{component}: alias must be a non-empty string, not {value!r}"
        raise InvalidArgument(msg)
    return value


def check_args(value: object, name: str) -> tuple[Any, ...]:
    """``value`` (handler arguments such as POE's ``Args``) as a tuple; a str is refused."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        msg = f"{name} must be a sequence of arguments, not {value!r}"
        raise InvalidArgument(msg)
    return tuple(value)


def input_handler(callback: Callback | None, name: str) -> Callback:
    """``callback`` itself if it takes ``(ctx, record, wheel_id)``, else a 2-argument adapter.

    The wheel calls its input handler with ``(ctx, record, wheel_id)`` (POE's ``ARG0``,
    ``ARG1``); registering the user's function as that handler saves a call per record, so it
    is done whenever the signature allows. ``callback(ctx, record)`` gets a small adapter.

    Raises:
        InvalidArgument: ``callback`` takes neither form.
    """
    assert callback is not None
    try:
        signature = inspect.signature(callback)
    except (TypeError, ValueError):
        return callback  # a builtin or similar: trust it takes what POE passes
    try:
        signature.bind(None, None, None)
    except TypeError:
        pass
    else:
        return callback
    try:
        signature.bind(None, None)
    except TypeError:
        msg = f"{name} must accept (ctx, record) or (ctx, record, wheel_id): {callback!r}"
        raise InvalidArgument(msg) from None
    two_arguments: Callable[[Context, Any], Any] = callback

    def adapter(ctx: Context, record: Any, wheel_id: int) -> Any:
        return two_arguments(ctx, record)

    return adapter
