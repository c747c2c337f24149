"""Offline proof bundles: one audit entry, its C2SP tlog-proof, and the transaction that anchored it.

A bundle (JSON, ``"format": "consent-ledger-audit-bundle/1"``) is what a citizen keeps as proof of
who saw what. It holds:

- ``leaf``: the entry's canonical JSON text (its UTF-8 bytes are the bytes that were hashed);
- ``proof``: a C2SP tlog-proof (https://c2sp.org/tlog-proof): the entry's index, its RFC 6962
  inclusion path, and the log's signed checkpoint (a C2SP signed note) of the anchored tree head;
- ``anchor``: the chain id, the AuditAnchor contract, and the hash and block of the transaction
  that anchored that tree head.

:func:`verify_bundle` checks one with nothing but the chain and the log's public key: the note's
signature, the inclusion path from the leaf to the checkpoint's root, and, on the chain, that the
transaction is in the canonical chain and that the trusted AuditAnchor contract emitted the same
tree size and root in it. The operator's word (the ``anchor`` part names a contract) counts for
nothing: the contract address comes from the verifier's own deployment.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
from dataclasses import dataclass

from ledger.audit.entry import AuditEntry, decode_leaf
from ledger.audit.hasher import HASH_SIZE, hash_leaf
from ledger.audit.integrate import log_origin
from ledger.audit.note import Checkpoint, NoteVerifier, open_note
from ledger.audit.verify import verify_inclusion
from ledger.chain.client import Chain
from ledger.exceptions import InvalidAuditEntry, InvalidBundle, InvalidProof, LedgerError, NoteError

__all__ = ["BUNDLE_FORMAT", "TLOG_PROOF_HEADER", "BundleVerdict", "TlogProof", "make_bundle", "verify_bundle"]

BUNDLE_FORMAT = "consent-ledger-audit-bundle/1"
TLOG_PROOF_HEADER = "c2sp.org/tlog-proof@v1"
_INDEX = re.compile(r"index (0|[1-9][0-9]*)")


@dataclass(frozen=True, slots=True)
class TlogProof:
    """A C2SP tlog-proof: index, inclusion path (leaf's sibling first), checkpoint note verbatim."""

    index: int
    hashes: tuple[bytes, ...]
    checkpoint: str
    extra: bytes | None = None

    def encode(self) -> str:
        lines = [TLOG_PROOF_HEADER]
        if self.extra is not None:
            lines.append("extra " + base64.b64encode(self.extra).decode())
        lines.append(f"index {self.index}")
        lines += [base64.b64encode(h).decode() for h in self.hashes]
        return "\n".join(lines) + "\n\n" + self.checkpoint

    @classmethod
    def parse(cls, text: str) -> TlogProof:
        """Strictly: the header line, an optional ``extra`` line, ``index N`` with no leading zero,
        one canonical base64 SHA-256 hash a line, an empty line, then the checkpoint note."""
        head, sep, checkpoint = text.partition("\n\n")
        if not sep or not checkpoint:
            raise InvalidBundle("the tlog-proof has no empty line before its checkpoint")
        lines = head.split("\n")
        if lines[0] != TLOG_PROOF_HEADER:
            raise InvalidBundle(f"the tlog-proof does not start with {TLOG_PROOF_HEADER!r}")
        rest = lines[1:]
        extra = None
        if rest and rest[0].startswith("extra "):
            extra = _b64(rest.pop(0)[len("extra "):], "the extra data", None)
        match = _INDEX.fullmatch(rest[0]) if rest else None
        if match is None:
            raise InvalidBundle("the tlog-proof has no canonical 'index N' line")
        hashes = tuple(_b64(line, f"inclusion path hash {i}", HASH_SIZE) for i, line in enumerate(rest[1:]))
        return cls(int(match.group(1)), hashes, checkpoint, extra)


def _b64(text: str, what: str, size: int | None) -> bytes:
    try:
        value = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidBundle(f"{what} is not base64") from None
    if base64.b64encode(value).decode() != text or (size is not None and len(value) != size):
        raise InvalidBundle(f"{what} is not the canonical base64 of {size or 'its'} bytes")
    return value


def make_bundle(leaf: bytes, proof: TlogProof, *, chain_id: int, audit_anchor: str, tx_hash: str,
                block_number: int) -> dict:
    """The bundle of one integrated, anchored entry."""
    return {"format": BUNDLE_FORMAT, "leaf": leaf.decode("utf-8"), "proof": proof.encode(),
            "anchor": {"chain_id": chain_id, "audit_anchor": audit_anchor, "tx_hash": tx_hash,
                       "block_number": block_number}}


@dataclass(frozen=True, slots=True)
class BundleVerdict:
    """What a verified bundle proves: this entry is leaf ``entry.seq`` of the log's tree of
    ``tree_size`` entries, whose root the AuditAnchor anchored in block ``block_number`` (at
    ``block_time``, Unix seconds) of the chain."""

    entry: AuditEntry
    tree_size: int
    root: bytes
    tx_hash: str
    block_number: int
    block_time: int


def verify_bundle(bundle: dict | str | bytes, chain: Chain, log_key: NoteVerifier) -> BundleVerdict:
    """Check a bundle against the chain (whose client holds the trusted deployment) and the log's
    public key; raises :class:`~ledger.exceptions.InvalidBundle` saying what does not hold."""
    data = _fields(bundle)
    anchor_address = chain.deployment.contracts["AuditAnchor"]
    origin = log_origin(chain.deployment.chain_id, anchor_address)
    proof = TlogProof.parse(data["proof"])
    try:
        checkpoint = Checkpoint.parse(open_note(proof.checkpoint, [log_key]), origin)
    except NoteError as exc:
        raise InvalidBundle(f"the checkpoint is not the log's: {exc}") from None
    leaf = data["leaf"].encode("utf-8")
    try:
        entry = decode_leaf(leaf)
    except InvalidAuditEntry as exc:
        raise InvalidBundle(f"the leaf is not an audit entry: {exc}") from None
    if entry.seq != proof.index:
        raise InvalidBundle(f"the leaf is entry {entry.seq}, the proof is for index {proof.index}")
    try:
        verify_inclusion(hash_leaf(leaf), proof.index, checkpoint.size, list(proof.hashes), checkpoint.root)
    except InvalidProof as exc:
        raise InvalidBundle(f"the entry is not in the checkpoint's tree: {exc}") from None
    block_number, block_time = _anchored_in(chain, anchor_address, data["anchor"]["tx_hash"], checkpoint)
    return BundleVerdict(entry, checkpoint.size, checkpoint.root, data["anchor"]["tx_hash"], block_number,
                         block_time)


def _fields(bundle: dict | str | bytes) -> dict:
    try:
        data = json.loads(bundle) if isinstance(bundle, (str, bytes)) else bundle
    except ValueError as exc:
        raise InvalidBundle(f"the bundle is not JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != BUNDLE_FORMAT:
        raise InvalidBundle(f"not a proof bundle (expected \"format\": \"{BUNDLE_FORMAT}\")")
    anchor = data.get("anchor")
    if not (isinstance(data.get("leaf"), str) and isinstance(data.get("proof"), str) and isinstance(anchor, dict)
            and isinstance(anchor.get("tx_hash"), str) and re.fullmatch(r"0x[0-9a-fA-F]{64}", anchor["tx_hash"])):
        raise InvalidBundle("a bundle holds a leaf and a proof (strings) and an anchor with its tx_hash")
    return data


def _anchored_in(chain: Chain, anchor_address: str, tx_hash: str, checkpoint: Checkpoint) -> tuple[int, int]:
    """Block number and time of the canonical transaction in which the trusted AuditAnchor anchored
    the checkpoint's size and root."""
    try:
        receipt = chain.rpc.call("eth_getTransactionReceipt", [tx_hash])
        if receipt is None:
            raise InvalidBundle(f"transaction {tx_hash} is not on the chain")
        number = int(receipt["blockNumber"], 16)
        block = chain.block(number)
    except LedgerError as exc:
        if isinstance(exc, InvalidBundle):
            raise
        raise InvalidBundle(f"cannot read the chain: {exc}") from None
    if block is None or block["hash"] != receipt["blockHash"]:
        raise InvalidBundle(f"transaction {tx_hash} is not in the canonical chain")
    contract = chain.contract("AuditAnchor")
    for log in receipt.get("logs", []):
        if log["address"].lower() != anchor_address.lower():
            continue
        decoded = contract.abi.decode_log(log)
        if decoded and decoded[0] == "TreeHeadAnchored":
            anchored = decoded[1]
            if anchored["treeSize"] == checkpoint.size and hmac.compare_digest(anchored["rootHash"], checkpoint.root):
                return number, int(block["timestamp"], 16)
            raise InvalidBundle(f"transaction {tx_hash} anchored size {anchored['treeSize']}, not the checkpoint's "
                                f"{checkpoint.size} with its root")
    raise InvalidBundle(f"transaction {tx_hash} anchored no tree head in the trusted AuditAnchor {anchor_address}")
