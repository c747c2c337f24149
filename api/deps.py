"""Request dependencies as ``Annotated`` aliases: services, the authenticated principal, roles,
sign-in budgets, the ops token."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.core.errors import ApiError
from api.core.ratelimit import SignInLimits, client_host
from api.core.security import Principal
from api.services.context import AppServices
from ledger.domain import Role

_bearer = HTTPBearer(auto_error=False)


def get_services(request: Request) -> AppServices:
    return request.app.state.services


ServicesDep = Annotated[AppServices, Depends(get_services)]


def current_principal(services: ServicesDep,
                      credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiError(401, "UNAUTHENTICATED", "sign in first: send 'Authorization: Bearer <access_token>'")
    address = services.auth.verify_token(credentials.credentials)
    return services.principal(address)


def principal_from_header(services: AppServices, authorization: str | None) -> Principal:
    """``current_principal`` for routes that read the header themselves (the hot path)."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "UNAUTHENTICATED", "sign in first: send 'Authorization: Bearer <access_token>'")
    return services.principal(services.auth.verify_token(token.strip()))


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def require_role(*roles: str):
    """A dependency that admits principals holding any of ``roles`` (chain roles, read per request)."""

    def check(principal: PrincipalDep) -> Principal:
        if not any(principal.has(role) for role in roles):
            raise ApiError(403, "ROLE_REQUIRED", f"this needs one of the roles: {', '.join(roles)}")
        return principal

    return check


AdminDep = Annotated[Principal, Depends(require_role(Role.ADMIN))]
AttesterDep = Annotated[Principal, Depends(require_role(Role.IDENTITY_ATTESTER))]
DepartmentDep = Annotated[Principal, Depends(require_role(Role.DEPARTMENT))]
RegulatorDep = Annotated[Principal, Depends(require_role(Role.REGULATOR))]
SignerDep = Annotated[Principal, Depends(require_role("SUBJECT_SIGNER"))]


def get_sign_in_limits(request: Request) -> SignInLimits:
    return request.app.state.sign_in_limits


def get_client_host(request: Request) -> str:
    return client_host(request.scope)


SignInLimitsDep = Annotated[SignInLimits, Depends(get_sign_in_limits)]
ClientHostDep = Annotated[str, Depends(get_client_host)]


def has_ops_token(services: ServicesDep,
                  credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> bool:
    """Whether the request carries the ops token (``Authorization: Bearer <token>``)."""
    expected = services.settings.ops_token
    return bool(credentials and expected and credentials.scheme.lower() == "bearer"
                and hmac.compare_digest(credentials.credentials.encode(), expected.encode()))


OpsTokenDep = Annotated[bool, Depends(has_ops_token)]


def require_ops_token(authorized: OpsTokenDep) -> None:
    if not authorized:
        raise ApiError(401, "OPS_TOKEN_REQUIRED", "this endpoint is for operations: send 'Authorization: Bearer "
                                                  "<ops token>' (CONSENT_LEDGER_OPS_TOKEN or <data dir>/secrets/ops.token)")


OpsDep = Annotated[None, Depends(require_ops_token)]
