"""Changes to a subject's signers: proposed by the identity attester after a notice period, or
approved by the subject's own signers at once; cancelled by a current signer."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import PrincipalDep, SubjectServiceDep
from api.routes import reply
from api.schemas.common import BODY, SIGNED_IN, Hex32, errors
from api.schemas.subjects import (SignerChangeCancel, SignerChangeCreate, SignerChangeDraft, SignerChangeList,
                                  SignerChangeOut, UnsignedTransaction)

router = APIRouter(prefix="/v1", tags=["subjects"])
_ERRORS = errors(*SIGNED_IN, *BODY, 404, 409)


@router.post("/subjects/{subject_id}/signer-changes", status_code=201, response_model=SignerChangeOut,
             responses={200: {"model": UnsignedTransaction | SignerChangeDraft,
                              "description": "the attester's transaction to sign, or the signers' typed data"},
                        201: {"description": "proposed (PENDING) or, approved by the signers, APPLIED"},
                        **_ERRORS})
def change_signers(subject_id: Hex32, body: SignerChangeCreate, principal: PrincipalDep,
                   subjects: SubjectServiceDep):
    """Attester: 200 with the proposal transaction to sign, then 201 (PENDING until ``effective_at``).
    A subject's signer: 200 with the ``typed_data`` to sign, then with k-of-n ``signatures`` 201
    (APPLIED at once). A pending change's ``approval_typed_data`` approves that change."""
    result = subjects.change_signers(principal, subject_id, body)
    return reply(result, 201 if isinstance(result, SignerChangeOut) else 200)


@router.post("/subjects/{subject_id}/signer-changes/{change_id}/cancel",
             response_model=SignerChangeOut | SignerChangeDraft,
             responses={200: {"description": "without signature: the typed data to sign; with it: the cancelled change"},
                        **_ERRORS})
def cancel_signer_change(subject_id: Hex32, change_id: Hex32, body: SignerChangeCancel, principal: PrincipalDep,
                         subjects: SubjectServiceDep):
    """A current signer: without ``signature`` the CancelSignerChange typed data to sign; with it, relayed."""
    return reply(subjects.cancel(principal, subject_id, change_id, body), 200)


@router.post("/subjects/{subject_id}/signer-changes/{change_id}/apply", response_model=SignerChangeOut,
             responses=errors(401, 404, 409, 422, 429, 503))
def apply_signer_change(subject_id: Hex32, change_id: Hex32, _: PrincipalDep, subjects: SubjectServiceDep):
    """Anyone signed in: applies a pending change whose notice period is over (409 CHANGE_NOT_DUE before)."""
    return subjects.apply(subject_id, change_id)


@router.get("/subjects/{subject_id}/signer-changes", response_model=SignerChangeList,
            responses=errors(*SIGNED_IN, 404))
def list_signer_changes(subject_id: Hex32, principal: PrincipalDep, subjects: SubjectServiceDep):
    """The subject's signer changes (its signers, attesters, regulators), oldest first."""
    return {"signer_changes": subjects.for_subject(principal, subject_id)}


@router.get("/me/signer-changes", response_model=SignerChangeList, responses=errors(401, 429, 503))
def my_signer_changes(principal: PrincipalDep, subjects: SubjectServiceDep):
    """Signer changes of every subject the caller signs for: how a subject learns of a pending change."""
    return {"signer_changes": subjects.for_signer(principal)}
