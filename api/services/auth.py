"""Who is asking: sign-in (challenge, login) and the principal behind a bearer token, with the
roles the chain gives it now (never the token's word)."""

from __future__ import annotations

from collections.abc import Callable

from api.core.security import Authenticator, Principal
from api.schemas.auth import Challenge, Session
from ledger.domain import Role
from ledger.exceptions import ChainUnavailable
from ledger.policy_inputs import is_active_department
from ledger.projection_tables import TableProjection

#: Not an on-chain role: the account is a bound signer of at least one subject.
SUBJECT_SIGNER = "SUBJECT_SIGNER"


class AuthService:
    def __init__(self, authenticator: Authenticator, projection: TableProjection, refresh: Callable[[], int],
                 token_ttl_seconds: int):
        """``refresh`` brings ``projection`` up to a chain head read after the call
        (:meth:`ledger.indexer.Indexer.fresh_state`)."""
        self._authenticator = authenticator
        self._projection = projection
        self._refresh = refresh
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

    def with_any_role(self, principal: Principal, roles: tuple[str, ...]) -> Principal | None:
        """``principal`` if it holds one of ``roles``; ``None`` only once a chain head read after
        this call says so. The projection may trail the chain by a poll, and a role granted in
        the last block must not be refused for it; a role just revoked is the release
        decision's to catch, which reads a fresh state of its own."""
        if any(principal.has(role) for role in roles):
            return principal
        try:
            self._refresh()
        except ChainUnavailable:
            return None  # refusing needs no fresh state: the stale answer is already the safe one
        fresh = self.principal(principal.address)
        return fresh if any(fresh.has(role) for role in roles) else None

    def purge_expired(self) -> int:
        return self._authenticator.purge_expired()
