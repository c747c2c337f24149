"""Consent lifecycle: drafts for wallets to sign, k-of-n signature collection, relaying, revocation.

The API never signs a consent: it checks each signature against the subject's bound signers
(the contract checks again on-chain) and relays once the threshold is met.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from eth_utils import keccak
from sqlalchemy import select

from api.core.errors import ApiError
from api.core.security import Principal
from api.schemas.common import iso
from api.schemas.consents import ConsentDraftCreate
from ledger.eip712 import (ConsentMessage, InvalidSignature, InvalidTypedData, RevokeMessage, consent_typed_data,
                           hash_typed_data, parse_typed_data, recover_signer, revoke_typed_data)
from ledger.exceptions import TransactionFailed
from ledger.identity import subject_id as make_subject_id
from ledger.projection import ConsentState, SubjectState
from ledger.storage.models import ConsentDraftRow

if TYPE_CHECKING:
    from api.services.context import AppServices

DRAFT_LIFETIME = 24 * 3600
_REVERT_STATUS = {
    "ConsentsSignatureExpired": (422, "DEADLINE_PASSED", "the signing deadline has passed; make a new draft"),
    "ConsentsNonceAlreadyUsed": (409, "NONCE_USED", "this nonce was already used; make a new draft"),
    "ConsentsAlreadyExists": (409, "CONSENT_EXISTS", "this consent is already on the ledger"),
    "ConsentsNotActive": (409, "CONSENT_NOT_ACTIVE", "this consent is not active"),
}


class ConsentService:
    def __init__(self, services: "AppServices"):
        self.s = services
        self._locks: dict[str, threading.Lock] = defaultdict(threading.Lock)
        self._nonce_lock = threading.Lock()
        self._reserved_nonces: dict[str, set[int]] = defaultdict(set)

    # -- helpers ---------------------------------------------------------------------------------
    def subject_for(self, principal: Principal, id_type, id_number: str) -> SubjectState:
        sid = "0x" + make_subject_id(self.s.pepper, id_type, id_number).hex()
        subject = self.s.projection.subjects.get(sid)
        if subject is None:
            raise ApiError(404, "UNKNOWN_SUBJECT", "no subject is registered for this ID number")
        self._require_signer(principal, subject)
        return subject

    def _require_signer(self, principal: Principal, subject: SubjectState) -> None:
        if principal.address not in subject.signers:
            raise ApiError(403, "NOT_SUBJECT_SIGNER", "you are not a bound signer of this subject")

    def _next_nonce(self, subject_id: str) -> int:
        """Lowest nonce above every one this subject used or has reserved in a draft."""
        with self._nonce_lock:
            used = [c.nonce for c in self.s.projection.consents.values() if c.subject_id == subject_id]
            with self.s.sessions() as session:
                drafts = session.scalars(select(ConsentDraftRow.typed_data)
                                         .where(ConsentDraftRow.subject_id == subject_id)).all()
            used += [int(td["message"]["nonce"]) for td in drafts]
            used += list(self._reserved_nonces[subject_id])
            nonce = max(used, default=-1) + 1
            consents = self.s.chain.contract("Consents")
            while consents.call("isNonceUsed", bytes.fromhex(subject_id[2:]), nonce):
                nonce += 1
            self._reserved_nonces[subject_id].add(nonce)
            return nonce

    def _relay_failure(self, exc: TransactionFailed) -> ApiError:
        status = _REVERT_STATUS.get(exc.error_name or "")
        if status:
            return ApiError(*status)
        return ApiError(422, "LEDGER_REJECTED", f"the ledger refused the transaction: {exc}")

    # -- drafts --------------------------------------------------------------------------------
    def create_draft(self, principal: Principal, body: ConsentDraftCreate) -> tuple[str, dict]:
        subject = self.subject_for(principal, body.id_type, body.id_number)
        department = self.s.projection.departments.get(body.grantee)
        if department is None or not department.active:
            raise ApiError(422, "UNKNOWN_GRANTEE", "the grantee is not an active government department")
        if body.valid_until.timestamp() <= time.time():
            raise ApiError(422, "INVALID_INPUT", "valid_until is in the past")
        grants: dict[bytes, int] = {}
        for item in body.resources:
            meta = self.s.resources_by_slug.get(item.resource_id)
            if meta is None or meta.resource_key not in self.s.projection.resources:
                raise ApiError(422, "UNKNOWN_RESOURCE", f"no catalog resource {item.resource_id}")
            unknown = sorted(set(item.fields) - set(meta.fields))
            if unknown:
                raise ApiError(422, "UNKNOWN_FIELD", f"{item.resource_id} has no field(s) {', '.join(unknown)}")
            key = bytes.fromhex(meta.resource_key[2:])
            if key in grants:
                raise ApiError(422, "INVALID_INPUT", f"{item.resource_id} is listed twice")
            grants[key] = sum(1 << meta.fields.index(f) for f in set(item.fields))
        keys = sorted(grants)  # the contract wants resources strictly increasing
        message = ConsentMessage(
            subject=bytes.fromhex(subject.subject_id[2:]), grantee=body.grantee, resources=tuple(keys),
            field_masks=tuple(grants[k] for k in keys), purpose=body.purpose,
            valid_from=int(body.valid_from.timestamp()), valid_until=int(body.valid_until.timestamp()),
            max_uses=body.max_uses, nonce=self._next_nonce(subject.subject_id),
            deadline=int(time.time()) + DRAFT_LIFETIME)
        typed = consent_typed_data(self.s.domain, message)
        consent_id = "0x" + hash_typed_data(typed).hex()
        with self.s.sessions.begin() as session:
            session.add(ConsentDraftRow(consent_id=consent_id, subject_id=subject.subject_id, typed_data=typed,
                                        signatures={}, status="pending_signatures", created_by=principal.address,
                                        created_at=datetime.now(UTC)))
        return consent_id, typed

    # -- signatures and relaying -----------------------------------------------------------------
    def submit(self, principal: Principal, typed: dict, signatures: list[str]) -> tuple[int, dict]:
        message = self._parse(typed, ConsentMessage)
        consent_id = "0x" + hash_typed_data(typed).hex()
        return self._collect(principal, consent_id, message, typed, signatures)

    def add_signature(self, principal: Principal, consent_id: str, signature: str) -> tuple[int, dict]:
        with self.s.sessions() as session:
            draft = session.get(ConsentDraftRow, consent_id)
        if draft is None:
            if consent_id in self.s.projection.consents:
                raise ApiError(409, "CONSENT_EXISTS", "this consent is already on the ledger")
            raise ApiError(404, "NOT_FOUND", "no consent draft with this id")
        message = self._parse(draft.typed_data, ConsentMessage)
        return self._collect(principal, consent_id, message, draft.typed_data, [signature])

    def _parse(self, typed: dict, kind):
        try:
            parsed = parse_typed_data(typed, self.s.domain)
        except InvalidTypedData as exc:
            raise ApiError(422, "INVALID_TYPED_DATA", str(exc)) from None
        if not isinstance(parsed, kind):
            raise ApiError(422, "INVALID_TYPED_DATA", f"expected a {kind.__name__.removesuffix('Message')}")
        return parsed

    def _recover(self, digest: bytes, signature: str, subject: SubjectState) -> str:
        try:
            signer = recover_signer(digest, signature)
        except InvalidSignature as exc:
            raise ApiError(422, "INVALID_SIGNATURE", str(exc)) from None
        if signer not in subject.signers:
            raise ApiError(422, "INVALID_SIGNATURE",
                           f"the signature is by {signer}, who is not a bound signer of this subject")
        return signer

    def _collect(self, principal: Principal, consent_id: str, message: ConsentMessage, typed: dict,
                 signatures: list[str]) -> tuple[int, dict]:
        subject_id = "0x" + message.subject.hex()
        subject = self.s.projection.subjects.get(subject_id)
        if subject is None:
            raise ApiError(404, "UNKNOWN_SUBJECT", "the consent's subject is not registered")
        self._require_signer(principal, subject)
        digest = bytes.fromhex(consent_id[2:])
        recovered = {self._recover(digest, sig, subject): sig for sig in signatures}
        with self._locks[consent_id]:
            if consent_id in self.s.projection.consents:
                raise ApiError(409, "CONSENT_EXISTS", "this consent is already on the ledger")
            with self.s.sessions.begin() as session:
                draft = session.get(ConsentDraftRow, consent_id)
                if draft is None:
                    draft = ConsentDraftRow(consent_id=consent_id, subject_id=subject_id, typed_data=typed,
                                            signatures={}, status="pending_signatures",
                                            created_by=principal.address, created_at=datetime.now(UTC))
                    session.add(draft)
                collected = dict(draft.signatures) | recovered
                draft.signatures = collected
            valid = {s: sig for s, sig in collected.items() if s in subject.signers}
            if len(valid) < subject.threshold:
                return 202, {"consent_id": consent_id, "status": "pending_signatures",
                             "signatures_needed": subject.threshold - len(valid),
                             "signed_by": sorted(valid)}
            signers = sorted(valid, key=lambda a: int(a, 16))[: max(subject.threshold, 1)]
            try:
                receipt = self.s.chain.contract("Consents").transact(
                    "grant", message.as_abi_tuple(), signers, [bytes.fromhex(valid[s][2:]) for s in signers])
            except TransactionFailed as exc:
                raise self._relay_failure(exc) from None
            self.s.indexer.sync(receipt.block_number)
            with self.s.sessions.begin() as session:
                session.get(ConsentDraftRow, consent_id).status = "active"
        return 201, {"consent_id": consent_id, "status": "active", "tx_hash": receipt.tx_hash,
                     "block_number": receipt.block_number}

    # -- revocation ----------------------------------------------------------------------------------
    def _consent_for_signer(self, principal: Principal, consent_id: str) -> ConsentState:
        consent = self.s.projection.consents.get(consent_id)
        if consent is None:
            raise ApiError(404, "NOT_FOUND", "no consent with this id on the ledger")
        self._require_signer(principal, self.s.projection.subjects[consent.subject_id])
        return consent

    def revocation_draft(self, principal: Principal, consent_id: str) -> dict:
        consent = self._consent_for_signer(principal, consent_id)
        if consent.status != "ACTIVE":
            raise ApiError(409, "CONSENT_NOT_ACTIVE", "this consent is already revoked")
        message = RevokeMessage(bytes.fromhex(consent_id[2:]), bytes.fromhex(consent.subject_id[2:]),
                                self._next_nonce(consent.subject_id), int(time.time()) + DRAFT_LIFETIME)
        return revoke_typed_data(self.s.domain, message)

    def revoke(self, principal: Principal, consent_id: str, typed: dict, signature: str) -> dict:
        consent = self._consent_for_signer(principal, consent_id)
        message = self._parse(typed, RevokeMessage)
        if "0x" + message.consent_id.hex() != consent_id or "0x" + message.subject.hex() != consent.subject_id:
            raise ApiError(422, "INVALID_TYPED_DATA", "the revocation is for another consent")
        signer = self._recover(hash_typed_data(typed), signature, self.s.projection.subjects[consent.subject_id])
        if consent.status != "ACTIVE":
            raise ApiError(409, "CONSENT_NOT_ACTIVE", "this consent is already revoked")
        try:
            receipt = self.s.chain.contract("Consents").transact(
                "revokeWithSig", message.as_abi_tuple(), signer, bytes.fromhex(signature[2:]))
        except TransactionFailed as exc:
            raise self._relay_failure(exc) from None
        # Fold the revocation before answering: every request after this reply is denied.
        self.s.indexer.sync(receipt.block_number)
        return {"consent_id": consent_id, "status": "revoked", "tx_hash": receipt.tx_hash,
                "block_number": receipt.block_number}

    # -- listing ------------------------------------------------------------------------------------
    def visible(self, principal: Principal) -> list[dict]:
        p = self.s.projection
        subjects = p.signer_subjects.get(principal.address, set())
        consents = [c for c in p.consents.values() if c.subject_id in subjects or c.grantee == principal.address]
        with self.s.sessions() as session:
            drafts = {d.consent_id: d for d in session.scalars(
                select(ConsentDraftRow).where(ConsentDraftRow.subject_id.in_(subjects)))} if subjects else {}
            ids = [c.consent_id for c in consents if c.consent_id not in drafts]
            if ids:
                drafts |= {d.consent_id: d for d in session.scalars(
                    select(ConsentDraftRow).where(ConsentDraftRow.consent_id.in_(ids)))}
        now = int(time.time())
        out = [self._public(c, drafts.get(c.consent_id), now) for c in consents]
        on_chain = {c.consent_id for c in consents}
        for draft in drafts.values():
            if draft.consent_id not in on_chain and draft.status == "pending_signatures":
                out.append({"consent_id": draft.consent_id, "subject_id": draft.subject_id,
                            "status": "pending_signatures", "typed_data": draft.typed_data,
                            "signed_by": sorted(draft.signatures)})
        return out

    def _public(self, c: ConsentState, draft: ConsentDraftRow | None, now: int) -> dict:
        if c.status == "REVOKED":
            status = "revoked"
        elif now >= c.valid_until:
            status = "expired"
        elif now < c.valid_from:
            status = "not_yet_valid"
        elif c.max_uses and self.s.audit.uses[c.consent_id] >= c.max_uses:
            status = "exhausted"
        else:
            status = "active"
        resources = []
        for key, mask in c.resource_masks.items():
            meta = self.s.resources_by_key.get(key)
            fields = [f for i, f in enumerate(meta.fields) if mask >> i & 1] if meta else []
            resources.append({"resource_id": meta.resource_id if meta else key, "fields": fields})
        purpose = draft.typed_data["message"]["purpose"] if draft else None
        return {"consent_id": c.consent_id, "subject_id": c.subject_id, "grantee": c.grantee,
                "resources": resources, "purpose": purpose, "purpose_hash": c.purpose_hash,
                "valid_from": iso(c.valid_from), "valid_until": iso(c.valid_until), "max_uses": c.max_uses,
                "uses": self.s.audit.uses[c.consent_id], "status": status, "block_number": c.granted_block,
                "tx_hash": c.granted_tx, "revoked_block": c.ended_block, "revoked_by": c.ended_by}


def purpose_hash(purpose: str) -> str:
    return "0x" + keccak(text=purpose).hex()
