"""Record transformation (port of POE::Filter::Map).

Input is record-oriented: each chunk given to :meth:`MapFilter.get_one_start` is one record.
Deviation from POE: the function maps one record to exactly one record (POE's coderef returns
a list, so its ``get_one`` can return several records or none, breaking the zero-or-one
contract). Drop records with :class:`~poe.filter.grep.GrepFilter` in a stack instead.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any, Generic

from poe.errors import InvalidArgument
from poe.filter._base import FilterBase, InT, OutT
from poe.filter.grep import check_callables

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from typing_extensions import Self

__all__ = ["MapFilter"]


class MapFilter(FilterBase[InT, OutT], Generic[InT, OutT]):
    """Apply a function to every record, in each direction.

    Args:
        code: function for both directions.
        get: input function ``InT -> OutT`` (with ``put``; ignored when ``code`` is given).
        put: output function ``OutT -> InT``.

    Raises:
        InvalidArgument: neither ``code`` nor both ``get`` and ``put``, or a non-callable.
    """

    __slots__ = ("_buffer", "_get", "_put")

    def __init__(
        self,
        *,
        code: Callable[[Any], Any] | None = None,
        get: Callable[[InT], OutT] | None = None,
        put: Callable[[OutT], InT] | None = None,
    ) -> None:
        check_callables(code=code, get=get, put=put)
        if code is not None:
            get = put = code
        if get is None or put is None:
            msg = "requires code, or both get and put"
            raise InvalidArgument(msg)
        self._get: Callable[[InT], OutT] = get
        self._put: Callable[[OutT], InT] = put
        self._buffer: deque[InT] = deque()

    def clone(self) -> Self:
        """Return a filter with the same functions and an empty buffer."""
        return type(self)(get=self._get, put=self._put)

    def modify(
        self,
        *,
        code: Callable[[Any], Any] | None = None,
        get: Callable[[InT], OutT] | None = None,
        put: Callable[[OutT], InT] | None = None,
    ) -> None:
        """Replace functions; ``code`` replaces both, then ``get``/``put`` apply.

        Raises:
            InvalidArgument: a given function is not callable (POE only carps).
        """
        check_callables(code=code, get=get, put=put)
        if code is not None:
            self._get = self._put = code
        if get is not None:
            self._get = get
        if put is not None:
            self._put = put

    def get_one_start(self, chunks: Iterable[InT]) -> None:
        """Buffer input records."""
        self._buffer.extend(chunks)

    def get_one(self) -> list[OutT]:
        """Return the next buffered record, transformed, or ``[]``."""
        if not self._buffer:
            return []
        return [self._get(self._buffer.popleft())]

    def put(self, records: Iterable[OutT]) -> list[InT]:
        """Return the records transformed by the ``put`` function."""
        fn = self._put
        return [fn(record) for record in records]

    def get_pending(self) -> list[InT] | None:
        """Return the records not yet transformed, or ``None``."""
        return list(self._buffer) if self._buffer else None
