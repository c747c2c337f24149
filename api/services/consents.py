"""Consent lifecycle: drafts for wallets to sign, k-of-n signature collection, relaying, revocation.

The API never signs a consent: it checks each signature against the subject's bound signers
(the contract checks again on-chain) and relays once the threshold is met.

Typed data from a client is parsed strictly once, at the boundary
(:func:`ledger.eip712.parse_canonical_typed_data`): a non-canonical spelling is refused, and only
the canonical form is stored, so nothing read back later can surprise its reader. A pending
submission (below its subject's threshold) holds its nonce until its deadline; its signers may
withdraw it; past its deadline it is listed as expired and purged a week later.
"""

from __future__ import annotations

import threading
import time
import zlib
from collections import defaultdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, select

from api.core.errors import ApiError
from api.core.security import Principal
from api.schemas.common import LATEST_TIMESTAMP, iso
from api.schemas.consents import ConsentDraftCreate
from ledger.domain import ConsentStatus
from ledger.eip712 import (ConsentMessage, InvalidTypedData, RevokeMessage, consent_typed_data,
                           hash_typed_data, parse_canonical_typed_data, recover_signer, revoke_typed_data)
from ledger.identity import subject_id as make_subject_id
from ledger.projection import ConsentState, SubjectState
from ledger.storage.models import ConsentDraftRow

if TYPE_CHECKING:
    from api.services.context import AppServices

DRAFT_LIFETIME = 24 * 3600
#: A submission may ask for a later signing deadline than a draft gets, but not an unbounded one.
MAX_SIGNING_WINDOW = 30 * 24 * 3600
#: Expired and withdrawn submissions stay listed this long after their deadline, then are purged.
EXPIRED_RETENTION = 7 * 24 * 3600
_LOCK_STRIPES = 64

PENDING, ACTIVE, WITHDRAWN, EXPIRED = "pending_signatures", "active", "withdrawn", "expired"


