"""Conditional sharing requests: the department's own signed transactions, relayed and checked.

Requests and answers are acts of a department, so the department signs them with its own key;
the API only prepares the transaction, checks that a signed one says exactly what was asked
(sender, contract, calldata) and relays it. Answers are due within 10 working days on the
official Chinese calendar; overdue ones are listed for regulators.

An approved request is an agreement for its purpose, in force from the approval until its
``valid_until``. The provider ends it early the same way (its own signed transaction); the data
authority (admin) may end it too, sent with the platform's admin key like every admin act.
"""

from __future__ import annotations

import time
from eth_utils import keccak

from api.core.security import Principal
from api.schemas.common import UnsignedTransaction, iso
from api.schemas.sharing import SharingDecision, SharingReceipt, SharingRequestCreate
from api.services.catalog import ResourceFields
from api.services.transactions import TransactionRelay
from ledger import domain_errors as refused
from ledger.chain.client import Chain
from ledger.chain.sender import Receipt
from ledger.domain import Role, SharingClass, purpose_hash
from ledger.indexer import Indexer
from ledger.projection import AgreementState, SharingRequestState
from ledger.deadlines import SHARING_ANSWER_WORKING_DAYS, working_days_after


class SharingService:
    def __init__(self, *, chain: Chain, admin_address: str, indexer: Indexer, resources: ResourceFields,
                 relay: TransactionRelay):
        self._catalog = chain.contract("Catalog")
        self._admin_address = admin_address
        self._indexer = indexer
        self._projection = indexer.projection
        self._resources = resources
        self._acts = relay.acts(self._catalog.address, "sharing")

    # -- transactions the department signs -----------------------------------------------------------
    def _receipt(self, request_id: int, receipt: Receipt) -> SharingReceipt:
        return SharingReceipt(**self.public(self._projection.sharing_request(request_id)), tx_hash=receipt.tx_hash,
                              block_number=receipt.block_number)

    # -- requests ----------------------------------------------------------------------------------
    def request(self, principal: Principal, body: SharingRequestCreate) -> UnsignedTransaction | SharingReceipt:
        meta, state = self._resources.require(body.resource_id, self._projection)
        if state.sharing_class != SharingClass.CONDITIONAL:
            raise refused.NotConditional("only CONDITIONAL resources need a sharing agreement")
        self._resources.require(body.resource_id, self._projection, body.fields)
        if body.valid_until.timestamp() <= time.time():
            raise refused.InvalidRequest("valid_until is in the past")
        mask = sum(1 << meta.fields.index(f) for f in set(body.fields))
        data = self._catalog.encode(
            "requestSharing", bytes.fromhex(meta.resource_key[2:]), mask, purpose_hash(body.purpose),
            int(body.valid_until.timestamp()))
        if body.signed_transaction is None:
            return self._acts.prepare(principal.address, data)
        receipt = self._acts.relay(principal, body.signed_transaction, data)
        events = self._catalog.events(receipt)
        return self._receipt(next(args["requestId"] for name, args in events if name == "SharingRequested"), receipt)

    def decide(self, principal: Principal, request_id: int, approve: bool,
               body: SharingDecision) -> UnsignedTransaction | SharingReceipt:
        request = self._projection.sharing_request(request_id)
        if request is None:
            raise refused.NotFound("no sharing request with this id")
        resource = self._projection.resource(request.resource_key)
        if resource is None or resource.provider != principal.address:
            raise refused.NotProvider("only the resource's provider department answers this request")
        if request.status != "PENDING":
            raise refused.AlreadyAnswered(f"this request is already {request.status.lower()}")
        data = self._catalog.encode("approveSharing", request_id) if approve else \
            self._catalog.encode("denySharing", request_id, keccak(text=body.reason or ""))
        if body.signed_transaction is None:
            return self._acts.prepare(principal.address, data)
        return self._receipt(request_id, self._acts.relay(principal, body.signed_transaction, data))

    def end(self, principal: Principal, request_id: int, body: SharingDecision) -> UnsignedTransaction | SharingReceipt:
        """End the agreement made by ``request_id``: its provider signs, or the admin."""
        p = self._projection
        request = p.sharing_request(request_id)
        if request is None:
            raise refused.NotFound("no sharing request with this id")
        resource = p.resource(request.resource_key)
        is_provider = principal.has(Role.DEPARTMENT) and resource is not None and resource.provider == principal.address
        if not is_provider and not principal.has(Role.ADMIN):
            raise refused.NotProvider("only the resource's provider department or the admin ends an agreement")
        agreement = p.agreement(request)
        if request.status != "APPROVED" or agreement is None or agreement.request_id != request_id:
            raise refused.AgreementNotInForce(f"request {request_id} is {request.status.lower()}, "
                                              "not an agreement in force")
        reason_hash = keccak(text=body.reason or "")
        if not is_provider and principal.address == self._admin_address:
            receipt = self._catalog.transact("endAgreement", request_id, reason_hash, sender=self._admin_address)
            self._indexer.sync(receipt.block_number)
        else:
            data = self._catalog.encode("endAgreement", request_id, reason_hash)
            if body.signed_transaction is None:
                return self._acts.prepare(principal.address, data)
            receipt = self._acts.relay(principal, body.signed_transaction, data)
        return self._receipt(request_id, receipt)

    # -- listing -----------------------------------------------------------------------------------
    def visible(self, principal: Principal, overdue_only: bool) -> list[dict]:
        if not principal.has(Role.REGULATOR) and not principal.has(Role.DEPARTMENT):
            raise refused.RoleRequired("sharing requests are visible to departments and regulators")
        party = None if principal.has(Role.REGULATOR) else principal.address
        out = [self.public(r) for r in self._projection.sharing_requests(party)]
        return [r for r in out if r["overdue"]] if overdue_only else out

    def visible_agreements(self, principal: Principal) -> list[dict]:
        """Standing agreements (the latest approval per department, resource and purpose), visible like requests."""
        party = None if principal.has(Role.REGULATOR) else principal.address
        return [self.public_agreement(d, k, a) for d, k, a in self._projection.agreements(party)]

    def public_agreement(self, department: str, resource_key: str, a: AgreementState) -> dict:
        meta = self._resources.by_key.get(resource_key)
        now = time.time()
        return {"request_id": a.request_id, "department": department,
                "resource_id": meta.resource_id if meta else resource_key,
                "fields": meta.fields_in(a.field_mask) if meta else [],
                "purpose_hash": a.purpose_hash, "valid_from": iso(a.valid_from), "valid_until": iso(a.valid_until),
                "ended_at": iso(a.ended_at), "ended_by": a.ended_by,
                "in_force": a.ended_at is None and a.valid_from <= now < a.valid_until}

    def public(self, r: SharingRequestState) -> dict:
        meta = self._resources.by_key.get(r.resource_key)
        due = working_days_after(r.requested_at, SHARING_ANSWER_WORKING_DAYS)
        return {"request_id": r.request_id, "requester": r.requester,
                "resource_id": meta.resource_id if meta else r.resource_key,
                "fields": meta.fields_in(r.field_mask) if meta else [],
                "purpose_hash": r.purpose_hash, "valid_until": iso(r.valid_until), "status": r.status,
                "requested_at": iso(r.requested_at), "answer_due": iso(due.at), "due_pending": due.pending,
                "decided_at": iso(r.decided_at), "overdue": due.missed(r.decided_at, time.time())}
