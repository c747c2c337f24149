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
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from api.core.security import Principal
from api.schemas.common import LATEST_TIMESTAMP, iso
from api.schemas.common import UnsignedTransaction
from api.schemas.consents import (ConsentDraftCreate, ConsentDraftPublic, RegulatorEnd, RevocationDraft, Submission,
                                  TransactionReceipt, Withdrawal)
from api.services.catalog import ResourceFields
from api.services.consent_receipts import consent_record
from api.services.statements import Statements, statement_hash
from api.services.transactions import TransactionRelay
from ledger import domain_errors as refused
from ledger.audit.log import AuditLog
from ledger.chain.client import Chain
from ledger.domain import ConsentStatus, Role, department_code_text
from ledger.eip712 import (ConsentMessage, Domain, InvalidTypedData, RevokeMessage, consent_typed_data,
                           hash_typed_data, parse_canonical_typed_data, recover_signer, revoke_typed_data)
from ledger.identity import subject_id as make_subject_id
from ledger.indexer import Indexer
from ledger.projection import ConsentState, SubjectState
from ledger.storage.models import ConsentDraftRow

DRAFT_LIFETIME = 24 * 3600
#: A submission may ask for a later signing deadline than a draft gets, but not an unbounded one.
MAX_SIGNING_WINDOW = 30 * 24 * 3600
#: Expired and withdrawn submissions stay listed this long after their deadline, then are purged.
EXPIRED_RETENTION = 7 * 24 * 3600
_LOCK_STRIPES = 64

PENDING, ACTIVE, WITHDRAWN, EXPIRED = "pending_signatures", "active", "withdrawn", "expired"


def _ended_message(consent: ConsentState) -> str:
    if consent.status == ConsentStatus.ENDED_BY_REGULATOR:
        return "a regulator has already ended this consent"
    return "this consent is already revoked"


