"""Re-checks a whole audit trail against the chain, trusting nothing but the chain and the leaves.

Integrity: every leaf decodes, its ``seq`` equals its position (a deleted or reordered row
shows as a gap or a misplaced seq), every tree head anchored on-chain is the root of the log's
first ``tree_size`` leaves, each anchor links to the previous one, and consecutive anchors are
consistent (the log only grew between them). A root mismatch bounds an altered entry to the
range since the previous good anchor; with ``reference_hashes`` (the leaf hashes the writer
committed at append time) the exact entry is named.

Policy: each ALLOW is re-evaluated with :func:`ledger.policy.evaluate` against chain state at
the entry's block, folded from the contracts' own events, with the use counts implied by the
log's order. Field lists come with the export and are checked against the on-chain schema hash.
"""

from __future__ import annotations

import hmac
from collections import Counter
from dataclasses import dataclass, field

import orjson
from eth_abi import encode as abi_encode
from eth_utils import keccak

from ledger import policy
from ledger.audit.bindings import read_consent_signer_problems
from ledger.audit.entry import AuditEntry, decode_leaf
from ledger.audit.hasher import hash_leaf
from ledger.audit.tree import MerkleTree
from ledger.audit.verify import verify_consistency
from ledger.chain.client import Chain
from ledger.exceptions import InvalidProof, LedgerError
from ledger.projection import Projection

_CONTRACTS = ("Participants", "Subjects", "Catalog", "Consents", "AuditAnchor")
_LOG_CHUNK = 10_000


@dataclass(slots=True)
class Problem:
    kind: str
    message: str
    seq: int | None = None

    def as_dict(self) -> dict:
        return {"kind": self.kind, "seq": self.seq, "message": self.message}


@dataclass(slots=True)
class Report:
    entries_checked: int = 0
    anchors_checked: int = 0
    allows_reevaluated: int = 0
    unanchored_entries: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict:
        return {"ok": self.ok, "entries_checked": self.entries_checked, "anchors_checked": self.anchors_checked,
                "allows_reevaluated": self.allows_reevaluated, "unanchored_entries": self.unanchored_entries,
                "problems": [p.as_dict() for p in self.problems]}


@dataclass(frozen=True, slots=True)
class Anchor:
    index: int
    tree_size: int
    root_hash: bytes
    previous_anchor_hash: bytes
    anchor_hash: bytes
    block_number: int
    tx_hash: str


def _chain_logs(chain: Chain, names: tuple[str, ...], head: int) -> list[dict]:
    deployment = chain.deployment
    addresses = [deployment.contracts[n] for n in names]
    logs, start = [], deployment.deploy_block
    while start <= head:
        end = min(head, start + _LOG_CHUNK - 1)
        logs += chain.get_logs(addresses, start, end)
        start = end + 1
    logs.sort(key=lambda lg: (int(lg["blockNumber"], 16), int(lg["logIndex"], 16)))
    return logs


def read_anchors(chain: Chain, head: int | None = None) -> list[Anchor]:
    """Every tree head anchored by the AuditAnchor contract, in order."""
    head = chain.block_number() if head is None else head
    contract = chain.contract("AuditAnchor")
    anchors = []
    for lg in _chain_logs(chain, ("AuditAnchor",), head):
        decoded = contract.abi.decode_log(lg)
        if decoded and decoded[0] == "TreeHeadAnchored":
            a = decoded[1]
            anchors.append(Anchor(a["index"], a["treeSize"], a["rootHash"], a["previousAnchorHash"],
                                  a["anchorHash"], int(lg["blockNumber"], 16), lg["transactionHash"]))
    return anchors


