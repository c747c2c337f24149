"""RFC 6962 / RFC 9162 hashing for the audit log (SHA-256 with domain separation).

A leaf hash is ``SHA-256(0x00 || leaf)`` and an interior node ``SHA-256(0x01 || left ||
right)``; the different prefixes make it impossible to pass off an interior node as a leaf
(second-preimage attacks). The root of the empty tree is ``SHA-256("")``.
"""

from __future__ import annotations

import hashlib

__all__ = ["EMPTY_ROOT", "HASH_SIZE", "LEAF_PREFIX", "NODE_PREFIX", "hash_children", "hash_leaf"]

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
#: Root hash of the empty tree: SHA-256 of the empty string.
EMPTY_ROOT = hashlib.sha256(b"").digest()

_sha256 = hashlib.sha256


def hash_leaf(leaf: bytes) -> bytes:
    """Hash of a leaf's encoded bytes: SHA-256(0x00 || leaf)."""
    return _sha256(LEAF_PREFIX + bytes(leaf)).digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    """Hash of an interior node: SHA-256(0x01 || left || right)."""
    return _sha256(NODE_PREFIX + bytes(left) + bytes(right)).digest()
