"""RFC 6962 proof verifiers: upstream probes, broken proofs built from real ones, the verifier API."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.audit import (
    EMPTY_ROOT,
    MerkleTree,
    hash_leaf,
    root_from_consistency_proof,
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)
from ledger.exceptions import InvalidProof, LedgerError, RootMismatch
from tests.support.merkle import CONSISTENCY_PROBES, INCLUSION_PROBES, REF_HASHES, REFERENCE, H, leaf_hashes, sha

pytestmark = pytest.mark.unit


# --- reference tree (transparency-dev/merkle testonly/constants.go) ---------------------------


def test_reference_vectors_name_their_source() -> None:
    for doc in (REFERENCE, INCLUSION_PROBES, CONSISTENCY_PROBES):
        assert doc["source"].startswith("transparency-dev/merkle@")


# --- upstream probes: happy paths and broken proofs -------------------------------------------

# Our verifier refuses hashes that are not 32 bytes before comparing anything; upstream
# accepts this one case (equal sizes, equal 12-byte placeholder roots, empty proof).
STRICTER_THAN_UPSTREAM = {"additional/sizes-are-equal-one-and-proof-is-empty"}


@pytest.mark.parametrize("case", INCLUSION_PROBES["cases"], ids=lambda c: c["name"])
def test_upstream_inclusion_probes(case: dict) -> None:
    args = (H(case["leaf_hash"]), case["leaf_index"], case["tree_size"], [H(p) for p in case["proof"]], H(case["root"]))
    if case["valid"]:
        verify_inclusion(*args)
    else:
        with pytest.raises(InvalidProof):
            verify_inclusion(*args)


@pytest.mark.parametrize("case", CONSISTENCY_PROBES["cases"], ids=lambda c: c["name"])
def test_upstream_consistency_probes(case: dict) -> None:
    args = (case["size1"], case["size2"], [H(p) for p in case["proof"]], H(case["root1"]), H(case["root2"]))
    if case["valid"] and case["name"] not in STRICTER_THAN_UPSTREAM:
        verify_consistency(*args)
    else:
        with pytest.raises(InvalidProof):
            verify_consistency(*args)


def test_probe_sets_cover_the_broken_proof_kinds() -> None:
    inc = {c["desc"].split(" @")[0].split("[")[0] for c in INCLUSION_PROBES["cases"] if not c["valid"]}
    con = {c["desc"].split(" @")[0] for c in CONSISTENCY_PROBES["cases"] if not c["valid"]}
    assert {"modified proof", "removed component", "inserted component", "leafIdx plus", "treeSize mul", "wrong leaf"} <= inc
    assert {"truncated proof", "swapped roots", "size1 plus", "size2 div", "trailing garbage", "wrong root1"} <= con
    assert any(c["name"].startswith("1/modified-proof") for c in CONSISTENCY_PROBES["cases"])


# --- broken proofs built from real ones --------------------------------------------------------


def _flip(proof: list[bytes], node: int, bit: int) -> list[bytes]:
    out = list(proof)
    value = bytearray(out[node])
    value[bit // 8] ^= 1 << (bit % 8)
    out[node] = bytes(value)
    return out


def test_every_single_bit_flip_breaks_inclusion_and_consistency() -> None:
    hashes = leaf_hashes(13, seed=3)
    tree = MerkleTree(hashes)
    for n in (5, 8, 13):
        root = tree.root(n)
        for i in range(n):
            proof = tree.inclusion_proof(i, n)
            for node in range(len(proof)):
                for bit in range(0, 256, 17):
                    with pytest.raises(RootMismatch):
                        verify_inclusion(hashes[i], i, n, _flip(proof, node, bit), root)
        for m in range(1, n):
            proof = tree.consistency_proof(m, n)
            for node in range(len(proof)):
                for bit in range(0, 256, 31):
                    with pytest.raises(RootMismatch):
                        verify_consistency(m, n, _flip(proof, node, bit), tree.root(m), root)


def test_truncated_extended_and_reordered_proofs_fail() -> None:
    hashes = leaf_hashes(21, seed=4)
    tree = MerkleTree(hashes)
    n = 21
    root = tree.root()
    extra = sha(b"extra")
    for i in range(n):
        proof = tree.inclusion_proof(i)
        bad_proofs = [proof[:-1], proof + [extra], [extra] + proof, proof + [root], proof[1:]]
        if len(proof) > 1:
            bad_proofs.append(proof[::-1])
        for bad in bad_proofs:
            with pytest.raises(InvalidProof):
                verify_inclusion(hashes[i], i, n, bad, root)
    for m in range(1, n):
        proof = tree.consistency_proof(m, n)
        for bad in (proof[:-1], proof + [extra], [extra] + proof, proof[1:]):
            with pytest.raises(InvalidProof):
                verify_consistency(m, n, bad, tree.root(m), root)


def test_wrong_index_wrong_size_wrong_leaf_and_swapped_roots_fail() -> None:
    hashes = leaf_hashes(16, seed=5)
    tree = MerkleTree(hashes)
    for n in range(2, 17):
        root = tree.root(n)
        for i in range(n):
            proof = tree.inclusion_proof(i, n)
            for j in range(n):
                if j != i:
                    with pytest.raises(InvalidProof):
                        verify_inclusion(hashes[i], j, n, proof, root)
                    with pytest.raises(InvalidProof):
                        verify_inclusion(hashes[j], i, n, proof, root)
            for other in range(i + 1, 17):
                if other != n and tree.inclusion_proof(i, other) != proof:
                    # A proof for one size never proves inclusion in the tree head of another.
                    with pytest.raises(InvalidProof):
                        verify_inclusion(hashes[i], i, other, proof, tree.root(other))
        for m in range(1, n):
            proof = tree.consistency_proof(m, n)
            with pytest.raises(InvalidProof):
                verify_consistency(m, n, proof, root, tree.root(m))
            with pytest.raises(InvalidProof):
                verify_consistency(m, n, proof, tree.root(m), tree.root(n - 1) if n - 1 != m else EMPTY_ROOT)
            for m2 in range(1, n):
                if m2 != m and tree.consistency_proof(m2, n) != proof:
                    with pytest.raises(InvalidProof):
                        verify_consistency(m2, n, proof, tree.root(m2), root)


# --- verifier API ----------------------------------------------------------------------------


def test_root_from_proofs(ref_tree: MerkleTree) -> None:
    proof = ref_tree.inclusion_proof(5, 7)
    assert root_from_inclusion_proof(REF_HASHES[5], 5, 7, proof) == ref_tree.root(7)
    cproof = ref_tree.consistency_proof(3, 7)
    assert root_from_consistency_proof(3, 7, cproof, ref_tree.root(3)) == ref_tree.root(7)
    with pytest.raises(RootMismatch) as info:
        root_from_consistency_proof(3, 7, cproof, ref_tree.root(4))
    assert info.value.expected == ref_tree.root(4)


def test_root_mismatch_message_and_fields(ref_tree: MerkleTree) -> None:
    proof = ref_tree.inclusion_proof(2, 8)
    with pytest.raises(RootMismatch, match="calculated .* does not match expected") as info:
        verify_inclusion(REF_HASHES[2], 2, 8, proof, ref_tree.root(7))
    assert info.value.calculated == ref_tree.root(8)
    assert info.value.expected == ref_tree.root(7)
    assert isinstance(info.value, LedgerError)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"index": 8}, "beyond tree size"),
        ({"index": -1}, "must not be negative"),
        ({"size": 0}, "beyond tree size"),
        ({"index": True}, "must be an integer"),
        ({"leaf_hash": b"short"}, "leaf hash must be 32 bytes"),
        ({"root": b""}, "root hash must be 32 bytes"),
        ({"proof": ["not bytes"]}, "proof node 0 must be bytes"),
    ],
)
def test_inclusion_argument_errors(ref_tree: MerkleTree, kwargs: dict, message: str) -> None:
    args = {"leaf_hash": REF_HASHES[1], "index": 1, "size": 8, "proof": ref_tree.inclusion_proof(1, 8), "root": ref_tree.root()}
    args.update(kwargs)
    with pytest.raises(InvalidProof, match=message):
        verify_inclusion(**args)


def test_consistency_edge_cases(ref_tree: MerkleTree) -> None:
    r = ref_tree.root
    verify_consistency(8, 8, [], r(8), r(8))
    verify_consistency(1, 1, [], r(1), r(1))
    with pytest.raises(InvalidProof, match="empty tree is meaningless"):
        verify_consistency(0, 8, [], EMPTY_ROOT, r(8))
    with pytest.raises(InvalidProof, match="empty tree is meaningless"):
        verify_consistency(0, 0, [], EMPTY_ROOT, EMPTY_ROOT)
    with pytest.raises(InvalidProof, match="greater than"):
        verify_consistency(5, 4, [], r(5), r(4))
    with pytest.raises(InvalidProof, match="equal sizes need an empty proof"):
        verify_consistency(4, 4, [r(4)], r(4), r(4))
    with pytest.raises(RootMismatch):
        verify_consistency(4, 4, [], r(4), r(5))
    with pytest.raises(InvalidProof, match="empty consistency proof"):
        verify_consistency(4, 8, [], r(4), r(8))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=40), min_size=1, max_size=300), st.data())
def test_property_proofs_verify_and_bind(leaves: list[bytes], data: st.DataObject) -> None:
    tree = MerkleTree()
    for leaf in leaves:
        tree.append_leaf(leaf)
    n = len(leaves)
    size = data.draw(st.integers(1, n))
    index = data.draw(st.integers(0, size - 1))
    old = data.draw(st.integers(1, size))
    root = tree.root(size)
    proof = tree.inclusion_proof(index, size)
    verify_inclusion(hash_leaf(leaves[index]), index, size, proof, root)
    assert len(proof) <= max(1, (size - 1).bit_length())
    verify_consistency(old, size, tree.consistency_proof(old, size), tree.root(old), root)
    other = data.draw(st.binary(max_size=40))
    if hash_leaf(other) != tree.leaf_hash(index):
        with pytest.raises(RootMismatch):
            verify_inclusion(hash_leaf(other), index, size, proof, root)
