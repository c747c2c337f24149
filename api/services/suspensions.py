"""Suspensions (永州市政务大数据管理办法 第十九条): "提供部门发现使用部门违反规定使用政务数据的,有权暂停或者终止
提供,并报告同级人民政府政务数据主管部门".

The provider suspends (with an end) or ends (until lifted) one department's access to one of its
resources. It is the provider's act, so the provider signs the transaction with its own key, as it
answers sharing requests; the API prepares it and relays it once signed. The reason's keccak256 goes
on-chain and its text into ``statements``. The Catalog's event is the report to the data authority:
the admin and regulators see every suspension here. The provider or the admin (with the platform's
admin key) lifts one. From the block that carries it, every release to the department is refused
with ``SUSPENDED`` (:mod:`ledger.policy`), and the verifier flags any that was not.
"""

from __future__ import annotations

import time

from api.core.security import Principal
from api.schemas.common import UnsignedTransaction, iso
from api.schemas.suspensions import SuspensionCreate, SuspensionLift, SuspensionOut, SuspensionReceipt
from api.services.catalog import ResourceFields
from api.services.statements import Statements, statement_hash
from api.services.transactions import TransactionRelay
from ledger import domain_errors as refused, policy
from ledger.chain.client import Chain
from ledger.chain.sender import Receipt
from ledger.domain import Role, department_code_text
from ledger.indexer import Indexer
from ledger.projection import SuspensionState


class SuspensionService:
    def __init__(self, *, chain: Chain, admin_address: str, indexer: Indexer, resources: ResourceFields,
                 relay: TransactionRelay, statements: Statements):
        self._catalog = chain.contract("Catalog")
        self._admin_address = admin_address
        self._indexer = indexer
        self._projection = indexer.projection
        self._resources = resources
        self._acts = relay.acts(self._catalog.address, "suspension")
        self._statements = statements

    def suspend(self, principal: Principal, resource_id: str,
                body: SuspensionCreate) -> UnsignedTransaction | SuspensionReceipt:
        meta, state = self._resources.require(resource_id, self._projection)
        if state.provider != principal.address:
            raise refused.NotProvider("only the resource's provider department suspends access to it")
        if self._projection.department(body.department) is None:
            raise refused.UnknownDepartment(f"no department is registered at {body.department}")
        until = 0
        if body.until is not None:
            until = int(body.until.timestamp())
            if until <= time.time():
                raise refused.InvalidRequest("until is in the past; omit it to end access until lifted")
        reason_hash = statement_hash(body.reason)
        data = self._catalog.encode("suspendAccess", bytes.fromhex(meta.resource_key[2:]), body.department,
                                    reason_hash, until)
        if body.signed_transaction is None:
            return self._acts.prepare(principal.address, data)
        self._statements.keep(body.reason)
        receipt = self._acts.relay(principal, body.signed_transaction, data)
        return self._receipt(body.department, meta.resource_key, receipt)

    def lift(self, principal: Principal, resource_id: str, department: str,
             body: SuspensionLift | None) -> UnsignedTransaction | SuspensionReceipt:
        meta, state = self._resources.require(resource_id, self._projection)
        is_provider = principal.has(Role.DEPARTMENT) and state.provider == principal.address
        if not is_provider and not principal.has(Role.ADMIN):
            raise refused.NotProvider("only the resource's provider department or the admin lifts a suspension")
        found = self._projection.suspension(department, meta.resource_key)
        if found is None or not _in_force(found, int(time.time())):
            raise refused.NotSuspended("this department's access to the resource is not suspended")
        data = self._catalog.encode("liftSuspension", bytes.fromhex(meta.resource_key[2:]), department)
        if not is_provider and principal.address == self._admin_address:
            receipt = self._catalog.transact("liftSuspension", bytes.fromhex(meta.resource_key[2:]), department,
                                             sender=self._admin_address)
            self._indexer.sync(receipt.block_number)
        else:
            signed = body.signed_transaction if body is not None else None
            if signed is None:
                return self._acts.prepare(principal.address, data)
            receipt = self._acts.relay(principal, signed, data)
        return self._receipt(department, meta.resource_key, receipt)

    def visible(self, principal: Principal) -> list[SuspensionOut]:
        """The data authority's list: every suspension for the admin and regulators; a department sees those
        it set as provider and those it is under."""
        found = self._projection.suspensions(principal.oversight_scope("suspensions"))
        texts = self._statements.texts({s.reason_hash for s in found})
        return [self.public(s, texts) for s in found]

    def public(self, s: SuspensionState, texts: dict[str, str]) -> SuspensionOut:
        meta = self._resources.by_key.get(s.resource_key)
        department = self._projection.department(s.department)
        return SuspensionOut(
            resource_id=meta.resource_id if meta else s.resource_key, department=s.department,
            department_code=department_code_text(department.code) if department else None,
            department_name=department.name if department else None, provider=s.provider,
            kind="SUSPENDED" if s.until else "ENDED", reason=texts.get(s.reason_hash), reason_hash=s.reason_hash,
            since=iso(s.since), until=iso(s.until) if s.until else None, in_force=_in_force(s, int(time.time())),
            lifted_at=iso(s.lifted_at), lifted_by=s.lifted_by, tx_hash=s.tx_hash, block_number=s.block_number)

    # -- helpers -------------------------------------------------------------------------------------
    def _receipt(self, department: str, resource_key: str, receipt: Receipt) -> SuspensionReceipt:
        found = self._projection.suspension(department, resource_key)
        out = self.public(found, self._statements.texts({found.reason_hash}))
        return SuspensionReceipt(**out.model_dump(), act_tx_hash=receipt.tx_hash,
                                 act_block_number=receipt.block_number)


def _in_force(s: SuspensionState, now: int) -> bool:
    """As the policy judges it (the one rule): not lifted, and before its end if it has one."""
    return s.lifted_at is None and policy.Suspension(s.until).in_force(now)
