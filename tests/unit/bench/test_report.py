"""The benchmark's report: targets met, missed and not measured; every section rendered.

Benchmarks are not tests: nothing here asserts on timing, only that the pieces compute what
the report claims they compute.
"""

from __future__ import annotations

import json

import pytest

from bench._report import evaluate_targets, gap, render_markdown

pytestmark = pytest.mark.unit


def test_targets_met_missed_and_gaps():
    results = {"release": {"c1": {"p50_ms": 2.5}, "c16": {"p99_ms": 50.0}, "peak_rps": 500.0,
                           "ratio_vs_naive": 30.0, "naive_rps": 16.0},
               "revocation": {"stale_releases": 0, "requests_to_first_denial": 1},
               "grants": {"gas_single": 95_000}}
    by_figure = {t["figure"]: t for t in evaluate_targets(results)}
    assert by_figure["release.c1.p50_ms"]["met"] is True
    assert by_figure["release.c16.p99_ms"]["met"] is False and by_figure["release.c16.p99_ms"]["gap"] == "2.0x over"
    assert by_figure["release.peak_rps"]["gap"] == "2.0x short (50% of target)"
    assert by_figure["release.peak_rps"]["baseline"] == 16.0
    assert by_figure["revocation.stale_releases"]["met"] is True
    assert by_figure["grants.gas_single"]["met"] is False
    assert by_figure["audit.append_per_s"]["met"] is None  # not measured: neither met nor missed
    assert gap("==", 3, 0) == "3 instead of 0"


def test_report_renders_every_section_and_survives_missing_ones():
    machine = {"cpu": "x", "cores": 2, "memory_gib": 4.0, "os": "Linux", "python": "3.11", "node": "v20",
               "anvil": "1.0", "date": "2026-01-01T00:00:00Z", "commit": "abc", "packages": {}}
    results = {"machine": machine, "release": {"c1": {"rps": 10.0, "p50_ms": 1.0, "p99_ms": 2.0}}}
    results["targets"] = evaluate_targets(results)
    text = render_markdown(results)
    for heading in ("## 1. Audited releases", "## 2. Consent grants", "## 3. Audit log", "## 4. Regulator",
                    "## 5. Revocation", "## 6. Scaling", "## All targets"):
        assert heading in text
    json.dumps(results)
