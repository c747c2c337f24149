"""Providers upsert records; departments query them through the audited release path."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from api.core.responses import JsonResponse

from api.deps import PrincipalDep, ServicesDep
from api.schemas.common import ResourceSlug
from api.schemas.records import RecordQuery, RecordUpsert

router = APIRouter(tags=["records"])


@router.put("/v1/resources/{resource_id}/records")
def upsert_record(resource_id: Annotated[ResourceSlug, Path()], body: RecordUpsert, principal: PrincipalDep,
                  services: ServicesDep):
    """The provider department stores (or updates) fields of one subject's record, sealed at rest."""
    return services.release.upsert_record(principal, resource_id, body)


@router.post("/v1/records/query")
def query_records(body: RecordQuery, principal: PrincipalDep, services: ServicesDep):
    """200 with only the permitted fields, or 403 with the policy's reason code; audited either way."""
    status, result = services.release.query(principal, body)
    return JsonResponse(result, status_code=status)
