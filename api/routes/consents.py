"""Subjects' signers draft, sign, submit and revoke consents; departments list theirs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from api.core.responses import JsonResponse

from api.deps import PrincipalDep, ServicesDep, SignerDep
from api.schemas.common import Hex32
from api.schemas.consents import ConsentDraftCreate, ConsentDraftPublic, ConsentSubmit, RevocationSubmit, SignatureAdd
from api.services.consents import ConsentService

router = APIRouter(prefix="/v1/consents", tags=["consents"])
ConsentId = Annotated[Hex32, Path(description="0x-hex consent id (the EIP-712 digest)")]


def _service(services: ServicesDep) -> ConsentService:
    return services.consents


ConsentServiceDep = Annotated[ConsentService, Depends(_service)]


@router.post("/drafts", status_code=201, response_model=ConsentDraftPublic)
def create_draft(body: ConsentDraftCreate, principal: SignerDep, service: ConsentServiceDep):
    """Typed data (eth_signTypedData_v4) for the subject's signers to sign in their wallets."""
    consent_id, typed = service.create_draft(principal, body)
    return {"consent_id": consent_id, "typed_data": typed}


@router.post("")
def submit(body: ConsentSubmit, principal: SignerDep, service: ConsentServiceDep):
    """201 once the signatures meet the subject's threshold and the grant is mined; else 202."""
    status, result = service.submit(principal, body.typed_data, body.signatures)
    return JsonResponse(result, status_code=status)


@router.post("/{consent_id}/signatures")
def add_signature(consent_id: ConsentId, body: SignatureAdd, principal: SignerDep, service: ConsentServiceDep):
    status, result = service.add_signature(principal, consent_id, body.signature)
    return JsonResponse(result, status_code=status)


@router.post("/{consent_id}/revocation-drafts", status_code=201)
def revocation_draft(consent_id: ConsentId, principal: SignerDep, service: ConsentServiceDep):
    return {"typed_data": service.revocation_draft(principal, consent_id)}


@router.post("/{consent_id}/revocations")
def revoke(consent_id: ConsentId, body: RevocationSubmit, principal: SignerDep, service: ConsentServiceDep):
    return service.revoke(principal, consent_id, body.typed_data, body.signature)


@router.get("")
def list_consents(principal: PrincipalDep, service: ConsentServiceDep):
    """A signer sees their subjects' consents (and drafts); a department the consents granted to it."""
    return {"consents": service.visible(principal)}
