"""Sign-In with Ethereum: a challenge to sign, then a short-lived bearer token."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import Field

from api.deps import ServicesDep
from api.schemas.common import Strict


class ChallengeCreate(Strict):
    address: str = Field(max_length=64)


class Login(Strict):
    message: str = Field(max_length=4096)
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$")


router = APIRouter(prefix="/v1/auth", tags=["auth"])


@router.post("/challenge")
def challenge(body: ChallengeCreate, services: ServicesDep):
    """An EIP-4361 message for the wallet to sign with personal_sign (valid 5 minutes, single use)."""
    message, nonce = services.auth.challenge(body.address)
    return {"message": message, "nonce": nonce}


@router.post("/login")
def login(body: Login, services: ServicesDep):
    token, address = services.auth.login(body.message, body.signature)
    roles = sorted(services.principal(address).roles)
    return {"access_token": token, "token_type": "bearer", "expires_in": services.settings.jwt_ttl_seconds,
            "address": address, "roles": roles}
