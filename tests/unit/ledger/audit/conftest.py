from __future__ import annotations

import pytest

from ledger.audit import MerkleTree
from tests.support.merkle import REF_LEAVES


@pytest.fixture(scope="module")
def ref_tree() -> MerkleTree:
    """The upstream reference tree (transparency-dev/merkle testonly/constants.go), 8 leaves."""
    tree = MerkleTree()
    for leaf in REF_LEAVES:
        tree.append_leaf(leaf)
    return tree
