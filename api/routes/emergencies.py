"""The emergency green channel (应急供需绿色通道): EMERGENCY holders declare and extend, regulators review."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.deps import EmergencyServiceDep, PrincipalDep
from api.routes import reply
from api.schemas.common import BODY, SIGNED_IN, UnsignedTransaction, errors
from api.schemas.emergencies import (EmergencyCreate, EmergencyExtend, EmergencyList, EmergencyNoticeDelay,
                                     EmergencyReceipt, EmergencyReview)

router = APIRouter(prefix="/v1/emergencies", tags=["emergencies"])
EmergencyId = Annotated[int, Path(ge=1, le=2**53)]

_ERRORS = errors(*SIGNED_IN, *BODY, 404, 409)
_SIGNED_OR_TO_SIGN = {200: {"description": "the transaction to sign, or (with signed_transaction) the emergency "
                                           "after it was relayed"}, **_ERRORS}


@router.post("", status_code=201, response_model=EmergencyReceipt, responses={
    200: {"model": UnsignedTransaction, "description": "without signed_transaction: the transaction to sign"},
    201: {"description": "relayed: the emergency, in force"}, **_ERRORS})
def declare(body: EmergencyCreate, principal: PrincipalDep, emergencies: EmergencyServiceDep):
    """An EMERGENCY holder declares: event, legal basis, departments, resources, subjects ("all" or a list) and a
    hard expiry at most 72 h ahead. Releases under it cite its id (``emergency_id`` in the query)."""
    result = emergencies.declare(principal, body)
    return reply(result, 200 if isinstance(result, UnsignedTransaction) else 201)


@router.post("/{emergency_id}/extend", response_model=EmergencyReceipt | UnsignedTransaction,
             responses=_SIGNED_OR_TO_SIGN)
def extend(emergency_id: EmergencyId, body: EmergencyExtend, principal: PrincipalDep,
           emergencies: EmergencyServiceDep):
    """A second, distinct EMERGENCY holder extends an emergency still in force (at most 72 h from now)."""
    return reply(emergencies.extend(principal, emergency_id, body), 200)


@router.post("/{emergency_id}/notice-delay", response_model=EmergencyReceipt | UnsignedTransaction,
             responses=_SIGNED_OR_TO_SIGN)
def delay_notice(emergency_id: EmergencyId, body: EmergencyNoticeDelay, principal: PrincipalDep,
                 emergencies: EmergencyServiceDep):
    """Delay the notice to the affected subjects, with a reason and an end date (both on-chain)."""
    return reply(emergencies.delay_notice(principal, emergency_id, body), 200)


@router.post("/{emergency_id}/review", response_model=EmergencyReceipt | UnsignedTransaction,
             responses=_SIGNED_OR_TO_SIGN)
def review(emergency_id: EmergencyId, body: EmergencyReview, principal: PrincipalDep,
           emergencies: EmergencyServiceDep):
    """A regulator reviews an emergency after its end (due within 24 h): PROPER or IMPROPER, with a note."""
    return reply(emergencies.review(principal, emergency_id, body), 200)


@router.get("", response_model=EmergencyList, responses=errors(*SIGNED_IN))
def list_emergencies(principal: PrincipalDep, emergencies: EmergencyServiceDep, unreviewed: bool = False):
    """Every declaration with its scope, window, notice delay and review; ``?unreviewed=true`` to filter."""
    return {"emergencies": emergencies.visible(principal, unreviewed)}
