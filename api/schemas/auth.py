"""Sign-In with Ethereum bodies: challenge, login, session."""

from __future__ import annotations

from pydantic import Field

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
