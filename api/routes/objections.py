"""Objections (异议, 第三十四条): a subject's signer files; the data authority marks, forwards or decides; a
forwarded objection's provider decides."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.deps import ObjectionServiceDep, PrincipalDep
from api.routes import reply
from api.schemas.common import BODY, MAX_DB_INT, SIGNED_IN, UnsignedTransaction, errors
from api.schemas.objections import (ObjectionDecide, ObjectionDraft, ObjectionDraftCreate, ObjectionFile,
                                    ObjectionList, ObjectionReceipt)

router = APIRouter(prefix="/v1/objections", tags=["objections"])
ObjectionId = Annotated[int, Path(ge=0, le=MAX_DB_INT)]

_ERRORS = errors(*SIGNED_IN, *BODY, 404, 409)


@router.post("/drafts", response_model=ObjectionDraft, responses=_ERRORS)
def draft_objection(body: ObjectionDraftCreate, principal: PrincipalDep, objections: ObjectionServiceDep):
    """A signer of the subject writes the objection: the Objection typed data to sign in its own wallet."""
    return objections.draft(principal, body)


@router.post("", status_code=201, response_model=ObjectionReceipt, responses=_ERRORS)
def file_objection(body: ObjectionFile, principal: PrincipalDep, objections: ObjectionServiceDep):
    """Files the signed objection on-chain, with the reason whose hash it carries; due times start now."""
    return objections.file(principal, body)


@router.post("/{objection_id}/mark", response_model=ObjectionReceipt, responses=errors(*SIGNED_IN, 404, 409))
def mark(objection_id: ObjectionId, principal: PrincipalDep, objections: ObjectionServiceDep):
    """The data authority marks the objection (异议标注) within 1 working day: from then on every release of the
    objected fields says they are disputed."""
    return objections.mark(principal, objection_id)


@router.post("/{objection_id}/forward", response_model=ObjectionReceipt, responses=errors(*SIGNED_IN, 404, 409))
def forward(objection_id: ObjectionId, principal: PrincipalDep, objections: ObjectionServiceDep):
    """The data authority forwards a marked objection to the resource's provider within 2 working days."""
    return objections.forward(principal, objection_id)


@router.post("/{objection_id}/decide", response_model=ObjectionReceipt | UnsignedTransaction, responses={
    200: {"description": "the decided objection, or (a provider without signed_transaction) the transaction to "
                         "sign"}, **_ERRORS})
def decide(objection_id: ObjectionId, body: ObjectionDecide, principal: PrincipalDep,
           objections: ObjectionServiceDep):
    """Corrected or not, with a note for the objector: the data authority for an objection it kept, the provider
    for one forwarded to it (its own signed transaction)."""
    return reply(objections.decide(principal, objection_id, body), 200)


@router.get("", response_model=ObjectionList, responses=errors(*SIGNED_IN))
def list_objections(principal: PrincipalDep, objections: ObjectionServiceDep, overdue: bool = False):
    """Objectors see their subjects', departments those about their resources, the admin and regulators all;
    with status, history and due times. ``?overdue=true`` to filter."""
    return {"objections": objections.visible(principal, overdue)}
