"""Who is asking: sign-in (challenge, login) and the principal behind a bearer token, with the
roles the chain gives it now (never the token's word)."""

from __future__ import annotations

from api.core.security import Authenticator, Principal
from api.schemas.auth import Challenge, Session
from ledger.domain import Role
from ledger.policy_inputs import is_active_department
from ledger.projection_tables import TableProjection

#: Not an on-chain role: the account is a bound signer of at least one subject.
SUBJECT_SIGNER = "SUBJECT_SIGNER"


class AuthService:
    def __init__(self, authenticator: Authenticator, projection: TableProjection, token_ttl_seconds: int):
        self._authenticator = authenticator
        self._projection = projection
        self._token_ttl_seconds = token_ttl_seconds

    def challenge(self, address: str) -> Challenge:
        message, nonce = self._authenticator.challenge(address)
        return Challenge(message=message, nonce=nonce)

    def login(self, message: str, signature: str) -> Session:
        token, address = self._authenticator.login(message, signature)
        return Session(access_token=token, token_type="bearer", expires_in=self._token_ttl_seconds,
                       address=address, roles=sorted(self.principal(address).roles))

    def verify_token(self, token: str) -> str:
        """The address a bearer token was issued to; raises if it is not a valid token of this server."""
        return self._authenticator.verify_token(token)

    def authenticate(self, token: str) -> Principal:
        """The principal a bearer token stands for, with the roles the chain gives it now."""
        return self.principal(self.verify_token(token))

    def principal(self, address: str) -> Principal:
        """The roles the chain gives ``address``, all read at one block (from the cache when hot)."""
        def read(state) -> frozenset[str]:
            roles = set(state.roles(address))
            if state.is_signer(address):
                roles.add(SUBJECT_SIGNER)
            if Role.DEPARTMENT in roles and not is_active_department(state, address):
                roles.discard(Role.DEPARTMENT)
            return frozenset(roles)

        return Principal(address, self._projection.read(read))

    def purge_expired(self) -> int:
        return self._authenticator.purge_expired()
