"""Audit trail integrity from the empty state (a full run) without a chain: synthetic anchors, computed as the
AuditAnchor contract does."""

from __future__ import annotations

import datetime as dt

import pytest
from eth_abi import encode as abi_encode
from eth_utils import keccak

from ledger.audit.entry import AuditEntry, encode_leaf
from ledger.audit.hasher import hash_leaf
from ledger.audit.incremental import VerifierState, check_integrity
from ledger.audit.trail import Anchor, Problem, Report, decode_entries
from ledger.audit.tree import MerkleTree

pytestmark = pytest.mark.unit

T0 = dt.datetime(2025, 10, 1, 8, 0, tzinfo=dt.timezone.utc)
ZERO = b"\0" * 32
SIZE = 20
ANCHOR_SIZES = (5, 10, 15, 20)


def make_leaf(seq: int, purpose: str = "loan review") -> bytes:
    allow = seq % 3 == 0
    return encode_leaf(AuditEntry(
        seq=seq, time=T0 + dt.timedelta(seconds=seq), requester="0x" + "ab" * 20, subject_id="0x" + f"{seq:064x}",
        resource="hrss.social_insurance", purpose=purpose, consent_id="0x" + "cd" * 32 if allow else None,
        decision="ALLOW" if allow else "DENY", reason="OK" if allow else "NO_CONSENT", fields=["monthly_base"],
        block_number=100 + seq, payload_hash="0x" + "ef" * 32 if allow else None))


def anchor_hash(previous: bytes, size: int, root: bytes) -> bytes:
    # keccak256(abi.encode(previousAnchorHash, treeSize, rootHash)), as AuditAnchor.anchor computes it
    return keccak(abi_encode(["bytes32", "uint64", "bytes32"], [previous, size, root]))


def make_anchors(leaves: list[bytes], sizes=ANCHOR_SIZES) -> list[Anchor]:
    tree = MerkleTree(hash_leaf(leaf) for leaf in leaves)
    anchors, previous = [], ZERO
    for index, size in enumerate(sizes, start=1):
        root = tree.root(size)
        current = anchor_hash(previous, size, root)
        anchors.append(Anchor(index, size, root, previous, current, 1000 + index, "0x" + f"{index:064x}"))
        previous = current
    return anchors


@pytest.fixture
def leaves() -> list[bytes]:
    return [make_leaf(seq) for seq in range(SIZE)]


@pytest.fixture
def anchors(leaves) -> list[Anchor]:
    return make_anchors(leaves)


EMPTY = VerifierState("consent-ledger/1/0x" + "00" * 20, 1, "0x" + "00" * 20)


def check(leaves, anchors, reference_hashes=None) -> Report:
    report = Report()
    check_integrity(EMPTY, leaves, anchors, report, reference_hashes)
    return report


def kinds(report: Report) -> set[str]:
    return {p.kind for p in report.problems}


def of_kind(report: Report, kind: str) -> list[Problem]:
    return [p for p in report.problems if p.kind == kind]


def altered(leaves: list[bytes], seq: int) -> list[bytes]:
    changed = list(leaves)
    changed[seq] = make_leaf(seq, purpose="marketing")  # still a canonical, well-formed entry
    assert changed[seq] != leaves[seq]
    return changed


def test_untouched_log_is_ok(leaves, anchors):
    report = check(leaves, anchors, [hash_leaf(leaf) for leaf in leaves])
    assert report.ok, report.problems
    assert report.entries_checked == SIZE
    assert report.anchors_checked == len(ANCHOR_SIZES)
    assert report.unanchored_entries == 0


def test_entries_after_the_last_anchor_are_counted_as_unanchored(leaves):
    report = check(leaves, make_anchors(leaves, (5, 12)))
    assert report.ok, report.problems
    assert report.unanchored_entries == SIZE - 12


def test_altered_leaf_is_named_with_reference_hashes(leaves, anchors):
    reference = [hash_leaf(leaf) for leaf in leaves]
    report = check(altered(leaves, 7), anchors, reference)
    assert [p.seq for p in of_kind(report, "ENTRY_ALTERED")] == [7]
    assert kinds(report) == {"ENTRY_ALTERED", "ANCHOR_ROOT_MISMATCH"}


