"""Tamper-evident audit log: RFC 6962 Merkle tree, proofs, pure verifiers, canonical entries."""

from ledger.audit.entry import AuditEntry, decode_leaf, encode_leaf, entry_leaf_hash, payload_hash
from ledger.audit.hasher import EMPTY_ROOT, hash_children, hash_leaf
from ledger.audit.tree import MerkleTree
from ledger.audit.verify import (
    root_from_consistency_proof,
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)

__all__ = [
    "EMPTY_ROOT",
    "AuditEntry",
    "MerkleTree",
    "decode_leaf",
    "encode_leaf",
    "entry_leaf_hash",
    "hash_children",
    "hash_leaf",
    "payload_hash",
    "root_from_consistency_proof",
    "root_from_inclusion_proof",
    "verify_consistency",
    "verify_inclusion",
]
