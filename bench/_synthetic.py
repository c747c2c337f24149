"""Synthetic but well-formed audit logs, made fast enough to reach a million entries.

Leaves are rendered straight into the canonical encoding of :mod:`ledger.audit.entry` (keys
sorted, no whitespace) from a template; :func:`check_canonical` decodes a sample and re-encodes
it, so a template that drifted from the real encoding fails loudly instead of skewing results.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import UTC, datetime

from eth_abi import encode as abi_encode
from eth_utils import keccak

from ledger.audit.entry import decode_leaf, encode_leaf, format_time
from ledger.audit.hasher import hash_leaf
from ledger.audit.trail import Anchor
from ledger.audit.tree import MerkleTree


@dataclass(frozen=True)
class Grant:
    """What an ALLOW entry cites: a consent of ``subject_id`` to ``requester`` for these fields."""

    consent_id: str
    subject_id: str
    requester: str
    fields: tuple[str, ...]
    purpose: str
    resource: str


def _leaf(seq: int, when: str, grant: Grant, allow: bool, block: int, payload: str | None) -> bytes:
    fields = ",".join(f'"{f}"' for f in sorted(grant.fields))
    consent = f'"{grant.consent_id}"' if allow else "null"
    payload_json = f'"{payload}"' if allow else "null"
    decision, reason = ("ALLOW", "OK") if allow else ("DENY", "FIELD_NOT_GRANTED")
    return (f'{{"block_number":{block},"consent_id":{consent},"decision":"{decision}","fields":[{fields}],'
            f'"payload_hash":{payload_json},"purpose":"{grant.purpose}","reason":"{reason}",'
            f'"requester":"{grant.requester}","resource":"{grant.resource}","seq":{seq},'
            f'"subject_id":"{grant.subject_id}","time":"{when}"}}').encode()


def make_rows(count: int, grants: list[Grant], *, block: int | list[int], when: datetime | None = None,
              allow_share: float = 0.8, seed: int = 7, first_seq: int = 0) -> list[tuple[bytes, Grant, bool]]:
    """``count`` entries from seq ``first_seq``: (leaf, grant, allowed); ALLOW (``allow_share``) under a
    random grant, else DENY; at ``block`` (one block for all, or one per entry)."""
    rng = random.Random(seed)
    stamp = format_time(when or datetime.now(UTC))
    blocks = block if isinstance(block, list) else None
    rows = []
    for i in range(count):
        seq = first_seq + i
        grant = grants[rng.randrange(len(grants))]
        allow = rng.random() < allow_share
        payload = "0x" + hashlib.sha256(seq.to_bytes(8, "big")).hexdigest() if allow else None
        rows.append((_leaf(seq, stamp, grant, allow, blocks[i] if blocks else block, payload), grant, allow))
    return rows


def make_leaves(count: int, grants: list[Grant], **kwargs) -> list[bytes]:
    return [leaf for leaf, _, _ in make_rows(count, grants, **kwargs)]


def check_canonical(leaves: list[bytes], sample: int = 200) -> None:
    for leaf in leaves[:sample]:
        if encode_leaf(decode_leaf(leaf)) != leaf:
            raise AssertionError(f"synthetic leaf is not canonical: {leaf!r}")


def random_grants(count: int, requester: str, seed: int = 11) -> list[Grant]:
    rng = random.Random(seed)
    return [Grant("0x" + rng.randbytes(32).hex(), "0x" + rng.randbytes(32).hex(), requester,
                  ("employer", "name"), "pension_eligibility", "hrss.social_insurance") for _ in range(count)]


def anchors_for(hashes: list[bytes], every: int) -> list[Anchor]:
    """A valid hash-linked anchor chain over the log, one anchor every ``every`` entries and one at the end
    (what the AuditAnchor contract would have emitted), built in memory."""
    tree = MerkleTree()
    anchors, previous, done = [], b"\0" * 32, 0
    sizes = list(range(every, len(hashes) + 1, every))
    if not sizes or sizes[-1] != len(hashes):
        sizes.append(len(hashes))
    for index, size in enumerate(sizes, start=1):
        tree.extend(hashes[done:size])
        done = size
        root = tree.root()
        linked = keccak(abi_encode(["bytes32", "uint64", "bytes32"], [previous, size, root]))
        anchors.append(Anchor(index, size, root, previous, linked, index, "0x" + "00" * 32))
        previous = linked
    return anchors


def leaf_hashes(leaves: list[bytes]) -> list[bytes]:
    return [hash_leaf(leaf) for leaf in leaves]
