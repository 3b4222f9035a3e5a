"""A chain of filters used as one (port of POE::Filter::Stackable).

Input flows from the first filter to the last, output from the last to the first. The first
filter's input type is the stack's (``bytes`` under a wheel), the last filter's output type is
the stack's records.

Deviations from POE, all so that switching filters loses nothing:

* :meth:`StackableFilter.get_pending` returns every stage's unconsumed input re-serialized into
  the first stage's input type: each upper stage's pending records are ``put`` through the
  stages below it, upper stages first because their data arrived first. POE pushes each stage's
  pending into the next stage's ``put`` and throws the result away.
* :meth:`StackableFilter.shift` feeds the removed filter's pending input to the new first filter
  with ``get_one_start``; :meth:`StackableFilter.pop` keeps the removed filter's pending input
  (records of the new last filter's output type) and returns them first from ``get_one``. POE
  passes both to the neighbour's ``put``, which loses them.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from poe.errors import InvalidArgument
from poe.filter._base import FilterBase, _octets, pending_octets

if TYPE_CHECKING:
    from collections.abc import Iterable

    from typing_extensions import Self

    from poe.filter._base import Filter

__all__ = ["StackableFilter"]

_METHODS = ("get_one_start", "get_one", "get", "put", "get_pending", "clone")


def _check(filters: Iterable[object]) -> list[Filter[Any, Any]]:
    """Return ``filters`` as a list, refusing anything without the filter methods."""
    checked: list[Filter[Any, Any]] = []
    for item in filters:
        if not all(callable(getattr(item, name, None)) for name in _METHODS):
            msg = f"filter element is not a filter: {item!r}"
            raise InvalidArgument(msg)
        checked.append(item)  # type: ignore[arg-type]  # shape checked just above
    return checked


class StackableFilter(FilterBase[Any, Any]):
    """Combine filters: ``filters[0]`` parses raw input, ``filters[-1]`` yields records.

    Args:
        filters: the chain, lowest first; may be empty (then nothing comes out).

    Raises:
        InvalidArgument: an element is not a filter (POE croaks).
    """

    __slots__ = ("_filters", "_ready")

    def __init__(self, filters: Iterable[Filter[Any, Any]] = ()) -> None:
        self._filters = _check(filters)
        self._ready: deque[Any] = deque()

    def clone(self) -> Self:
        """Return a stack of clones of each filter (so all buffers start empty)."""
        return type(self)([f.clone() for f in self._filters])

    def filters(self) -> list[Filter[Any, Any]]:
        """Return the filters, lowest first (a new list)."""
        return list(self._filters)

    def filter_types(self) -> list[type]:
        """Return the class of each filter, lowest first (POE returns class names)."""
        return [type(f) for f in self._filters]

    def push(self, *filters: Filter[Any, Any]) -> None:
        """Add filters on top (the output end)."""
        self._filters.extend(_check(filters))

    def unshift(self, *filters: Filter[Any, Any]) -> None:
        """Add filters at the bottom (the raw-input end), in the given order."""
        self._filters[:0] = _check(filters)

    def shift(self) -> Filter[Any, Any]:
        """Remove and return the lowest filter; its pending raw input moves to the new lowest.

        Raises:
            IndexError: the stack is empty.
        """
        removed = self._filters.pop(0)
        pending = removed.get_pending()
        if pending and self._filters:
            self._filters[0].get_one_start(pending)
        return removed

    def pop(self) -> Filter[Any, Any]:
        """Remove and return the top filter; its pending input is returned by later ``get_one``.

        Raises:
            IndexError: the stack is empty.
        """
        removed = self._filters.pop()
        pending = removed.get_pending()
        if pending:
            self._ready.extend(pending)
        return removed

    def get_one_start(self, chunks: Iterable[Any]) -> None:
        """Give raw chunks to the lowest filter."""
        if self._filters:
            self._filters[0].get_one_start(chunks)
        else:
            self._ready.extend(chunks)

    def get_one(self) -> list[Any]:
        """Pull data up the chain until a record leaves the top filter, or nothing moves."""
        if self._ready:
            return [self._ready.popleft()]
        result: list[Any] = []
        while not result:
            exchanged = False
            for stage in self._filters:
                if result:
                    stage.get_one_start(result)
                    exchanged = True
                result = stage.get_one()
            if not exchanged:
                break
        return result

    def put(self, records: Iterable[Any]) -> list[Any]:
        """Serialize records down the chain, stopping early if a stage returns nothing."""
        data: list[Any] = list(records)
        for stage in reversed(self._filters):
            data = stage.put(data)
            if not data:
                break
        return data

    def pending_octets(self) -> int:
        """Return the octets every stage holds unparsed, plus the records ready at the top.

        Unlike :meth:`get_pending` nothing is re-serialized, so a stage's records count their
        own length (a line without its terminator): cheap enough to ask after every read.
        """
        ready = sum(_octets(item) for item in self._ready)
        return ready + sum(map(pending_octets, self._filters))

    def get_pending(self) -> list[Any]:
        """Return all unconsumed input, re-serialized for the lowest filter (``[]`` if none).

        Like POE, an empty result is ``[]`` rather than ``None``.
        """
        pending: list[Any] = []
        if self._ready:
            pending.extend(self._put_below(len(self._filters), list(self._ready)))
        for index in range(len(self._filters) - 1, -1, -1):
            stage_pending = self._filters[index].get_pending()
            if stage_pending:
                pending.extend(self._put_below(index, stage_pending))
        return pending

    def _put_below(self, index: int, data: list[Any]) -> list[Any]:
        """Serialize ``data`` (input of stage ``index``) through the stages below it."""
        for stage in reversed(self._filters[:index]):
            if not data:
                break
            data = stage.put(data)
        return data
