"""In-memory stand-ins for the services of ``api.bootstrap.Services``, for route tests through
FastAPI's ``TestClient``: no chain, no database, no devnet. Only what the routes under test and the
app's lifespan (start, stop, housekeeping) touch; every call is recorded so a test can check what
the route asked for."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from api.core.security import Principal
from ledger.domain_errors import TokenInvalid
from ledger.settings import Settings

OPS_TOKEN = "ops-token-for-tests"


def fake_settings(tmp_path: Path, **overrides) -> Settings:
    values: dict[str, Any] = dict(data_dir=tmp_path, rpc_url="http://127.0.0.1:1", database_url="",
                                  jwt_secret=b"k" * 32, public_url="http://127.0.0.1:8000", ops_token=OPS_TOKEN)
    values.update(overrides)
    return Settings(**values)


class FakeAuth:
    """Bearer tokens are looked up in ``tokens`` (token → address), roles in ``roles``; any other token
    is refused as the real ``AuthService`` refuses a token it cannot decode."""

    def __init__(self):
        self.tokens: dict[str, str] = {}
        self.roles: dict[str, set[str]] = {}
        self.purged = 0

    def verify_token(self, token: str) -> str:
        try:
            return self.tokens[token]
        except KeyError:
            raise TokenInvalid("the access token is not valid") from None

    def authenticate(self, token: str) -> Principal:
        return self.principal(self.verify_token(token))

    def principal(self, address: str) -> Principal:
        return Principal(address, frozenset(self.roles.get(address, ())))

    def with_any_role(self, principal: Principal, roles: tuple[str, ...]) -> Principal | None:
        if any(principal.has(role) for role in roles):
            return principal
        fresh = self.principal(principal.address)  # the roles held now stand for the fresh chain head
        return fresh if any(fresh.has(role) for role in roles) else None

    def purge_expired(self) -> int:
        self.purged += 1
        return 0


class FakeConsents:
    def purge_expired(self) -> int:
        return 0


class FakeWebhooks:
    def purge_finished(self) -> int:
        return 0


@dataclass
class FakeAudit:
    entries_page: list[dict] = field(default_factory=list)
    anchors_page: list[dict] = field(default_factory=list)
    calls: list[tuple[str, dict]] = field(default_factory=list)

    def entries(self, principal: Principal, *, after: int, limit: int, mine_only: bool = False) -> list[dict]:
        self.calls.append(("entries", {"principal": principal, "after": after, "limit": limit,
                                       "mine_only": mine_only}))
        return self.entries_page

    def anchors(self, *, after: int, limit: int) -> list[dict]:
        self.calls.append(("anchors", {"after": after, "limit": limit}))
        return self.anchors_page

    def public_identity(self) -> dict:
        return {"chain_id": 16211, "log_origin": "consent-ledger.test/log", "log_key": "consent-ledger.test/log+00000000+AQ=="}

    jobs: dict[str, dict] = field(default_factory=dict)

    def start_verification(self, *, full: bool = False):
        from api.schemas.audit import VerificationJob

        self.calls.append(("start_verification", {}))
        running = [job for job in self.jobs.values() if job["status"] in ("queued", "running")]
        if running:
            return VerificationJob(**running[0])
        job_id = f"{len(self.jobs) + 1:032x}"
        self.jobs[job_id] = {"job_id": job_id, "status": "queued", "full": full, "entries_checked": 0, "entries_total": 0,
                             "from_size": 0, "created_at": "2026-01-01T00:00:00Z", "finished_at": None,
                             "report": None, "error": None}
        return VerificationJob(**self.jobs[job_id])

    def verification(self, job_id: str):
        from api.schemas.audit import VerificationJob
        from ledger.domain_errors import VerificationJobNotFound

        if job_id not in self.jobs:
            raise VerificationJobNotFound("no verification job with this id")
        return VerificationJob(**self.jobs[job_id])


@dataclass
class FakeHealth:
    report: dict = field(default_factory=lambda: {"ready": True, "checks": {"chain": {"ok": True, "head": 7}}})

    def readiness(self) -> dict:
        return self.report


class FakeServices:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.auth = FakeAuth()
        self.consents = FakeConsents()
        self.webhooks = FakeWebhooks()
        self.audit = FakeAudit()
        self.health = FakeHealth()
        self.started = self.stopped = 0

    def sign_in(self, address: str, *roles: str) -> str:
        """A bearer token for ``address`` holding ``roles``; returns the Authorization header value."""
        token = f"token-{len(self.auth.tokens)}"
        self.auth.tokens[token] = address
        self.auth.roles[address] = set(roles)
        return f"Bearer {token}"

    def start(self) -> None:
        self.started += 1

    def stop(self) -> None:
        self.stopped += 1
