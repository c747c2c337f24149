"""Conditional sharing workflow: a department requests, the provider approves, denies or ends the agreement."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.deps import DepartmentDep, PrincipalDep, ProviderOrAdminDep, SharingServiceDep
from api.routes import reply
from api.schemas.common import BODY, MAX_DB_INT, SIGNED_IN, UnsignedTransaction, errors
from api.schemas.sharing import SharingDecision, SharingList, SharingReceipt, SharingRequestCreate

router = APIRouter(prefix="/v1/sharing-requests", tags=["sharing"])
RequestId = Annotated[int, Path(ge=0, le=MAX_DB_INT)]

_ERRORS = errors(*SIGNED_IN, *BODY, 404, 409)
_TO_SIGN = {"model": UnsignedTransaction, "description": "without signed_transaction: the transaction to sign"}
_SIGNED_OR_TO_SIGN = {200: {"description": "the transaction to sign, or (with signed_transaction) the request after "
                                           "it was relayed"}, **_ERRORS}


@router.post("", status_code=201, response_model=SharingReceipt, responses={
    200: _TO_SIGN, 201: {"description": "relayed: the new request"}, **_ERRORS})
def request_sharing(body: SharingRequestCreate, principal: DepartmentDep, sharing: SharingServiceDep):
    """Without ``signed_transaction``: 200 with the transaction to sign. With it: relayed, 201."""
    result = sharing.request(principal, body)
    return reply(result, 200 if isinstance(result, UnsignedTransaction) else 201)


@router.post("/{request_id}/approve", response_model=SharingReceipt | UnsignedTransaction,
             responses=_SIGNED_OR_TO_SIGN)
def approve(request_id: RequestId, body: SharingDecision, principal: DepartmentDep, sharing: SharingServiceDep):
    return reply(sharing.decide(principal, request_id, True, body), 200)


@router.post("/{request_id}/deny", response_model=SharingReceipt | UnsignedTransaction,
             responses=_SIGNED_OR_TO_SIGN)
def deny(request_id: RequestId, body: SharingDecision, principal: DepartmentDep, sharing: SharingServiceDep):
    return reply(sharing.decide(principal, request_id, False, body), 200)


@router.post("/{request_id}/end", response_model=SharingReceipt | UnsignedTransaction,
             responses=_SIGNED_OR_TO_SIGN)
def end_agreement(request_id: RequestId, body: SharingDecision, principal: ProviderOrAdminDep,
                  sharing: SharingServiceDep):
    """End an approved request's agreement before its term. The provider department signs its own
    transaction (without ``signed_transaction``: 200 with the transaction to sign); the admin's is sent
    with the platform's admin key."""
    return reply(sharing.end(principal, request_id, body), 200)


@router.get("", response_model=SharingList, responses=errors(*SIGNED_IN))
def list_requests(principal: PrincipalDep, sharing: SharingServiceDep, overdue: bool = False):
    """Departments see their own (as requester or provider); regulators see all, ``?overdue=true`` to filter.
    ``agreements``: the standing agreement per (department, resource, purpose), with its term and end."""
    return {"sharing_requests": sharing.visible(principal, overdue),
            "agreements": sharing.visible_agreements(principal)}
