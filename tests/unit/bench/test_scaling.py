"""The benchmark's scaling figures: growth against log n, the release decision at a consent count.

Benchmarks are not tests: nothing here asserts on timing, only that the pieces compute what
the report claims they compute.
"""

from __future__ import annotations

import pytest
from eth_utils import to_checksum_address

from bench._scaling import decision_at, growth

pytestmark = pytest.mark.unit
DEPT = to_checksum_address("0x7b9b7b7868bc294a77339c1920b9918ed895003d")


def test_growth_against_log_n():
    flat = growth([{"n": 10_000, "c": 10.0}, {"n": 1_000_000, "c": 11.0}], "n", "c")
    assert flat["within_log_n"] and flat["log_n_ratio"] == 1.5
    linear = growth([{"n": 10_000, "c": 10.0}, {"n": 1_000_000, "c": 1000.0}], "n", "c")
    assert not linear["within_log_n"]


def test_release_decision_scaling_allows_every_sample():
    point = decision_at(200, DEPT, samples=500)
    assert point["consents"] == 200 and point["decision_us"] > 0
