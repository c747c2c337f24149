"""Chain helpers for the benchmarks: operator keys, a private AuditAnchor, pipelined submission."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from eth_abi import encode as abi_encode
from eth_utils import to_checksum_address

from ledger import keystore
from ledger.chain.client import BoundContract, Chain, Deployment
from ledger.chain.sender import Receipt
from ledger.deploy import ANCHOR_MAX_TREE_SIZE_STEP

RELAYERS = ("relayer-0", "relayer-1", "relayer-2", "relayer-3")


@dataclass
class Operators:
    chain: Chain
    admin: str
    anchorer: str
    relayers: list[str]
    attester: str


def operators(rpc_url: str) -> Operators:
    """A chain client holding the admin, anchorer and relayer keys, and the identity attester's key
    (the bench plays the attester too); relayed work uses the relayer pool."""
    admin, anchorer, attester = (keystore.load_key(name) for name in ("admin", "anchorer", "attester"))
    relayers = [keystore.load_key(name) for name in RELAYERS]
    chain = Chain(rpc_url, accounts=[*relayers, admin, anchorer, attester], pool=[r.address for r in relayers],
                  deployment=Deployment.load())
    return Operators(chain, admin.address, anchorer.address, [r.address for r in relayers], attester.address)


def deploy_audit_anchor(ops: Operators) -> BoundContract:
    """A fresh AuditAnchor (tree size 0) bound to the deployment's Participants, for runs that must
    not disturb the API's own anchors; the anchorer key's ANCHORER role applies to it as well."""
    chain = ops.chain
    artifact = chain.artifacts["AuditAnchor"]
    ctor = chain.abis["AuditAnchor"].constructor_inputs
    data = artifact.bytecode + abi_encode(list(ctor), [chain.deployment.contracts["Participants"],
                                                      ANCHOR_MAX_TREE_SIZE_STEP]).hex()
    receipt = chain.sender.transact(None, data, sender=ops.admin, action="deploy bench AuditAnchor")
    return chain.at("AuditAnchor", to_checksum_address(receipt.contract_address))


def send_pipelined(ops: Operators, to: str, payloads: list[str], *, gas: int, action: str) -> list[str]:
    """Submit every payload without waiting for receipts, one thread per relayer key (each key
    keeps its own nonce sequence); returns the transaction hashes in payload order."""
    sender = ops.chain.sender
    lanes = ops.relayers
    hashes: list[str | None] = [None] * len(payloads)

    def lane(k: int) -> None:
        for i in range(k, len(payloads), len(lanes)):
            hashes[i], _ = sender.send(to, payloads[i], gas=gas, sender=lanes[k], action=action)

    with ThreadPoolExecutor(len(lanes)) as pool:
        for future in [pool.submit(lane, k) for k in range(len(lanes))]:
            future.result()
    return hashes  # type: ignore[return-value]


def wait_all(ops: Operators, hashes: list[str], *, action: str) -> list[Receipt]:
    return [ops.chain.sender.wait(h, action=action, timeout=120) for h in hashes]
