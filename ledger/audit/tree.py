"""Append-only RFC 6962 Merkle tree over leaf hashes, with inclusion and consistency proofs.

Storage is one ``bytearray`` per level: level 0 holds the leaf hashes, level ``k`` the roots of
all complete (perfect) subtrees of ``2**k`` leaves, each 32 bytes, packed. This is at most
``2n`` hashes (64 MiB for a million leaves, with no per-object overhead), and it memoizes every
complete subtree for good: a node's hash never changes once its subtree is complete.

The nodes at the right edge of a tree whose size is not a power of two ("ephemeral" nodes)
are not stored; they are folded from the O(log n) complete subtrees that cover them (the
compact range). An inclusion or consistency proof needs at most one ephemeral node, so
building a proof reads O(log n) stored hashes and computes O(log n) hashes, for any past
tree size. Appending a leaf hashes one new node on average (amortized O(1), worst O(log n)).

Not thread-safe: serialize writers (and readers racing writers) with a lock.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from ledger.audit import proofs
from ledger.audit.hasher import HASH_SIZE, NODE_PREFIX, hash_leaf
from ledger.exceptions import TreeRangeError

__all__ = ["MerkleTree"]

_sha256 = hashlib.sha256
_H = HASH_SIZE


class MerkleTree:
    """An in-memory append-only log tree over 32-byte leaf hashes (RFC 6962, SHA-256)."""

    __slots__ = ("_levels", "_size")

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._levels: list[bytearray] = [bytearray()]
        self._size = 0
        self.extend(leaf_hashes)

    # --- growth ---------------------------------------------------------------------------

    def append(self, leaf_hash: bytes) -> int:
        """Append one leaf hash; returns its index."""
        if len(leaf_hash) != _H:
            raise TreeRangeError(f"leaf hash must be {_H} bytes, got {len(leaf_hash)}")
        levels = self._levels
        index = self._size
        levels[0] += leaf_hash
        node, level, i = bytes(leaf_hash), 0, index
        # Each odd index completes a pair: hash it with its left sibling one level up.
        while i & 1:
            off = (i - 1) * _H
            node = _sha256(NODE_PREFIX + levels[level][off : off + _H] + node).digest()
            level += 1
            i >>= 1
            if level == len(levels):
                levels.append(bytearray())
            levels[level] += node
        self._size = index + 1
        return index

    def append_leaf(self, leaf: bytes) -> int:
        """Hash an encoded leaf (0x00 prefix) and append it; returns its index."""
        return self.append(hash_leaf(leaf))

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Append many leaf hashes at once (level by level, faster than repeated appends)."""
        chunk = bytearray()
        count = 0
        for h in leaf_hashes:
            if len(h) != _H:
                raise TreeRangeError(f"leaf hash {count} must be {_H} bytes, got {len(h)}")
            chunk += h
            count += 1
        if not count:
            return
        levels = self._levels
        old, new = self._size, self._size + count
        levels[0] += chunk
        level = 0
        while True:
            first, last = old >> (level + 1), new >> (level + 1)
            if first == last:
                break
            if level + 1 == len(levels):
                levels.append(bytearray())
            src, dst = levels[level], levels[level + 1]
            pre = NODE_PREFIX
            for j in range(first, last):
                off = j * 2 * _H
                dst += _sha256(pre + src[off : off + 2 * _H]).digest()
            level += 1
        self._size = new

    # --- reads ----------------------------------------------------------------------------

    @property
    def size(self) -> int:
        """Number of leaves."""
        return self._size

    def __len__(self) -> int:
        return self._size

    def leaf_hash(self, index: int) -> bytes:
        """The stored hash of leaf ``index``."""
        if not 0 <= index < self._size:
            raise TreeRangeError(f"leaf index {index} out of range for tree size {self._size}")
        return self._node(0, index)

    def root(self, size: int | None = None) -> bytes:
        """Root hash of the tree made of the first ``size`` leaves (default: all of them)."""
        return proofs.root(self._node, self._check_size(size))

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """Audit path for leaf ``index`` in the tree of ``size`` leaves (RFC 6962 PATH).

        Ordered from the leaf's sibling up to the child of the root; verify with
        :func:`ledger.audit.verify.verify_inclusion`.
        """
        return proofs.inclusion_proof(self._node, index, self._check_size(size))

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """Proof that the tree of ``size1`` leaves is a prefix of the one of ``size2`` (RFC 6962 PROOF).

        Requires ``0 < size1 <= size2``; equal sizes give an empty proof. Verify with
        :func:`ledger.audit.verify.verify_consistency`.
        """
        return proofs.consistency_proof(self._node, size1, self._check_size(size2))

    # --- internals ------------------------------------------------------------------------

    def _check_size(self, size: int | None) -> int:
        if size is None:
            return self._size
        if not 0 <= size <= self._size:
            raise TreeRangeError(f"tree size {size} out of range: the log has {self._size} leaves")
        return size

    def _node(self, level: int, index: int) -> bytes:
        off = index * _H
        return bytes(self._levels[level][off : off + _H])

    def _range_hash(self, start: int, end: int) -> bytes:
        """MTH of leaves [start, end); ``start`` is aligned as in RFC 6962's recursive split."""
        return proofs.fold([self._node(h, i) for h, i in proofs.range_nodes(start, end)])

    def __repr__(self) -> str:
        return f"MerkleTree(size={self._size})"

