"""Objections (异议, 永州市政务大数据管理办法 第三十四条).

"公民、法人或者其他组织发现政务数据存在错误、遗漏等情形或者侵犯其商业秘密、个人隐私等合法权益的,可以向市政务数据主管部门
提出异议。市政务数据主管部门应在收到异议之日起的1个工作日内作出异议标注" — then decides within 5 working days, or
forwards within 2 to the department that holds the data, which decides within 5 working days of the forwarding.

A signer of the subject signs the objection (EIP-712, the Objections contract's domain) and the platform
relays it, so the filing is the subject's own act and its time is the chain's. The data authority (the
admin) marks, forwards and decides with the platform's admin key; a provider decides a forwarded
objection with its own signed transaction. While an objection is marked and undecided, every release
of its fields says so (``disputed``, decided by :func:`ledger.policy.evaluate`). Texts stay off-chain
next to their hashes.
"""

from __future__ import annotations

import secrets
import time

from sqlalchemy.orm import Session, sessionmaker

from api.core.security import Principal
from api.schemas.common import UnsignedTransaction, iso
from api.schemas.objections import (ObjectionDecide, ObjectionDraft, ObjectionDraftCreate, ObjectionDue,
                                    ObjectionFile, ObjectionOut, ObjectionReceipt, ObjectionStep)
from api.services.catalog import ResourceFields
from api.services.statements import Statements, statement_hash
from api.services.transactions import TransactionRelay
from ledger import domain_errors as refused
from ledger.chain.client import Chain
from ledger.chain.sender import Receipt
from ledger.deadlines import objection_due
from ledger.domain import Role
from ledger.eip712 import (Domain, InvalidTypedData, ObjectionMessage, hash_typed_data, objection_typed_data,
                           parse_canonical_typed_data, recover_signer)
from ledger.identity import subject_id as make_subject_id
from ledger.indexer import Indexer
from ledger.projection import OBJECTION_KINDS, ObjectionState
from ledger.storage.models import RecordRow

#: How long a drafted objection may wait for its signature.
DRAFT_LIFETIME = 24 * 3600


