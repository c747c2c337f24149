"""RFC 6962 test material shared by the Merkle tests: the upstream vectors (transparency-dev/merkle)
and an independent, deliberately naive reference (section 2.1, recursive)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ledger.audit import hash_leaf

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
REFERENCE = json.loads((VECTORS / "rfc6962_reference_tree.json").read_text())
INCLUSION_PROBES = json.loads((VECTORS / "rfc6962_inclusion_probes.json").read_text())
CONSISTENCY_PROBES = json.loads((VECTORS / "rfc6962_consistency_probes.json").read_text())

H = bytes.fromhex


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
