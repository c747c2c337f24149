"""Consent grants on-chain: batched and single submission against the web3.py baseline, and gas.

Signing is the citizens' work, done before any clock starts: many subjects are registered by
the identity attester (the admin key), each with its own key, and every consent is pre-signed.
Then the relayer submits them three ways, each timed from the first submission to the last
receipt:

* batch: ``Consents.grantBatch`` with ``batch`` consents per transaction, pipelined over the
  four relayer keys (sent without waiting, then every receipt collected);
* single: one ``Consents.grant`` per transaction, pipelined the same way;
* baseline: web3.py's contract API, one transaction at a time, waiting for each receipt.

Gas comes from the receipts: a single grant, a batch divided by its size, a ``revokeWithSig``
and a steady-state ``AuditAnchor.anchor``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import coincurve
from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from bench._chain import Operators, deploy_audit_anchor, send_pipelined, wait_all
from bench._stats import median, rnd
from bench._world import GRANTED, PURPOSE, RESOURCE, RESOURCE_FIELDS, resident_id
from ledger.domain import resource_key
from ledger.eip712 import (CONSENT_TYPE, ConsentMessage, Domain, RevokeMessage, consent_typed_data,
                           hash_typed_data, revoke_typed_data)
from ledger.identity import subject_id

CONSENTS_PER_SUBJECT = 10
#: Subject indices of the grant benchmark start here, clear of the release world's citizens.
FIRST_SUBJECT = 100_000


@dataclass
class Signed:
    message: ConsentMessage
    consent_id: bytes
    signer: LocalAccount
    signature: bytes

    def grant_args(self) -> tuple:
        return self.message.as_abi_tuple(), [self.signer.address], [self.signature]


def register_subjects(ops: Operators, pepper: bytes, count: int, first: int) -> list[tuple[bytes, LocalAccount]]:
    """Bind ``count`` new person subjects, one fresh key each, as the identity attester."""
    subjects_contract = ops.chain.contract("Subjects")
    subjects = [(subject_id(pepper, "resident_id", resident_id(first + i)), Account.create()) for i in range(count)]
    hashes = [subjects_contract.send("register", sid, 1, [key.address], 1, sender=ops.attester, gas=400_000)
              for sid, key in subjects]
    wait_all(ops, hashes, action="register bench subject")
    return subjects


def presign(domain: Domain, subjects: list[tuple[bytes, LocalAccount]], grantee: str, count: int,
            per_subject: int = CONSENTS_PER_SUBJECT) -> list[Signed]:
    """``count`` consents to ``grantee`` for the granted fields, ``per_subject`` to each subject in turn,
    signed by their subjects' keys."""
    now = int(time.time())
    key = resource_key(RESOURCE)
    mask = sum(1 << RESOURCE_FIELDS.index(f) for f in GRANTED)
    messages = [ConsentMessage(subject=subjects[i // per_subject][0], grantee=grantee, resources=(key,),
                               field_masks=(mask,), purpose=PURPOSE, valid_from=now - 600, valid_until=now + 30 * 86400,
                               max_uses=0, nonce=i % per_subject, deadline=now + 86400)
                for i in range(count)]
    digests = _ConsentDigests(domain, messages)
    keys: dict[str, coincurve.PrivateKey] = {}
    signed = []
    for i, message in enumerate(messages):
        signer = subjects[i // per_subject][1]
        digest = digests.digest(message)
        recoverable = keys.setdefault(signer.address, coincurve.PrivateKey(signer.key)).sign_recoverable(
            digest, hasher=None)
        signed.append(Signed(message, digest, signer, recoverable[:64] + bytes([recoverable[64] + 27])))
    return signed


class _ConsentDigests:
    """EIP-712 digests of many consents that differ only in subject and nonce, without typed-data JSON
    (which would make the citizens' signing dominate a benchmark of a million grants). They must agree
    with the library's ``hash_typed_data``: checked on the first and the last of every batch."""

    def __init__(self, domain: Domain, messages: list[ConsentMessage]):
        self._prefix = b"\x19\x01" + _struct_hash(_type_string("EIP712Domain", domain.types()), domain.as_json())
        self._type_hash = keccak(_type_string("Consent", CONSENT_TYPE).encode())
        self._middles: dict[tuple, bytes] = {}  # the encoding of the fields between subject and nonce
        for message in (messages[0], messages[-1]):
            if self.digest(message) != hash_typed_data(consent_typed_data(domain, message)):
                raise AssertionError("the fast consent digest disagrees with ledger.eip712")

    def digest(self, m: ConsentMessage) -> bytes:
        shared = (m.grantee, m.resources, m.field_masks, m.purpose, m.valid_from, m.valid_until, m.max_uses)
        middle = self._middles.get(shared)
        if middle is None:
            middle = self._middles[shared] = abi_encode(
                ["address", "bytes32", "bytes32", "bytes32", "uint64", "uint64", "uint32"],
                [m.grantee, keccak(b"".join(m.resources)),
                 keccak(b"".join(v.to_bytes(32, "big") for v in m.field_masks)), keccak(m.purpose.encode()),
                 m.valid_from, m.valid_until, m.max_uses])
        body = self._type_hash + m.subject + middle + m.nonce.to_bytes(32, "big") + m.deadline.to_bytes(32, "big")
        return keccak(self._prefix + keccak(body))


def _type_string(name: str, fields: list[dict]) -> str:
    return f"{name}({','.join(field['type'] + ' ' + field['name'] for field in fields)})"


def _struct_hash(type_string: str, values: dict) -> bytes:
    """hashStruct of a flat struct of strings, uint256 and addresses (the EIP-712 domain)."""
    fields = type_string[type_string.index("(") + 1:-1].split(",")
    types, words = ["bytes32"], [keccak(type_string.encode())]
    for field in fields:
        kind, name = field.split(" ")
        value = values[name]
        types.append("bytes32" if kind == "string" else kind)
        words.append(keccak(value.encode()) if kind == "string" else value)
    return keccak(abi_encode(types, words))


def _timed(fn) -> tuple[float, object]:
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def grant_batches(ops: Operators, consents: list[Signed], batch: int) -> tuple[float, list]:
    contract = ops.chain.contract("Consents")
    chunks = [consents[i:i + batch] for i in range(0, len(consents), batch)]
    payloads = [contract.encode("grantBatch", [c.message.as_abi_tuple() for c in chunk],
                                [[c.signer.address] for c in chunk], [[c.signature] for c in chunk])
                for chunk in chunks]
    # Every full batch has the same shape: one estimate (with headroom) serves them all.
    estimate = ops.chain.sender.estimate_gas(ops.relayers[0], contract.address, payloads[0], action="grantBatch")

    def run():
        hashes = send_pipelined(ops, contract.address, payloads, gas=estimate, action="grantBatch")
        return wait_all(ops, hashes, action="grantBatch")

    elapsed, receipts = _timed(run)
    return elapsed, [(r, len(chunk)) for r, chunk in zip(receipts, chunks)]


def grant_singles(ops: Operators, consents: list[Signed]) -> tuple[float, list]:
    contract = ops.chain.contract("Consents")
    payloads = [contract.encode("grant", *c.grant_args()) for c in consents]
    estimate = ops.chain.sender.estimate_gas(ops.relayers[0], contract.address, payloads[0], action="grant")

    def run():
        hashes = send_pipelined(ops, contract.address, payloads, gas=estimate, action="grant")
        return wait_all(ops, hashes, action="grant")

    return _timed(run)


def grant_web3_baseline(ops: Operators, rpc_url: str, consents: list[Signed], relayer: LocalAccount) -> float:
    """One web3.py contract call at a time, as a simple relayer does it: build (estimate, fees,
    nonce), sign, send, wait for the receipt, next."""
    from web3 import Web3

    w3 = Web3(Web3.HTTPProvider(rpc_url))
    contract = w3.eth.contract(address=ops.chain.contract("Consents").address,
                               abi=ops.chain.artifacts["Consents"].abi)

    def run():
        for c in consents:
            tx = contract.functions.grant(*c.grant_args()).build_transaction({
                "from": relayer.address, "nonce": w3.eth.get_transaction_count(relayer.address)})
            tx_hash = w3.eth.send_raw_transaction(relayer.sign_transaction(tx).raw_transaction)
            if w3.eth.wait_for_transaction_receipt(tx_hash)["status"] != 1:
                raise RuntimeError("baseline grant reverted")

    elapsed, _ = _timed(run)
    return elapsed


def revoke_gas(ops: Operators, domain: Domain, consents: list[Signed]) -> list[int]:
    contract = ops.chain.contract("Consents")
    gas = []
    for j, c in enumerate(consents):
        message = RevokeMessage(c.consent_id, c.message.subject, 1_000_000 + j, int(time.time()) + 3600)
        digest = hash_typed_data(revoke_typed_data(domain, message))
        signature = bytes(Account.unsafe_sign_hash(digest, c.signer.key).signature)
        receipt = contract.transact("revokeWithSig", message.as_abi_tuple(), c.signer.address, signature)
        gas.append(receipt.gas_used)
    return gas


def anchor_gas(ops: Operators, count: int) -> tuple[int, list[int]]:
    """Gas of the first anchor of a fresh log (cold storage) and of the following ones."""
    anchor = deploy_audit_anchor(ops)
    gas = [anchor.transact("anchor", 1000 * (k + 1), bytes([k + 1]) * 32, sender=ops.anchorer).gas_used
           for k in range(count + 1)]
    return gas[0], gas[1:]


def measure(ops: Operators, rpc_url: str, pepper: bytes, grantee: str, *, batch_count: int, single_count: int,
            baseline_count: int, batch: int, log, first_subject: int = FIRST_SUBJECT) -> tuple[dict, list[Signed]]:
    """Returns the grants section and the batch-granted consents (reused by the verify section)."""
    from ledger import keystore

    consents_contract = ops.chain.contract("Consents")
    domain = Domain.from_eip5267(consents_contract.call("eip712Domain"))
    revokes = 10
    total = batch_count + single_count + baseline_count
    subjects_needed = -(-total // CONSENTS_PER_SUBJECT)
    started = time.perf_counter()
    subjects = register_subjects(ops, pepper, subjects_needed, first_subject)
    log(f"grants: {subjects_needed} subjects registered in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    # Consecutive consents share a subject; hand each phase whole subjects so nonces never collide.
    signed = presign(domain, subjects, grantee, subjects_needed * CONSENTS_PER_SUBJECT)
    log(f"grants: {len(signed)} consents pre-signed in {time.perf_counter() - started:.1f} s")
    batch_set = signed[:batch_count]
    single_set = signed[batch_count:batch_count + single_count]
    baseline_set = signed[batch_count + single_count:batch_count + single_count + baseline_count]
    revoke_set = single_set[:revokes]

    batch_s, batch_receipts = grant_batches(ops, batch_set, batch)
    log(f"grants: {len(batch_set)} in batches of {batch}: {batch_s:.2f} s")
    single_s, single_receipts = grant_singles(ops, single_set)
    log(f"grants: {len(single_set)} single: {single_s:.2f} s")
    baseline_s = grant_web3_baseline(ops, rpc_url, baseline_set, keystore.load_key("relayer-3"))
    log(f"grants: {len(baseline_set)} web3.py baseline: {baseline_s:.2f} s")
    ops.chain.sender._pick(ops.relayers[3]).next_nonce = None  # the baseline used this key behind its back
    revoke = revoke_gas(ops, domain, revoke_set)
    anchor_first, anchor_steady = anchor_gas(ops, 5)

    full = [(r.gas_used, n) for r, n in batch_receipts if n == batch] or [(r.gas_used, n) for r, n in batch_receipts]
    batch_per_s = len(batch_set) / batch_s
    baseline_per_s = len(baseline_set) / baseline_s
    section = {
        "batch_per_s": rnd(batch_per_s, 1),
        "single_per_s": rnd(len(single_set) / single_s, 1),
        "baseline_per_s": rnd(baseline_per_s, 1),
        "ratio_batch_vs_baseline": rnd(batch_per_s / baseline_per_s, 1),
        "gas_single": int(median([r.gas_used for r in single_receipts])),
        "gas_batch_amortized": int(median([g / n for g, n in full])),
        "gas_revoke": int(median(revoke)),
        "gas_anchor": int(median(anchor_steady)),
        "gas_anchor_first": anchor_first,
        "batch_size": batch,
        "batch_count": len(batch_set),
        "batch_transactions": len(batch_receipts),
        "single_count": len(single_set),
        "baseline_count": len(baseline_set),
        "subjects_registered": subjects_needed,
        "relayer_keys": len(ops.relayers),
    }
    return section, batch_set