class ConsentService:
    def __init__(self, services: "AppServices"):
        self.s = services
        # A fixed set of locks (by consent id hash): one lock per consent id would grow without bound.
        self._locks = [threading.Lock() for _ in range(_LOCK_STRIPES)]
        self._nonce_lock = threading.Lock()
        self._reserved_nonces: dict[str, dict[int, int]] = defaultdict(dict)  # subject -> nonce -> deadline

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

    def _lock(self, consent_id: str) -> threading.Lock:
        return self._locks[zlib.crc32(consent_id.encode()) % _LOCK_STRIPES]

    def _next_nonce(self, subject_id: str, deadline: int) -> int:
        """The lowest nonce that this subject has not used on-chain and that no live draft or pending
        submission holds. Nonces are unordered (a bitmap on-chain), so gaps are fine, and a huge nonce
        someone signed elsewhere cannot push the next one out of range."""
        now = int(time.time())
        with self._nonce_lock:
            reserved = self._reserved_nonces[subject_id]
            for nonce in [n for n, until in reserved.items() if until <= now]:
                del reserved[nonce]
            taken = {c.nonce for c in self.s.projection.consents.values() if c.subject_id == subject_id}
            with self.s.sessions() as session:
                taken.update(int(n) for n in session.scalars(
                    select(ConsentDraftRow.nonce).where(ConsentDraftRow.subject_id == subject_id,
                                                        ConsentDraftRow.deadline > now)))
            taken.update(reserved)
            consents = self.s.chain.contract("Consents")
            nonce = 0
            while True:
                while nonce in taken:
                    nonce += 1
                if not consents.call("isNonceUsed", bytes.fromhex(subject_id[2:]), nonce):
                    break
                taken.add(nonce)
            reserved[nonce] = deadline
            return nonce

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
                raise ApiError(404, "UNKNOWN_RESOURCE", f"no catalog resource {item.resource_id}")
            unknown = sorted(set(item.fields) - set(meta.fields))
            if unknown:
                raise ApiError(422, "UNKNOWN_FIELD", f"{item.resource_id} has no field(s) {', '.join(unknown)}")
            key = bytes.fromhex(meta.resource_key[2:])
            if key in grants:
                raise ApiError(422, "INVALID_INPUT", f"{item.resource_id} is listed twice")
            grants[key] = sum(1 << meta.fields.index(f) for f in set(item.fields))
        keys = sorted(grants)  # the contract wants resources strictly increasing
        deadline = int(time.time()) + DRAFT_LIFETIME
        message = ConsentMessage(
            subject=bytes.fromhex(subject.subject_id[2:]), grantee=body.grantee, resources=tuple(keys),
            field_masks=tuple(grants[k] for k in keys), purpose=body.purpose,
            valid_from=int(body.valid_from.timestamp()), valid_until=int(body.valid_until.timestamp()),
            max_uses=body.max_uses, nonce=self._next_nonce(subject.subject_id, deadline), deadline=deadline)
        typed = consent_typed_data(self.s.domain, message)
        consent_id = "0x" + hash_typed_data(typed).hex()
        with self.s.sessions.begin() as session:
            session.add(self._new_row(consent_id, message, typed, principal))
        return consent_id, typed

    @staticmethod
    def _new_row(consent_id: str, message: ConsentMessage, typed: dict, principal: Principal) -> ConsentDraftRow:
        return ConsentDraftRow(consent_id=consent_id, subject_id="0x" + message.subject.hex(), typed_data=typed,
                               signatures={}, nonce=str(message.nonce), deadline=message.deadline, status=PENDING,
                               created_by=principal.address, created_at=datetime.now(UTC))

    # -- signatures and relaying -----------------------------------------------------------------
    def submit(self, principal: Principal, typed: dict, signatures: list[str]) -> tuple[int, dict]:
        message, canonical = self._parse(typed, ConsentMessage)
        now = int(time.time())
        if message.deadline <= now:
            raise ApiError(409, "DEADLINE_PASSED", "the signing deadline has passed; make a new draft")
        if message.deadline > now + MAX_SIGNING_WINDOW:
            raise ApiError(422, "DEADLINE_TOO_FAR", f"the signing deadline may be at most "
                                                    f"{MAX_SIGNING_WINDOW // 86400} days ahead")
        if max(message.valid_from, message.valid_until) > LATEST_TIMESTAMP:
            raise ApiError(422, "INVALID_CONSENT", "validFrom and validUntil must be before the year 10000")
        consent_id = "0x" + hash_typed_data(canonical).hex()
        return self._collect(principal, consent_id, message, canonical, signatures)

    def add_signature(self, principal: Principal, consent_id: str, signature: str) -> tuple[int, dict]:
        with self.s.sessions() as session:
            draft = session.get(ConsentDraftRow, consent_id)
        if draft is None:
            if consent_id in self.s.projection.consents:
                raise ApiError(409, "CONSENT_EXISTS", "this consent is already on the ledger")
            raise ApiError(404, "NOT_FOUND", "no consent draft with this id")
        message, canonical = self._parse(draft.typed_data, ConsentMessage)
        return self._collect(principal, consent_id, message, canonical, [signature])

    def _parse(self, typed: dict, kind):
        parsed, canonical = parse_canonical_typed_data(typed, self.s.domain)
        if not isinstance(parsed, kind):
            raise InvalidTypedData(f"expected a {kind.__name__.removesuffix('Message')}")
        return parsed, canonical

    def _recover(self, digest: bytes, signature: str, subject: SubjectState) -> str:
        signer = recover_signer(digest, signature)
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
        with self._lock(consent_id):
            if consent_id in self.s.projection.consents:
                raise ApiError(409, "CONSENT_EXISTS", "this consent is already on the ledger")
            with self.s.sessions.begin() as session:
                draft = session.get(ConsentDraftRow, consent_id)
                if draft is None:
                    draft = self._new_row(consent_id, message, typed, principal)
                    session.add(draft)
                elif draft.status == WITHDRAWN:
                    raise ApiError(409, "CONSENT_WITHDRAWN", "this submission was withdrawn; make a new draft")
                if message.deadline <= time.time():
                    raise ApiError(409, "DEADLINE_PASSED", "the signing deadline has passed; make a new draft")
                collected = dict(draft.signatures) | recovered
                draft.signatures = collected
            valid = {s: sig for s, sig in collected.items() if s in subject.signers}
            if len(valid) < subject.threshold:
                return 202, {"consent_id": consent_id, "status": "pending_signatures",
                             "signatures_needed": subject.threshold - len(valid),
                             "signed_by": sorted(valid)}
            signers = sorted(valid, key=lambda a: int(a, 16))[: max(subject.threshold, 1)]
            receipt = self.s.chain.contract("Consents").transact(
                "grant", message.as_abi_tuple(), signers, [bytes.fromhex(valid[s][2:]) for s in signers])
            self.s.indexer.sync(receipt.block_number)
            with self.s.sessions.begin() as session:
                session.get(ConsentDraftRow, consent_id).status = ACTIVE
        return 201, {"consent_id": consent_id, "status": "active", "tx_hash": receipt.tx_hash,
                     "block_number": receipt.block_number}

    # -- withdrawal and expiry -----------------------------------------------------------------------
    def withdraw(self, principal: Principal, consent_id: str) -> dict:
        """A signer of the subject takes back a pending submission: its collected signatures are
        discarded and it can no longer be completed through the API. Its nonce stays reserved until
        the deadline, so a copy of its signatures can never collide with a later draft."""
        with self._lock(consent_id):
            with self.s.sessions.begin() as session:
                if consent_id in self.s.projection.consents:
                    raise ApiError(409, "CONSENT_EXISTS", "this consent is on the ledger: revoke it instead")
                draft = session.get(ConsentDraftRow, consent_id)
                if draft is None or draft.status == ACTIVE:
                    raise ApiError(404, "NOT_FOUND", "no pending consent submission with this id")
                subject = self.s.projection.subjects.get(draft.subject_id)
                if subject is None:
                    raise ApiError(404, "UNKNOWN_SUBJECT", "the consent's subject is not registered")
                self._require_signer(principal, subject)
                if draft.status == WITHDRAWN:
                    raise ApiError(409, "CONSENT_WITHDRAWN", "this submission was already withdrawn")
                draft.status = WITHDRAWN
                draft.signatures = {}
        return {"consent_id": consent_id, "status": WITHDRAWN}

    def purge_expired(self) -> int:
        """Forget expired nonce reservations; delete submissions that were never completed, a retention
        period after their deadline."""
        now = int(time.time())
        with self._nonce_lock:
            for subject_id, reserved in list(self._reserved_nonces.items()):
                for nonce in [n for n, until in reserved.items() if until <= now]:
                    del reserved[nonce]
                if not reserved:
                    del self._reserved_nonces[subject_id]
        cutoff = now - EXPIRED_RETENTION
        with self.s.sessions.begin() as session:
            return session.execute(delete(ConsentDraftRow).where(ConsentDraftRow.deadline < cutoff,
                                                                  ConsentDraftRow.status != ACTIVE)).rowcount

    # -- revocation ----------------------------------------------------------------------------------
    def _consent_for_signer(self, principal: Principal, consent_id: str) -> ConsentState:
        consent = self.s.projection.consents.get(consent_id)
        if consent is None:
            raise ApiError(404, "NOT_FOUND", "no consent with this id on the ledger")
        self._require_signer(principal, self.s.projection.subjects[consent.subject_id])
        return consent

    def revocation_draft(self, principal: Principal, consent_id: str) -> dict:
        consent = self._consent_for_signer(principal, consent_id)
        if consent.status != ConsentStatus.ACTIVE:
            raise ApiError(409, "CONSENT_NOT_ACTIVE", "this consent is already revoked")
        deadline = int(time.time()) + DRAFT_LIFETIME
        message = RevokeMessage(bytes.fromhex(consent_id[2:]), bytes.fromhex(consent.subject_id[2:]),
                                self._next_nonce(consent.subject_id, deadline), deadline)
        return revoke_typed_data(self.s.domain, message)

    def revoke(self, principal: Principal, consent_id: str, typed: dict, signature: str) -> dict:
        consent = self._consent_for_signer(principal, consent_id)
        message, canonical = self._parse(typed, RevokeMessage)
        if "0x" + message.consent_id.hex() != consent_id or "0x" + message.subject.hex() != consent.subject_id:
            raise InvalidTypedData("the revocation is for another consent")
        signer = self._recover(hash_typed_data(canonical), signature, self.s.projection.subjects[consent.subject_id])
        if consent.status != ConsentStatus.ACTIVE:
            raise ApiError(409, "CONSENT_NOT_ACTIVE", "this consent is already revoked")
        receipt = self.s.chain.contract("Consents").transact(
            "revokeWithSig", message.as_abi_tuple(), signer, bytes.fromhex(signature[2:]))
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
            if draft.consent_id not in on_chain and draft.status == PENDING:
                out.append({"consent_id": draft.consent_id, "subject_id": draft.subject_id,
                            "status": PENDING if draft.deadline > now else EXPIRED,
                            "deadline": iso(draft.deadline), "typed_data": draft.typed_data,
                            "signed_by": sorted(draft.signatures)})
        return out

    def _public(self, c: ConsentState, draft: ConsentDraftRow | None, now: int) -> dict:
        if c.status == ConsentStatus.REVOKED:
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
