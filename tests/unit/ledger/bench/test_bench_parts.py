"""The benchmark's own parts: synthetic logs, statistics, targets, the report and the load generator.

Benchmarks are not tests: nothing here asserts on timing, only that the pieces compute what
the report claims they compute.
"""

from __future__ import annotations

import asyncio
import json
import threading

import pytest
from eth_utils import to_checksum_address

from ledger.audit.entry import decode_leaf
from ledger.audit.trail import Report, check_integrity
from ledger.bench._loadgen import LoadSpec, render_post, run_load
from ledger.bench._report import evaluate_targets, gap, render_markdown
from ledger.bench._scaling import decision_at, growth
from ledger.bench._stats import percentile
from ledger.bench._synthetic import anchors_for, check_canonical, leaf_hashes, make_leaves, random_grants
from ledger.bench._world import resident_id
from ledger.identity import normalize_id

pytestmark = pytest.mark.unit
DEPT = to_checksum_address("0x7b9b7b7868bc294a77339c1920b9918ed895003d")


def test_synthetic_leaves_are_canonical_entries_with_their_seq():
    leaves = make_leaves(500, random_grants(7, DEPT), block=[100 + i for i in range(500)])
    check_canonical(leaves, sample=500)
    entries = [decode_leaf(leaf) for leaf in leaves]
    assert [e.seq for e in entries] == list(range(500))
    assert {e.decision for e in entries} == {"ALLOW", "DENY"}
    assert all(e.consent_id and e.payload_hash for e in entries if e.decision == "ALLOW")
    assert entries[42].block_number == 142


def test_synthetic_anchor_chain_passes_the_trail_integrity_check():
    leaves = make_leaves(1000, random_grants(5, DEPT), block=7)
    anchors = anchors_for(leaf_hashes(leaves), 300)
    assert [a.tree_size for a in anchors] == [300, 600, 900, 1000]
    report = Report()
    check_integrity(leaves, anchors, report)
    assert report.ok, report.problems
    assert report.entries_checked == 1000 and report.anchors_checked == 4 and report.unanchored_entries == 0

    tampered = list(leaves)
    tampered[500] = tampered[501]
    report = Report()
    check_integrity(tampered, anchors, report)
    assert not report.ok


def test_bench_resident_ids_are_valid_and_distinct():
    ids = [resident_id(i) for i in (0, 1, 999, 1000, 100_000, 123_456)]
    assert len(set(ids)) == len(ids)
    for value in ids:
        assert normalize_id("resident_id", value) == value


def test_percentile_is_nearest_rank():
    values = list(range(1, 101))
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile([3.0], 99) == 3.0


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


def test_growth_against_log_n():
    flat = growth([{"n": 10_000, "c": 10.0}, {"n": 1_000_000, "c": 11.0}], "n", "c")
    assert flat["within_log_n"] and flat["log_n_ratio"] == 1.5
    linear = growth([{"n": 10_000, "c": 10.0}, {"n": 1_000_000, "c": 1000.0}], "n", "c")
    assert not linear["within_log_n"]


def test_release_decision_scaling_allows_every_sample():
    point = decision_at(200, DEPT, samples=500)
    assert point["consents"] == 200 and point["decision_us"] > 0


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


@pytest.fixture()
def tiny_server():
    """A keep-alive HTTP/1.1 server answering 200, then 403, alternately."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    state = {}

    async def handle(reader, writer):
        n = 0
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                break
            length = int(next(line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
                         .split(b":")[1])
            await reader.readexactly(length)
            status, body = (b"200 OK", b'{"ok":true}') if n % 2 == 0 else (b"403 Forbidden", b'{"error":{}}')
            n += 1
            writer.write(b"HTTP/1.1 " + status + b"\r\ncontent-length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
            await writer.drain()
        writer.close()

    async def start():
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        state["server"], state["port"] = server, server.sockets[0].getsockname()[1]
        ready.set()

    def run():
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(5)
    yield state["port"]
    loop.call_soon_threadsafe(state["server"].close)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)


def test_load_generator_counts_decisions_and_records_requests(tiny_server):
    request = render_post("127.0.0.1", tiny_server, "/v1/records/query", {"a": 1}, "token")
    assert b"Authorization: Bearer token\r\n" in request and request.endswith(b'{"a":1}')
    result = run_load(LoadSpec("127.0.0.1", tiny_server, [request], 2, 0.3, warmup=0.1, record_all=True))
    assert result.errors == 0 and result.other == 0
    assert result.statuses.get(200, 0) > 0 and result.statuses.get(403, 0) > 0
    assert result.decisions == len(result.latencies)
    assert len(result.records) >= result.decisions
    assert all(end >= start for start, end, _, _ in result.records)
