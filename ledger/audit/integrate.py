"""Integration: the leader extends the tiled tree with committed entries and signs its checkpoint.

Sequencing (:mod:`ledger.audit.log`) makes entries durable in seq order; integration then adds
their leaf hashes to the tiles and signs a C2SP checkpoint of the new size, the tiles and the
checkpoint in one transaction, so the stored tree and the stored checkpoint always agree. Only
the holder of the ``integrator`` lease does this. Each transaction first renews that lease under the
term it holds, which also locks the lease row, so a deposed leader's transaction changes nothing
(fencing) and a busy leader never lets its lease lapse.

The checkpoint (size and root) is what the anchorer puts on-chain.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy import Connection, Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from ledger.audit.lease import Lease, LeaseLost, now_ms
from ledger.audit.note import Checkpoint, NoteSigner
from ledger.audit.tiles import RightEdge
from ledger.audit.tilestore import read_tiles, write_tiles
from ledger.storage.models import AuditCheckpointRow, AuditEntryRow

log = logging.getLogger(__name__)

_CHECKPOINT = AuditCheckpointRow.__table__
_ENTRIES = AuditEntryRow.__table__


def log_origin(chain_id: int, anchor_address: str) -> str:
    """The log's name (checkpoint origin and note key name), derived from where it is anchored: a
    regulator who knows the deployment knows the name, and no two deployments share one."""
    return f"consent-ledger/{chain_id}/{anchor_address.lower()}"


def latest_checkpoint(connection: Connection) -> tuple[int, bytes, str] | None:
    """``(size, root, signed note)`` of the latest checkpoint, or None before the first one."""
    row = connection.execute(select(_CHECKPOINT.c.tree_size, _CHECKPOINT.c.root_hash, _CHECKPOINT.c.note)
                             .where(_CHECKPOINT.c.id == 1)).first()
    return (row.tree_size, bytes(row.root_hash), row.note) if row else None


def _new_leaf_hashes(connection: Connection, first: int, limit: int) -> list[tuple[int, bytes]]:
    """``(seq, leaf_hash)`` of up to ``limit`` entries from seq ``first``, on the transaction's DBAPI
    cursor: under full append load, SQLAlchemy's processing of these rows held the GIL a sixth of
    the time."""
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    cursor = connection.connection.cursor()
    try:
        cursor.execute(f"SELECT seq, leaf_hash FROM {_ENTRIES.name} WHERE seq >= {mark} ORDER BY seq LIMIT {mark}",
                       (first, limit))
        return cursor.fetchall()
    finally:
        cursor.close()


class Integrator:
    """Adds committed entries to the tiles, ``chunk`` leaves a transaction, and signs a checkpoint each time."""

    def __init__(self, engine: Engine, lease: Lease, signer: NoteSigner, origin: str, *, chunk: int = 1 << 16):
        self.engine = engine
        self.lease = lease
        self.signer = signer
        self.origin = origin
        self.chunk = chunk
        self._edge: RightEdge | None = None  # None: reload from the tiles before the next step
        self.behind = False  # the last step took a whole chunk: more may be waiting

    @property
    def size(self) -> int:
        return self._edge.size if self._edge is not None else 0

    def integrate_once(self) -> Checkpoint | None:
        """Integrate up to ``chunk`` new entries; returns the new checkpoint, or None when there were none."""
        try:
            with self.engine.begin() as connection:
                self.lease.fence(connection)
                edge = self._current_edge(connection)
                rows = _new_leaf_hashes(connection, edge.size, self.chunk)
                self.behind = len(rows) == self.chunk
                if not rows:
                    return None
                for offset, (seq, _) in enumerate(rows):
                    if seq != edge.size + offset:  # sequencing commits whole prefixes: a gap is damage
                        raise RuntimeError(f"audit log has a gap at seq {edge.size + offset}")
                write_tiles(connection, edge.append([bytes(h) for _, h in rows]))
                checkpoint = Checkpoint(self.origin, edge.size, edge.root())
                self._write_checkpoint(connection, checkpoint)
            return checkpoint
        except BaseException:
            self._edge = None  # the transaction rolled back: the edge in memory may be ahead of the tiles
            raise

    def integrate_all(self, progress: Callable[[int], None] | None = None) -> Checkpoint | None:
        """Integrate the whole backlog (``audit migrate`` and start-up); ``progress`` gets each new size."""
        last = None
        while (checkpoint := self.integrate_once()) is not None:
            last = checkpoint
            if progress:
                progress(checkpoint.size)
        return last

    def _current_edge(self, connection: Connection) -> RightEdge:
        stored = latest_checkpoint(connection)
        size = stored[0] if stored else 0
        if self._edge is None or self._edge.size != size:  # first step, a failed one, or another leader's work
            self._edge = RightEdge.load(size, lambda ids: read_tiles(connection, ids))
        return self._edge

    def _write_checkpoint(self, connection: Connection, checkpoint: Checkpoint) -> None:
        values = {"id": 1, "tree_size": checkpoint.size, "root_hash": checkpoint.root,
                  "note": checkpoint.sign(self.signer), "signed_at_ms": now_ms()}
        insert = (postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert)(_CHECKPOINT)
        connection.execute(insert.values(values).on_conflict_do_update(
            index_elements=[_CHECKPOINT.c.id], set_={k: v for k, v in values.items() if k != "id"}))


class IntegrationLoop:
    """The background thread of every instance: hold the lease when it can, integrate while it does.

    The leader integrates at most once every ``pace`` seconds, whatever it integrates: a pass
    costs one transaction and one fsync however many entries it takes, and on SQLite it competes
    with the sequencing writer for the one write lock, so a pass per writer batch would halve the
    release path's throughput. ``wake`` (called after each local commit) starts a pass as soon as
    the pace allows; without one, the loop looks for other instances' entries every ``interval``
    seconds. Both add to an entry's wait for its anchor, which the anchor-lag bound counts.
    """

    def __init__(self, integrator: Integrator, *, pace: float = 0.2, interval: float = 0.5,
                 renew_every: float = 1.0):
        self.integrator = integrator
        self.pace = pace
        self.interval = interval
        self.renew_every = renew_every
        self.last_error: str | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def leader(self) -> bool:
        return self.integrator.lease.term is not None

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="audit-integrator", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and integrate what is left if leading; the caller releases the lease after
        the last anchor."""
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=10)
        try:
            if self.leader:
                self.integrator.integrate_all()
        except Exception as exc:
            log.warning("final integration failed: %s", exc)

    def _run(self) -> None:
        renewed_at = float("-inf")
        while not self._stop.is_set():
            passed_at = time.monotonic()
            try:
                if passed_at - renewed_at >= self.renew_every:
                    self.integrator.lease.hold()
                    renewed_at = passed_at
                if self.leader:
                    # One pass per pace, unless a backlog fills whole chunks (after an outage).
                    while self.integrator.integrate_once() is not None and self.integrator.behind:
                        if self._stop.is_set():
                            break
                self.last_error = None
            except LeaseLost:  # deposed: the lease forgot its term, and this instance follows
                pass
            except Exception as exc:  # keep trying; the anchor lag bound stops releases meanwhile
                self.last_error = str(exc)
                log.warning("audit integration failed: %s", exc)
            self._wake.wait(self.interval)
            self._wake.clear()
            self._stop.wait(self.pace - (time.monotonic() - passed_at))
