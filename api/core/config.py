"""API settings from the environment; secrets come from the data dir, never from defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ledger.audit.anchoring import DEFAULT_MAX_ANCHOR_LAG_SECONDS
from ledger.config import API_HOST, API_PORT, data_dir, rpc_url
from ledger.exceptions import ConfigurationError
from ledger.storage.database import database_url
from ledger.storage.sealing import load_or_create_secret

_KNOWN_WEAK_SECRETS = {"changethis", "secret", "password", "consent-ledger", "dev"}


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
    rate_limit_per_second: float = 5000.0

    @property
    def siwe_domain(self) -> str:
        return self.public_url.split("://", 1)[-1].rstrip("/")

    @classmethod
    def from_env(cls) -> "Settings":
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
        )
