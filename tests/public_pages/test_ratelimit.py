"""The token bucket behind the status lookups' rate limit, on a clock the test moves."""

from __future__ import annotations

import pytest

from public_pages.ratelimit import TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_one_token_per_interval() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=0.5, burst=3, clock=clock)
    assert [bucket.take("a") for _ in range(3)] == [0, 0, 0]
    assert bucket.take("a") == pytest.approx(2.0), "one token every two seconds"
    clock.now += 1.0
    assert bucket.take("a") == pytest.approx(1.0), "a refused request spends nothing"
    clock.now += 1.0
    assert bucket.take("a") == 0
    assert bucket.take("b") == 0, "each key has its own bucket"


def test_a_bucket_refills_only_up_to_its_burst() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=1.0, burst=2, clock=clock)
    bucket.take("a")
    clock.now += 3600
    assert [bucket.take("a") > 0 for _ in range(3)] == [False, False, True]


def test_memory_stays_bounded_by_forgetting_the_least_recently_seen() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=0.001, burst=1, max_keys=2, clock=clock)
    bucket.take("old")
    bucket.take("recent")
    assert bucket.take("old") > 0  # "old" is now the most recently seen
    bucket.take("new")  # forgets "recent"
    assert bucket.take("old") > 0, "a key still remembered keeps its empty bucket"
    assert bucket.take("recent") == 0, "a forgotten key starts full, as a new one would"
