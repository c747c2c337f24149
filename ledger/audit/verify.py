"""Pure verifiers for RFC 6962 inclusion and consistency proofs (algorithms of RFC 9162 §2.1).

Everything here is stateless and needs nothing but the proof and the hashes: a regulator can
run it against tree heads read from the chain without trusting the platform.

``verify_*`` return ``None`` when the proof holds and raise :class:`InvalidProof` (or its
subclass :class:`RootMismatch`, carrying ``expected`` and ``calculated``) when it does not.
``root_from_*`` compute the root a proof commits to. All hashes must be 32 bytes; anything
else is rejected rather than compared.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from ledger.audit.hasher import HASH_SIZE, NODE_PREFIX
from ledger.exceptions import InvalidProof, RootMismatch

__all__ = [
    "InvalidProof",
    "RootMismatch",
    "root_from_consistency_proof",
    "root_from_inclusion_proof",
    "verify_consistency",
    "verify_inclusion",
]

_sha256 = hashlib.sha256


def _node(left: bytes, right: bytes) -> bytes:
    return _sha256(NODE_PREFIX + left + right).digest()


def _check_hash(value: bytes, what: str) -> bytes:
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise InvalidProof(f"{what} must be bytes, got {type(value).__name__}")
    value = bytes(value)
    if len(value) != HASH_SIZE:
        raise InvalidProof(f"{what} must be {HASH_SIZE} bytes, got {len(value)}")
    return value


def _check_proof(proof: Sequence[bytes] | None) -> list[bytes]:
    return [_check_hash(p, f"proof node {i}") for i, p in enumerate(proof or ())]


def _check_int(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidProof(f"{what} must be an integer, got {type(value).__name__}")
    if value < 0:
        raise InvalidProof(f"{what} must not be negative, got {value}")
    return value


def _mismatch(what: str, expected: bytes, calculated: bytes) -> None:
    if not hmac.compare_digest(expected, calculated):
        raise RootMismatch(
            f"{what}: calculated {calculated.hex()} does not match expected {expected.hex()}",
            expected=expected,
            calculated=calculated,
        )


def root_from_inclusion_proof(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """The root of a tree of ``size`` leaves implied by ``leaf_hash`` at ``index`` and its audit path.

    Raises :class:`InvalidProof` if the proof has the wrong length for (index, size).
    """
    index, size = _check_int(index, "leaf index"), _check_int(size, "tree size")
    if index >= size:
        raise InvalidProof(f"leaf index {index} is beyond tree size {size}")
    r = _check_hash(leaf_hash, "leaf hash")
    path = _check_proof(proof)
    fn, sn = index, size - 1
    for p in path:
        if sn == 0:
            raise InvalidProof(f"inclusion proof too long: {len(path)} nodes for index {index} in size {size}")
        if fn & 1 or fn == sn:
            r = _node(p, r)
            if not fn & 1:
                # On the right border: climb past levels where this subtree has no right sibling.
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = _node(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise InvalidProof(f"inclusion proof too short: {len(path)} nodes for index {index} in size {size}")
    return r


def verify_inclusion(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` leaves with ``root``."""
    root = _check_hash(root, "root hash")
    calculated = root_from_inclusion_proof(leaf_hash, index, size, proof)
    _mismatch(f"inclusion of leaf {index} in tree size {size}", root, calculated)


def root_from_consistency_proof(size1: int, size2: int, proof: Sequence[bytes], root1: bytes) -> bytes:
    """The root of the tree of ``size2`` leaves implied by ``root1`` (size ``size1``) and a proof.

    Also checks the part of the proof that rebuilds ``root1`` (raising :class:`RootMismatch`).
    Requires ``0 < size1 <= size2``: a consistency proof from the empty tree proves nothing.
    """
    size1, size2 = _check_int(size1, "size1"), _check_int(size2, "size2")
    root1 = _check_hash(root1, "first root")
    path = _check_proof(proof)
    if size1 > size2:
        raise InvalidProof(f"size1 {size1} is greater than size2 {size2}")
    if size1 == 0:
        raise InvalidProof("a consistency proof from the empty tree is meaningless")
    if size1 == size2:
        if path:
            raise InvalidProof(f"equal sizes need an empty proof, got {len(path)} nodes")
        return root1
    if not path:
        raise InvalidProof(f"empty consistency proof between different sizes {size1} and {size2}")
    # When size1 is a power of two the old root is itself a node of the new tree and is
    # not repeated in the proof.
    if size1 & (size1 - 1) == 0:
        path = [root1, *path]
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise InvalidProof(f"consistency proof too long for sizes {size1} -> {size2}")
        if fn & 1 or fn == sn:
            fr = _node(c, fr)
            sr = _node(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = _node(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise InvalidProof(f"consistency proof too short for sizes {size1} -> {size2}")
    _mismatch(f"first root rebuilt from consistency proof {size1} -> {size2}", root1, fr)
    return sr


def verify_consistency(size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes) -> None:
    """Check that the tree (size1, root1) is a prefix of the tree (size2, root2)."""
    root2 = _check_hash(root2, "second root")
    calculated = root_from_consistency_proof(size1, size2, proof, root1)
    _mismatch(f"consistency {size1} -> {size2}", root2, calculated)