def test_altered_leaf_without_reference_hashes_breaks_the_anchored_root(leaves, anchors):
    report = check(altered(leaves, 7), anchors)
    assert kinds(report) == {"ANCHOR_ROOT_MISMATCH"}
    mismatches = of_kind(report, "ANCHOR_ROOT_MISMATCH")
    # Anchors at 5 still match; those at 10, 15 and 20 cover seq 7 and do not.
    assert len(mismatches) == 3
    for problem in mismatches:
        # Each mismatch bounds the damage to the range after the last anchor that still matches,
        # which must contain the altered seq (not just the range since the previous anchor).
        assert problem.seq == 5
        assert "seq 5.." in problem.message


def test_deleted_row_is_named(leaves, anchors):
    report = check(leaves[:9] + leaves[10:], anchors)
    assert [p.seq for p in of_kind(report, "ENTRY_MISSING")] == [9]
    assert "seq 9 is missing" in of_kind(report, "ENTRY_MISSING")[0].message
    assert "ANCHOR_ROOT_MISMATCH" in kinds(report)


def test_swapped_rows_are_out_of_order(leaves, anchors):
    swapped = list(leaves)
    swapped[12], swapped[13] = swapped[13], swapped[12]
    report = check(swapped, anchors)
    assert [p.seq for p in of_kind(report, "ENTRY_OUT_OF_ORDER")] == [12]
    assert "ENTRY_MISSING" not in kinds(report)
    assert "ANCHOR_ROOT_MISMATCH" in kinds(report)


def test_duplicated_row_is_reported(leaves, anchors):
    report = check(leaves[:4] + [leaves[3]] + leaves[4:], anchors)
    assert [p.seq for p in of_kind(report, "ENTRY_DUPLICATED")] == [3]


def test_truncated_log_misses_anchored_entries(leaves, anchors):
    report = check(leaves[:12], anchors)
    missing = of_kind(report, "ENTRIES_MISSING")
    assert len(missing) == 2  # the anchors at 15 and 20
    assert all(p.seq == 12 for p in missing)
    assert "ANCHOR_ROOT_MISMATCH" not in kinds(report)  # what is left still matches the anchors at 5 and 10


def test_broken_anchor_link(leaves, anchors):
    broken = list(anchors)
    a = broken[2]
    forged_previous = b"\x01" * 32
    broken[2] = Anchor(a.index, a.tree_size, a.root_hash, forged_previous,
                       anchor_hash(forged_previous, a.tree_size, a.root_hash), a.block_number, a.tx_hash)
    report = check(leaves, broken)
    flagged = [p.message.split()[1] for p in of_kind(report, "ANCHOR_CHAIN_BROKEN")]
    # anchor 3 cites a predecessor that is not anchor 2, and anchor 4 cites the anchor 3 that was replaced
    assert flagged == ["3", "4"]
    assert "ANCHOR_ROOT_MISMATCH" not in kinds(report)


def test_anchor_hash_not_matching_its_content(leaves, anchors):
    broken = list(anchors)
    a = broken[1]
    broken[1] = Anchor(a.index, a.tree_size, a.root_hash, a.previous_anchor_hash, b"\x02" * 32,
                       a.block_number, a.tx_hash)
    report = check(leaves, broken)
    assert "ANCHOR_CHAIN_BROKEN" in kinds(report)


def test_malformed_leaf_is_reported_once(leaves, anchors):
    damaged = list(leaves)
    damaged[4] = damaged[4].replace(b'"seq":4', b'"seq": 4')  # valid JSON, not canonical
    damaged[6] = b"not json at all"
    report = check(damaged, anchors)
    assert [p.seq for p in of_kind(report, "MALFORMED_ENTRY")] == [6]  # integrity reads only the seq
    decode_entries(damaged, report)  # the strict decoding the policy step does
    assert sorted(p.seq for p in of_kind(report, "MALFORMED_ENTRY")) == [4, 6]


def test_non_increasing_anchors_are_reported_not_fatal(leaves):
    report = check(leaves, make_anchors(leaves, (10, 5)))
    assert "ANCHOR_NOT_INCREASING" in kinds(report)
