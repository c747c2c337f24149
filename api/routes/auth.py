"""Sign-In with Ethereum: a challenge to sign, then a short-lived bearer token."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import Field

from api.deps import ClientHostDep, ServicesDep, SignInLimitsDep
from api.schemas.common import Reply, Strict


class ChallengeCreate(Strict):
    address: str = Field(max_length=64)


class Challenge(Reply):
    message: str
    nonce: str


class Login(Strict):
    message: str = Field(max_length=4096)
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$")


class Session(Reply):
    access_token: str
    token_type: str
    expires_in: int
    address: str
    roles: list[str]


router = APIRouter(prefix="/v1/auth", tags=["auth"])


@router.post("/challenge", response_model=Challenge)
def challenge(body: ChallengeCreate, services: ServicesDep, limits: SignInLimitsDep, client: ClientHostDep):
    """An EIP-4361 message for the wallet to sign with personal_sign (valid 5 minutes, single use).
    Nothing is stored until a login succeeds; 429 ``RATE_LIMITED`` past the sign-in budget."""
    limits.challenge(client, body.address)
    message, nonce = services.auth.challenge(body.address)
    return {"message": message, "nonce": nonce}


@router.post("/login", response_model=Session)
def login(body: Login, services: ServicesDep, limits: SignInLimitsDep, client: ClientHostDep):
    limits.client(client)
    token, address = services.auth.login(body.message, body.signature)
    roles = sorted(services.principal(address).roles)
    return {"access_token": token, "token_type": "bearer", "expires_in": services.settings.jwt_ttl_seconds,
            "address": address, "roles": roles}
