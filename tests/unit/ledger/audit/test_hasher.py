"""RFC 6962 hashing: leaf and node domain separation, the empty root."""

from __future__ import annotations

import pytest

from ledger.audit import EMPTY_ROOT, hash_children, hash_leaf
from tests.support.merkle import REFERENCE, H, sha

pytestmark = pytest.mark.unit


def test_hasher_domain_separation() -> None:
    assert EMPTY_ROOT == sha(b"") == H(REFERENCE["empty_root"])
    assert hash_leaf(b"") == H("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
    assert hash_leaf(b"abc") == sha(b"\x00abc")
    assert hash_children(b"a" * 32, b"b" * 32) == sha(b"\x01" + b"a" * 32 + b"b" * 32)
    assert hash_leaf(b"\x01" + b"a" * 32 + b"b" * 32) != hash_children(b"a" * 32, b"b" * 32)
