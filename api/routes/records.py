"""Providers upsert records; departments query them through the audited release path."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from api.core.responses import JsonResponse
from api.deps import PrincipalDep, ReleaseServiceDep, principal_from_header, services_of
from api.schemas.common import BODY, SIGNED_IN, ResourceSlug, errors
from api.schemas.records import Denial, RecordQuery, RecordStored, RecordUpsert, Release
from api.services.release import QueryOutcome

router = APIRouter(tags=["records"])
_QUERY_SCHEMA = RecordQuery.model_json_schema(ref_template="#/components/schemas/{model}")


@router.put("/v1/resources/{resource_id}/records", response_model=RecordStored,
            responses=errors(*SIGNED_IN, *BODY, 404))
def upsert_record(resource_id: Annotated[ResourceSlug, Path()], body: RecordUpsert, principal: PrincipalDep,
                  release: ReleaseServiceDep):
    """The provider department stores (or updates) fields of one subject's record, sealed at rest."""
    return release.upsert_record(principal, resource_id, body)


@router.post("/v1/records/query", response_model=Release, responses={
    **errors(401, 413, 422, 429, 503),
    403: {"model": Denial, "description": "denied by policy, with its reason code (NO_CONSENT, REVOKED, ...); audited"},
    404: {"model": Denial, "description": "allowed, but the provider holds no record (NO_RECORD); audited"}},
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": _QUERY_SCHEMA}}},
                   "security": [{"HTTPBearer": []}]})
async def query_records(request: Request):
    """200 with only the permitted fields, or 403 with the policy's reason code; audited either way.

    The hot path: a coroutine that parses its own body and bearer token, so a request costs no
    dependency solving and no thread-pool hop (the same checks as the other routes, in
    :mod:`api.deps`)."""
    services = services_of(request)
    principal = principal_from_header(services.auth, request.headers.get("authorization"))
    try:
        body = RecordQuery.model_validate_json(await request.body())
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from None
    outcome = await services.release.query(principal, body)
    return _answer(outcome)


def _answer(outcome: QueryOutcome) -> JsonResponse:
    """200 with the data; a denial 403 with its reason code, or 404 when there was no record to release.
    Built by hand, not through the models: this is the hot path."""
    entry = outcome.entry
    decision = {"result": entry.decision, "consent_id": entry.consent_id, "block_number": entry.block_number,
                "reason": entry.reason}
    if entry.emergency_id is not None:
        decision["emergency_id"] = entry.emergency_id
    if outcome.released:
        audit = {"seq": entry.seq, "leaf_hash": "0x" + outcome.leaf_hash.hex(),
                 "payload_salt": "0x" + outcome.payload_salt.hex(), "payload_hash": entry.payload_hash}
        disputed = [{"field": name, "objection_id": objection_id} for name, objection_id in entry.disputed]
        return JsonResponse({"data": outcome.data, "decision": decision, "audit": audit, "disputed": disputed})
    return JsonResponse({"error": {"code": entry.reason, "message": outcome.message}, "decision": decision,
                         "audit": {"seq": entry.seq}}, status_code=404 if entry.reason == "NO_RECORD" else 403)
