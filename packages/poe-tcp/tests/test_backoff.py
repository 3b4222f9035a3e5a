from __future__ import annotations

import random
from typing import Any

import pytest

from poe.errors import InvalidArgument
from poe.tcp import Backoff


def test_grows_geometrically_to_the_cap_without_jitter() -> None:
    backoff = Backoff(initial=0.5, maximum=5.0, factor=2.0, jitter=0)
    assert [backoff.next() for _ in range(7)] == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0, 5.0]
    assert backoff.attempts == 7


def test_reset_starts_again() -> None:
    backoff = Backoff(initial=1.0, maximum=10.0, factor=3.0, jitter=0)
    backoff.next()
    backoff.next()
    backoff.reset()
    assert backoff.attempts == 0
    assert backoff.next() == 1.0


def test_defaults() -> None:
    backoff = Backoff(rng=random.Random(1))
    first = backoff.next()
    assert 0.45 <= first <= 0.55
    assert (backoff.initial, backoff.maximum, backoff.factor, backoff.jitter) == (
        0.5,
        30.0,
        2.0,
        0.1,
    )
    assert "attempts=1" in repr(backoff)


def test_jitter_stays_within_its_fraction_and_under_the_cap() -> None:
    backoff = Backoff(initial=1.0, maximum=8.0, factor=2.0, jitter=0.25, rng=random.Random(7))
    bases = [1.0, 2.0, 4.0, 8.0, 8.0, 8.0, 8.0, 8.0]
    delays = [backoff.next() for _ in bases]
    for base, delay in zip(bases, delays, strict=True):
        assert base * 0.75 <= delay <= min(8.0, base * 1.25)
    assert len(set(delays)) > 1  # it does vary


def test_a_seeded_rng_makes_jitter_reproducible() -> None:
    one = Backoff(jitter=0.5, rng=random.Random(42))
    two = Backoff(jitter=0.5, rng=random.Random(42))
    assert [one.next() for _ in range(10)] == [two.next() for _ in range(10)]


def test_a_long_outage_does_not_overflow() -> None:
    backoff = Backoff(initial=1.0, maximum=60.0, factor=10.0, jitter=0)
    for _ in range(5000):
        delay = backoff.next()
    assert delay == 60.0


def test_factor_one_is_constant() -> None:
    backoff = Backoff(initial=2.0, maximum=2.0, factor=1.0, jitter=0)
    assert {backoff.next() for _ in range(5)} == {2.0}


@pytest.mark.parametrize(
    "options",
    [
        {"initial": -1},
        {"initial": 5, "maximum": 1},
        {"factor": 0.5},
        {"jitter": -0.1},
        {"jitter": 1.5},
        {"initial": "1"},
        {"maximum": True},
        {"rng": 3},
    ],
)
def test_argument_validation(options: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgument):
        Backoff(**options)