class ObjectionService:
    def __init__(self, *, chain: Chain, domain: Domain, admin_address: str, indexer: Indexer,
                 resources: ResourceFields, relay: TransactionRelay, statements: Statements,
                 sessions: sessionmaker[Session], pepper: bytes):
        self._objections = chain.contract("Objections")
        self._domain = domain
        self._admin_address = admin_address
        self._indexer = indexer
        self._projection = indexer.projection
        self._resources = resources
        self._acts = relay.acts(self._objections.address, "objection")
        self._statements = statements
        self._sessions = sessions
        self._pepper = pepper

    # -- the subject ---------------------------------------------------------------------------------
    def draft(self, principal: Principal, body: ObjectionDraftCreate) -> ObjectionDraft:
        subject_id = "0x" + make_subject_id(self._pepper, body.id_type, body.id_number).hex()
        self._require_signer(principal, subject_id)
        meta, _ = self._resources.require(body.resource_id, self._projection)
        unknown = sorted(set(body.fields) - set(meta.fields))
        if unknown:
            raise refused.UnknownField(f"{body.resource_id} has no field {', '.join(unknown)}")
        message = ObjectionMessage(
            subject=bytes.fromhex(subject_id[2:]), resource_id=bytes.fromhex(meta.resource_key[2:]),
            field_mask=sum(1 << meta.fields.index(f) for f in set(body.fields)), kind=OBJECTION_KINDS.index(body.kind),
            reason_hash=statement_hash(body.reason),
            # Nonces are unordered on-chain: a random one needs no reservation between draft and filing.
            nonce=secrets.randbits(64), deadline=int(time.time()) + DRAFT_LIFETIME)
        return ObjectionDraft(typed_data=objection_typed_data(self._domain, message))

    def file(self, principal: Principal, body: ObjectionFile) -> ObjectionReceipt:
        parsed, canonical = parse_canonical_typed_data(body.typed_data, self._domain)
        if not isinstance(parsed, ObjectionMessage):
            raise InvalidTypedData("expected an Objection")
        subject_id = "0x" + parsed.subject.hex()
        self._require_signer(principal, subject_id)
        if statement_hash(body.reason) != parsed.reason_hash:
            raise refused.InvalidRequest("reason is not the text whose hash the signed objection carries")
        signer = recover_signer(hash_typed_data(canonical), body.signature)
        if signer not in self._projection.subject(subject_id).signers:
            raise refused.WrongSigner(f"the signature is by {signer}, who is not a bound signer of this subject")
        if parsed.deadline < time.time():
            raise refused.DeadlinePassed("the signing deadline has passed; make a new draft")
        self._statements.keep(body.reason)
        receipt = self._objections.transact("fileWithSig", parsed.as_abi_tuple(), signer,
                                            bytes.fromhex(body.signature[2:]))
        self._indexer.sync(receipt.block_number)
        objection_id = next(a["objectionId"] for name, a in self._objections.events(receipt)
                            if name == "ObjectionFiled")
        return self._receipt(objection_id, receipt)

    # -- the data authority and the provider -------------------------------------------------------------
    def mark(self, principal: Principal, objection_id: int) -> ObjectionReceipt:
        self._step(objection_id, "FILED", "marked")
        return self._receipt(objection_id, self._as_authority(principal, "mark", objection_id))

    def forward(self, principal: Principal, objection_id: int) -> ObjectionReceipt:
        self._step(objection_id, "MARKED", "forwarded")
        return self._receipt(objection_id, self._as_authority(principal, "forward", objection_id))

    def decide(self, principal: Principal, objection_id: int,
               body: ObjectionDecide) -> UnsignedTransaction | ObjectionReceipt:
        o = self._objection(objection_id)
        if o.status not in ("MARKED", "FORWARDED"):
            raise refused.ObjectionWrongStep("an objection is decided once it is marked, and only once (this one "
                                             f"is {o.status.lower()})")
        version = self._corrected_version(o) if body.corrected else 0
        args = (objection_id, body.corrected, version, statement_hash(body.note))
        if o.status == "MARKED":
            self._statements.keep(body.note)
            return self._receipt(objection_id, self._as_authority(principal, "decide", *args))
        if principal.address != o.provider:
            raise refused.NotObjectionDecider("this objection was forwarded: only the provider it went to, "
                                              f"{o.provider}, decides it")
        data = self._objections.encode("decide", *args)
        if body.signed_transaction is None:
            return self._acts.prepare(principal.address, data)
        self._statements.keep(body.note)
        return self._receipt(objection_id, self._acts.relay(principal, body.signed_transaction, data))

    def visible(self, principal: Principal, overdue_only: bool) -> list[ObjectionOut]:
        """The admin and regulators see every objection; a department those about the resources it provides or
        forwarded to it; a subject's signer those about its subjects."""
        if principal.has(Role.ADMIN) or principal.has(Role.REGULATOR):
            found = self._projection.objections()
        elif principal.has(Role.DEPARTMENT):
            found = self._projection.objections(party=principal.address)
        else:
            found = self._projection.objections(subjects=sorted(self._projection.subjects_of_signer(principal.address)))
        return self._public_all(found, overdue_only)

    # -- helpers ---------------------------------------------------------------------------------------
    def _require_signer(self, principal: Principal, subject_id: str) -> None:
        subject = self._projection.subject(subject_id)
        if subject is None:
            raise refused.UnknownSubject("no subject is registered for this ID number")
        if principal.address not in subject.signers:
            raise refused.NotSubjectSigner("you are not a bound signer of this subject")

    def _objection(self, objection_id: int) -> ObjectionState:
        found = self._projection.objection(objection_id)
        if found is None:
            raise refused.NotFound("no objection with this id")
        return found

    def _step(self, objection_id: int, status: str, step: str) -> None:
        o = self._objection(objection_id)
        if o.status != status:
            raise refused.ObjectionWrongStep(f"an objection is {step} when it is {status.lower()}; this one is "
                                             f"{o.status.lower()}")

    def _as_authority(self, principal: Principal, function: str, *args) -> Receipt:
        """The data authority's step, sent with the platform's admin key (the admin signs in with it)."""
        if not principal.has(Role.ADMIN) or principal.address != self._admin_address:
            raise refused.RoleRequired("the data authority (the admin) marks, forwards and decides objections in "
                                       "its remit")
        receipt = self._objections.transact(function, *args, sender=self._admin_address)
        self._indexer.sync(receipt.block_number)
        return receipt

    def _corrected_version(self, o: ObjectionState) -> int:
        """The version of the record stored since the filing, which a "corrected" decision cites. The filing's
        block was stamped ``filed_at`` in whole seconds, so only a write from the next second on is surely later."""
        meta = self._resources.by_key.get(o.resource_key)
        with self._sessions() as session:
            row = session.get(RecordRow, (meta.resource_id, o.subject_id)) if meta else None
            if row is None or row.updated_at.timestamp() < o.filed_at + 1:
                raise refused.RecordNotCorrected("store the corrected record first (PUT /v1/resources/{id}/records); "
                                                 "it has not changed since the objection was filed")
            return row.version

    def _receipt(self, objection_id: int, receipt: Receipt) -> ObjectionReceipt:
        out = self._public_all([self._projection.objection(objection_id)])[0]
        return ObjectionReceipt(**out.model_dump(), act_tx_hash=receipt.tx_hash, act_block_number=receipt.block_number)

    def _public_all(self, found: list[ObjectionState], overdue_only: bool = False) -> list[ObjectionOut]:
        texts = self._statements.texts({h for o in found for h in (o.reason_hash, o.note_hash)})
        now = time.time()
        out = []
        for o in found:
            clocks = objection_due(o.filed_at, o.forwarded_at)
            overdue = clocks.mark.missed(o.marked_at, now) or clocks.decide.missed(o.decided_at, now) or \
                (o.forwarded_at is not None and clocks.forward.missed(o.forwarded_at, now))
            if overdue_only and not overdue:
                continue
            meta = self._resources.by_key.get(o.resource_key)
            history = [ObjectionStep(step="FILED", at=iso(o.filed_at), by=o.filed_by)]
            if o.marked_at is not None:
                history.append(ObjectionStep(step="MARKED", at=iso(o.marked_at)))
            if o.forwarded_at is not None:
                history.append(ObjectionStep(step="FORWARDED", at=iso(o.forwarded_at), by=o.provider))
            if o.decided_at is not None:
                history.append(ObjectionStep(step="DECIDED", at=iso(o.decided_at), by=o.decided_by))
            pending = next((d.pending for d in clocks if d.pending), None)
            out.append(ObjectionOut(
                objection_id=o.objection_id, subject_id=o.subject_id,
                resource_id=meta.resource_id if meta else o.resource_key, resource_name=meta.name if meta else None,
                fields=meta.fields_in(o.field_mask) if meta else [], kind=o.kind, reason=texts.get(o.reason_hash),
                status=o.status, history=history, provider=o.provider, corrected=o.corrected,
                record_version=o.record_version, note=texts.get(o.note_hash),
                due=ObjectionDue(mark=iso(clocks.mark.at), forward=iso(clocks.forward.at),
                                 decide=iso(clocks.decide.at), pending=pending),
                overdue=overdue, tx_hash=o.tx_hash))
        return out
