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


def _machine(commit: str) -> dict:
    return {"cpu": "x", "cores": 2, "memory_gib": 4.0, "os": "Linux", "python": "3.11", "node": "v20",
            "anvil": "1.0", "date": "2026-01-01T00:00:00Z", "commit": commit, "packages": {}}


def test_merge_of_a_partial_run_keeps_the_sections_it_did_not_run():
    from bench._runner import merge

    previous = {"mode": "full", "machine": _machine("old"), "notes": ["old run note"],
                "release": {"c1": {"p50_ms": 2.5}}, "audit": {"append_per_s": 5_000.0},
                "scale": {"proof_p50_ms_10m": 0.9}, "devnet": {"consents_1m": {"grant_s": 1.0}}}
    new = {"mode": "full", "machine": _machine("new"), "notes": [], "audit": {"append_per_s": 25_000.0}}
    merged = merge(previous, new, ("audit",))
    assert merged["release"] == previous["release"] and merged["scale"] == previous["scale"]
    assert merged["audit"] == new["audit"] and merged["machine"]["commit"] == "old"
    assert merged["partial_runs"][0]["sections"] == ["audit"] and merged["partial_runs"][0]["commit"] == "new"
    by_figure = {t["figure"]: t for t in merged["targets"]}
    assert by_figure["audit.append_per_s"]["met"] is True and by_figure["release.c1.p50_ms"]["met"] is True
    text = render_markdown(merged)
    assert "only these sections: audit (commit new" in text and "except the sections named just below" in text


def test_merge_of_a_full_run_replaces_every_section_and_keeps_the_scale_figures():
    from bench._runner import SECTIONS, merge

    previous = {"machine": _machine("old"), "release": {"c1": {"p50_ms": 2.5}}, "partial_runs": [{"sections": []}],
                "scale": {"proof_p50_ms_10m": 0.9}}
    new = {"machine": _machine("new"), "audit": {"append_per_s": 1.0}, "targets": []}
    merged = merge(previous, new, SECTIONS)
    assert "release" not in merged and "partial_runs" not in merged
    assert merged["scale"] == previous["scale"] and merged["machine"]["commit"] == "new"
    assert {t["figure"]: t for t in merged["targets"]}["scale.proof_p50_ms_10m"]["met"] is True  # judged again


def test_missed_targets_are_noted_from_the_results_themselves():
    results = {"machine": _machine("x"), "audit": {"append_per_s": 5_000.0}}
    results["targets"] = evaluate_targets(results)
    assert any(line.startswith("- audit entries appended per second") and "against >= 20,000" in line
               for line in render_markdown(results).splitlines())
