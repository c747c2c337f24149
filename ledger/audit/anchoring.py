"""Anchors the audit log's tree head on-chain whenever it has grown, every ``interval`` seconds.

Anchor lag is how long the oldest committed entry that no anchor covers yet has waited since
its commit (0 when every entry is anchored). Beyond a bound (``ledger.settings.DEFAULT_MAX_ANCHOR_LAG_SECONDS``,
``CONSENT_LEDGER_MAX_ANCHOR_LAG``) the API releases nothing and is not ready; the regulator's
verifier reports a tail that old as ``UNANCHORED_TAIL``.

The contract accepts at most ``maxTreeSizeStep`` new entries per anchor, so a backlog larger than
that (after an outage) is anchored in several steps, each at a size the log really had.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ledger.audit.log import AuditLog
from ledger.chain.client import BoundContract
from ledger.storage.models import AnchorRow

log = logging.getLogger(__name__)


class Anchorer:
    def __init__(self, audit: AuditLog, contract: BoundContract, sessions: sessionmaker[Session], *,
                 sender: str, interval: float = 1.0):
        self.audit = audit
        self.contract = contract
        self.sessions = sessions
        self.sender = sender
        self.interval = interval
        self.last_size = 0
        self.max_step: int | None = None
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def load(self) -> None:
        with self.sessions() as session:
            latest = session.scalar(select(AnchorRow).order_by(AnchorRow.tree_size.desc()).limit(1))
        self.last_size = latest.tree_size if latest else 0
        # The chain may know a larger head than our table (crash after mining, before the insert).
        on_chain = self.contract.call("latest")
        self.last_size = max(self.last_size, int(on_chain[1]))
        self.max_step = int(self.contract.call("maxTreeSizeStep"))

    def anchor_once(self) -> AnchorRow | None:
        """Anchor the current head if it grew; returns the stored anchor."""
        size, root = self.audit.head()
        if size <= self.last_size:
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
        return row

    def lag_seconds(self) -> float:
        """How long the oldest committed entry beyond the last anchor has waited (0 when none)."""
        since = self.audit.committed_since(self.last_size)
        return 0.0 if since is None else time.monotonic() - since

    def start(self) -> None:
        def run():
            while not self._stop.wait(self.interval):
                try:
                    self.anchor_once()
                    self.last_error = None
                except Exception as exc:  # keep trying; readiness reports the lag
                    self.last_error = str(exc)
                    log.warning("anchoring failed: %s", exc)

        self._thread = threading.Thread(target=run, name="anchorer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)
        try:  # a last anchor so a clean shutdown leaves nothing unanchored
            self.anchor_once()
        except Exception as exc:
            log.warning("final anchor failed: %s", exc)
