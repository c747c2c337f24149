"""Subjects' signers draft, sign, submit, withdraw and revoke consents; departments list theirs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from api.core.responses import JsonResponse
from api.deps import ConsentServiceDep, PrincipalDep, RegulatorDep, SignerDep
from api.routes import reply
from api.schemas.common import BODY, SIGNED_IN, Hex32, UnsignedTransaction, errors
from api.schemas.consents import (ConsentDraftCreate, ConsentDraftPublic, ConsentList, ConsentSubmit,
                                  RegulatorEnd, RevocationDraft, RevocationSubmit, Submission, SignatureAdd,
                                  TransactionReceipt, Withdrawal)
from api.services.consents import ACTIVE

router = APIRouter(prefix="/v1/consents", tags=["consents"])
ConsentId = Annotated[Hex32, Path(description="0x-hex consent id (the EIP-712 digest)")]

_SIGNER_ERRORS = errors(*SIGNED_IN, 404, 409)
_SIGNER_BODY_ERRORS = errors(*SIGNED_IN, *BODY, 404, 409)
_REGULATOR_ERRORS = {200: {"description": "the transaction to sign, or (with signed_transaction) the receipt"},
                     **_SIGNER_BODY_ERRORS}
_SUBMISSION_STATUSES: dict[int | str, dict[str, Any]] = {
    201: {"model": Submission, "description": "the threshold is met and the grant is mined"},
    202: {"model": Submission, "description": "stored, waiting for more signatures"},
    **_SIGNER_BODY_ERRORS}


@router.post("/drafts", status_code=201, response_model=ConsentDraftPublic, responses=_SIGNER_BODY_ERRORS)
def create_draft(body: ConsentDraftCreate, principal: SignerDep, service: ConsentServiceDep):
    """Typed data (eth_signTypedData_v4) for the subject's signers to sign in their wallets."""
    return service.create_draft(principal, body)


@router.post("", status_code=201, response_model=Submission, responses=_SUBMISSION_STATUSES)
def submit(body: ConsentSubmit, principal: SignerDep, service: ConsentServiceDep):
    """201 once the signatures meet the subject's threshold and the grant is mined; else 202.

    ``typed_data`` must be in the canonical form drafts have (422 ``NON_CANONICAL_TYPED_DATA``
    otherwise); a pending submission expires at its ``deadline``."""
    return _submission(service.submit(principal, body.typed_data, body.signatures))


@router.delete("/{consent_id}", response_model=Withdrawal, responses=_SIGNER_ERRORS)
def withdraw(consent_id: ConsentId, principal: SignerDep, service: ConsentServiceDep):
    """A signer of the subject withdraws a pending submission (its signatures are discarded). A consent
    already on the ledger is revoked instead (409 ``CONSENT_EXISTS``)."""
    return service.withdraw(principal, consent_id)


@router.post("/{consent_id}/signatures", status_code=201, response_model=Submission,
             responses=_SUBMISSION_STATUSES)
def add_signature(consent_id: ConsentId, body: SignatureAdd, principal: SignerDep, service: ConsentServiceDep):
    return _submission(service.add_signature(principal, consent_id, body.signature))


@router.post("/{consent_id}/revocation-drafts", status_code=201, response_model=RevocationDraft,
             responses=_SIGNER_ERRORS)
def revocation_draft(consent_id: ConsentId, principal: SignerDep, service: ConsentServiceDep):
    return service.revocation_draft(principal, consent_id)


@router.post("/{consent_id}/revocations", response_model=TransactionReceipt, responses=_SIGNER_BODY_ERRORS)
def revoke(consent_id: ConsentId, body: RevocationSubmit, principal: SignerDep, service: ConsentServiceDep):
    return service.revoke(principal, consent_id, body.typed_data, body.signature)


@router.post("/{consent_id}/regulator-end", response_model=TransactionReceipt | UnsignedTransaction,
             responses=_REGULATOR_ERRORS)
def end_by_regulator(consent_id: ConsentId, body: RegulatorEnd, principal: RegulatorDep, service: ConsentServiceDep):
    """A regulator ends a consent it found abused, with a written reason: kept apart from the subject's own
    revocation on-chain and in every listing. Without ``signed_transaction``: the transaction to sign with the
    regulator's own key; with it: relayed, and the receipt."""
    return reply(service.end_by_regulator(principal, consent_id, body), 200)


@router.get("/{consent_id}/receipt", response_model=dict[str, Any], responses=_SIGNER_ERRORS)
def receipt(consent_id: ConsentId, principal: PrincipalDep, service: ConsentServiceDep):
    """The consent as an ISO/IEC TS 27560-style consent record in JSON-LD with W3C DPV terms (purpose, personal
    data, recipient, legal basis, validity, status) and the chain's facts to check it by (consent id, grant
    transaction, contract). For the subject's signers and the grantee."""
    return service.receipt(principal, consent_id)


@router.get("", response_model=ConsentList, response_model_exclude_unset=True, responses=errors(401, 429, 503))
def list_consents(principal: PrincipalDep, service: ConsentServiceDep):
    """A signer sees their subjects' consents, pending submissions and expired ones; a department the
    consents granted to it."""
    return {"consents": service.visible(principal)}


def _submission(submission: Submission) -> JsonResponse:
    """201 once the grant is on the ledger, 202 while it waits for signatures."""
    return reply(submission, 201 if submission.status == ACTIVE else 202)
