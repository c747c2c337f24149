"""The rate limiter's bounds: bursts, the bounded key table, rate zero."""

from __future__ import annotations

import time

import pytest

from api.core.ratelimit import RateLimiter

pytestmark = pytest.mark.unit


# -- rate limiter ------------------------------------------------------------------------------------
def test_limiter_admits_a_burst_then_says_how_long_to_wait():
    limiter = RateLimiter(rate=10, burst=5)
    assert [limiter.take("a") for _ in range(5)] == [0.0] * 5
    wait = limiter.take("a")
    assert 0 < wait <= 0.1
    assert limiter.take("b") == 0.0  # per key
    time.sleep(0.15)
    assert limiter.take("a") == 0.0


def test_limiter_table_is_bounded():
    limiter = RateLimiter(rate=1, burst=1, max_keys=100)
    for i in range(10_000):
        limiter.take(f"k{i}")
    assert len(limiter) == 100
    assert limiter.take("k9999") > 0  # the most recent keys are the ones kept


def test_rate_zero_disables_the_limiter():
    limiter = RateLimiter(rate=0, burst=0)
    assert all(limiter.take("a") == 0.0 for _ in range(1000)) and len(limiter) == 0
