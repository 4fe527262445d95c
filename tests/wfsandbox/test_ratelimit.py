"""The leaky bucket of §2.5, on a fake clock."""

from __future__ import annotations

import pytest

from wfsandbox.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.ms = 1_700_000_000_000

    def __call__(self) -> int:
        return self.ms


def test_it_grants_a_burst_of_n_then_refuses():
    clock = Clock()
    limiter = RateLimiter(10, 5, clock=clock)
    assert [limiter.is_granted("r") for _ in range(7)] == [True] * 5 + [False] * 2


def test_it_drains_n_over_ten_per_second():
    clock = Clock()
    limiter = RateLimiter(10, 100, clock=clock)  # 10 requests per second
    assert all(limiter.is_granted("r") for _ in range(100))
    assert not limiter.is_granted("r")
    clock.ms += 100  # one request drained
    assert limiter.is_granted("r")
    assert not limiter.is_granted("r")
    clock.ms += 10_000
    assert sum(limiter.is_granted("r") for _ in range(200)) == 100


def test_keys_have_separate_buckets():
    limiter = RateLimiter(10, 1, clock=Clock())
    assert limiter.is_granted("a")
    assert not limiter.is_granted("a")
    assert limiter.is_granted("b")


def test_any_drain_lets_one_more_through_as_in_the_java_code():
    clock = Clock()
    limiter = RateLimiter(10, 10, clock=clock)  # drains one request per second
    assert all(limiter.is_granted("r") for _ in range(10))
    assert not limiter.is_granted("r")
    clock.ms += 1  # a thousandth of a request drained: below capacity again
    assert limiter.is_granted("r")
    clock.ms += 999
    assert not limiter.is_granted("r")  # refused, but its time is recorded
    clock.ms += 2
    assert limiter.is_granted("r")


def test_it_rejects_a_zero_limit():
    with pytest.raises(ValueError, match="positive"):
        RateLimiter(10, 0)
