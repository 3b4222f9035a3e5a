"""The shared part of the filters configured by functions (Grep and Map).

POE's Filter::Grep and Filter::Map take the same arguments: ``Code`` for both directions, or
``Get`` and ``Put``; ``modify`` replaces them; input is record-oriented, one record per chunk.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from poe.errors import InvalidArgument
from poe.filter._base import FilterBase, InT, OutT

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from typing_extensions import Self

__all__ = ["FunctionFilter", "check_callables"]


def check_callables(**functions: object) -> None:
    """Refuse a given (not ``None``) argument that is not callable (POE croaks or carps)."""
    for name, value in functions.items():
        if value is not None and not callable(value):
            msg = f"{name} must be callable, not {value!r}"
            raise InvalidArgument(msg)


class FunctionFilter(FilterBase[InT, OutT]):
    """Buffer input records; hold a ``get`` and a ``put`` function (POE's Code/Get/Put).

    Raises:
        InvalidArgument: neither ``code`` nor both ``get`` and ``put``, or a non-callable.
    """

    __slots__ = ("_buffer", "_get", "_put")

    def __init__(
        self,
        *,
        code: Callable[[Any], Any] | None = None,
        get: Callable[[Any], Any] | None = None,
        put: Callable[[Any], Any] | None = None,
    ) -> None:
        check_callables(code=code, get=get, put=put)
        if code is not None:
            get = put = code
        if get is None or put is None:
            msg = "requires code, or both get and put"
            raise InvalidArgument(msg)
        self._get: Callable[[Any], Any] = get
        self._put: Callable[[Any], Any] = put
        self._buffer: deque[InT] = deque()

    def clone(self) -> Self:
        """Return a filter with the same functions and an empty buffer."""
        return type(self)(get=self._get, put=self._put)

    def _modify(
        self,
        code: Callable[[Any], Any] | None,
        get: Callable[[Any], Any] | None,
        put: Callable[[Any], Any] | None,
    ) -> None:
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

    def get_pending(self) -> list[InT] | None:
        """Return the records not yet examined, or ``None``."""
        return list(self._buffer) if self._buffer else None
