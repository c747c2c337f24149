"""RFC 6962 Merkle log: hashing, tree, proofs, verifiers, upstream vectors, canonical entries."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.audit import (
    EMPTY_ROOT,
    AuditEntry,
    MerkleTree,
    decode_leaf,
    encode_leaf,
    entry_leaf_hash,
    hash_children,
    hash_leaf,
    payload_hash,
    root_from_consistency_proof,
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)
from ledger.exceptions import InvalidAuditEntry, InvalidProof, LedgerError, RootMismatch, TreeRangeError

pytestmark = pytest.mark.unit

VECTORS = Path(__file__).resolve().parents[3] / "vectors"
REFERENCE = json.loads((VECTORS / "rfc6962_reference_tree.json").read_text())
INCLUSION_PROBES = json.loads((VECTORS / "rfc6962_inclusion_probes.json").read_text())
CONSISTENCY_PROBES = json.loads((VECTORS / "rfc6962_consistency_probes.json").read_text())

H = bytes.fromhex


# --- an independent, deliberately naive RFC 6962 reference (section 2.1, recursive) ----------


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(hashes: list[bytes]) -> bytes:
    if not hashes:
        return sha(b"")
    if len(hashes) == 1:
        return hashes[0]
    k = split(len(hashes))
    return sha(b"\x01" + mth(hashes[:k]) + mth(hashes[k:]))


def ref_path(m: int, hashes: list[bytes]) -> list[bytes]:
    if len(hashes) == 1:
        return []
    k = split(len(hashes))
    if m < k:
        return ref_path(m, hashes[:k]) + [mth(hashes[k:])]
    return ref_path(m - k, hashes[k:]) + [mth(hashes[:k])]


def ref_subproof(m: int, hashes: list[bytes], whole: bool) -> list[bytes]:
    n = len(hashes)
    if m == n:
        return [] if whole else [mth(hashes)]
    k = split(n)
    if m <= k:
        return ref_subproof(m, hashes[:k], whole) + [mth(hashes[k:])]
    return ref_subproof(m - k, hashes[k:], False) + [mth(hashes[:k])]


def leaf_hashes(n: int, seed: int = 0) -> list[bytes]:
    return [sha(b"\x00" + f"leaf-{seed}-{i}".encode()) for i in range(n)]


REF_LEAVES = [H(x) for x in REFERENCE["leaves"]]
REF_HASHES = [hash_leaf(x) for x in REF_LEAVES]


@pytest.fixture(scope="module")
def ref_tree() -> MerkleTree:
    tree = MerkleTree()
    for leaf in REF_LEAVES:
        tree.append_leaf(leaf)
    return tree


# --- hasher ------------------------------------------------------------------------------------


def test_hasher_domain_separation() -> None:
    assert EMPTY_ROOT == sha(b"") == H(REFERENCE["empty_root"])
    assert hash_leaf(b"") == H("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
    assert hash_leaf(b"abc") == sha(b"\x00abc")
    assert hash_children(b"a" * 32, b"b" * 32) == sha(b"\x01" + b"a" * 32 + b"b" * 32)
    assert hash_leaf(b"\x01" + b"a" * 32 + b"b" * 32) != hash_children(b"a" * 32, b"b" * 32)


# --- reference tree (transparency-dev/merkle testonly/constants.go) ---------------------------


def test_reference_vectors_name_their_source() -> None:
    for doc in (REFERENCE, INCLUSION_PROBES, CONSISTENCY_PROBES):
        assert doc["source"].startswith("transparency-dev/merkle@")


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


# --- audit entries -----------------------------------------------------------------------------

REQUESTER = "0x52908400098527886E0F7030069857D2E4169EE7"  # EIP-55 test vector address
SUBJECT = "0x" + "ab" * 32
CONSENT = "0x" + "cd" * 32
PAYLOAD = "0x" + "ef" * 32


def make_entry(**overrides) -> AuditEntry:
    values = dict(
        seq=41,
        time=dt.datetime(2025, 10, 9, 8, 30, 15, 123456, tzinfo=dt.timezone.utc),
        requester=REQUESTER,
        subject_id=SUBJECT,
        resource="hrss.social_insurance",
        purpose="社保资格认证",
        consent_id=CONSENT,
        decision="ALLOW",
        reason="OK",
        fields=("name", "insured_since"),
        block_number=1234,
        payload_hash=PAYLOAD,
    )
    values.update(overrides)
    return AuditEntry(**values)


EXPECTED_LEAF = (
    '{"block_number":1234,"consent_id":"0x' + "cd" * 32 + '","decision":"ALLOW","fields":["insured_since","name"],'
    '"payload_hash":"0x' + "ef" * 32 + '","purpose":"社保资格认证","reason":"OK",'
    '"requester":"0x52908400098527886E0F7030069857D2E4169EE7","resource":"hrss.social_insurance","seq":41,'
    '"subject_id":"0x' + "ab" * 32 + '","time":"2025-10-09T08:30:15.123Z"}'
).encode("utf-8")


def test_entry_canonical_encoding() -> None:
    entry = make_entry()
    assert encode_leaf(entry) == EXPECTED_LEAF
    assert entry.time == dt.datetime(2025, 10, 9, 8, 30, 15, 123000, tzinfo=dt.timezone.utc)
    assert entry.fields == ("insured_since", "name")
    assert entry.allowed
    assert entry_leaf_hash(entry) == sha(b"\x00" + EXPECTED_LEAF)


def test_entry_round_trip_and_normalization() -> None:
    entry = make_entry()
    assert decode_leaf(EXPECTED_LEAF) == entry
    shanghai = dt.timezone(dt.timedelta(hours=8))
    same = make_entry(
        time=dt.datetime(2025, 10, 9, 16, 30, 15, 123999, tzinfo=shanghai),
        requester=REQUESTER.lower(),
        subject_id=bytes.fromhex("ab" * 32),
        consent_id=bytes.fromhex("cd" * 32),
        fields=["name", "insured_since"],
    )
    assert encode_leaf(same) == EXPECTED_LEAF
    assert make_entry(time="2025-10-09T08:30:15.123Z") == entry


def test_deny_entry_with_nulls() -> None:
    entry = make_entry(decision="DENY", reason="NO_CONSENT", consent_id=None, payload_hash=None, fields=[])
    leaf = encode_leaf(entry)
    assert b'"consent_id":null' in leaf and b'"payload_hash":null' in leaf and b'"fields":[]' in leaf
    assert decode_leaf(leaf) == entry
    assert not entry.allowed


def test_entry_accepts_str_enums() -> None:
    import enum

    class Code(str, enum.Enum):
        NO_CONSENT = "NO_CONSENT"

    entry = make_entry(decision="DENY", reason=Code.NO_CONSENT, payload_hash=None)
    assert entry.reason == "NO_CONSENT" and type(entry.reason) is str


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"seq": -1}, "seq must be a non-negative integer"),
        ({"seq": True}, "seq must be a non-negative integer"),
        ({"seq": 1.0}, "seq must be a non-negative integer"),
        ({"block_number": "12"}, "block_number"),
        ({"time": dt.datetime(2025, 1, 1)}, "timezone-aware"),
        ({"time": "2025-10-09T08:30:15Z"}, "time must look like"),
        ({"time": "2025-02-30T08:30:15.000Z"}, "not a real instant"),
        ({"requester": "0x1234"}, "requester must be an Ethereum address"),
        ({"requester": REQUESTER[:-1] + "e"}, "requester must be an Ethereum address"),  # bad checksum
        ({"subject_id": "0x" + "AB" * 32}, "subject_id must be 0x"),
        ({"subject_id": b"\x00" * 31}, "subject_id must be 32 bytes"),
        ({"consent_id": "cd" * 32}, "consent_id must be 0x"),
        ({"resource": ""}, "resource must be a non-empty string"),
        ({"purpose": " padded"}, "purpose must be a non-empty string"),
        ({"decision": "MAYBE"}, "decision must be ALLOW or DENY"),
        ({"reason": "no consent"}, "reason must be an upper-case code"),
        ({"fields": "name"}, "fields must be a list"),
        ({"fields": ["a", "a"]}, "must not repeat"),
        ({"fields": ["a", 1]}, "field name"),
        ({"decision": "DENY", "reason": "REVOKED"}, "cannot carry a payload_hash"),
    ],
)
def test_entry_validation(overrides: dict, message: str) -> None:
    with pytest.raises(InvalidAuditEntry, match=message):
        make_entry(**overrides)


def _mutate(obj_edit=None, text_edit=None) -> bytes:
    text = EXPECTED_LEAF.decode()
    if obj_edit:
        obj = json.loads(text)
        obj_edit(obj)
        text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if text_edit:
        text = text_edit(text)
    return text.encode()


@pytest.mark.parametrize(
    ("leaf", "message"),
    [
        (b"\xff\xfe", "not UTF-8 JSON"),
        (b"[1,2]", "must be a JSON object"),
        (b"{", "not UTF-8 JSON"),
        (_mutate(text_edit=lambda t: t.replace(',"seq":41', ',"seq": 41')), "not in canonical form"),
        (_mutate(text_edit=lambda t: t + "\n"), "not in canonical form"),
        (_mutate(text_edit=lambda t: '{"seq":41,' + t[1:].replace(',"seq":41', "")), "not in canonical form"),
        (_mutate(text_edit=lambda t: t.replace('"insured_since","name"', '"name","insured_since"')), "not in canonical form"),
        (_mutate(text_edit=lambda t: t.replace("社保", "\\u793e\\u4fdd")), "not in canonical form"),
        (_mutate(text_edit=lambda t: t.replace(REQUESTER, REQUESTER.lower())), "not in canonical form"),
        (_mutate(text_edit=lambda t: t.replace('"seq":41', '"seq":41,"seq":42')), "duplicate key"),
        (_mutate(obj_edit=lambda o: o.pop("reason")), "missing \\['reason'\\]"),
        (_mutate(obj_edit=lambda o: o.update(extra=1)), "unexpected \\['extra'\\]"),
        (_mutate(obj_edit=lambda o: o.update(fields="name")), "fields must be a JSON array"),
        (_mutate(obj_edit=lambda o: o.update(seq=41.0)), "seq must be"),
        (_mutate(obj_edit=lambda o: o.update(time="2025-10-09T08:30:15.1234Z")), "time must look like"),
    ],
)
def test_decode_rejects_non_canonical_or_malformed_leaves(leaf: bytes, message: str) -> None:
    with pytest.raises(InvalidAuditEntry, match=message):
        decode_leaf(leaf)


def test_payload_hash() -> None:
    salt = bytes(range(16))
    data = {"name": "张三", "insured_since": "2010-07"}
    expected = sha(salt + '{"insured_since":"2010-07","name":"张三"}'.encode())
    assert payload_hash(salt, data) == "0x" + expected.hex()
    assert payload_hash(salt, b"raw bytes") == "0x" + sha(salt + b"raw bytes").hex()
    assert payload_hash(bytes(16), data) != payload_hash(salt, data)
    with pytest.raises(InvalidAuditEntry, match="at least 16 bytes"):
        payload_hash(b"short", data)


@pytest.mark.parametrize("text", ["", "a\"b\\c", "\x00\x01\x1f\x7f", "张伟", "\u2028\u2029", "😀", "\t\n\r\b\f", "<>&'"])
def test_canonical_json_matches_the_json_module(text):
    import json

    from ledger.audit.entry import canonical_json

    value = {"b": [text, 1, None, 2**63 - 1], "a": text, "seq": 7}
    expected = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert canonical_json(value) == expected
    assert canonical_json({"big": 2**70}) == b'{"big":1180591620717411303424}'
