"""Sign-In with Ethereum (EIP-4361) challenges and short-lived JWT bearer tokens.

Challenges are stateless: the nonce is ``hex(expiry || random || MAC)``, the MAC an HMAC under a
server key over the address, expiry and random part, so issuing one writes nothing and an
unauthenticated flood costs no database write (nor any wait on SQLite's single writer lock,
which the audit log needs). A login checks the MAC and the expiry, that the message is exactly
the one issued for that nonce (naming the changed part: scheme, domain, URI, chain), the
signature, and only then records the nonce as spent
(a primary-key insert, so a replay fails, on any instance sharing the database) until it
expires; expired ones are purged periodically.

Tokens are HS256 with the algorithm pinned and iss, aud, exp and iat required. Roles are not
trusted from the token: every request reads them from the chain projection, so a role revoked
on-chain stops working at once.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from eth_utils import is_address, to_checksum_address
from eth_account import Account
from eth_account.messages import encode_defunct
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ledger import domain_errors as refused
from ledger.domain import Role
from ledger.settings import Settings
from ledger.storage.models import UsedAuthNonceRow


ISSUER = "consent-ledger"
AUDIENCE = "consent-ledger-api"
ALGORITHM = "HS256"
_VERIFIED_CACHE_SIZE = 10_000
_NONCE_RANDOM_BYTES = 8
_NONCE_MAC_BYTES = 16
_NONCE_HEX_LENGTH = 2 * (8 + _NONCE_RANDOM_BYTES + _NONCE_MAC_BYTES)  # 64: fits the used-nonce column


@dataclass(frozen=True, slots=True)
class Principal:
    address: str
    roles: frozenset[str]

    def has(self, role: str) -> bool:
        return role in self.roles

    def oversight_scope(self, what: str) -> str | None:
        """Whose ``what`` this principal sees: everyone's (None) for the admin and regulators, its own (its
        address) for a department; anyone else is refused."""
        if self.has(Role.ADMIN) or self.has(Role.REGULATOR):
            return None
        if self.has(Role.DEPARTMENT):
            return self.address
        raise refused.RoleRequired(f"{what} are visible to departments, the admin and regulators")


def _now() -> datetime:
    return datetime.now(UTC)


def eip4361_message(*, scheme: str, domain: str, address: str, statement: str, uri: str, chain_id: int, nonce: str,
                    issued_at: str, expiration_time: str) -> str:
    """An EIP-4361 (Sign-In with Ethereum) message with the fields this server sets, in the EIP's
    order and layout; the fields come from settings and a checksummed address, never from a client."""
    return (f"{scheme}://{domain} wants you to sign in with your Ethereum account:\n{address}\n\n{statement}\n\n"
            f"URI: {uri}\nVersion: 1\nChain ID: {chain_id}\nNonce: {nonce}\nIssued At: {issued_at}\n"
            f"Expiration Time: {expiration_time}")


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


_NOT_SIWE = "not a Sign-In with Ethereum (EIP-4361) message issued by this server"


def _address_and_nonce(message: str) -> tuple[str, str]:
    lines = message.split("\n")
    nonces = [line[len("Nonce: "):] for line in lines if line.startswith("Nonce: ")]
    if len(lines) < 2 or not is_address(lines[1]) or len(nonces) != 1:
        raise refused.SiweMessageInvalid(_NOT_SIWE)
    return to_checksum_address(lines[1]), nonces[0]


# A changed line of the message, by its prefix, and what to call the change.
_FIELDS = (("URI: ", refused.SiweUriMismatch, "URI"), ("Chain ID: ", refused.SiweChainMismatch, "chain id"),
           ("Version: ", refused.SiweMessageInvalid, "version"))


def _mismatch(message: str, expected: str) -> refused.NotAuthenticated:
    """Which part of the issued message was changed."""
    given_lines, expected_lines = message.split("\n"), expected.split("\n")
    given_head, wanted_head = given_lines[0], expected_lines[0]
    if given_head != wanted_head:
        scheme, _, _ = wanted_head.partition("://")
        if not given_head.startswith(scheme + "://"):
            return refused.SiweSchemeMismatch(f"the message must be for the scheme {scheme}")
        return refused.SiweDomainMismatch(f"the message must be for {wanted_head.partition(' ')[0]}")
    for prefix, refusal, name in _FIELDS:
        wanted = next(line for line in expected_lines if line.startswith(prefix))
        if wanted not in given_lines:
            return refusal(f"the message must say {wanted!r} (this server's {name})")
    return refused.SiweMessageInvalid("the message differs from the challenge this server issued; sign it "
                                            "exactly as given")


class Authenticator:
    def __init__(self, settings: Settings, sessions: sessionmaker[Session], chain_id: int):
        self.settings = settings
        self.sessions = sessions
        self.chain_id = chain_id
        # Domain-separated from the token key, so a challenge MAC can never pass as a token signature.
        self._nonce_key = hmac.new(settings.jwt_secret, b"consent-ledger siwe nonce v1", hashlib.sha256).digest()
        self._verified: dict[str, tuple[str, float]] = {}

    # -- challenges --------------------------------------------------------------------------------
    def _nonce_mac(self, address: str, expiry_and_random: bytes) -> bytes:
        message = bytes.fromhex(address[2:]) + expiry_and_random
        return hmac.new(self._nonce_key, message, hashlib.sha256).digest()[:_NONCE_MAC_BYTES]

    def _make_nonce(self, address: str, expires: datetime) -> str:
        body = int(expires.timestamp()).to_bytes(8, "big") + os.urandom(_NONCE_RANDOM_BYTES)
        return (body + self._nonce_mac(address, body)).hex()

    def _nonce_expiry(self, address: str, nonce: str) -> datetime:
        """The expiry a nonce carries, if this server made it for ``address``; raises otherwise."""
        try:
            raw = bytes.fromhex(nonce) if len(nonce) == _NONCE_HEX_LENGTH else b""
        except ValueError:
            raw = b""
        body, mac = raw[:-_NONCE_MAC_BYTES], raw[-_NONCE_MAC_BYTES:]
        if not raw or not hmac.compare_digest(mac, self._nonce_mac(address, body)):
            raise refused.NonceInvalid("the challenge nonce was not issued by this server for this address")
        expires = datetime.fromtimestamp(int.from_bytes(body[:8], "big"), UTC)
        if expires <= _now():
            raise refused.NonceInvalid("the challenge has expired; ask for a new one")
        return expires

    def _message(self, address: str, nonce: str, expires: datetime) -> str:
        """The one EIP-4361 message this server issues for (address, nonce): everything in it follows
        from the nonce, so a login compares text instead of running a parser on it."""
        issued = expires - timedelta(seconds=self.settings.siwe_ttl_seconds)
        return eip4361_message(scheme=self.settings.public_scheme, domain=self.settings.siwe_domain,
                               address=address, statement="Sign in to Consent Ledger.", uri=self.settings.public_url,
                               chain_id=self.chain_id, nonce=nonce, issued_at=_iso(issued),
                               expiration_time=_iso(expires))

    def challenge(self, address: str) -> tuple[str, str]:
        if not isinstance(address, str) or not is_address(address):
            raise refused.InvalidAddress("address must be a 20-byte 0x-hex Ethereum address")
        address = to_checksum_address(address)
        expires = _now().replace(microsecond=0) + timedelta(seconds=self.settings.siwe_ttl_seconds)
        nonce = self._make_nonce(address, expires)
        return self._message(address, nonce, expires), nonce

    # -- login ----------------------------------------------------------------------------------------
    def login(self, message: str, signature: str) -> tuple[str, str]:
        """Verify a signed challenge, spend its nonce; returns (token, address).

        The message must be exactly the one issued. It is never handed to a general EIP-4361
        parser: the ABNF one takes seconds on a few kilobytes of crafted text (an
        unauthenticated CPU exhaustion); reading the address and nonce lines is linear."""
        address, nonce = _address_and_nonce(message)
        expires = self._nonce_expiry(address, nonce)
        expected = self._message(address, nonce, expires)
        if message != expected:
            raise _mismatch(message, expected)
        try:
            signer = Account.recover_message(encode_defunct(text=message), signature=signature)
        except Exception:  # eth-account and eth-keys raise assorted errors for signatures that do not recover
            signer = None
        if signer != address:
            raise refused.SignInSignatureInvalid("the signature does not match the message and address")
        try:
            with self.sessions.begin() as session:
                session.add(UsedAuthNonceRow(nonce=nonce, address=address, expires_at=expires))
        except IntegrityError:
            raise refused.NonceInvalid("this challenge was already used; ask for a new one") from None
        return self.issue_token(address), address

    def purge_expired(self) -> int:
        """Forget spent nonces that have expired (a replay of them fails on the expiry anyway)."""
        with self.sessions.begin() as session:
            return session.execute(delete(UsedAuthNonceRow).where(UsedAuthNonceRow.expires_at <= _now())).rowcount

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
            raise refused.TokenExpired("the access token has expired; sign in again") from None
        except jwt.PyJWTError:
            raise refused.TokenInvalid("the access token is not valid") from None
        subject = claims.get("sub")
        if not isinstance(subject, str) or not is_address(subject):
            raise refused.TokenInvalid("the access token is not valid")
        return to_checksum_address(subject), float(claims["exp"])
