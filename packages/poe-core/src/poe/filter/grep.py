"""Record selection by predicate (port of POE::Filter::Grep).

Input is record-oriented: each chunk given to :meth:`GrepFilter.get_one_start` is one record.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from poe.filter._functions import FunctionFilter

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable


__all__ = ["GrepFilter"]

T = TypeVar("T")


class GrepFilter(FunctionFilter[T, T]):
    """Keep the records for which a predicate is true.

    Args:
        code: predicate for both directions.
        get: predicate for input (with ``put``; ignored when ``code`` is given).
        put: predicate for output.

    Raises:
        InvalidArgument: neither ``code`` nor both ``get`` and ``put``, or a non-callable.
    """

    __slots__ = ()

    def __init__(
        self,
        *,
        code: Callable[[T], object] | None = None,
        get: Callable[[T], object] | None = None,
        put: Callable[[T], object] | None = None,
    ) -> None:
        super().__init__(code=code, get=get, put=put)

    def modify(
        self,
        *,
        code: Callable[[T], object] | None = None,
        get: Callable[[T], object] | None = None,
        put: Callable[[T], object] | None = None,
    ) -> None:
        """Replace predicates: ``code`` replaces both, then ``get`` and ``put`` apply.

        Raises:
            InvalidArgument: a given predicate is not callable (POE only carps).
        """
        self._modify(code, get, put)

    def get_one(self) -> list[T]:
        """Return the next buffered record the ``get`` predicate accepts, or ``[]``."""
        buffer, keep = self._buffer, self._get
        while buffer:
            record = buffer.popleft()
            if keep(record):
                return [record]
        return []

    def put(self, records: Iterable[T]) -> list[T]:
        """Return the records the ``put`` predicate accepts."""
        keep = self._put
        return [record for record in records if keep(record)]