def check_integrity(leaves: list[bytes], anchors: list[Anchor], report: Report,
                    reference_hashes: list[bytes] | None = None) -> tuple[list[int | None], MerkleTree]:
    """Hashes, order and anchors; returns each leaf's seq (None if unreadable) and the tree.

    Only the seq is read from each leaf here (the hash covers the rest); full decoding is the
    policy step's work, so integrity alone runs at hashing speed.
    """
    seqs: list[int | None] = []
    hashes = []
    for position, leaf in enumerate(leaves):
        leaf_hash = hash_leaf(leaf)
        hashes.append(leaf_hash)
        seq = _read_seq(leaf)
        if seq is None:
            report.problems.append(Problem("MALFORMED_ENTRY", f"entry at position {position} has no readable seq",
                                           position))
        elif reference_hashes is not None and position < len(reference_hashes) and \
                not hmac.compare_digest(reference_hashes[position], leaf_hash):
            report.problems.append(Problem("ENTRY_ALTERED", f"entry {position} differs from the committed leaf",
                                           position))
        seqs.append(seq)
    report.entries_checked = len(leaves)
    _check_sequence(seqs, report)
    tree = MerkleTree(hashes)

    previous_hash, previous_size, previous_root = b"\0" * 32, 0, None
    good_size = 0  # size of the last anchor whose root the log reproduces: damage lies beyond it
    for anchor in anchors:
        report.anchors_checked += 1
        linked = keccak(abi_encode(["bytes32", "uint64", "bytes32"],
                                   [previous_hash, anchor.tree_size, anchor.root_hash]))
        if anchor.previous_anchor_hash != previous_hash or anchor.anchor_hash != linked:
            report.problems.append(Problem("ANCHOR_CHAIN_BROKEN", f"anchor {anchor.index} does not link to its "
                                                                   f"predecessor"))
        if anchor.tree_size <= previous_size:
            report.problems.append(Problem("ANCHOR_NOT_INCREASING", f"anchor {anchor.index} size {anchor.tree_size}"))
        if anchor.tree_size > tree.size:
            report.problems.append(Problem(
                "ENTRIES_MISSING", f"anchor {anchor.index} covers {anchor.tree_size} entries; the log has "
                                   f"{tree.size}", tree.size))
        elif not hmac.compare_digest(tree.root(anchor.tree_size), anchor.root_hash):
            report.problems.append(Problem(
                "ANCHOR_ROOT_MISMATCH", f"the log's first {anchor.tree_size} entries do not hash to the root "
                                        f"anchored at block {anchor.block_number}: an entry in seq "
                                        f"{good_size}..{anchor.tree_size - 1} was altered, removed or "
                                        f"reordered", good_size))
        else:
            good_size = anchor.tree_size
            if previous_root is not None and previous_size <= anchor.tree_size:
                try:
                    verify_consistency(previous_size, anchor.tree_size,
                                       tree.consistency_proof(previous_size, anchor.tree_size),
                                       previous_root, anchor.root_hash)
                except InvalidProof as exc:
                    report.problems.append(Problem("ANCHORS_INCONSISTENT", f"anchor {anchor.index}: {exc}"))
        previous_hash, previous_size, previous_root = anchor.anchor_hash, anchor.tree_size, anchor.root_hash
    report.unanchored_entries = max(0, tree.size - previous_size)
    return seqs, tree


def _read_seq(leaf: bytes) -> int | None:
    try:
        seq = orjson.loads(leaf).get("seq")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    return seq if type(seq) is int and seq >= 0 else None


def _check_sequence(seqs: list[int | None], report: Report) -> None:
    """Seqs must run 0, 1, 2, ... in log order: name each one out of place, duplicated or missing."""
    seen: set[int] = set()
    previous = -1
    for position, seq in enumerate(seqs):
        if seq is None:
            continue
        if seq in seen:
            report.problems.append(Problem("ENTRY_DUPLICATED", f"seq {seq} appears twice", seq))
        elif seq < previous:
            report.problems.append(Problem("ENTRY_OUT_OF_ORDER", f"seq {seq} stands at position {position}, "
                                                                 f"after seq {previous}", seq))
        seen.add(seq)
        previous = max(previous, seq)
    for missing in sorted(set(range(previous + 1)) - seen)[:100]:
        report.problems.append(Problem("ENTRY_MISSING", f"seq {missing} is missing from the log", missing))


def decode_entries(leaves: list[bytes], report: Report) -> list[AuditEntry | None]:
    """Every leaf decoded strictly (canonical form); a leaf that is not is reported, once."""
    flagged = {p.seq for p in report.problems if p.kind == "MALFORMED_ENTRY"}
    entries: list[AuditEntry | None] = []
    for position, leaf in enumerate(leaves):
        try:
            entries.append(decode_leaf(leaf))
        except LedgerError as exc:
            if position not in flagged:
                report.problems.append(Problem("MALFORMED_ENTRY", f"entry at position {position}: {exc}", position))
            entries.append(None)
    return entries


