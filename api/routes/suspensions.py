"""Suspensions (第十九条): a provider suspends or ends a department's access to one of its resources."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.deps import DepartmentDep, PrincipalDep, ProviderOrAdminDep, SuspensionServiceDep
from api.routes import reply
from api.schemas.common import BODY, SIGNED_IN, Address, ResourceSlug, UnsignedTransaction, errors
from api.schemas.suspensions import SuspensionCreate, SuspensionLift, SuspensionList, SuspensionReceipt

router = APIRouter(tags=["suspensions"])
ResourceId = Annotated[ResourceSlug, Path()]

_ERRORS = errors(*SIGNED_IN, *BODY, 404, 409)
_TO_SIGN = {"model": UnsignedTransaction, "description": "without signed_transaction: the transaction to sign"}


@router.post("/v1/resources/{resource_id}/suspensions", status_code=201, response_model=SuspensionReceipt,
             responses={200: _TO_SIGN, 201: {"description": "relayed: the suspension in force"}, **_ERRORS})
def suspend(resource_id: ResourceId, body: SuspensionCreate, principal: DepartmentDep,
            suspensions: SuspensionServiceDep):
    """The provider suspends (``until``) or ends (no ``until``) a department's access to its resource, with a
    reason. Without ``signed_transaction``: 200 with the transaction to sign. With it: relayed, 201. A new
    suspension replaces a standing one."""
    result = suspensions.suspend(principal, resource_id, body)
    return reply(result, 200 if isinstance(result, UnsignedTransaction) else 201)


@router.delete("/v1/resources/{resource_id}/suspensions/{department}",
               response_model=SuspensionReceipt | UnsignedTransaction,
               responses={200: {"description": "the transaction to sign, or the lifted suspension"}, **_ERRORS})
def lift(resource_id: ResourceId, department: Annotated[Address, Path()], principal: ProviderOrAdminDep,
         suspensions: SuspensionServiceDep, body: SuspensionLift | None = None):
    """Lift a suspension. The provider signs its own transaction (no body, or no ``signed_transaction``: 200
    with the transaction to sign); the admin's is sent with the platform's admin key."""
    return reply(suspensions.lift(principal, resource_id, department, body), 200)


@router.get("/v1/suspensions", response_model=SuspensionList, responses=errors(*SIGNED_IN))
def list_suspensions(principal: PrincipalDep, suspensions: SuspensionServiceDep):
    """The data authority's list (the admin and regulators see all); a department sees those it set and those
    it is under. Newest first, lifted ones included."""
    return {"suspensions": suspensions.visible(principal)}
