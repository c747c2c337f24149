"""Request dependencies as ``Annotated`` aliases: one per service, the authenticated principal,
roles, sign-in budgets, the ops token."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.bootstrap import Services
from api.core.ratelimit import SignInLimits, client_host
from api.core.security import Principal
from api.services.admin import AdminService
from api.services.audit import AuditService
from api.services.auth import SUBJECT_SIGNER, AuthService
from api.services.consents import ConsentService
from api.services.directory import DirectoryService
from api.services.emergencies import EmergencyService
from api.services.health import HealthService
from api.services.notifications import NotificationService
from api.services.release import ReleaseService
from api.services.sharing import SharingService
from api.services.subjects import SubjectService
from api.services.suspensions import SuspensionService
from api.services.objections import ObjectionService
from api.services.verifications import VerificationService
from api.services.webhooks import WebhookService
from ledger import domain_errors as refused
from ledger.domain import Role
from ledger.settings import Settings

_bearer = HTTPBearer(auto_error=False)
_SIGN_IN_FIRST = "sign in first: send 'Authorization: Bearer <access_token>'"


def services_of(request: Request) -> Services:
    """The services built at start-up (for the hot path, which solves no dependencies)."""
    return request.app.state.services


def get_admin_service(request: Request) -> AdminService:
    return services_of(request).admin


def get_audit_service(request: Request) -> AuditService:
    return services_of(request).audit


def get_auth_service(request: Request) -> AuthService:
    return services_of(request).auth


def get_consent_service(request: Request) -> ConsentService:
    return services_of(request).consents


def get_directory_service(request: Request) -> DirectoryService:
    return services_of(request).directory


def get_emergency_service(request: Request) -> EmergencyService:
    return services_of(request).emergencies


def get_health_service(request: Request) -> HealthService:
    return services_of(request).health


def get_notification_service(request: Request) -> NotificationService:
    return services_of(request).notifications


def get_objection_service(request: Request) -> ObjectionService:
    return services_of(request).objections


def get_release_service(request: Request) -> ReleaseService:
    return services_of(request).release


def get_sharing_service(request: Request) -> SharingService:
    return services_of(request).sharing


def get_suspension_service(request: Request) -> SuspensionService:
    return services_of(request).suspensions


def get_verification_service(request: Request) -> VerificationService:
    return services_of(request).verifications


def get_webhook_service(request: Request) -> WebhookService:
    return services_of(request).webhooks


def get_subject_service(request: Request) -> SubjectService:
    return services_of(request).subjects


AdminServiceDep = Annotated[AdminService, Depends(get_admin_service)]
AuditServiceDep = Annotated[AuditService, Depends(get_audit_service)]
AuthServiceDep = Annotated[AuthService, Depends(get_auth_service)]
ConsentServiceDep = Annotated[ConsentService, Depends(get_consent_service)]
DirectoryServiceDep = Annotated[DirectoryService, Depends(get_directory_service)]
EmergencyServiceDep = Annotated[EmergencyService, Depends(get_emergency_service)]
HealthServiceDep = Annotated[HealthService, Depends(get_health_service)]
NotificationServiceDep = Annotated[NotificationService, Depends(get_notification_service)]
ObjectionServiceDep = Annotated[ObjectionService, Depends(get_objection_service)]
ReleaseServiceDep = Annotated[ReleaseService, Depends(get_release_service)]
SharingServiceDep = Annotated[SharingService, Depends(get_sharing_service)]
SubjectServiceDep = Annotated[SubjectService, Depends(get_subject_service)]
SuspensionServiceDep = Annotated[SuspensionService, Depends(get_suspension_service)]
VerificationServiceDep = Annotated[VerificationService, Depends(get_verification_service)]
WebhookServiceDep = Annotated[WebhookService, Depends(get_webhook_service)]


def current_principal(auth: AuthServiceDep,
                      credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise refused.NotAuthenticated(_SIGN_IN_FIRST)
    return auth.authenticate(credentials.credentials)


def principal_from_header(auth: AuthService, authorization: str | None) -> Principal:
    """``current_principal`` for routes that read the header themselves (the hot path)."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise refused.NotAuthenticated(_SIGN_IN_FIRST)
    return auth.authenticate(token.strip())


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def require_role(*roles: str):
    """A dependency that admits principals holding any of ``roles`` (chain roles, read per request)."""

    def check(principal: PrincipalDep, auth: AuthServiceDep) -> Principal:
        holder = auth.with_any_role(principal, roles)
        if holder is None:
            raise refused.RoleRequired(f"this needs one of the roles: {', '.join(roles)}")
        return holder

    return check


AdminDep = Annotated[Principal, Depends(require_role(Role.ADMIN))]
AttesterDep = Annotated[Principal, Depends(require_role(Role.IDENTITY_ATTESTER))]
DepartmentDep = Annotated[Principal, Depends(require_role(Role.DEPARTMENT))]
ProviderOrAdminDep = Annotated[Principal, Depends(require_role(Role.DEPARTMENT, Role.ADMIN))]
RegulatorDep = Annotated[Principal, Depends(require_role(Role.REGULATOR))]
SignerDep = Annotated[Principal, Depends(require_role(SUBJECT_SIGNER))]


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_sign_in_limits(request: Request) -> SignInLimits:
    return request.app.state.sign_in_limits


def get_client_host(request: Request) -> str:
    return client_host(request.scope)


SignInLimitsDep = Annotated[SignInLimits, Depends(get_sign_in_limits)]
ClientHostDep = Annotated[str, Depends(get_client_host)]


def has_ops_token(request: Request,
                  credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> bool:
    """Whether the request carries the ops token (``Authorization: Bearer <token>``)."""
    expected = get_settings(request).ops_token
    return bool(credentials and expected and credentials.scheme.lower() == "bearer"
                and hmac.compare_digest(credentials.credentials.encode(), expected.encode()))


OpsTokenDep = Annotated[bool, Depends(has_ops_token)]


def require_ops_token(authorized: OpsTokenDep) -> None:
    if not authorized:
        raise refused.OpsTokenRequired("this endpoint is for operations: send 'Authorization: Bearer <ops token>' "
                                       "(CONSENT_LEDGER_OPS_TOKEN or <data dir>/secrets/ops.token)")


OpsDep = Annotated[None, Depends(require_ops_token)]
