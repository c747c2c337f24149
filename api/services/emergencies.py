"""The emergency green channel (应急供需绿色通道, 济南市关于进一步加强公共数据管理深化数据共享应用的实施方案).

A holder of the EMERGENCY role declares an emergency on the Catalog: the event, the legal basis, the
departments, the resources, the subjects (all, or listed ids) and a hard expiry at most 72 hours
ahead; only another EMERGENCY holder extends it. A release under it (``emergency_id`` in the query)
needs no consent and ignores NOT_SHARED, inside its scope and window (:mod:`ledger.policy`); its
audit entry names the emergency, whose legal basis is on-chain. The notice to affected subjects
(their inbox) may be delayed only with a reason and a date, both on-chain. The regulator reviews
each emergency within 24 hours of its end, PROPER or IMPROPER. Every act is its holder's own
signed transaction, prepared and relayed here; the texts stay off-chain next to their hashes.
"""

from __future__ import annotations

import time

from api.core.security import Principal
from api.schemas.common import UnsignedTransaction, iso
from api.schemas.emergencies import (EmergencyCreate, EmergencyExtend, EmergencyNoticeDelay, EmergencyOut,
                                     EmergencyReceipt, EmergencyReview)
from api.services.catalog import ResourceFields
from api.services.statements import Statements, statement_hash
from api.services.transactions import TransactionRelay
from ledger import domain_errors as refused
from ledger.chain.client import Chain
from ledger.chain.sender import Receipt
from ledger.deadlines import EMERGENCY_MAX_SECONDS, emergency_review_due
from ledger.domain import Role
from ledger.identity import subject_id as make_subject_id
from ledger.indexer import Indexer
from ledger.projection import EmergencyState


