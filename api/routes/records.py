"""Providers upsert records; departments query them through the audited release path."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from api.core.responses import JsonResponse

from api.deps import PrincipalDep, ServicesDep, get_services, principal_from_header
from api.schemas.common import ResourceSlug
from api.schemas.records import RecordQuery, RecordUpsert

router = APIRouter(tags=["records"])
_QUERY_SCHEMA = RecordQuery.model_json_schema(ref_template="#/components/schemas/{model}")


@router.put("/v1/resources/{resource_id}/records")
def upsert_record(resource_id: Annotated[ResourceSlug, Path()], body: RecordUpsert, principal: PrincipalDep,
                  services: ServicesDep):
    """The provider department stores (or updates) fields of one subject's record, sealed at rest."""
    return services.release.upsert_record(principal, resource_id, body)


@router.post("/v1/records/query", openapi_extra={
    "requestBody": {"required": True, "content": {"application/json": {"schema": _QUERY_SCHEMA}}}})
async def query_records(request: Request):
    """200 with only the permitted fields, or 403 with the policy's reason code; audited either way.

    The hot path: a coroutine that parses its own body and bearer token, so a request costs no
    dependency solving and no thread-pool hop (the same checks as the other routes, in
    :mod:`api.deps`)."""
    services = get_services(request)
    principal = principal_from_header(services, request.headers.get("authorization"))
    try:
        body = RecordQuery.model_validate_json(await request.body())
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from None
    status, result = await services.release.query(principal, body)
    return JsonResponse(result, status_code=status)
