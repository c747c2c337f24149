"""The benchmark's synthetic logs: canonical entries with their seq, an anchor chain the trail check passes.

Benchmarks are not tests: nothing here asserts on timing, only that the pieces compute what
the report claims they compute.
"""

from __future__ import annotations

import pytest
from eth_utils import to_checksum_address

from bench._synthetic import anchors_for, check_canonical, leaf_hashes, make_leaves, random_grants
from ledger.audit.entry import decode_leaf
from ledger.audit.incremental import VerifierState, check_integrity
from ledger.audit.trail import Report

pytestmark = pytest.mark.unit
_EMPTY = VerifierState("bench", 1, "0x" + "00" * 20)
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
    check_integrity(_EMPTY, leaves, anchors, report)
    assert report.ok, report.problems
    assert report.entries_checked == 1000 and report.anchors_checked == 4 and report.unanchored_entries == 0

    tampered = list(leaves)
    tampered[500] = tampered[501]
    report = Report()
    check_integrity(_EMPTY, tampered, anchors, report)
    assert not report.ok
