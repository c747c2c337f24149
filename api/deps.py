"""Request dependencies as ``Annotated`` aliases: services, the authenticated principal, roles."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.core.errors import ApiError
from api.core.security import Principal
from api.services.context import AppServices

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


AdminDep = Annotated[Principal, Depends(require_role("ADMIN"))]
AttesterDep = Annotated[Principal, Depends(require_role("IDENTITY_ATTESTER"))]
DepartmentDep = Annotated[Principal, Depends(require_role("DEPARTMENT"))]
RegulatorDep = Annotated[Principal, Depends(require_role("REGULATOR"))]
SignerDep = Annotated[Principal, Depends(require_role("SUBJECT_SIGNER"))]
