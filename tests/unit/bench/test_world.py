"""The benchmark's world: resident ids that are valid and distinct."""

from __future__ import annotations

import pytest

from bench._world import resident_id
from ledger.identity import normalize_id

pytestmark = pytest.mark.unit


def test_bench_resident_ids_are_valid_and_distinct():
    ids = [resident_id(i) for i in (0, 1, 999, 1000, 100_000, 123_456)]
    assert len(set(ids)) == len(ids)
    for value in ids:
        assert normalize_id("resident_id", value) == value
