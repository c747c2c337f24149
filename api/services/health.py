"""Readiness: chain, indexer, database, anchoring and the platform keys' funds, each with its own check."""

from __future__ import annotations

import time

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from ledger.audit.anchoring import Anchorer
from ledger.audit.integrate import IntegrationLoop
from ledger.audit.log import AuditLog
from ledger.chain.funds import FundsMonitor
from ledger.indexer import Indexer

#: The indexer may trail the chain head by this many blocks and still be ready.
MAX_INDEXER_LAG_BLOCKS = 5


class HealthService:
    def __init__(self, *, indexer: Indexer, sessions: sessionmaker[Session], audit: AuditLog, anchorer: Anchorer,
                 integration: IntegrationLoop, funds: FundsMonitor, max_anchor_lag_seconds: float):
        self._indexer = indexer
        self._integration = integration
        self._sessions = sessions
        self._audit = audit
        self._anchorer = anchorer
        self._funds = funds
        self._max_anchor_lag_seconds = max_anchor_lag_seconds

    def readiness(self) -> dict:
        report: dict = {"ready": True, "checks": {}}
        projection = self._indexer.projection
        try:
            started = time.perf_counter()
            head = self._indexer.fresh_head()
            report["checks"]["chain"] = {"ok": True, "head": head,
                                         "latency_ms": round((time.perf_counter() - started) * 1000, 2)}
            lag = head - projection.block
            report["checks"]["indexer"] = {"ok": lag <= MAX_INDEXER_LAG_BLOCKS, "block": projection.block,
                                           "lag_blocks": lag}
        except Exception as exc:
            report["checks"]["chain"] = {"ok": False, "error": str(exc)}
        try:
            with self._sessions() as session:
                session.execute(text("SELECT 1"))
            report["checks"]["database"] = {"ok": True}
        except Exception as exc:
            report["checks"]["database"] = {"ok": False, "error": type(exc).__name__}
        lag_s = self._anchorer.lag_seconds()
        # The lag bound covers integration too: an entry no checkpoint holds is an entry no anchor covers.
        report["checks"]["anchoring"] = {"ok": lag_s <= self._max_anchor_lag_seconds,
                                         "tree_size": self._audit.size, "anchored_size": self._anchorer.last_size,
                                         "lag_seconds": round(lag_s, 3), "last_error": self._anchorer.last_error,
                                         "integrator": self._integration.leader,
                                         "integration_error": self._integration.last_error}
        report["checks"]["funds"] = self._funds_check()
        report["ready"] = all(c.get("ok") for c in report["checks"].values())
        return report

    def _funds_check(self) -> dict:
        """The platform keys' headroom: warnings long before a key runs dry, not ok when nearly dry."""
        try:
            funds = self._funds.check()
        except Exception as exc:  # the fee cap exceeded, or the chain unreachable (reported above too)
            return {"ok": False, "error": str(exc)}
        return {"ok": not any(f.critical for f in funds), "warnings": [f.warning for f in funds if f.warning],
                "keys": {f.name: f.report() for f in funds}}
