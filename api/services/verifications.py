"""Verification of shared data (校核, 永州市政务大数据管理办法 第二十一条).

"使用部门对获取的共享信息有疑义或者认为有明显错误的,应及时反馈给提供部门;提供部门应在5个工作日内予以校核。需延长校核
期限的,应经提供部门负责人同意并告知使用部门,延长期限最长不得超过15个工作日。校核期间, ... 受理单位应照常办理"

A department that received a record and doubts it cites the release's audit entry and the fields
in doubt; the provider answers within 5 working days, or extends once with a reason to at most 15
working days after the request, and resolves it, saying whether it corrected the record (then the
corrected record must be stored first). Queries are not refused meanwhile: nothing here touches
the release policy. Every step is the department's or the provider's own signed transaction on the
Catalog, prepared and relayed by the API; the texts stay off-chain next to their hashes.
"""

from __future__ import annotations

import time

from sqlalchemy.orm import Session, sessionmaker

from api.core.security import Principal
from api.schemas.common import UnsignedTransaction, iso
from api.schemas.verifications import (VerificationCreate, VerificationExtend, VerificationOut, VerificationReceipt,
                                       VerificationResolve)
from api.services.catalog import ResourceFields
from api.services.statements import Statements, statement_hash
from api.services.transactions import TransactionRelay
from ledger import domain_errors as refused
from ledger.audit.log import AuditLog
from ledger.chain.client import Chain
from ledger.chain.sender import Receipt
from ledger.deadlines import VERIFICATION_MAX_WORKING_DAYS, verification_due, working_days_after

from ledger.indexer import Indexer
from ledger.projection import VerificationState
from ledger.storage.models import RecordRow


