"""Anchors the audit log's latest checkpoint on-chain whenever it has grown, every ``interval`` seconds.

Only the leader (the holder of the integrator lease) anchors, and ``is_leader`` (the lease's
:meth:`~ledger.audit.lease.Lease.confirm` in the API) is asked just before each anchor is sent, so
an instance deposed while it stalled does not send one. Every instance measures the
anchor lag from the database: how long the oldest committed entry that no anchor covers has
waited since its commit (0 when every entry is anchored). Beyond a bound
(``ledger.settings.DEFAULT_MAX_ANCHOR_LAG_SECONDS``, ``CONSENT_LEDGER_MAX_ANCHOR_LAG``) the API releases
nothing and is not ready; the regulator's verifier reports a tail that old as ``UNANCHORED_TAIL``.

The contract accepts at most ``maxTreeSizeStep`` new entries per anchor, so a backlog larger than
that (after an outage) is anchored in several steps, each at a size the log really had.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from ledger.audit.log import AuditLog
from ledger.chain.client import BoundContract
from ledger.storage.models import AnchorRow, AuditEntryRow

log = logging.getLogger(__name__)


class Anchorer:
    def __init__(self, audit: AuditLog, contract: BoundContract, sessions: sessionmaker[Session], *,
                 sender: str, interval: float = 1.0, is_leader: Callable[[], bool] = lambda: True):
        self.audit = audit
        self.contract = contract
        self.sessions = sessions
        self.sender = sender
        self.interval = interval
        self.is_leader = is_leader
        self.last_size = 0
        self.max_step: int | None = None
        self.last_error: str | None = None
        self._engine: Engine = sessions.kw["bind"]
        self._started = time.time()
        self._oldest_unanchored: float | None = None  # wall-clock commit time, None when all is anchored
        self._refreshed_at = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def load(self) -> None:
        with self.sessions() as session:
            latest = session.scalar(select(func.max(AnchorRow.tree_size)))
        # The chain may know a larger head than our table (crash after mining, before the insert).
        on_chain = self.contract.call("latest")
        self.last_size = max(latest or 0, int(on_chain[1]))
        self.max_step = int(self.contract.call("maxTreeSizeStep"))
        self.refresh()

    def anchor_once(self) -> AnchorRow | None:
        """Anchor the latest checkpoint if it grew; returns the stored anchor."""
        size, root = self.audit.head()
        if size <= self.last_size or not self.is_leader():
            return None
        if self.max_step is not None and size - self.last_size > self.max_step:
            size = self.last_size + self.max_step
            root = self.audit.root(size)
        receipt = self.contract.transact("anchor", size, root, sender=self.sender)
        row = AnchorRow(tree_size=size, root_hash="0x" + root.hex(), tx_hash=receipt.tx_hash,
                        block_number=receipt.block_number, anchored_at=datetime.now(UTC))
        with self.sessions.begin() as session:
            session.merge(row)
        self.last_size = size
        self.refresh()
        return row

    def catch_up(self) -> int:
        """Anchor until the latest checkpoint is covered; how many anchors that took. A backlog past
        the contract's ``maxTreeSizeStep`` (an outage, a bulk import) needs several, and they go one
        after another, not one an interval: releases wait for the lag to fall (DESIGN §1.4)."""
        sent = 0
        while self.anchor_once() is not None:
            sent += 1
            if self.last_size >= self.audit.head()[0]:
                break
        return sent

    def refresh(self) -> None:
        """Read the anchored size (another instance may anchor) and the commit time of the first entry beyond it."""
        with self._engine.connect() as connection:
            anchored = connection.scalar(select(func.max(AnchorRow.tree_size))) or 0
            self.last_size = max(self.last_size, anchored)
            row = connection.execute(select(AuditEntryRow.committed_at_ms)
                                     .where(AuditEntryRow.seq == self.last_size)).first()
        if row is None:
            self._oldest_unanchored = None
        else:  # entries from before commit times were kept count their wait from this start
            self._oldest_unanchored = row[0] / 1000 if row[0] is not None else self._started
        self._refreshed_at = time.monotonic()

    def lag_seconds(self) -> float:
        """How long the oldest committed entry beyond the last anchor has waited (0 when none).

        A reading older than its refresh interval counts as lag too: if refreshing stops, releases
        stop, rather than trusting a last "all anchored" for ever.
        """
        since = self._oldest_unanchored
        lag = 0.0 if since is None else time.time() - since
        return max(0.0, lag, time.monotonic() - self._refreshed_at - self.interval)

    def start(self) -> None:
        def run():
            while not self._stop.wait(self.interval):
                try:
                    self.catch_up()
                    self.refresh()
                    self.last_error = None
                except Exception as exc:  # keep trying; readiness and the release gate report the lag
                    self.last_error = str(exc)
                    log.warning("anchoring failed: %s", exc)

        self._thread = threading.Thread(target=run, name="anchorer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)
        try:  # a last anchor so a clean shutdown leaves nothing unanchored
            self.catch_up()
        except Exception as exc:
            log.warning("final anchor failed: %s", exc)
