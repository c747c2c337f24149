"""Bodies of the operations endpoints (liveness, readiness)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from api.schemas.common import Reply


class Health(Reply):
    status: str = Field(description="always ok while the process is up")


class Readiness(Reply):
    ready: bool
    checks: dict[str, Any] | None = Field(default=None, description="chain, indexer, database, anchoring and funds "
                                                                    "checks; only with the ops token")