class VerificationService:
    def __init__(self, *, chain: Chain, indexer: Indexer, resources: ResourceFields, relay: TransactionRelay,
                 statements: Statements, audit: AuditLog, sessions: sessionmaker[Session]):
        self._catalog = chain.contract("Catalog")
        self._projection = indexer.projection
        self._resources = resources
        self._acts = relay.acts(self._catalog.address, "verification request")
        self._statements = statements
        self._audit = audit
        self._sessions = sessions

    def request(self, principal: Principal, body: VerificationCreate) -> UnsignedTransaction | VerificationReceipt:
        entry = self._audit.entry(body.audit_seq)
        if entry is None:
            raise refused.NotFound(f"no audit entry {body.audit_seq}")
        if entry.requester != principal.address or not entry.allowed:
            raise refused.NotYourRelease(f"audit entry {body.audit_seq} is not a release to this department")
        released = set(entry.fields)
        doubted = sorted(set(body.fields))
        if not set(doubted) <= released:
            raise refused.UnknownField(f"entry {body.audit_seq} did not release {', '.join(sorted(set(doubted) - released))}")
        meta, _ = self._resources.require(entry.resource, self._projection)
        mask = sum(1 << meta.fields.index(f) for f in doubted)
        data = self._catalog.encode("requestVerification", bytes.fromhex(meta.resource_key[2:]), mask, body.audit_seq,
                                    statement_hash(body.reason))
        if body.signed_transaction is None:
            return self._acts.prepare(principal.address, data)
        self._statements.keep(body.reason)
        receipt = self._acts.relay(principal, body.signed_transaction, data)
        request_id = next(a["requestId"] for name, a in self._catalog.events(receipt) if name == "VerificationRequested")
        return self._receipt(request_id, receipt)

    def extend(self, principal: Principal, request_id: int,
               body: VerificationExtend) -> UnsignedTransaction | VerificationReceipt:
        v = self._for_provider(principal, request_id)
        if v.status != "OPEN":
            raise refused.VerificationNotOpen("a verification request is extended once, while it is open "
                                              f"(this one is {v.status.lower()})")
        until = int(body.until.timestamp())
        latest = working_days_after(v.requested_at, VERIFICATION_MAX_WORKING_DAYS)
        if latest.at is None:
            raise refused.CalendarNotPublished(latest.pending)
        if until > latest.at.timestamp():
            raise refused.InvalidRequest(f"an extension may run to at most {VERIFICATION_MAX_WORKING_DAYS} working "
                                         f"days after the request, {iso(latest.at)} (第二十一条)")
        if until <= time.time():
            raise refused.InvalidRequest("until is in the past")
        data = self._catalog.encode("extendVerification", request_id, until, statement_hash(body.reason))
        if body.signed_transaction is None:
            return self._acts.prepare(principal.address, data)
        self._statements.keep(body.reason)
        return self._receipt(request_id, self._acts.relay(principal, body.signed_transaction, data))

    def resolve(self, principal: Principal, request_id: int,
                body: VerificationResolve) -> UnsignedTransaction | VerificationReceipt:
        v = self._for_provider(principal, request_id)
        if v.status == "RESOLVED":
            raise refused.VerificationNotOpen("this verification request is already resolved")
        if body.corrected and not self._corrected_since(v):
            raise refused.RecordNotCorrected("store the corrected record first (PUT /v1/resources/{id}/records); "
                                             "it has not changed since the request")
        data = self._catalog.encode("resolveVerification", request_id, body.corrected, statement_hash(body.note))
        if body.signed_transaction is None:
            return self._acts.prepare(principal.address, data)
        self._statements.keep(body.note)
        return self._receipt(request_id, self._acts.relay(principal, body.signed_transaction, data))

    def visible(self, principal: Principal, overdue_only: bool) -> list[VerificationOut]:
        """The admin and regulators see all; a department those it made or must answer."""
        found = self._projection.verifications(principal.oversight_scope("verification requests"))
        out = self._public_all(found)
        return [v for v in out if v.overdue] if overdue_only else out

    # -- helpers -------------------------------------------------------------------------------------
    def _for_provider(self, principal: Principal, request_id: int) -> VerificationState:
        v = self._projection.verification(request_id)
        if v is None:
            raise refused.NotFound("no verification request with this id")
        resource = self._projection.resource(v.resource_key)
        if resource is None or resource.provider != principal.address:
            raise refused.NotProvider("only the resource's provider department answers a verification request")
        return v

    def _corrected_since(self, v: VerificationState) -> bool:
        entry = self._audit.entry(v.audit_seq)
        meta = self._resources.by_key.get(v.resource_key)
        if entry is None or meta is None:
            return False
        with self._sessions() as session:
            row = session.get(RecordRow, (meta.resource_id, entry.subject_id))
            return row is not None and row.updated_at.timestamp() > v.requested_at

    def _receipt(self, request_id: int, receipt: Receipt) -> VerificationReceipt:
        out = self._public_all([self._projection.verification(request_id)])[0]
        return VerificationReceipt(**out.model_dump(), act_tx_hash=receipt.tx_hash,
                                   act_block_number=receipt.block_number)

    def _public_all(self, found: list[VerificationState]) -> list[VerificationOut]:
        texts = self._statements.texts({h for v in found for h in (v.reason_hash, v.extension_reason_hash,
                                                                    v.note_hash)})
        now = time.time()
        out = []
        for v in found:
            meta = self._resources.by_key.get(v.resource_key)
            due = verification_due(v.requested_at, v.extended_until)
            latest = working_days_after(v.requested_at, VERIFICATION_MAX_WORKING_DAYS)
            out.append(VerificationOut(
                request_id=v.request_id, requester=v.requester, resource_id=meta.resource_id if meta else v.resource_key,
                audit_seq=v.audit_seq, fields=meta.fields_in(v.field_mask) if meta else [],
                reason=texts.get(v.reason_hash), status=v.status, requested_at=iso(v.requested_at), due=iso(due.at),
                due_pending=due.pending, latest_due=iso(latest.at), extended_until=iso(v.extended_until),
                extension_reason=texts.get(v.extension_reason_hash), resolved_at=iso(v.resolved_at),
                corrected=v.corrected, note=texts.get(v.note_hash), overdue=due.missed(v.resolved_at, now),
                tx_hash=v.tx_hash))
        return out