class ConsentService:
    def __init__(self, *, chain: Chain, domain: Domain, indexer: Indexer, sessions: sessionmaker[Session],
                 audit: AuditLog, resources: ResourceFields, pepper: bytes, relay: TransactionRelay,
                 statements: Statements):
        self._consents = chain.contract("Consents")
        self._domain = domain
        self._indexer = indexer
        self._projection = indexer.projection
        self._sessions = sessions
        self._audit = audit
        self._resources = resources
        self._pepper = pepper
        self._regulator_acts = relay.acts(self._consents.address, "end consent")
        self._rpc = chain.rpc
        self._statements = statements
        # A fixed set of locks (by consent id hash): one lock per consent id would grow without bound.
        self._locks = [threading.Lock() for _ in range(_LOCK_STRIPES)]
        self._nonce_lock = threading.Lock()
        self._reserved_nonces: dict[str, dict[int, int]] = defaultdict(dict)  # subject -> nonce -> deadline

    # -- helpers ---------------------------------------------------------------------------------
    def subject_for(self, principal: Principal, id_type, id_number: str) -> SubjectState:
        sid = "0x" + make_subject_id(self._pepper, id_type, id_number).hex()
        subject = self._projection.subject(sid)
        if subject is None:
            raise refused.UnknownSubject("no subject is registered for this ID number")
        self._require_signer(principal, subject)
        return subject

    def _require_signer(self, principal: Principal, subject: SubjectState) -> None:
        if principal.address not in subject.signers:
            raise refused.NotSubjectSigner("you are not a bound signer of this subject")

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
            taken = self._projection.consent_nonces(subject_id)
            with self._sessions() as session:
                taken.update(int(n) for n in session.scalars(
                    select(ConsentDraftRow.nonce).where(ConsentDraftRow.subject_id == subject_id,
                                                        ConsentDraftRow.deadline > now)))
            taken.update(reserved)
            consents = self._consents
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
    def create_draft(self, principal: Principal, body: ConsentDraftCreate) -> ConsentDraftPublic:
        subject = self.subject_for(principal, body.id_type, body.id_number)
        department = self._projection.department(body.grantee)
        if department is None or not department.active:
            raise refused.UnknownGrantee("the grantee is not an active government department")
        if body.valid_until.timestamp() <= time.time():
            raise refused.InvalidRequest("valid_until is in the past")
        grants: dict[bytes, int] = {}
        for item in body.resources:
            meta, _ = self._resources.require(item.resource_id, self._projection, item.fields)
            key = bytes.fromhex(meta.resource_key[2:])
            if key in grants:
                raise refused.InvalidRequest(f"{item.resource_id} is listed twice")
            grants[key] = sum(1 << meta.fields.index(f) for f in set(item.fields))
        keys = sorted(grants)  # the contract wants resources strictly increasing
        deadline = int(time.time()) + DRAFT_LIFETIME
        message = ConsentMessage(
            subject=bytes.fromhex(subject.subject_id[2:]), grantee=body.grantee, resources=tuple(keys),
            field_masks=tuple(grants[k] for k in keys), purpose=body.purpose,
            valid_from=int(body.valid_from.timestamp()), valid_until=int(body.valid_until.timestamp()),
            max_uses=body.max_uses, nonce=self._next_nonce(subject.subject_id, deadline), deadline=deadline)
        typed = consent_typed_data(self._domain, message)
        consent_id = "0x" + hash_typed_data(typed).hex()
        with self._sessions.begin() as session:
            session.add(self._new_row(consent_id, message, typed, principal))
        return ConsentDraftPublic(consent_id=consent_id, typed_data=typed)

    @staticmethod
    def _new_row(consent_id: str, message: ConsentMessage, typed: dict, principal: Principal) -> ConsentDraftRow:
        return ConsentDraftRow(consent_id=consent_id, subject_id="0x" + message.subject.hex(), typed_data=typed,
                               signatures={}, nonce=str(message.nonce), deadline=message.deadline, status=PENDING,
                               created_by=principal.address, created_at=datetime.now(UTC))

    # -- signatures and relaying -----------------------------------------------------------------
    def submit(self, principal: Principal, typed: dict, signatures: list[str]) -> Submission:
        message, canonical = self._parse(typed, ConsentMessage)
        now = int(time.time())
        if message.deadline <= now:
            raise refused.DeadlinePassed("the signing deadline has passed; make a new draft")
        if message.deadline > now + MAX_SIGNING_WINDOW:
            raise refused.DeadlineTooFar(f"the signing deadline may be at most "
                                         f"{MAX_SIGNING_WINDOW // 86400} days ahead")
        if max(message.valid_from, message.valid_until) > LATEST_TIMESTAMP:
            raise refused.InvalidConsent("validFrom and validUntil must be before the year 10000")
        consent_id = "0x" + hash_typed_data(canonical).hex()
        return self._collect(principal, consent_id, message, canonical, signatures)

    def add_signature(self, principal: Principal, consent_id: str, signature: str) -> Submission:
        with self._sessions() as session:
            draft = session.get(ConsentDraftRow, consent_id)
        if draft is None:
            if self._projection.has_consent(consent_id):
                raise refused.ConsentExists("this consent is already on the ledger")
            raise refused.NotFound("no consent draft with this id")
        message, canonical = self._parse(draft.typed_data, ConsentMessage)
        return self._collect(principal, consent_id, message, canonical, [signature])

    def _parse(self, typed: dict, kind):
        parsed, canonical = parse_canonical_typed_data(typed, self._domain)
        if not isinstance(parsed, kind):
            raise InvalidTypedData(f"expected a {kind.__name__.removesuffix('Message')}")
        return parsed, canonical

    def _recover(self, digest: bytes, signature: str, subject: SubjectState) -> str:
        signer = recover_signer(digest, signature)
        if signer not in subject.signers:
            raise refused.WrongSigner(f"the signature is by {signer}, who is not a bound signer of this subject")
        return signer

    def _collect(self, principal: Principal, consent_id: str, message: ConsentMessage, typed: dict,
                 signatures: list[str]) -> Submission:
        """The submission with these signatures added: relayed once they meet the subject's threshold
        (status ``active``), else stored (``pending_signatures``)."""
        subject_id = "0x" + message.subject.hex()
        subject = self._projection.subject(subject_id)
        if subject is None:
            raise refused.UnknownSubject("the consent's subject is not registered")
        self._require_signer(principal, subject)
        digest = bytes.fromhex(consent_id[2:])
        recovered = {self._recover(digest, sig, subject): sig for sig in signatures}
        with self._lock(consent_id):
            if self._projection.has_consent(consent_id):
                raise refused.ConsentExists("this consent is already on the ledger")
            with self._sessions.begin() as session:
                draft = session.get(ConsentDraftRow, consent_id)
                if draft is None:
                    draft = self._new_row(consent_id, message, typed, principal)
                    session.add(draft)
                elif draft.status == WITHDRAWN:
                    raise refused.ConsentWithdrawn("this submission was withdrawn; make a new draft")
                if message.deadline <= time.time():
                    raise refused.DeadlinePassed("the signing deadline has passed; make a new draft")
                collected = dict(draft.signatures) | recovered
                draft.signatures = collected
            valid = {s: sig for s, sig in collected.items() if s in subject.signers}
            if len(valid) < subject.threshold:
                return Submission(consent_id=consent_id, status=PENDING,
                                  signatures_needed=subject.threshold - len(valid), signed_by=sorted(valid))
            signers = sorted(valid, key=lambda a: int(a, 16))[: max(subject.threshold, 1)]
            receipt = self._consents.transact(
                "grant", message.as_abi_tuple(), signers, [bytes.fromhex(valid[s][2:]) for s in signers])
            self._indexer.sync(receipt.block_number)
            with self._sessions.begin() as session:
                session.get(ConsentDraftRow, consent_id).status = ACTIVE
        return Submission(consent_id=consent_id, status=ACTIVE, tx_hash=receipt.tx_hash,
                          block_number=receipt.block_number)

    # -- withdrawal and expiry -----------------------------------------------------------------------
    def withdraw(self, principal: Principal, consent_id: str) -> Withdrawal:
        """A signer of the subject takes back a pending submission: its collected signatures are
        discarded and it can no longer be completed through the API. Its nonce stays reserved until
        the deadline, so a copy of its signatures can never collide with a later draft."""
        with self._lock(consent_id):
            with self._sessions.begin() as session:
                if self._projection.has_consent(consent_id):
                    raise refused.ConsentExists("this consent is on the ledger: revoke it instead")
                draft = session.get(ConsentDraftRow, consent_id)
                if draft is None or draft.status == ACTIVE:
                    raise refused.NotFound("no pending consent submission with this id")
                subject = self._projection.subject(draft.subject_id)
                if subject is None:
                    raise refused.UnknownSubject("the consent's subject is not registered")
                self._require_signer(principal, subject)
                if draft.status == WITHDRAWN:
                    raise refused.ConsentWithdrawn("this submission was already withdrawn")
                draft.status = WITHDRAWN
                draft.signatures = {}
        return Withdrawal(consent_id=consent_id, status=WITHDRAWN)

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
        with self._sessions.begin() as session:
            return session.execute(delete(ConsentDraftRow).where(ConsentDraftRow.deadline < cutoff,
                                                                  ConsentDraftRow.status != ACTIVE)).rowcount

    # -- revocation ----------------------------------------------------------------------------------
    def _consent_for_signer(self, principal: Principal, consent_id: str) -> ConsentState:
        consent = self._projection.consent(consent_id)
        if consent is None:
            raise refused.NotFound("no consent with this id on the ledger")
        self._require_signer(principal, self._projection.subject(consent.subject_id))
        return consent

    def revocation_draft(self, principal: Principal, consent_id: str) -> RevocationDraft:
        consent = self._consent_for_signer(principal, consent_id)
        if consent.status != ConsentStatus.ACTIVE:
            raise refused.ConsentNotActive(_ended_message(consent))
        deadline = int(time.time()) + DRAFT_LIFETIME
        message = RevokeMessage(bytes.fromhex(consent_id[2:]), bytes.fromhex(consent.subject_id[2:]),
                                self._next_nonce(consent.subject_id, deadline), deadline)
        return RevocationDraft(typed_data=revoke_typed_data(self._domain, message))

    def revoke(self, principal: Principal, consent_id: str, typed: dict, signature: str) -> TransactionReceipt:
        consent = self._consent_for_signer(principal, consent_id)
        message, canonical = self._parse(typed, RevokeMessage)
        if "0x" + message.consent_id.hex() != consent_id or "0x" + message.subject.hex() != consent.subject_id:
            raise InvalidTypedData("the revocation is for another consent")
        signer = self._recover(hash_typed_data(canonical), signature, self._projection.subject(consent.subject_id))
        if consent.status != ConsentStatus.ACTIVE:
            raise refused.ConsentNotActive(_ended_message(consent))
        receipt = self._consents.transact(
            "revokeWithSig", message.as_abi_tuple(), signer, bytes.fromhex(signature[2:]))
        # Fold the revocation before answering: every request after this reply is denied.
        self._indexer.sync(receipt.block_number)
        return TransactionReceipt(consent_id=consent_id, status="revoked", tx_hash=receipt.tx_hash,
                                  block_number=receipt.block_number)

    def end_by_regulator(self, principal: Principal, consent_id: str,
                         body: RegulatorEnd) -> UnsignedTransaction | TransactionReceipt:
        """A regulator ends a consent it found abused (``Consents.endByRegulator``): its own act, so it signs
        the transaction with its own key (without ``signed_transaction``: the transaction to sign)."""
        if not principal.has(Role.REGULATOR):
            raise refused.RoleRequired("only a regulator ends a consent for abuse")
        consent = self._projection.consent(consent_id)
        if consent is None:
            raise refused.NotFound("no consent with this id on the ledger")
        if consent.status != ConsentStatus.ACTIVE:
            raise refused.ConsentNotActive(_ended_message(consent))
        data = self._consents.encode("endByRegulator", bytes.fromhex(consent_id[2:]),
                                     bytes.fromhex(consent.subject_id[2:]), statement_hash(body.reason))
        if body.signed_transaction is None:
            return self._regulator_acts.prepare(principal.address, data)
        self._statements.keep(body.reason)
        receipt = self._regulator_acts.relay(principal, body.signed_transaction, data)
        return TransactionReceipt(consent_id=consent_id, status="ended_by_regulator", tx_hash=receipt.tx_hash,
                                  block_number=receipt.block_number)

    def receipt(self, principal: Principal, consent_id: str) -> dict:
        """The consent as a JSON-LD consent record (ISO/IEC TS 27560 style, DPV terms), for the subject's signers
        and the grantee."""
        consent = self._projection.consent(consent_id)
        if consent is None:
            raise refused.NotFound("no consent with this id on the ledger")
        subject = self._projection.subject(consent.subject_id)
        if principal.address != consent.grantee and (subject is None or principal.address not in subject.signers):
            raise refused.NotSubjectSigner("a consent's record is for its subject's signers and its grantee")
        with self._sessions() as session:
            draft = session.get(ConsentDraftRow, consent_id)
        uses = self._audit.use_counts([consent_id])[consent_id]
        listed = self._public(consent, draft, int(time.time()), uses,
                              self._statements.texts({consent.end_reason_hash}))
        grantee = self._projection.department(consent.grantee)
        names = {meta.resource_id: meta.name for key in consent.resource_masks
                 if (meta := self._resources.by_key.get(key)) is not None}
        return consent_record(consent=listed, grantee_name=grantee.name if grantee else None,
                              grantee_code=department_code_text(grantee.code) if grantee else None,
                              resource_names=names, chain_id=self._domain.chain_id, contract=self._consents.address,
                              granted_at=self._block_time(consent.granted_block),
                              ended_at=self._block_time(consent.ended_block) if consent.ended_block else None)

    def _block_time(self, number: int) -> int:
        return int(self._rpc.call("eth_getBlockByNumber", [hex(number), False])["timestamp"], 16)

    # -- listing ------------------------------------------------------------------------------------
    def visible(self, principal: Principal) -> list[dict]:
        subjects = self._projection.subjects_of_signer(principal.address)
        consents = self._projection.consents_visible(subjects, principal.address)
        with self._sessions() as session:
            drafts = {d.consent_id: d for d in session.scalars(
                select(ConsentDraftRow).where(ConsentDraftRow.subject_id.in_(subjects)))} if subjects else {}
            ids = [c.consent_id for c in consents if c.consent_id not in drafts]
            if ids:
                drafts |= {d.consent_id: d for d in session.scalars(
                    select(ConsentDraftRow).where(ConsentDraftRow.consent_id.in_(ids)))}
        now = int(time.time())
        uses = self._audit.use_counts(c.consent_id for c in consents)
        reasons = self._statements.texts({c.end_reason_hash for c in consents})
        out = [self._public(c, drafts.get(c.consent_id), now, uses[c.consent_id], reasons) for c in consents]
        on_chain = {c.consent_id for c in consents}
        for draft in drafts.values():
            if draft.consent_id not in on_chain and draft.status == PENDING:
                out.append({"consent_id": draft.consent_id, "subject_id": draft.subject_id,
                            "status": PENDING if draft.deadline > now else EXPIRED,
                            "deadline": iso(draft.deadline), "typed_data": draft.typed_data,
                            "signed_by": sorted(draft.signatures)})
        return out

    def _public(self, c: ConsentState, draft: ConsentDraftRow | None, now: int, uses: int,
                reasons: dict[str, str]) -> dict:
        if c.status == ConsentStatus.REVOKED:
            status = "revoked"
        elif c.status == ConsentStatus.ENDED_BY_REGULATOR:
            status = "ended_by_regulator"
        elif now >= c.valid_until:
            status = "expired"
        elif now < c.valid_from:
            status = "not_yet_valid"
        elif c.max_uses and uses >= c.max_uses:
            status = "exhausted"
        else:
            status = "active"
        resources = []
        for key, mask in c.resource_masks.items():
            meta = self._resources.by_key.get(key)
            fields = meta.fields_in(mask) if meta else []
            resources.append({"resource_id": meta.resource_id if meta else key, "fields": fields})
        purpose = draft.typed_data["message"]["purpose"] if draft else None
        return {"consent_id": c.consent_id, "subject_id": c.subject_id, "grantee": c.grantee,
                "resources": resources, "purpose": purpose, "purpose_hash": c.purpose_hash,
                "valid_from": iso(c.valid_from), "valid_until": iso(c.valid_until), "max_uses": c.max_uses,
                "uses": uses, "status": status, "block_number": c.granted_block,
                "tx_hash": c.granted_tx, "ended_block": c.ended_block, "ended_by": c.ended_by,
                "end_reason": reasons.get(c.end_reason_hash), "end_reason_hash": c.end_reason_hash}
