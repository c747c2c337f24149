"""Admin (数据主管部门) and identity-attester endpoints."""

from __future__ import annotations

from fastapi import APIRouter

from api.core.responses import JsonResponse
from api.deps import AdminDep, AttesterDep, ServicesDep
from api.schemas.admin import DepartmentCreate, RegulatorCreate, ResourceCreate, SubjectCreate
from api.schemas.subjects import UnsignedTransaction

router = APIRouter(prefix="/v1/admin", tags=["admin"])


@router.post("/departments", status_code=201)
def register_department(body: DepartmentCreate, _: AdminDep, services: ServicesDep):
    return services.admin_ops.register_department(body)


@router.post("/regulators", status_code=201)
def register_regulator(body: RegulatorCreate, _: AdminDep, services: ServicesDep):
    return services.admin_ops.register_regulator(body)


@router.post("/resources", status_code=201)
def register_resource(body: ResourceCreate, _: AdminDep, services: ServicesDep):
    return services.admin_ops.register_resource(body)


@router.post("/subjects", status_code=201, responses={
    200: {"model": UnsignedTransaction},
    202: {"description": "attested; more attesters must attest the same registration"}})
def register_subject(body: SubjectCreate, principal: AttesterDep, services: ServicesDep):
    """Bind a resident or enterprise to its signer wallets (real-name verification done upstream).

    The identity attester's own transaction: without ``signed_transaction``, 200 with the
    transaction to sign; with it, checked against this request and relayed: 201 registered, or 202
    while fewer attesters than the deployment requires have attested it."""
    status, result = services.subjects.register(principal, body)
    return JsonResponse(result, status_code=status)
