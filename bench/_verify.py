"""The regulator's re-verification: integrity checks and full policy re-evaluation, entries per second.

The log is synthetic but real where it counts: its ALLOW entries cite consents that were granted
on the devnet by the grants benchmark (a few hundred of them, many entries each), from the
department they were granted to, for fields they cover; its tree heads are anchored on-chain
in an AuditAnchor of its own. The verifier then runs as a regulator runs it
(:mod:`ledger.audit.trail`): anchors read from the chain, every leaf decoded and hashed, every
anchor's root and link checked; then every ALLOW re-evaluated against chain state folded from
the contracts' events up to its block.
"""

from __future__ import annotations

import time

from bench._chain import Operators, deploy_audit_anchor
from bench._stats import rnd
from bench._synthetic import Grant, check_canonical, leaf_hashes, make_leaves
from bench._world import PURPOSE, RESOURCE, RESOURCE_FIELDS
from ledger.audit.incremental import VerifierState, check_integrity
from ledger.audit.trail import Report, check_policy, read_anchors
from ledger.audit.tree import MerkleTree
from ledger.chain.client import Chain, Deployment

_FIELD_CHOICES = (("name",), ("employer", "name"), ("employer", "name", "pension_months"))


def build_log(grants: list[Grant], entries: int, block: int) -> list[bytes]:
    leaves = make_leaves(entries, grants, block=block)
    check_canonical(leaves)
    return leaves


def anchor_log(ops: Operators, leaves: list[bytes], every: int) -> tuple[str, list[bytes]]:
    """Anchor the log's tree head every ``every`` entries in a fresh AuditAnchor; returns its address."""
    hashes = leaf_hashes(leaves)
    tree = MerkleTree(hashes)
    contract = deploy_audit_anchor(ops)
    sizes = list(range(every, len(leaves) + 1, every))
    if not sizes or sizes[-1] != len(leaves):
        sizes.append(len(leaves))
    for size in sizes:
        contract.transact("anchor", size, tree.root(size), sender=ops.anchorer)
    return contract.address, hashes


def measure(ops: Operators, signed_consents: list, grantee: str, *, entries: int, consents: int,
            anchor_every: int, log, sampler=None) -> dict:
    grants = [Grant("0x" + s.consent_id.hex(), "0x" + s.message.subject.hex(), grantee,
                    _FIELD_CHOICES[i % len(_FIELD_CHOICES)], PURPOSE, RESOURCE)
              for i, s in enumerate(signed_consents[:consents])]
    head = ops.chain.block_number()
    started = time.perf_counter()
    leaves = build_log(grants, entries, head)
    anchor_address, _ = anchor_log(ops, leaves, anchor_every)
    log(f"verify: {entries} entries built and anchored in {time.perf_counter() - started:.1f} s")

    base = ops.chain.deployment
    deployment = Deployment(base.chain_id, base.deploy_block, base.code_hash,
                            {**base.contracts, "AuditAnchor": anchor_address})
    chain = Chain(ops.chain.rpc.url, deployment=deployment)
    report = Report()
    head = chain.block_number()
    started = time.perf_counter()
    anchors = read_anchors(chain, head)
    read_s = time.perf_counter() - started
    if sampler is not None:
        sampler.start()
    started = time.perf_counter()
    check_integrity(VerifierState.empty(chain), leaves, anchors, report)
    integrity_s = time.perf_counter() - started
    started = time.perf_counter()
    check_policy(chain, leaves, {RESOURCE: list(RESOURCE_FIELDS)}, report, head)  # decodes every entry
    policy_s = time.perf_counter() - started
    profile = sampler.stop() if sampler is not None else None
    chain.close()
    return {
        "integrity_per_s": rnd(entries / integrity_s, 0),
        "policy_per_s": rnd(entries / policy_s, 0),
        "allows_per_s": rnd(report.allows_reevaluated / policy_s, 0),
        "entries": entries,
        "allows_reevaluated": report.allows_reevaluated,
        "consents_cited": len(grants),
        "anchors_checked": report.anchors_checked,
        "read_anchors_s": rnd(read_s, 3),
        "integrity_s": rnd(integrity_s, 3),
        "policy_s": rnd(policy_s, 3),
        "ok": report.ok,
        "problems": [p.as_dict() for p in report.problems[:5]],
        **({"profile": profile} if sampler is not None else {}),
    }
