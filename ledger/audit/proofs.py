"""RFC 6962 proof building over any store of perfect-subtree hashes.

A tree of ``n`` leaves is read through one function, ``node(height, index)``: the root of the
perfect subtree of ``2**height`` leaves starting at leaf ``index << height``. Only subtrees
that are complete in the tree being proved are ever asked for, so the store never needs the
ephemeral nodes of the right edge: they are folded here from the perfect subtrees under them
(the compact range). Every function reads O(log n) nodes.

The in-memory :class:`~ledger.audit.tree.MerkleTree` and the tile-backed
:class:`~ledger.audit.tiles.TiledTree` both build their proofs here, so there is one proof
builder; the pure verifier (:mod:`ledger.audit.verify`) stays apart from both.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from ledger.audit.hasher import EMPTY_ROOT, NODE_PREFIX
from ledger.exceptions import TreeRangeError

__all__ = ["NodeReader", "consistency_nodes", "consistency_proof", "inclusion_nodes", "inclusion_proof",
           "range_nodes", "root", "split"]

#: ``node(height, index)``: the hash of the perfect subtree of ``2**height`` leaves from ``index << height``.
NodeReader = Callable[[int, int], bytes]

_sha256 = hashlib.sha256


def split(length: int) -> int:
    """Largest power of two strictly smaller than ``length`` (``length`` >= 2)."""
    return 1 << ((length - 1).bit_length() - 1)


def range_nodes(start: int, end: int) -> list[tuple[int, int]]:
    """The perfect subtrees, left to right, whose fold is MTH(D[start:end]) (``start`` aligned as
    RFC 6962's recursive split leaves it): one node when the range is perfect, else the binary digits
    of its length, largest first."""
    length = end - start
    if length & (length - 1) == 0:
        height = length.bit_length() - 1
        return [(height, start >> height)]
    nodes = []
    pos = start
    while pos < end:
        height = (end - pos).bit_length() - 1
        nodes.append((height, pos >> height))
        pos += 1 << height
    return nodes


def fold(hashes: list[bytes]) -> bytes:
    """Fold perfect-subtree hashes, left to right in the tree, right to left as RFC 6962 hashes them."""
    acc = hashes[-1]
    for left in reversed(hashes[:-1]):
        acc = _sha256(NODE_PREFIX + left + acc).digest()
    return acc


def _range_hash(node: NodeReader, start: int, end: int) -> bytes:
    return fold([node(h, i) for h, i in range_nodes(start, end)])


def root(node: NodeReader, size: int) -> bytes:
    """MTH of the first ``size`` leaves."""
    return EMPTY_ROOT if size == 0 else _range_hash(node, 0, size)


def _inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The sibling ranges of leaf ``index``'s path in a tree of ``size`` leaves, leaf side first."""
    if not 0 <= index < size:
        raise TreeRangeError(f"leaf index {index} out of range for tree size {size}")
    ranges: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:
        mid = start + split(end - start)
        if index < mid:
            ranges.append((mid, end))
            end = mid
        else:
            ranges.append((start, mid))
            start = mid
    ranges.reverse()
    return ranges


def _consistency_ranges(size1: int, size2: int) -> list[tuple[int, int]]:
    """The ranges whose hashes make RFC 6962's PROOF(size1, D[0:size2]), in proof order."""
    if size1 <= 0 or size1 > size2:
        raise TreeRangeError(f"consistency proof needs 0 < size1 <= size2, got size1={size1}, size2={size2}")
    ranges: list[tuple[int, int]] = []
    start, end, whole = 0, size2, True  # ``whole``: the old root is the current subtree itself
    while size1 != end:
        mid = start + split(end - start)
        if size1 <= mid:
            ranges.append((mid, end))
            end = mid
        else:
            ranges.append((start, mid))
            start, whole = mid, False
    if not whole:
        ranges.append((start, end))
    ranges.reverse()
    return ranges


def inclusion_proof(node: NodeReader, index: int, size: int) -> list[bytes]:
    """Audit path of leaf ``index`` in the tree of ``size`` leaves, from the leaf's sibling up."""
    return [_range_hash(node, s, e) for s, e in _inclusion_ranges(index, size)]


def consistency_proof(node: NodeReader, size1: int, size2: int) -> list[bytes]:
    """Proof that the tree of ``size1`` leaves is a prefix of the one of ``size2`` (empty when equal)."""
    return [_range_hash(node, s, e) for s, e in _consistency_ranges(size1, size2)]


def inclusion_nodes(index: int, size: int) -> set[tuple[int, int]]:
    """Every node :func:`inclusion_proof` and :func:`root` read for this pair: fetch them first, in one go."""
    return {n for s, e in [*_inclusion_ranges(index, size), (0, size)] for n in range_nodes(s, e)}


def consistency_nodes(size1: int, size2: int) -> set[tuple[int, int]]:
    """Every node :func:`consistency_proof` and both :func:`root` calls read for this pair."""
    ranges = [*_consistency_ranges(size1, size2), (0, size1), (0, size2)]
    return {n for s, e in ranges for n in range_nodes(s, e)}
