"""Conditional sharing requests: the department's own signed transactions, relayed and checked.

Requests and answers are acts of a department, so the department signs them with its own key;
the API only prepares the transaction, checks that a signed one says exactly what was asked
(sender, contract, calldata) and relays it. Answers are due within 10 working days on the
official Chinese calendar; overdue ones are listed for regulators.
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
from ledger.chain.errors import revert_data
from ledger.chain.rawtx import InvalidTransaction, decode_transaction
from ledger.chain.rpc import RpcError
from ledger.exceptions import TransactionFailed
from ledger.projection import SharingRequestState
from ledger.workdays import add_working_days

if TYPE_CHECKING:
    from api.services.context import AppServices

ANSWER_WORKING_DAYS = 10


class SharingService:
    def __init__(self, services: "AppServices"):
        self.s = services

    # -- transactions the department signs -----------------------------------------------------------
    def _unsigned(self, sender: str, data: str) -> dict:
        catalog = self.s.chain.contract("Catalog")
        rpc = self.s.chain.rpc
        try:
            gas = int(rpc.call("eth_estimateGas", [{"from": sender, "to": catalog.address, "data": data}]), 16)
        except RpcError as exc:
            failure = self.s.chain.errors.failure("sharing", revert_data(exc))
            raise ledger_refusal(failure) from None
        nonce = int(rpc.call("eth_getTransactionCount", [sender, "pending"]), 16)
        gas_price = int(rpc.call("eth_gasPrice"), 16)
        return {"transaction": {"from": sender, "to": catalog.address, "data": data, "value": "0x0",
                                "chainId": self.s.chain_id, "nonce": nonce, "gas": gas + gas // 5,
                                "gasPrice": gas_price * 2}}

    def _relay(self, principal: Principal, signed: str, expected_data: str):
        try:
            tx = decode_transaction(bytes.fromhex(signed[2:]), self.s.chain_id)
        except (InvalidTransaction, ValueError) as exc:
            raise ApiError(422, "INVALID_TRANSACTION", f"not a signed transaction for this chain: {exc}") from None
        catalog = self.s.chain.contract("Catalog")
        if tx.sender != principal.address.lower():
            raise ApiError(403, "NOT_YOUR_TRANSACTION", "the transaction is not signed by the signed-in department")
        if (tx.to or "").lower() != catalog.address.lower() or "0x" + tx.data.hex() != expected_data or tx.value:
            raise ApiError(422, "INVALID_TRANSACTION", "the signed transaction does not match this request")
        try:
            tx_hash = self.s.chain.rpc.call("eth_sendRawTransaction", [signed])
            receipt = self.s.chain.sender.wait(tx_hash, action="sharing")
        except RpcError as exc:
            raise ledger_refusal(TransactionFailed(f"sharing relay refused by the node: {exc.rpc_message}")) from None
        except TransactionFailed as exc:
            raise ledger_refusal(exc) from None
        self.s.indexer.sync(receipt.block_number)
        return receipt

    # -- requests ----------------------------------------------------------------------------------
    def request(self, principal: Principal, body: SharingRequestCreate) -> tuple[int, dict]:
        meta = self.s.resources_by_slug.get(body.resource_id)
        state = self.s.projection.resources.get(meta.resource_key) if meta else None
        if meta is None or state is None:
            raise ApiError(404, "UNKNOWN_RESOURCE", f"no catalog resource {body.resource_id}")
        if state.sharing_class != "CONDITIONAL":
            raise ApiError(422, "NOT_CONDITIONAL", "only CONDITIONAL resources need a sharing agreement")
        unknown = sorted(set(body.fields) - set(meta.fields))
        if unknown:
            raise ApiError(422, "UNKNOWN_FIELD", f"{body.resource_id} has no field(s) {', '.join(unknown)}")
        if body.valid_until.timestamp() <= time.time():
            raise ApiError(422, "INVALID_INPUT", "valid_until is in the past")
        mask = sum(1 << meta.fields.index(f) for f in set(body.fields))
        data = self.s.chain.contract("Catalog").encode(
            "requestSharing", bytes.fromhex(meta.resource_key[2:]), mask, keccak(text=body.purpose),
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

    # -- listing -----------------------------------------------------------------------------------
    def visible(self, principal: Principal, overdue_only: bool) -> list[dict]:
        p = self.s.projection
        requests = list(p.sharing_requests.values())
        if not principal.has("REGULATOR"):
            if not principal.has("DEPARTMENT"):
                raise ApiError(403, "ROLE_REQUIRED", "sharing requests are visible to departments and regulators")
            requests = [r for r in requests if r.requester == principal.address
                        or getattr(p.resources.get(r.resource_key), "provider", None) == principal.address]
        out = [self.public(r) for r in sorted(requests, key=lambda r: r.request_id)]
        return [r for r in out if r["overdue"]] if overdue_only else out

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