def check_policy(chain: Chain, leaves: list[bytes], resource_fields: dict[str, list[str]],
                 report: Report, head: int | None = None) -> None:
    """Decode every entry and re-evaluate every ALLOW against chain state at its block."""
    entries = decode_entries(leaves, report)
    head = chain.block_number() if head is None else head
    abis = {chain.deployment.contracts[n].lower(): chain.abis[n] for n in _CONTRACTS}
    logs = _chain_logs(chain, _CONTRACTS, head)
    blocks = sorted({lg["blockNumber"] for lg in logs})
    timestamps: dict[str, int] = {}
    for i in range(0, len(blocks), 500):
        chunk = blocks[i:i + 500]
        headers = chain.rpc.batch([("eth_getBlockByNumber", [b, False]) for b in chunk])
        timestamps |= {b: int(h["timestamp"], 16) for b, h in zip(chunk, headers)}

    # Use counts as the log's order implies them: an ALLOW's uses are the ALLOWs before it.
    uses_before: dict[int, int] = {}
    running: Counter[str] = Counter()
    for entry in entries:
        if entry is not None and entry.decision == "ALLOW" and entry.consent_id:
            uses_before[entry.seq] = running[entry.consent_id]
            running[entry.consent_id] += 1

    resources: dict[str, tuple] = {}
    projection = Projection()
    pending = iter(logs)
    next_log = next(pending, None)
    ordered = sorted((e for e in entries if e is not None), key=lambda e: (e.block_number, e.seq))
    for entry in ordered:
        if entry.block_number > head:
            report.problems.append(Problem("BLOCK_IN_FUTURE", f"entry {entry.seq} cites block {entry.block_number}"
                                                              f" beyond the chain head {head}", entry.seq))
            continue
        while next_log is not None and int(next_log["blockNumber"], 16) <= entry.block_number:
            decoded = abis.get(next_log["address"].lower())
            event = decoded.decode_log(next_log) if decoded else None
            if event:
                projection.apply(event[0], event[1], next_log, timestamps[next_log["blockNumber"]])
            next_log = next(pending, None)
        if entry.decision != "ALLOW":
            continue
        report.allows_reevaluated += 1
        decision = _reevaluate(entry, projection, resource_fields, resources, uses_before.get(entry.seq, 0))
        if isinstance(decision, str):
            report.problems.append(Problem("POLICY_VIOLATION", f"entry {entry.seq}: {decision}", entry.seq))
        elif not decision.allowed:
            report.problems.append(Problem(
                "POLICY_VIOLATION", f"entry {entry.seq} released {entry.resource} to {entry.requester} but the "
                                    f"policy at block {entry.block_number} says {decision.reason.value}", entry.seq))
        elif entry.consent_id and decision.consent_id is None:
            report.problems.append(Problem("POLICY_VIOLATION", f"entry {entry.seq} cites consent "
                                                               f"{entry.consent_id}, which was not needed", entry.seq))


def _reevaluate(entry: AuditEntry, p: Projection, resource_fields: dict[str, list[str]],
                cache: dict, uses: int):
    hashes = cache.get(entry.resource)
    if hashes is None:  # the slug's key and its exported field list's schema hash, once per resource
        fields = resource_fields.get(entry.resource)
        schema = "0x" + keccak(orjson.dumps(list(fields))).hex() if fields is not None else None
        hashes = cache[entry.resource] = ("0x" + keccak(text=entry.resource).hex(), schema, fields)
    key, schema, fields = hashes
    state = p.resources.get(key)
    if state is None or fields is None:
        return f"resource {entry.resource} is not in the catalog at block {entry.block_number}"
    if schema != state.schema_hash:
        return f"the exported field list of {entry.resource} does not match its on-chain schema hash"
    resource = policy.Resource(resource_id=entry.resource, resource_key=key, provider=state.provider,
                               sharing_class=state.sharing_class, sensitive=state.sensitive, active=state.active,
                               fields=tuple(fields))
    department = p.departments.get(entry.requester)
    found = p.agreements.get((entry.requester, key))
    agreement = policy.Agreement(found.field_mask, found.valid_until) if found else None
    consents = [policy.Consent(
        consent_id=c.consent_id, subject_id=c.subject_id, grantee=c.grantee, resource_masks=c.resource_masks,
        purpose_hash=c.purpose_hash, valid_from=c.valid_from, valid_until=c.valid_until, max_uses=c.max_uses,
        status=c.status, uses_so_far=uses if c.consent_id == entry.consent_id else 0)
        for c in p.consents_for(entry.subject_id, entry.requester, key)
        if entry.consent_id is None or c.consent_id == entry.consent_id]
    return policy.evaluate(
        policy.Request(entry.requester, entry.subject_id, entry.resource, entry.fields, entry.purpose),
        department=policy.Department(department.address, department.code, department.active) if department else None,
        resource=resource, subject_known=entry.subject_id in p.subjects, agreement=agreement, consents=consents,
        block=policy.Block(entry.block_number, int(entry.time.timestamp())))


def verify_trail(chain: Chain, leaves: list[bytes], resource_fields: dict[str, list[str]], *,
                 reference_hashes: list[bytes] | None = None, check_policies: bool = True) -> Report:
    report = Report()
    head = chain.block_number()
    anchors = read_anchors(chain, head)
    check_integrity(leaves, anchors, report, reference_hashes)
    if check_policies:
        check_policy(chain, leaves, resource_fields, report, head)
        report.problems += [Problem(p.kind, p.message) for p in read_consent_signer_problems(chain, head)]
    else:
        decode_entries(leaves, report)
    return report
