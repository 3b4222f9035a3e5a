"""Record transformation (port of POE::Filter::Map).

Input is record-oriented: each chunk given to :meth:`MapFilter.get_one_start` is one record.
Deviation from POE: the function maps one record to exactly one record (POE's coderef returns
a list, so its ``get_one`` can return several records or none, breaking the zero-or-one
contract). Drop records with :class:`~poe.filter.grep.GrepFilter` in a stack instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic

from poe.filter._base import InT, OutT
from poe.filter._functions import FunctionFilter

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable


__all__ = ["MapFilter"]


class MapFilter(FunctionFilter[InT, OutT], Generic[InT, OutT]):
    """Apply a function to every record, in each direction.

    Args:
        code: function for both directions.
        get: input function ``InT -> OutT`` (with ``put``; ignored when ``code`` is given).
        put: output function ``OutT -> InT``.

    Raises:
        InvalidArgument: neither ``code`` nor both ``get`` and ``put``, or a non-callable.
    """

    __slots__ = ()

    def __init__(
        self,
        *,
        code: Callable[[Any], Any] | None = None,
        get: Callable[[InT], OutT] | None = None,
        put: Callable[[OutT], InT] | None = None,
    ) -> None:
        super().__init__(code=code, get=get, put=put)

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
        self._modify(code, get, put)

    def get_one(self) -> list[OutT]:
        """Return the next buffered record, transformed, or ``[]``."""
        if not self._buffer:
            return []
        return [self._get(self._buffer.popleft())]

    def put(self, records: Iterable[OutT]) -> list[InT]:
        """Return the records transformed by the ``put`` function."""
        fn = self._put
        return [fn(record) for record in records]
