"""The benchmark's statistics: nearest-rank percentiles."""

from __future__ import annotations

import pytest

from bench._stats import percentile

pytestmark = pytest.mark.unit


def test_percentile_is_nearest_rank():
    values = list(range(1, 101))
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile([3.0], 99) == 3.0
