"""Sign-In with Ethereum: a challenge to sign, then a short-lived bearer token."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import AuthServiceDep, ClientHostDep, SignInLimitsDep
from api.schemas.auth import Challenge, ChallengeCreate, Login, Session
from api.schemas.common import BODY, errors

router = APIRouter(prefix="/v1/auth", tags=["auth"])


@router.post("/challenge", response_model=Challenge, responses=errors(*BODY, 422, 429, 503))
def challenge(body: ChallengeCreate, auth: AuthServiceDep, limits: SignInLimitsDep, client: ClientHostDep):
    """An EIP-4361 message for the wallet to sign with personal_sign (valid 5 minutes, single use).
    Nothing is stored until a login succeeds; 429 ``RATE_LIMITED`` past the sign-in budget."""
    limits.challenge(client, body.address)
    return auth.challenge(body.address)


@router.post("/login", response_model=Session, responses=errors(*BODY, 401, 422, 429, 503))
def login(body: Login, auth: AuthServiceDep, limits: SignInLimitsDep, client: ClientHostDep):
    limits.client(client)
    return auth.login(body.message, body.signature)
