"""RFC 6962 Merkle tree: roots, node hashes and the proofs it builds, against the upstream reference
tree, accumulated vectors and a naive reference; packed storage; the tree's own API."""

from __future__ import annotations

import hashlib
import random

import pytest

from ledger.audit import EMPTY_ROOT, MerkleTree, hash_leaf, verify_consistency, verify_inclusion
from ledger.exceptions import TreeRangeError
from tests.support.merkle import REF_HASHES, REFERENCE, H, leaf_hashes, mth, ref_path, ref_subproof, sha

pytestmark = pytest.mark.unit


# --- reference tree (transparency-dev/merkle testonly/constants.go) ---------------------------


def test_reference_leaf_and_node_hashes(ref_tree: MerkleTree) -> None:
    assert [h.hex() for h in REF_HASHES] == REFERENCE["node_hashes"][0]
    for level, row in enumerate(REFERENCE["node_hashes"]):
        width = 1 << level
        for i, expected in enumerate(row):
            assert MerkleTree(REF_HASHES[i * width : (i + 1) * width]).root().hex() == expected
            assert ref_tree._range_hash(i * width, (i + 1) * width).hex() == expected


def test_reference_roots_at_every_size(ref_tree: MerkleTree) -> None:
    assert len(REFERENCE["roots"]) == 9
    for size, expected in enumerate(REFERENCE["roots"]):
        assert ref_tree.root(size).hex() == expected
        assert MerkleTree(REF_HASHES[:size]).root().hex() == expected
    assert ref_tree.root() == H(REFERENCE["roots"][8])
    assert MerkleTree().root() == EMPTY_ROOT


@pytest.mark.parametrize("case", REFERENCE["inclusion_proofs"], ids=lambda c: f"{c['leaf_index']}-of-{c['tree_size']}")
def test_reference_inclusion_proofs(ref_tree: MerkleTree, case: dict) -> None:
    index, size = case["leaf_index"], case["tree_size"]
    proof = ref_tree.inclusion_proof(index, size)
    assert [p.hex() for p in proof] == case["proof"]
    verify_inclusion(REF_HASHES[index], index, size, proof, ref_tree.root(size))


@pytest.mark.parametrize("case", REFERENCE["consistency_proofs"], ids=lambda c: f"{c['size1']}-to-{c['size2']}")
def test_reference_consistency_proofs(ref_tree: MerkleTree, case: dict) -> None:
    s1, s2 = case["size1"], case["size2"]
    proof = ref_tree.consistency_proof(s1, s2)
    assert [p.hex() for p in proof] == case["proof"]
    verify_consistency(s1, s2, proof, ref_tree.root(s1), ref_tree.root(s2))


# --- accumulated vectors over a 130-leaf tree (transparency-dev testonly/vectors_test.go) -----


def _valid_subtree(start: int, end: int) -> bool:
    if start in (0, end):
        return True
    width = 1
    while width < end - start:
        width *= 2
    return start % width == 0


def test_accumulated_subtree_hash_vector() -> None:
    acc = REFERENCE["accumulated"]
    leaves = [hash_leaf(bytes([i])) for i in range(acc["max_size"])]
    tree = MerkleTree(leaves)
    digest = hashlib.sha256()
    for end in range(acc["max_size"] + 1):
        for start in range(end + 1):
            if not _valid_subtree(start, end):
                continue
            value = EMPTY_ROOT if start == end else tree._range_hash(start, end)
            assert value == MerkleTree(leaves[start:end]).root()
            digest.update(f"[{start}, {end}) {value.hex()}\n".encode())
    assert digest.hexdigest() == acc["subtree_hashes"]


def test_accumulated_subtree_inclusion_vector() -> None:
    acc = REFERENCE["accumulated"]
    leaves = [hash_leaf(bytes([i])) for i in range(acc["max_size"])]
    digest = hashlib.sha256()
    for end in range(acc["max_size"] + 1):
        for start in range(end + 1):
            if not _valid_subtree(start, end) or start == end:
                continue
            # An aligned subtree's inclusion proof is an ordinary proof in the tree of its leaves.
            sub = MerkleTree(leaves[start:end])
            for index in range(start, end):
                proof = sub.inclusion_proof(index - start)
                digest.update((f"{index} [{start}, {end})" + "".join(f" {p.hex()}" for p in proof) + "\n").encode())
    assert digest.hexdigest() == acc["subtree_inclusion_proofs"]


