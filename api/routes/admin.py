"""Admin (数据主管部门) and identity-attester endpoints."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import AdminDep, AdminServiceDep, AttesterDep, SubjectServiceDep
from api.routes import reply
from api.schemas.admin import (DepartmentCreate, DepartmentOut, EmergencyOfficerCreate, EmergencyOfficerOut,
                               RegulatorCreate, RegulatorOut, ResourceCreate,
                               ResourceOut, SubjectAttested, SubjectCreate, SubjectRegistered, SubjectTransaction)
from api.schemas.common import BODY, SIGNED_IN, errors

router = APIRouter(prefix="/v1/admin", tags=["admin"])
_ADMIN_ERRORS = errors(*SIGNED_IN, *BODY, 409)


@router.post("/departments", status_code=201, response_model=DepartmentOut, responses=_ADMIN_ERRORS)
def register_department(body: DepartmentCreate, _: AdminDep, admin: AdminServiceDep):
    return admin.register_department(body)


@router.post("/regulators", status_code=201, response_model=RegulatorOut, responses=_ADMIN_ERRORS)
def register_regulator(body: RegulatorCreate, _: AdminDep, admin: AdminServiceDep):
    return admin.register_regulator(body)


@router.post("/emergency-officers", status_code=201, response_model=EmergencyOfficerOut, responses=_ADMIN_ERRORS)
def register_emergency_officer(body: EmergencyOfficerCreate, _: AdminDep, admin: AdminServiceDep):
    """Grant an account the EMERGENCY role (应急供需绿色通道): it declares emergencies; another holder extends them."""
    return admin.register_emergency_officer(body)


@router.post("/resources", status_code=201, response_model=ResourceOut, responses=_ADMIN_ERRORS)
def register_resource(body: ResourceCreate, _: AdminDep, admin: AdminServiceDep):
    return admin.register_resource(body)


@router.post("/subjects", status_code=201, response_model=SubjectRegistered, responses={
    200: {"model": SubjectTransaction, "description": "the registration transaction for the attester to sign"},
    201: {"description": "registered"},
    202: {"model": SubjectAttested, "description": "attested; more attesters must attest the same registration"},
    **_ADMIN_ERRORS})
def register_subject(body: SubjectCreate, principal: AttesterDep, subjects: SubjectServiceDep):
    """Bind a resident or enterprise to its signer wallets (real-name verification done upstream).

    The identity attester's own transaction: without ``signed_transaction``, 200 with the
    transaction to sign; with it, checked against this request and relayed: 201 registered, or 202
    while fewer attesters than the deployment requires have attested it."""
    result = subjects.register(principal, body)
    status = 200 if isinstance(result, SubjectTransaction) else 202 if isinstance(result, SubjectAttested) else 201
    return reply(result, status)
