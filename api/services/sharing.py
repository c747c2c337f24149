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
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from eth_utils import keccak

from api.core.errors import ApiError, ledger_refusal
from api.core.security import Principal
from api.schemas.common import iso
from api.schemas.sharing import SharingDecision, SharingRequestCreate
from api.services.transactions import relay, unsigned
from ledger.chain.sender import Receipt
from ledger.domain import Role, SharingClass, purpose_hash
from ledger.exceptions import TransactionFailed
from ledger.projection import AgreementState, SharingRequestState
from ledger.workdays import add_working_days

if TYPE_CHECKING:
    from api.services.context import AppServices

ANSWER_WORKING_DAYS = 10


class SharingService:
    def __init__(self, services: "AppServices"):
        self.s = services

    # -- transactions the department signs -----------------------------------------------------------
    def _unsigned(self, sender: str, data: str) -> dict:
        return {"transaction": unsigned(self.s, sender, self.s.chain.contract("Catalog").address, data,
                                        action="sharing")}

    def _relay(self, principal: Principal, signed: str, expected_data: str) -> Receipt:
        return relay(self.s, principal, signed, self.s.chain.contract("Catalog").address, expected_data,
                     action="sharing")

    # -- requests ----------------------------------------------------------------------------------
    def request(self, principal: Principal, body: SharingRequestCreate) -> tuple[int, dict]:
        meta = self.s.resources_by_slug.get(body.resource_id)
        state = self.s.projection.resources.get(meta.resource_key) if meta else None
        if meta is None or state is None:
            raise ApiError(404, "UNKNOWN_RESOURCE", f"no catalog resource {body.resource_id}")
        if state.sharing_class != SharingClass.CONDITIONAL:
            raise ApiError(422, "NOT_CONDITIONAL", "only CONDITIONAL resources need a sharing agreement")
        unknown = sorted(set(body.fields) - set(meta.fields))
        if unknown:
            raise ApiError(422, "UNKNOWN_FIELD", f"{body.resource_id} has no field(s) {', '.join(unknown)}")
        if body.valid_until.timestamp() <= time.time():
            raise ApiError(422, "INVALID_INPUT", "valid_until is in the past")
        mask = sum(1 << meta.fields.index(f) for f in set(body.fields))
        data = self.s.chain.contract("Catalog").encode(
            "requestSharing", bytes.fromhex(meta.resource_key[2:]), mask, purpose_hash(body.purpose),
            int(body.valid_until.timestamp()))
        if body.signed_transaction is None:
            return 200, self._unsigned(principal.address, data)
        receipt = self._relay(principal, body.signed_transaction, data)
        events = self.s.chain.contract("Catalog").events(receipt)
        request_id = next(args["requestId"] for name, args in events if name == "SharingRequested")
        return 201, {**self.public(self.s.projection.sharing_requests[request_id]), "tx_hash": receipt.tx_hash,
                     "block_number": receipt.block_number}

    def decide(self, principal: Principal, request_id: int, approve: bool, body: SharingDecision) -> tuple[int, dict]:
        request = self.s.projection.sharing_requests.get(request_id)
        if request is None:
            raise ApiError(404, "NOT_FOUND", "no sharing request with this id")
        resource = self.s.projection.resources.get(request.resource_key)
        if resource is None or resource.provider != principal.address:
            raise ApiError(403, "NOT_PROVIDER", "only the resource's provider department answers this request")
        if request.status != "PENDING":
            raise ApiError(409, "ALREADY_ANSWERED", f"this request is already {request.status.lower()}")
        catalog = self.s.chain.contract("Catalog")
        data = catalog.encode("approveSharing", request_id) if approve else \
            catalog.encode("denySharing", request_id, keccak(text=body.reason or ""))
        if body.signed_transaction is None:
            return 200, self._unsigned(principal.address, data)
        receipt = self._relay(principal, body.signed_transaction, data)
        return 200, {**self.public(self.s.projection.sharing_requests[request_id]), "tx_hash": receipt.tx_hash,
                     "block_number": receipt.block_number}

    def end(self, principal: Principal, request_id: int, body: SharingDecision) -> tuple[int, dict]:
        """End the agreement made by ``request_id``: its provider signs, or the admin."""
        p = self.s.projection
        request = p.sharing_requests.get(request_id)
        if request is None:
            raise ApiError(404, "NOT_FOUND", "no sharing request with this id")
        resource = p.resources.get(request.resource_key)
        is_provider = principal.has(Role.DEPARTMENT) and resource is not None and resource.provider == principal.address
        if not is_provider and not principal.has(Role.ADMIN):
            raise ApiError(403, "NOT_PROVIDER", "only the resource's provider department or the admin ends an agreement")
        agreement = p.agreements.get((request.requester, request.resource_key, request.purpose_hash))
        if request.status != "APPROVED" or agreement is None or agreement.request_id != request_id:
            raise ApiError(409, "AGREEMENT_NOT_IN_FORCE", f"request {request_id} is {request.status.lower()}, "
                                                          "not an agreement in force")
        catalog = self.s.chain.contract("Catalog")
        reason_hash = keccak(text=body.reason or "")
        if not is_provider and principal.address == self.s.admin.address:
            try:
                receipt = catalog.transact("endAgreement", request_id, reason_hash, sender=self.s.admin.address)
            except TransactionFailed as exc:
                raise ledger_refusal(exc) from None
            self.s.indexer.sync(receipt.block_number)
        else:
            data = catalog.encode("endAgreement", request_id, reason_hash)
            if body.signed_transaction is None:
                return 200, self._unsigned(principal.address, data)
            receipt = self._relay(principal, body.signed_transaction, data)
        return 200, {**self.public(p.sharing_requests[request_id]), "tx_hash": receipt.tx_hash,
                     "block_number": receipt.block_number}

    # -- listing -----------------------------------------------------------------------------------
    def visible(self, principal: Principal, overdue_only: bool) -> list[dict]:
        p = self.s.projection
        requests = list(p.sharing_requests.values())
        if not principal.has(Role.REGULATOR):
            if not principal.has(Role.DEPARTMENT):
                raise ApiError(403, "ROLE_REQUIRED", "sharing requests are visible to departments and regulators")
            requests = [r for r in requests if r.requester == principal.address
                        or getattr(p.resources.get(r.resource_key), "provider", None) == principal.address]
        out = [self.public(r) for r in sorted(requests, key=lambda r: r.request_id)]
        return [r for r in out if r["overdue"]] if overdue_only else out

    def visible_agreements(self, principal: Principal) -> list[dict]:
        """Standing agreements (the latest approval per department, resource and purpose), visible like requests."""
        p = self.s.projection
        agreements = [(department, key, a) for (department, key, _), a in p.agreements.items()]
        if not principal.has(Role.REGULATOR):
            agreements = [(d, k, a) for d, k, a in agreements if d == principal.address
                          or getattr(p.resources.get(k), "provider", None) == principal.address]
        return [self.public_agreement(d, k, a) for d, k, a in sorted(agreements, key=lambda t: t[2].request_id)]

    def public_agreement(self, department: str, resource_key: str, a: AgreementState) -> dict:
        meta = self.s.resources_by_key.get(resource_key)
        now = time.time()
        return {"request_id": a.request_id, "department": department,
                "resource_id": meta.resource_id if meta else resource_key,
                "fields": [f for i, f in enumerate(meta.fields) if a.field_mask >> i & 1] if meta else [],
                "purpose_hash": a.purpose_hash, "valid_from": iso(a.valid_from), "valid_until": iso(a.valid_until),
                "ended_at": iso(a.ended_at), "ended_by": a.ended_by,
                "in_force": a.ended_at is None and a.valid_from <= now < a.valid_until}

    def public(self, r: SharingRequestState) -> dict:
        meta = self.s.resources_by_key.get(r.resource_key)
        due = add_working_days(datetime.fromtimestamp(r.requested_at, UTC), ANSWER_WORKING_DAYS)
        answered = r.decided_at if r.decided_at is not None else None
        overdue = (answered is None and datetime.now(UTC) > due) or (answered is not None and answered > due.timestamp())
        return {"request_id": r.request_id, "requester": r.requester,
                "resource_id": meta.resource_id if meta else r.resource_key,
                "fields": [f for i, f in enumerate(meta.fields) if r.field_mask >> i & 1] if meta else [],
                "purpose_hash": r.purpose_hash, "valid_until": iso(r.valid_until), "status": r.status,
                "requested_at": iso(r.requested_at), "answer_due": iso(due), "decided_at": iso(r.decided_at),
                "overdue": overdue}