# --- agreement with the naive reference, and exhaustive verification --------------------------


def test_all_proofs_match_reference_up_to_70_leaves() -> None:
    hashes = leaf_hashes(70)
    tree = MerkleTree()
    for n in range(1, 71):
        tree.append(hashes[n - 1])
        prefix = hashes[:n]
        root = mth(prefix)
        assert tree.root() == root
        for i in range(n):
            proof = tree.inclusion_proof(i)
            assert proof == ref_path(i, prefix)
            verify_inclusion(hashes[i], i, n, proof, root)
        for m in range(1, n + 1):
            proof = tree.consistency_proof(m, n)
            assert proof == ref_subproof(m, prefix, True)
            verify_consistency(m, n, proof, mth(hashes[:m]), root)


def test_proofs_at_past_sizes_of_a_larger_tree() -> None:
    rng = random.Random(7)
    hashes = leaf_hashes(3000, seed=1)
    tree = MerkleTree(hashes)
    for _ in range(60):
        n = rng.randint(1, 3000)
        i = rng.randrange(n)
        m = rng.randint(1, n)
        prefix = hashes[:n]
        assert tree.root(n) == mth(prefix)
        assert tree.inclusion_proof(i, n) == ref_path(i, prefix)
        assert tree.consistency_proof(m, n) == ref_subproof(m, prefix, True)


def test_extend_and_append_build_the_same_tree() -> None:
    hashes = leaf_hashes(1000, seed=2)
    appended = MerkleTree()
    for h in hashes:
        appended.append(h)
    extended = MerkleTree()
    pos = 0
    for chunk in (1, 2, 3, 5, 8, 13, 21, 200, 747):
        extended.extend(hashes[pos : pos + chunk])
        pos += chunk
    assert pos == 1000 and len(extended) == len(appended) == extended.size == 1000
    assert extended._levels == appended._levels
    assert extended.root() == appended.root() == mth(hashes)


def test_storage_is_packed_levels() -> None:
    tree = MerkleTree(leaf_hashes(1000))
    assert all(isinstance(level, bytearray) for level in tree._levels)
    assert [len(level) // 32 for level in tree._levels] == [1000 >> k for k in range(10)]


# --- tree API ----------------------------------------------------------------------------------


def test_tree_errors() -> None:
    tree = MerkleTree(leaf_hashes(5))
    with pytest.raises(TreeRangeError, match="leaf hash must be 32 bytes"):
        tree.append(b"x")
    with pytest.raises(TreeRangeError, match="leaf hash 1 must be 32 bytes"):
        tree.extend([sha(b"ok"), b"x"])
    assert len(tree) == 5  # a rejected batch adds nothing
    with pytest.raises(TreeRangeError, match="out of range for tree size 5"):
        tree.inclusion_proof(5)
    with pytest.raises(TreeRangeError, match="out of range for tree size 3"):
        tree.inclusion_proof(3, 3)
    with pytest.raises(TreeRangeError, match="the log has 5 leaves"):
        tree.root(6)
    with pytest.raises(TreeRangeError, match="the log has 5 leaves"):
        tree.inclusion_proof(0, 6)
    with pytest.raises(TreeRangeError, match="0 < size1 <= size2"):
        tree.consistency_proof(0, 5)
    with pytest.raises(TreeRangeError, match="0 < size1 <= size2"):
        tree.consistency_proof(4, 3)
    with pytest.raises(TreeRangeError):
        tree.leaf_hash(5)
    with pytest.raises(ValueError):  # TreeRangeError is also a ValueError for callers that expect one
        tree.root(-1)
    assert tree.consistency_proof(5) == []
    assert tree.leaf_hash(4) == leaf_hashes(5)[4]
    assert repr(tree) == "MerkleTree(size=5)"


def test_append_returns_indices() -> None:
    tree = MerkleTree()
    assert [tree.append(h) for h in leaf_hashes(4)] == [0, 1, 2, 3]
    assert tree.append_leaf(b"payload") == 4
    assert tree.leaf_hash(4) == hash_leaf(b"payload")
