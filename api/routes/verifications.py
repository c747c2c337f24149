"""Verification of shared data (校核, 第二十一条): a department asks, the provider extends once and resolves."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.deps import DepartmentDep, PrincipalDep, VerificationServiceDep
from api.routes import reply
from api.schemas.common import BODY, MAX_DB_INT, SIGNED_IN, UnsignedTransaction, errors
from api.schemas.verifications import (VerificationCreate, VerificationExtend, VerificationList,
                                       VerificationReceipt, VerificationResolve)

router = APIRouter(prefix="/v1/verification-requests", tags=["verification requests"])
RequestId = Annotated[int, Path(ge=0, le=MAX_DB_INT)]

_ERRORS = errors(*SIGNED_IN, *BODY, 404, 409)
_TO_SIGN = {"model": UnsignedTransaction, "description": "without signed_transaction: the transaction to sign"}
_SIGNED_OR_TO_SIGN = {200: {"description": "the transaction to sign, or (with signed_transaction) the request after "
                                           "it was relayed"}, **_ERRORS}


@router.post("", status_code=201, response_model=VerificationReceipt, responses={
    200: _TO_SIGN, 201: {"description": "relayed: the new request, with its due time"}, **_ERRORS})
def request_verification(body: VerificationCreate, principal: DepartmentDep, verifications: VerificationServiceDep):
    """A department that received a record and doubts it cites the release's audit seq and the fields in doubt.
    Queries go on meanwhile (第二十一条: 受理单位应照常办理)."""
    result = verifications.request(principal, body)
    return reply(result, 200 if isinstance(result, UnsignedTransaction) else 201)


@router.post("/{request_id}/extend", response_model=VerificationReceipt | UnsignedTransaction,
             responses=_SIGNED_OR_TO_SIGN)
def extend(request_id: RequestId, body: VerificationExtend, principal: DepartmentDep,
           verifications: VerificationServiceDep):
    """The provider extends once, with a reason, to at most 15 working days after the request."""
    return reply(verifications.extend(principal, request_id, body), 200)


@router.post("/{request_id}/resolve", response_model=VerificationReceipt | UnsignedTransaction,
             responses=_SIGNED_OR_TO_SIGN)
def resolve(request_id: RequestId, body: VerificationResolve, principal: DepartmentDep,
            verifications: VerificationServiceDep):
    """The provider answers: corrected (after storing the corrected record) or not, with a note the requester
    reads."""
    return reply(verifications.resolve(principal, request_id, body), 200)


@router.get("", response_model=VerificationList, responses=errors(*SIGNED_IN))
def list_requests(principal: PrincipalDep, verifications: VerificationServiceDep, overdue: bool = False):
    """Departments see those they made or must answer; the admin and regulators all. ``?overdue=true`` to filter."""
    return {"verification_requests": verifications.visible(principal, overdue)}