class EmergencyService:
    def __init__(self, *, chain: Chain, indexer: Indexer, resources: ResourceFields, relay: TransactionRelay,
                 statements: Statements, pepper: bytes):
        self._catalog = chain.contract("Catalog")
        self._projection = indexer.projection
        self._resources = resources
        self._acts = relay.acts(self._catalog.address, "emergency")
        self._statements = statements
        self._pepper = pepper

    def declare(self, principal: Principal, body: EmergencyCreate) -> UnsignedTransaction | EmergencyReceipt:
        _require(principal, Role.EMERGENCY, "an EMERGENCY holder declares an emergency")
        until = self._until(body.until)
        for department in body.departments:
            if self._projection.department(department) is None:
                raise refused.UnknownDepartment(f"no department is registered at {department}")
        keys = [bytes.fromhex(self._resources.require(r, self._projection)[0].resource_key[2:])
                for r in dict.fromkeys(body.resources)]
        everyone = body.subjects == "all"
        subjects = [] if everyone else list(dict.fromkeys(
            make_subject_id(self._pepper, s.id_type, s.id_number) for s in body.subjects))
        if not everyone and not 1 <= len(subjects) <= 256:
            raise refused.InvalidRequest("list 1 to 256 subjects, or \"all\"")
        data = self._catalog.encode("declareEmergency", statement_hash(body.event), statement_hash(body.legal_basis),
                                    list(dict.fromkeys(body.departments)), keys, everyone, subjects, until)
        if body.signed_transaction is None:
            return self._acts.prepare(principal.address, data)
        self._statements.keep(body.event)
        self._statements.keep(body.legal_basis)
        receipt = self._acts.relay(principal, body.signed_transaction, data)
        emergency_id = next(a["emergencyId"] for name, a in self._catalog.events(receipt) if name == "EmergencyDeclared")
        return self._receipt(emergency_id, receipt)

    def extend(self, principal: Principal, emergency_id: int,
               body: EmergencyExtend) -> UnsignedTransaction | EmergencyReceipt:
        _require(principal, Role.EMERGENCY, "another EMERGENCY holder extends an emergency")
        e = self._emergency(emergency_id)
        if e.declared_by == principal.address:
            raise refused.Forbidden("an emergency is extended by a second EMERGENCY holder, not the one who "
                                    "declared it")
        if e.until <= time.time():
            raise refused.EmergencyOver("this emergency has ended; declare a new one")
        until = self._until(body.until)
        if until <= e.until:
            raise refused.InvalidRequest("the new expiry must be later than the current one")
        return self._send(principal, emergency_id, self._catalog.encode("extendEmergency", emergency_id, until),
                          body.signed_transaction)

    def delay_notice(self, principal: Principal, emergency_id: int,
                     body: EmergencyNoticeDelay) -> UnsignedTransaction | EmergencyReceipt:
        _require(principal, Role.EMERGENCY, "an EMERGENCY holder delays the notice to subjects")
        e = self._emergency(emergency_id)
        if e.notice_by is not None and e.notice_by <= time.time():
            raise refused.NoticeAlreadyDue("the notice delay has run out and the subjects have been told; a notice "
                                           "once due is not hidden again")
        notice_by = int(body.notice_by.timestamp())
        if notice_by <= time.time():
            raise refused.InvalidRequest("notice_by is in the past")
        data = self._catalog.encode("delayEmergencyNotice", emergency_id, statement_hash(body.reason), notice_by)
        if body.signed_transaction is not None:
            self._statements.keep(body.reason)
        return self._send(principal, emergency_id, data, body.signed_transaction)

    def review(self, principal: Principal, emergency_id: int,
               body: EmergencyReview) -> UnsignedTransaction | EmergencyReceipt:
        _require(principal, Role.REGULATOR, "a regulator reviews an emergency")
        e = self._emergency(emergency_id)
        if e.until > time.time():
            raise refused.EmergencyNotOver(f"this emergency runs until {iso(e.until)}; it is reviewed after its end")
        if e.reviewed_at is not None:
            raise refused.AlreadyAnswered("this emergency has been reviewed already")
        data = self._catalog.encode("reviewEmergency", emergency_id, body.verdict == "PROPER",
                                    statement_hash(body.note))
        if body.signed_transaction is not None:
            self._statements.keep(body.note)
        return self._send(principal, emergency_id, data, body.signed_transaction)

    def visible(self, principal: Principal, unreviewed_only: bool = False,
                overdue_only: bool = False) -> list[EmergencyOut]:
        if not (principal.has(Role.REGULATOR) or principal.has(Role.EMERGENCY) or principal.has(Role.ADMIN)):
            raise refused.RoleRequired("emergencies are listed for regulators, EMERGENCY holders and the admin")
        out = self._public_all(self._projection.emergencies())
        if unreviewed_only:
            out = [e for e in out if e.reviewed_at is None]
        return [e for e in out if e.review_overdue] if overdue_only else out

    # -- helpers -------------------------------------------------------------------------------------
    @staticmethod
    def _until(moment) -> int:
        until = int(moment.timestamp())
        now = time.time()
        if until <= now or until > now + EMERGENCY_MAX_SECONDS:
            raise refused.InvalidRequest("an emergency's expiry must be in the future and at most 72 hours from now")
        return until

    def _emergency(self, emergency_id: int) -> EmergencyState:
        found = self._projection.emergency_record(emergency_id)
        if found is None:
            raise refused.NotFound("no emergency with this id")
        return found

    def _send(self, principal: Principal, emergency_id: int, data: str,
              signed: str | None) -> UnsignedTransaction | EmergencyReceipt:
        if signed is None:
            return self._acts.prepare(principal.address, data)
        return self._receipt(emergency_id, self._acts.relay(principal, signed, data))

    def _receipt(self, emergency_id: int, receipt: Receipt) -> EmergencyReceipt:
        out = self._public_all([self._projection.emergency_record(emergency_id)])[0]
        return EmergencyReceipt(**out.model_dump(), act_tx_hash=receipt.tx_hash, act_block_number=receipt.block_number)

    def _public_all(self, found: list[EmergencyState]) -> list[EmergencyOut]:
        texts = self._statements.texts({h for e in found for h in (e.event_hash, e.legal_basis_hash,
                                                                    e.notice_reason_hash, e.review_note_hash)})
        now = time.time()
        out = []
        for e in found:
            due = emergency_review_due(e.until)
            out.append(EmergencyOut(
                emergency_id=e.emergency_id, declared_by=e.declared_by, event=texts.get(e.event_hash),
                legal_basis=texts.get(e.legal_basis_hash), departments=list(e.departments),
                resources=[self._slug(r) for r in e.resources],
                subjects="all" if e.all_subjects else len(e.subjects), declared_at=iso(e.declared_at),
                until=iso(e.until), extended_by=e.extended_by, in_force=e.declared_at <= now < e.until,
                notice_by=iso(e.notice_by), notice_delay_reason=texts.get(e.notice_reason_hash),
                review_due=iso(due.at), reviewed_at=iso(e.reviewed_at), reviewed_by=e.reviewed_by,
                verdict=None if e.proper is None else ("PROPER" if e.proper else "IMPROPER"),
                review_note=texts.get(e.review_note_hash), review_overdue=due.missed(e.reviewed_at, now),
                tx_hash=e.tx_hash))
        return out

    def _slug(self, resource_key: str) -> str:
        meta = self._resources.by_key.get(resource_key)
        return meta.resource_id if meta else resource_key


def _require(principal: Principal, role: Role, what: str) -> None:
    if not principal.has(role):
        raise refused.RoleRequired(what)
