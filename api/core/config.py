"""API settings from the environment, read once at start-up; secrets come from the data dir (or
the environment), never from defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ledger.audit.anchoring import DEFAULT_MAX_ANCHOR_LAG_SECONDS
from ledger.config import API_HOST, API_PORT, data_dir, rpc_url
from ledger.exceptions import ConfigurationError
from ledger.keystore import check_key_password
from ledger.storage.database import database_url
from ledger.storage.sealing import load_or_create_secret, load_or_create_token

_KNOWN_WEAK_SECRETS = {"changethis", "secret", "password", "consent-ledger", "dev"}


def _number(name: str, default: float, *, minimum: float = 0.0) -> float:
    raw = os.environ.get(name)
    try:
        value = float(raw) if raw is not None else default
    except ValueError:
        raise ConfigurationError(f"{name} must be a number, got {raw!r}") from None
    if not value >= minimum or value == float("inf"):
        raise ConfigurationError(f"{name} must be a finite number >= {minimum:g}, got {raw!r}")
    return value


def _secret_text(name: str, path: Path) -> str:
    explicit = os.environ.get(name)
    if explicit is not None:
        if len(explicit) < 32 or explicit.lower() in _KNOWN_WEAK_SECRETS:
            raise ConfigurationError(f"{name} must be a random string of 32+ characters")
        return explicit
    return load_or_create_token(path)


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    rpc_url: str
    database_url: str
    public_url: str
    jwt_secret: bytes
    jwt_ttl_seconds: int = 900
    siwe_ttl_seconds: int = 300
    max_body_bytes: int = 64 * 1024
    anchor_interval_seconds: float = 1.0
    max_anchor_lag_seconds: float = DEFAULT_MAX_ANCHOR_LAG_SECONDS  # releases stop beyond it (503 ANCHOR_LAG)
    audit_commit_timeout_seconds: float = 5.0
    #: Requests per second per signed-in principal (per client address when not signed in); 0 = off.
    rate_limit_per_second: float = 5000.0
    rate_limit_burst: float = 10000.0
    #: Sign-in requests (challenge + login) per second per client address, and challenges per address.
    auth_rate_per_second: float = 20.0
    auth_burst: float = 100.0
    challenge_rate_per_second: float = 1.0
    challenge_burst: float = 10.0
    #: Rate-limiter table size per limit: the least recently seen keys are evicted beyond it.
    rate_limit_max_keys: int = 100_000
    #: Bearer token for /metrics and the detailed /readyz.
    ops_token: str = ""

    @property
    def siwe_domain(self) -> str:
        return self.public_url.split("://", 1)[-1].rstrip("/")

    @property
    def public_scheme(self) -> str:
        return self.public_url.split("://", 1)[0] if "://" in self.public_url else "https"

    @classmethod
    def from_env(cls) -> "Settings":
        check_key_password(rpc_url())
        home = data_dir()
        explicit = os.environ.get("CONSENT_LEDGER_JWT_SECRET")
        if explicit is not None:
            if len(explicit) < 32 or explicit.lower() in _KNOWN_WEAK_SECRETS:
                raise ConfigurationError("CONSENT_LEDGER_JWT_SECRET must be a random string of 32+ characters")
            secret = explicit.encode()
        else:
            secret = load_or_create_secret(home / "secrets" / "jwt.key")
        host = os.environ.get("CONSENT_LEDGER_API_HOST", API_HOST)
        port = int(os.environ.get("CONSENT_LEDGER_API_PORT", API_PORT))
        rate = _number("CONSENT_LEDGER_RATE_LIMIT", 5000.0)
        auth_rate = _number("CONSENT_LEDGER_AUTH_RATE_LIMIT", 20.0)
        challenge_rate = _number("CONSENT_LEDGER_CHALLENGE_RATE_LIMIT", 1.0)
        return cls(
            data_dir=home,
            rpc_url=rpc_url(),
            database_url=database_url(),
            public_url=os.environ.get("CONSENT_LEDGER_PUBLIC_URL", f"http://{host}:{port}"),
            jwt_secret=secret,
            jwt_ttl_seconds=int(os.environ.get("CONSENT_LEDGER_JWT_TTL", 900)),
            anchor_interval_seconds=float(os.environ.get("CONSENT_LEDGER_ANCHOR_INTERVAL", 1.0)),
            max_anchor_lag_seconds=float(os.environ.get("CONSENT_LEDGER_MAX_ANCHOR_LAG",
                                                        DEFAULT_MAX_ANCHOR_LAG_SECONDS)),
            audit_commit_timeout_seconds=float(os.environ.get("CONSENT_LEDGER_AUDIT_TIMEOUT", 5.0)),
            rate_limit_per_second=rate,
            rate_limit_burst=_number("CONSENT_LEDGER_RATE_BURST", 2 * rate, minimum=1.0) if rate else 0.0,
            auth_rate_per_second=auth_rate,
            auth_burst=_number("CONSENT_LEDGER_AUTH_RATE_BURST", 5 * auth_rate, minimum=1.0) if auth_rate else 0.0,
            challenge_rate_per_second=challenge_rate,
            challenge_burst=10 * challenge_rate,
            ops_token=_secret_text("CONSENT_LEDGER_OPS_TOKEN", home / "secrets" / "ops.token"),
        )
