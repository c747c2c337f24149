"""Sign-In with Ethereum (EIP-4361) challenges and short-lived JWT bearer tokens.

A challenge nonce is stored, expires, and is spent by exactly one login (an UPDATE that only
succeeds while ``used_at`` is empty). Tokens are HS256 with the algorithm pinned and iss, aud,
exp and iat required. Roles are not trusted from the token: every request reads them from the
chain projection, so a role revoked on-chain stops working at once.
"""

from __future__ import annotations

import secrets
import string
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from eth_utils import is_address, to_checksum_address
from siwe import SiweMessage
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from api.core.config import Settings
from api.core.errors import ApiError
from ledger.storage.models import AuthNonceRow

ISSUER = "consent-ledger"
AUDIENCE = "consent-ledger-api"
ALGORITHM = "HS256"
_NONCE_ALPHABET = string.ascii_letters + string.digits
_VERIFIED_CACHE_SIZE = 10_000


@dataclass(frozen=True, slots=True)
class Principal:
    address: str
    roles: frozenset[str]

    def has(self, role: str) -> bool:
        return role in self.roles


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class Authenticator:
    def __init__(self, settings: Settings, sessions: sessionmaker[Session], chain_id: int):
        self.settings = settings
        self.sessions = sessions
        self.chain_id = chain_id
        self._verified: dict[str, tuple[str, float]] = {}

    def challenge(self, address: str) -> tuple[str, str]:
        if not isinstance(address, str) or not is_address(address):
            raise ApiError(422, "INVALID_ADDRESS", "address must be a 20-byte 0x-hex Ethereum address")
        address = to_checksum_address(address)
        nonce = "".join(secrets.choice(_NONCE_ALPHABET) for _ in range(24))
        issued = _now()
        expires = issued + timedelta(seconds=self.settings.siwe_ttl_seconds)
        message = SiweMessage(
            scheme=self.settings.public_url.split("://", 1)[0], domain=self.settings.siwe_domain,
            address=address, statement="Sign in to Consent Ledger.", uri=self.settings.public_url,
            version="1", chain_id=self.chain_id, nonce=nonce, issued_at=_iso(issued),
            expiration_time=_iso(expires),
        ).prepare_message()
        with self.sessions.begin() as session:
            session.add(AuthNonceRow(nonce=nonce, address=address, issued_at=issued, expires_at=expires))
        return message, nonce

    def login(self, message: str, signature: str) -> tuple[str, str]:
        """Verify a signed challenge, spend its nonce; returns (token, address)."""
        try:
            parsed = SiweMessage.from_message(message=message)
        except Exception as exc:
            raise ApiError(401, "INVALID_SIWE_MESSAGE", f"not a valid Sign-In with Ethereum message: {exc}") from None
        if parsed.domain != self.settings.siwe_domain or int(parsed.chain_id) != self.chain_id:
            raise ApiError(401, "INVALID_SIWE_MESSAGE", "the message is for another domain or chain")
        try:
            parsed.verify(signature, domain=self.settings.siwe_domain, nonce=parsed.nonce)
        except Exception as exc:
            raise ApiError(401, "INVALID_SIGNATURE",
                           f"the signature does not match the message ({type(exc).__name__})") from None
        now = _now()
        with self.sessions.begin() as session:
            spent = session.execute(
                update(AuthNonceRow)
                .where(AuthNonceRow.nonce == parsed.nonce, AuthNonceRow.address == to_checksum_address(parsed.address),
                       AuthNonceRow.used_at.is_(None), AuthNonceRow.expires_at > now)
                .values(used_at=now)
            ).rowcount
        if spent != 1:
            raise ApiError(401, "NONCE_INVALID", "the challenge nonce is unknown, expired or already used")
        address = to_checksum_address(parsed.address)
        return self.issue_token(address), address

    def issue_token(self, address: str) -> str:
        now = _now()
        claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": address, "iat": now,
                  "exp": now + timedelta(seconds=self.settings.jwt_ttl_seconds), "jti": uuid.uuid4().hex}
        return jwt.encode(claims, self.settings.jwt_secret, algorithm=ALGORITHM)

    def verify_token(self, token: str) -> str:
        """The token's address; a verified token is remembered until it expires (signature checks
        cost more than the rest of an authorization)."""
        cached = self._verified.get(token)
        if cached is not None and cached[1] > time.time():
            return cached[0]
        address, expires = self._decode(token)
        if len(self._verified) >= _VERIFIED_CACHE_SIZE:
            self._verified.clear()
        self._verified[token] = (address, expires)
        return address

    def _decode(self, token: str) -> tuple[str, float]:
        try:
            claims = jwt.decode(token, self.settings.jwt_secret, algorithms=[ALGORITHM], audience=AUDIENCE,
                                issuer=ISSUER, options={"require": ["exp", "iat", "iss", "aud", "sub"]})
        except jwt.ExpiredSignatureError:
            raise ApiError(401, "TOKEN_EXPIRED", "the access token has expired; sign in again") from None
        except jwt.PyJWTError:
            raise ApiError(401, "INVALID_TOKEN", "the access token is not valid") from None
        subject = claims.get("sub")
        if not isinstance(subject, str) or not is_address(subject):
            raise ApiError(401, "INVALID_TOKEN", "the access token is not valid")
        return to_checksum_address(subject), float(claims["exp"])
