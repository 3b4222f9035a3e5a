"""Record selection by predicate (port of POE::Filter::Grep).

Input is record-oriented: each chunk given to :meth:`GrepFilter.get_one_start` is one record.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any, TypeVar

from poe.errors import InvalidArgument
from poe.filter._base import FilterBase

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from typing_extensions import Self

__all__ = ["GrepFilter"]

T = TypeVar("T")


def check_callables(**functions: object) -> None:
    """Refuse a given (not ``None``) argument that is not callable (POE croaks or carps)."""
    for name, value in functions.items():
        if value is not None and not callable(value):
            msg = f"{name} must be callable, not {value!r}"
            raise InvalidArgument(msg)


def _resolve(
    code: Callable[[Any], object] | None,
    get: Callable[[Any], object] | None,
    put: Callable[[Any], object] | None,
) -> tuple[Callable[[Any], object], Callable[[Any], object]]:
    """Return ``(get, put)`` from POE's ``Code`` or ``Get`` + ``Put`` arguments."""
    check_callables(code=code, get=get, put=put)
    if code is not None:
        return code, code
    if get is None or put is None:
        msg = "requires code, or both get and put"
        raise InvalidArgument(msg)
    return get, put


class GrepFilter(FilterBase[T, T]):
    """Keep the records for which a predicate is true.

    Args:
        code: predicate for both directions.
        get: predicate for input (with ``put``; ignored when ``code`` is given).
        put: predicate for output.

    Raises:
        InvalidArgument: neither ``code`` nor both ``get`` and ``put``, or a non-callable.
    """

    __slots__ = ("_buffer", "_get", "_put")

    def __init__(
        self,
        *,
        code: Callable[[T], object] | None = None,
        get: Callable[[T], object] | None = None,
        put: Callable[[T], object] | None = None,
    ) -> None:
        self._get, self._put = _resolve(code, get, put)
        self._buffer: deque[T] = deque()

    def clone(self) -> Self:
        """Return a filter with the same predicates and an empty buffer."""
        return type(self)(get=self._get, put=self._put)

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
        check_callables(code=code, get=get, put=put)
        if code is not None:
            self._get = self._put = code
        if get is not None:
            self._get = get
        if put is not None:
            self._put = put

    def get_one_start(self, chunks: Iterable[T]) -> None:
        """Buffer input records."""
        self._buffer.extend(chunks)

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

    def get_pending(self) -> list[T] | None:
        """Return the records not yet examined, or ``None``."""
        return list(self._buffer) if self._buffer else None
