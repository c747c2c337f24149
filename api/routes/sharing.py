"""Conditional sharing workflow: a department requests, the provider approves, denies or ends the agreement."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from api.core.responses import JsonResponse
from api.core.security import Principal
from api.deps import DepartmentDep, PrincipalDep, ServicesDep, require_role
from api.schemas.common import MAX_DB_INT
from api.schemas.sharing import SharingDecision, SharingRequestCreate

router = APIRouter(prefix="/v1/sharing-requests", tags=["sharing"])
RequestId = Annotated[int, Path(ge=0, le=MAX_DB_INT)]

ProviderOrAdminDep = Annotated[Principal, Depends(require_role("DEPARTMENT", "ADMIN"))]


@router.post("")
def request_sharing(body: SharingRequestCreate, principal: DepartmentDep, services: ServicesDep):
    """Without ``signed_transaction``: 200 with the transaction to sign. With it: relayed, 201."""
    status, result = services.sharing.request(principal, body)
    return JsonResponse(result, status_code=status)


@router.post("/{request_id}/approve")
def approve(request_id: RequestId, body: SharingDecision, principal: DepartmentDep, services: ServicesDep):
    status, result = services.sharing.decide(principal, request_id, True, body)
    return JsonResponse(result, status_code=status)


@router.post("/{request_id}/deny")
def deny(request_id: RequestId, body: SharingDecision, principal: DepartmentDep, services: ServicesDep):
    status, result = services.sharing.decide(principal, request_id, False, body)
    return JsonResponse(result, status_code=status)


@router.post("/{request_id}/end")
def end_agreement(request_id: RequestId, body: SharingDecision, principal: ProviderOrAdminDep, services: ServicesDep):
    """End an approved request's agreement before its term. The provider department signs its own
    transaction (without ``signed_transaction``: 200 with the transaction to sign); the admin's is sent
    with the platform's admin key."""
    status, result = services.sharing.end(principal, request_id, body)
    return JsonResponse(result, status_code=status)


@router.get("")
def list_requests(principal: PrincipalDep, services: ServicesDep, overdue: bool = False):
    """Departments see their own (as requester or provider); regulators see all, ``?overdue=true`` to filter.
    ``agreements``: the standing agreement per (department, resource, purpose), with its term and end."""
    return {"sharing_requests": services.sharing.visible(principal, overdue),
            "agreements": services.sharing.visible_agreements(principal)}
