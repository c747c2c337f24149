"""``AuthService.with_any_role``: a role is refused only at a chain head read after the request."""

from __future__ import annotations

from api.core.security import Principal
from api.services.auth import AuthService
from ledger.domain import Role
from ledger.exceptions import ChainUnavailable

ALICE = "0x" + "a1" * 20


class _State:
    def __init__(self, roles: dict[str, set[str]]):
        self._roles = roles

    def roles(self, address: str) -> frozenset[str]:
        return frozenset(self._roles.get(address, ()))

    def is_signer(self, address: str) -> bool:
        return False


class _Projection:
    """Roles as folded so far; ``pending`` are on the chain and folded by the next refresh."""

    def __init__(self):
        self.folded: dict[str, set[str]] = {}
        self.pending: dict[str, set[str]] = {}

    def read(self, decide):
        return decide(_State(self.folded))

    def refresh(self) -> int:
        for address, roles in self.pending.items():
            self.folded.setdefault(address, set()).update(roles)
        self.pending.clear()
        return 1


def _service(projection: _Projection, refresh=None) -> tuple[AuthService, list[int]]:
    calls: list[int] = []

    def counted() -> int:
        calls.append(1)
        return (refresh or projection.refresh)()

    return AuthService(authenticator=None, projection=projection, refresh=counted, token_ttl_seconds=60), calls


def test_with_any_role_admits_a_held_role_without_reading_the_head():
    projection = _Projection()
    projection.folded[ALICE] = {Role.IDENTITY_ATTESTER}
    auth, calls = _service(projection)
    principal = auth.principal(ALICE)
    assert auth.with_any_role(principal, (Role.IDENTITY_ATTESTER,)) is principal
    assert calls == []


def test_with_any_role_admits_a_role_granted_in_a_block_not_yet_folded():
    projection = _Projection()
    projection.pending[ALICE] = {Role.IDENTITY_ATTESTER}
    auth, calls = _service(projection)
    stale = auth.principal(ALICE)
    assert not stale.has(Role.IDENTITY_ATTESTER)
    holder = auth.with_any_role(stale, (Role.ADMIN, Role.IDENTITY_ATTESTER))
    assert holder == Principal(ALICE, frozenset({Role.IDENTITY_ATTESTER}))
    assert calls == [1]


def test_with_any_role_refuses_a_role_not_held_at_the_fresh_head():
    projection = _Projection()
    projection.pending[ALICE] = {Role.REGULATOR}
    auth, calls = _service(projection)
    assert auth.with_any_role(auth.principal(ALICE), (Role.IDENTITY_ATTESTER,)) is None
    assert calls == [1]


def test_with_any_role_refuses_when_the_chain_is_unavailable():
    projection = _Projection()
    projection.pending[ALICE] = {Role.IDENTITY_ATTESTER}

    def down() -> int:
        raise ChainUnavailable("cannot read the chain head: connection refused")

    auth, calls = _service(projection, refresh=down)
    assert auth.with_any_role(auth.principal(ALICE), (Role.IDENTITY_ATTESTER,)) is None
    assert calls == [1]
