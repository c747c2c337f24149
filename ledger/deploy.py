"""Deploys and wires the ledger contracts, or reuses a deployment of the same code."""

from __future__ import annotations

import logging
from pathlib import Path

from eth_abi import encode as abi_encode
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

from ledger import compiler
from ledger.chain.client import Chain, Deployment
from ledger.domain import Role
from ledger.exceptions import DeploymentNotFound
from ledger.settings import Settings

log = logging.getLogger(__name__)

#: Most entries one anchor may add (AuditAnchor's `maxTreeSizeStep`): 2^20, about a minute of the log's
#: design peak (20k entries/s) where the anchorer anchors every second; a larger backlog is anchored in
#: steps. Exhausting the uint64 tree size would then take 2^44 anchors.
ANCHOR_MAX_TREE_SIZE_STEP = 2**20

#: Gas money for the identity attester's own transactions (registrations, signer-change proposals).
ATTESTER_FUNDING_WEI = 10**20


def existing_deployment(chain: Chain, path: Path | None = None) -> Deployment | None:
    """The deployment saved at ``path`` if it is on this chain, of this code, and its contracts have code."""
    try:
        deployment = Deployment.load(path)
    except DeploymentNotFound:
        return None
    if deployment.chain_id != chain.chain_id or deployment.code_hash != compiler.source_hash():
        return None
    codes = chain.rpc.batch([("eth_getCode", [address, "latest"]) for address in deployment.contracts.values()])
    if any(code in (None, "0x", "0x0") for code in codes):
        return None
    return deployment


def deploy(chain: Chain, admin: LocalAccount, *, relayers: list[str], anchorer: str, attester: str,
           notice_seconds: int | None = None, required_attestations: int | None = None,
           path: Path | None = None, force: bool = False) -> tuple[Deployment, bool]:
    """Deploy (or reuse) the contracts and grant the operator roles; returns (deployment, reused).

    ``attester`` becomes the first identity attester in the Participants constructor; attesters
    administer their own role, so the admin key (which the API holds) never gets it. The Subjects
    parameters and ``path`` (of deployment.json) default to ``Settings.from_env()``'s.
    """
    if notice_seconds is None or required_attestations is None:
        configured = Settings.from_env()
        notice_seconds = configured.signer_change_notice_seconds if notice_seconds is None else notice_seconds
        required_attestations = (configured.required_attestations if required_attestations is None
                                 else required_attestations)
    if not force:
        reused = existing_deployment(chain, path)
        if reused is not None:
            chain.deployment = reused
            return reused, True

    artifacts = compiler.artifacts()
    code_hash = compiler.source_hash()
    sender = chain.sender
    addresses: dict[str, str] = {}
    deploy_block = None

    def create(name: str, *args) -> None:
        nonlocal deploy_block
        art = artifacts[name]
        ctor = chain.abis[name].constructor_inputs
        data = art.bytecode + (abi_encode(list(ctor), list(args)).hex() if ctor else "")
        receipt = sender.transact(None, data, sender=admin.address, action=f"deploy {name}")
        addresses[name] = to_checksum_address(receipt.contract_address)
        deploy_block = receipt.block_number if deploy_block is None else deploy_block
        log.info("deployed %s at %s (gas %d)", name, addresses[name], receipt.gas_used)

    create("Participants", admin.address, attester)
    create("Subjects", addresses["Participants"],
           notice_seconds, required_attestations)
    create("Catalog", addresses["Participants"])
    create("Consents", addresses["Participants"], addresses["Subjects"])
    create("Objections", addresses["Participants"], addresses["Subjects"], addresses["Catalog"])
    create("AuditAnchor", addresses["Participants"], ANCHOR_MAX_TREE_SIZE_STEP)

    deployment = Deployment(chain.chain_id, deploy_block, code_hash, addresses)
    chain.deployment = deployment
    participants = chain.at("Participants", addresses["Participants"])
    grants = [(Role.ANCHORER, anchorer)]
    grants += [(Role.RELAYER, relayer) for relayer in relayers]
    pending = [participants.send("grantRole", role.hash, account, sender=admin.address) for role, account in grants]
    balance = int(chain.rpc.call("eth_getBalance", [attester, "latest"]), 16)
    if balance < ATTESTER_FUNDING_WEI // 10:
        pending.append(sender.send(attester, "0x", value=ATTESTER_FUNDING_WEI, gas=21_000, sender=admin.address,
                                   action="fund attester")[0])
    for tx_hash in pending:
        sender.wait(tx_hash, action="grant operator role")
    deployment.save(path)
    return deployment, False
