"""Prometheus metrics: decisions, release latency, and the ledger's own state at scrape time."""

from __future__ import annotations

from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

from ledger.audit.anchoring import Anchorer
from ledger.audit.log import AuditLog
from ledger.chain.funds import FundsMonitor
from ledger.projection_tables import TableProjection

DECISIONS = Counter("consent_ledger_decisions_total", "Audited release decisions", ["decision", "reason"])
RELEASE_SECONDS = Histogram("consent_ledger_release_seconds", "Time to decide and audit a records query",
                            buckets=(0.001, 0.002, 0.003, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0))


class LedgerCollector(Collector):
    """Reads the audit log, anchoring and indexer state when Prometheus scrapes."""

    def __init__(self, *, audit: AuditLog, anchorer: Anchorer, projection: TableProjection, funds: FundsMonitor):
        self._audit = audit
        self._anchorer = anchorer
        self._projection = projection
        self._funds = funds

    def collect(self):
        yield GaugeMetricFamily("consent_ledger_audit_tree_size", "Committed audit entries", value=self._audit.size)
        yield GaugeMetricFamily("consent_ledger_audit_anchored_size", "Audit entries covered by an on-chain anchor",
                                value=self._anchorer.last_size)
        yield GaugeMetricFamily("consent_ledger_anchor_lag_seconds", "Age of the oldest unanchored entry",
                                value=self._anchorer.lag_seconds())
        yield GaugeMetricFamily("consent_ledger_indexer_block", "Block up to which chain events are folded",
                                value=self._projection.block)
        yield from _key_funds(self._funds)


def _key_funds(monitor: FundsMonitor):
    """Balance and headroom of the platform's own keys; nothing when the chain cannot be read."""
    try:
        funds = monitor.check()
    except Exception:
        return
    gauges = {
        "balance": GaugeMetricFamily("consent_ledger_key_balance_wei", "Balance of a platform key", labels=["key"]),
        "left": GaugeMetricFamily("consent_ledger_key_transactions_left",
                                  "Transactions a platform key still pays for at the current max fee", labels=["key"]),
        "days": GaugeMetricFamily("consent_ledger_key_days_left",
                                  "Days until a platform key runs dry at its spend over the last hour (+Inf: none)",
                                  labels=["key"]),
        "low": GaugeMetricFamily("consent_ledger_key_low_funds", "1 when a platform key is below its warning "
                                 "thresholds", labels=["key"]),
    }
    for f in funds:
        gauges["balance"].add_metric([f.name], f.balance)
        gauges["left"].add_metric([f.name], f.transactions_left)
        gauges["days"].add_metric([f.name], float("inf") if f.days_left is None else f.days_left)
        gauges["low"].add_metric([f.name], 1 if f.warning else 0)
    yield from gauges.values()


def register(*, audit: AuditLog, anchorer: Anchorer, projection: TableProjection, funds: FundsMonitor) -> LedgerCollector:
    collector = LedgerCollector(audit=audit, anchorer=anchorer, projection=projection, funds=funds)
    REGISTRY.register(collector)
    return collector


def unregister(collector: LedgerCollector) -> None:
    REGISTRY.unregister(collector)
