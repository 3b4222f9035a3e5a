"""Conformance check for filters (port of POE's t/10_units/05_filters/TestFilter.pm).

:func:`check_filter` asserts the properties every filter must have, so a new filter (in poe or
in a third-party component) gets the same scrutiny as the core ones.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from poe.filter import Filter

__all__ = ["check_filter", "chunkings"]


def chunkings(
    stream: bytes | Sequence[Any], *, seed: int = 0, random_rounds: int = 5
) -> list[list[Any]]:
    """Return ways to cut ``stream`` into chunks: whole, 1 item, 2 items, then random sizes.

    A ``bytes`` stream is cut into ``bytes`` pieces; any other sequence (records, for the
    record-oriented filters) into lists of its items, each list being one ``get`` call.
    """
    cuts: list[list[int]] = [[len(stream)], [1] * len(stream)]
    cuts.append([2] * (len(stream) // 2) + [1] * (len(stream) % 2))
    rng = random.Random(seed)
    for _ in range(random_rounds):
        sizes, left = [], len(stream)
        while left > 0:
            size = rng.randint(1, max(1, min(left, 7)))
            sizes.append(size)
            left -= size
        cuts.append(sizes)
    result: list[list[Any]] = []
    for sizes in cuts:
        pieces: list[Any] = []
        offset = 0
        for size in sizes:
            piece = stream[offset : offset + size]
            pieces.append(piece if isinstance(stream, bytes) else list(piece))
            offset += size
        result.append(pieces)
    return result


def _as_chunks(stream: bytes | Sequence[Any]) -> list[Any]:
    return [stream] if isinstance(stream, bytes) else list(stream)


def check_filter(
    filt: Filter[Any, Any],
    stream: bytes | Sequence[Any],
    expected_records: Sequence[Any],
    *,
    join: Callable[[list[Any]], Any] | None = None,
    roundtrip: bool = True,
    seed: int = 0,
) -> None:
    """Assert that ``filt`` parses ``stream`` into ``expected_records`` however it is fed.

    Checked, each on a fresh :meth:`~poe.filter.Filter.clone` so ``filt`` itself is untouched:

    * ``get(stream)`` returns ``expected_records``;
    * ``get_one_start`` then a ``get_one`` loop agrees, and each ``get_one`` returns at most
      one record (POE's lazy contract);
    * every chunking (whole, one item at a time, two, random) agrees, whether each chunk is
      given to ``get`` or to ``get_one_start`` plus a ``get_one`` loop;
    * with ``roundtrip``, ``get(put(expected_records)) == expected_records``;
    * a clone of a filter holding partial input starts empty and parses the stream alike.

    Args:
        filt: the filter under test (only cloned, never fed).
        stream: raw input (``bytes``) or, for record-oriented filters, a sequence of records.
        expected_records: what the whole stream must parse into.
        join: compare ``join(records)`` instead of the lists, for filters whose record
            boundaries depend on chunking (``StreamFilter``: ``b"".join``).
        roundtrip: also check ``put`` then ``get``.
        seed: seed of the random chunkings.

    Raises:
        AssertionError: a property does not hold; the message names it.
    """
    norm: Callable[[list[Any]], Any] = join if join is not None else list
    want = norm(list(expected_records))

    fresh = filt.clone()
    pending = fresh.get_pending()
    assert not pending, f"clone() of the filter is not empty: {pending!r}"
    got = fresh.get(_as_chunks(stream))
    assert norm(got) == want, f"get(stream) returned {got!r}, expected {want!r}"

    lazy = filt.clone()
    lazy.get_one_start(_as_chunks(stream))
    records = _drain(lazy)
    assert norm(records) == want, f"get_one loop returned {records!r}, expected {want!r}"

    for pieces in chunkings(stream, seed=seed):
        greedy, stepwise = filt.clone(), filt.clone()
        by_get: list[Any] = []
        by_one: list[Any] = []
        for piece in pieces:
            by_get.extend(greedy.get([piece] if isinstance(stream, bytes) else piece))
            stepwise.get_one_start([piece] if isinstance(stream, bytes) else piece)
            by_one.extend(_drain(stepwise))
        sizes = [len(p) for p in pieces]
        assert norm(by_get) == want, f"get() per chunk {sizes} returned {by_get!r}"
        assert norm(by_one) == want, f"get_one() per chunk {sizes} returned {by_one!r}"

    if roundtrip:
        writer, reader = filt.clone(), filt.clone()
        back = reader.get(writer.put(list(expected_records)))
        assert norm(back) == want, f"get(put(records)) returned {back!r}, expected {want!r}"

    if len(stream) > 1:
        partial = filt.clone()
        partial.get_one_start(_as_chunks(stream[:1]))
        twin = partial.clone()
        pending = twin.get_pending()
        assert not pending, f"clone() kept buffered input: {pending!r}"
        again = twin.get(_as_chunks(stream))
        assert norm(again) == want, f"clone() parses differently: {again!r}"


def _drain(filt: Filter[Any, Any]) -> list[Any]:
    records: list[Any] = []
    while True:
        one = filt.get_one()
        assert len(one) <= 1, f"get_one() returned {len(one)} records: {one!r}"
        if not one:
            return records
        records.extend(one)
