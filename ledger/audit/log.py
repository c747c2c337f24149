"""The durable audit log: seqs and use counts taken in the database, one commit per batch.

``append(decide)`` queues a decision; one writer thread per instance takes everything queued as a
batch and, in ONE transaction, locks the ``audit_sequence`` row (the next seq, and the newest
entry's time), runs each ``decide(slot)`` in seq order against the consents' stored use counts,
inserts the entries, adds their uses to the stored counts, stores the new head, and commits. The
row lock orders every instance's batches, so seqs are gap-free and a consent's ``max_uses`` holds
exactly, however many instances share the database. ``append`` returns only after that commit: a caller that gets
an entry back may release data; a caller that gets an exception must not. Durability costs one
fsync per batch, not per entry.

The tree over the entries (C2SP tiles) and its signed checkpoint are built afterwards by the
instance holding the integrator lease (:mod:`ledger.audit.integrate`); reads of roots and proofs
here come from those tiles, never from memory.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

from sqlalchemy import Engine, select

from ledger.audit.entry import AuditEntry, decode_leaf, encode_leaf
from ledger.audit.hasher import hash_leaf
from ledger.audit.integrate import latest_checkpoint
from ledger.audit.tiles import TiledTree
from ledger.audit.tilestore import TileReader
from ledger.exceptions import LedgerError
from ledger.storage.models import AuditEntryRow, AuditSequenceRow, ConsentUseRow

_COLUMNS = ("seq", "leaf", "leaf_hash", "requester", "subject_id", "consent_id", "decision", "committed_at_ms")
_MAX_ROWS_PER_INSERT = 256  # 8 columns each: well under SQLite's 32,766 bound parameters
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = datetime.resolution * 1000


class AuditUnavailable(LedgerError):
    """The audit entry could not be made durable; nothing may be released."""


def time_ms(moment: datetime) -> int:
    return (moment - _EPOCH) // _MS


class _UseCounts:
    """Use counts of the consents a batch cites, read inside the batch's transaction (so under the
    sequence lock: exact across instances): the ones the batch's callers named up front in one
    query, any other on first mention. ``added`` are this batch's new uses, written back as
    increments, so a use that no decision asked about costs no read."""

    def __init__(self, cursor, statements: _Statements):
        self._cursor = cursor
        self._sql = statements
        self._stored: dict[str, int] = {}
        self.added: dict[str, int] = {}

    def prefetch(self, consent_ids: set[str]) -> None:
        wanted = sorted(consent_ids - self._stored.keys())
        for start in range(0, len(wanted), _MAX_ROWS_PER_INSERT):
            chunk = wanted[start:start + _MAX_ROWS_PER_INSERT]
            self._cursor.execute(self._sql.used_of(len(chunk)), chunk)
            self._stored.update((cid, int(used)) for cid, used in self._cursor.fetchall())
            self._stored.update((cid, 0) for cid in chunk if cid not in self._stored)

    def __getitem__(self, consent_id: str) -> int:
        if consent_id not in self._stored:
            self.prefetch({consent_id})
        return self._stored[consent_id] + self.added.get(consent_id, 0)

    def bump(self, consent_id: str) -> None:
        self.added[consent_id] = self.added.get(consent_id, 0) + 1


@dataclass(frozen=True, slots=True)
class Slot:
    """What ``decide`` gets: its ``seq``; ``uses(consent_id)``, exact as of this seq; and ``not_before``,
    the newest entry's time, which this entry's time must not precede (clocks of several instances)."""

    seq: int
    not_before: datetime
    uses: Callable[[str], int]


Decide = Callable[[Slot], AuditEntry]


@dataclass(slots=True)
class _Pending:
    decide: Decide
    cites: tuple[str, ...]  # consents whose uses the decision will ask for (read with the batch's others)
    done: threading.Event | None  # a waiting thread's, or
    future: asyncio.Future | None  # a waiting coroutine's
    entry: AuditEntry | None = None
    error: Exception | None = None
    row: tuple = field(default=())


def _settle(batch: list[_Pending]) -> None:
    """Wake every waiter of a committed (or failed) batch: one loop callback per event loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future]] = {}
    for p in batch:
        if p.future is not None:
            by_loop.setdefault(p.future.get_loop(), []).append(p.future)
        else:
            p.done.set()
    for loop, futures in by_loop.items():
        try:
            loop.call_soon_threadsafe(_resolve, futures)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            pass


def _resolve(futures: list[asyncio.Future]) -> None:
    for future in futures:
        if not future.done():
            future.set_result(None)


class _CommitDeadlines:
    """The commit timeout of waiting coroutines: one sweep per event loop every ``tick`` seconds
    over its waiters in arrival order, not one timer per append (``asyncio.timeout`` cost more
    loop time than the rest of an append). A waiter is failed at most ``tick`` late."""

    def __init__(self, timeout: float, tick: float = 0.05):
        self._timeout = timeout
        self._tick = tick
        self._waiting: dict[asyncio.AbstractEventLoop, deque[tuple[float, asyncio.Future]]] = {}

    def watch(self, future: asyncio.Future) -> None:
        """On ``future``'s loop: fail it with ``AuditUnavailable`` unless it is done in time."""
        loop = future.get_loop()
        waiting = self._waiting.get(loop)
        if waiting is None:
            waiting = self._waiting[loop] = deque()
            loop.call_later(self._tick, self._sweep, loop)
        waiting.append((loop.time() + self._timeout, future))

    def _sweep(self, loop: asyncio.AbstractEventLoop) -> None:
        waiting = self._waiting[loop]
        now = loop.time()
        while waiting and (waiting[0][1].done() or waiting[0][0] <= now):  # deadlines rise along the deque
            _, future = waiting.popleft()
            if not future.done():
                future.set_exception(AuditUnavailable("the audit entry was not committed in time"))
        if waiting:
            loop.call_later(self._tick, self._sweep, loop)
        else:
            del self._waiting[loop]


@lru_cache(maxsize=_MAX_ROWS_PER_INSERT * 2)
def _insert_sql(rows: int, mark: str) -> str:
    group = "(" + ", ".join([mark] * len(_COLUMNS)) + ")"
    return (f"INSERT INTO {AuditEntryRow.__tablename__} ({', '.join(_COLUMNS)}) VALUES "
            + ", ".join([group] * rows))


class _Statements:
    def __init__(self, mark: str):
        seq, uses = AuditSequenceRow.__tablename__, ConsentUseRow.__tablename__
        self.mark = mark
        # A no-op write first: it takes the row lock (PostgreSQL) or the database's write lock (SQLite)
        # before the head is read, so two batches can never read the same next seq.
        self.lock = f"UPDATE {seq} SET next_seq = next_seq WHERE id = 1"
        self.head = f"SELECT next_seq, last_time_ms FROM {seq} WHERE id = 1"
        self.advance = f"UPDATE {seq} SET next_seq = {mark}, last_time_ms = {mark} WHERE id = 1"
        self._uses = uses

    def used_of(self, rows: int) -> str:
        return f"SELECT consent_id, used FROM {self._uses} WHERE consent_id IN ({', '.join([self.mark] * rows)})"

    def add_uses(self, rows: int) -> str:
        values = ", ".join([f"({self.mark}, {self.mark})"] * rows)
        return (f"INSERT INTO {self._uses} (consent_id, used) VALUES {values} "
                f"ON CONFLICT (consent_id) DO UPDATE SET used = {self._uses}.used + excluded.used")


class AuditLog:
    def __init__(self, engine: Engine, *, commit_timeout: float = 5.0,
                 on_commit: Callable[[], None] | None = None):
        self.engine = engine
        self.commit_timeout = commit_timeout
        self._deadlines = _CommitDeadlines(commit_timeout)
        self.on_commit = on_commit  # e.g. wake the integrator
        mark = "?" if engine.dialect.paramstyle == "qmark" else "%s"
        self._sql = _Statements(mark)
        self._raw = None  # the writer thread's own DBAPI connection, opened on first use
        self._tiles = TileReader(engine)
        self._tree = TiledTree(self._tiles)
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._queue: list[_Pending] = []
        self._sequenced = 0  # entries committed, as this instance last saw the sequence row
        self._stopping = False
        self._writer: threading.Thread | None = None

    def load(self) -> None:
        """Read the head; nothing here grows with the log."""
        table = AuditSequenceRow.__table__
        with self.engine.begin() as connection:
            row = connection.execute(select(table.c.next_seq, table.c.last_time_ms).where(table.c.id == 1)).first()
            if row is None:
                raise AuditUnavailable("the audit_sequence row is missing: the database was not migrated")
            if row.next_seq and not row.last_time_ms:  # a log migrated from before the row: its newest entry's time
                leaf = connection.scalar(select(AuditEntryRow.leaf).where(AuditEntryRow.seq == row.next_seq - 1))
                if leaf is not None:
                    connection.execute(table.update().where(table.c.id == 1, table.c.last_time_ms == 0)
                                       .values(last_time_ms=time_ms(decode_leaf(leaf).time)))
        self._sequenced = row.next_seq

    def start(self) -> None:
        self._writer = threading.Thread(target=self._write_loop, name="audit-writer", daemon=True)
        self._writer.start()

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            self._wake.notify_all()
        if self._writer:
            self._writer.join(timeout=10)
        if self._raw is not None:
            self._raw.close()
            self._raw = None

    @property
    def size(self) -> int:
        """Entries committed (sequenced), as of this instance's last batch or load."""
        return self._sequenced

    # -- appending ----------------------------------------------------------------------------
    def append(self, decide: Decide, *, cites: Iterable[str] = ()) -> AuditEntry:
        """Queue a decision, then wait until its entry is committed (or refused). ``cites``: the
        consents whose uses ``decide`` will ask for, so the batch reads them all in one query."""
        pending = self._enqueue(_Pending(decide, tuple(cites), threading.Event(), None))
        if not pending.done.wait(self.commit_timeout):
            raise AuditUnavailable("the audit entry was not committed in time")
        return self._outcome(pending)

    async def append_async(self, decide: Decide, *, cites: Iterable[str] = ()) -> AuditEntry:
        """``append`` for an event loop: the writer thread resolves a future instead of an event."""
        future = asyncio.get_running_loop().create_future()
        pending = self._enqueue(_Pending(decide, tuple(cites), None, future))
        self._deadlines.watch(future)
        await future  # AuditUnavailable once the commit timeout has passed
        return self._outcome(pending)

    def _enqueue(self, pending: _Pending) -> _Pending:
        with self._lock:
            if self._stopping:
                raise AuditUnavailable("the audit log is shutting down")
            self._queue.append(pending)
            if len(self._queue) == 1:  # the writer waits only on an empty queue
                self._wake.notify()
        return pending

    @staticmethod
    def _outcome(pending: _Pending) -> AuditEntry:
        if pending.error is not None:
            raise AuditUnavailable(f"the audit entry could not be stored: {pending.error}") from pending.error
        return pending.entry

    def _write_loop(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._stopping:
                    self._wake.wait()
                if not self._queue and self._stopping:
                    return
                batch, self._queue = self._queue, []
            try:
                self._commit(batch)
            except Exception as exc:  # nothing of the batch is stored: every one of its callers fails
                for p in batch:
                    p.entry, p.error = None, p.error or exc
            else:
                if self.on_commit is not None:
                    self.on_commit()
            _settle(batch)

    def _commit(self, batch: list[_Pending]) -> None:
        """Sequence, decide and store one batch in one transaction on the writer's own DBAPI connection.

        One multi-row INSERT per chunk, with its SQL text cached per row count: executemany would
        cost a GIL hand-off per row, and under load every hand-back waits behind the busy request
        threads.
        """
        if self._raw is None:
            self._raw = self.engine.raw_connection()
        sql = self._sql
        cursor = self._raw.cursor()
        try:
            cursor.execute(sql.lock)
            cursor.execute(sql.head)
            next_seq, last_ms = cursor.fetchone()
            not_before = _EPOCH + last_ms * _MS
            committed_at = time.time_ns() // 1_000_000
            uses = _UseCounts(cursor, sql)
            uses.prefetch({cid for p in batch for cid in p.cites})
            rows = []
            for p in batch:
                try:
                    entry = p.decide(Slot(next_seq, not_before, uses.__getitem__))
                    if entry.seq != next_seq:
                        raise ValueError("audit entry seq must be the slot's")
                    if entry.time < not_before:
                        raise ValueError("audit entry time must not precede the slot's not_before")
                    leaf = encode_leaf(entry)
                except Exception as exc:  # this caller's decision failed; the others go on
                    p.error = exc
                    continue
                p.entry = entry
                if entry.decision == "ALLOW" and entry.consent_id:
                    uses.bump(entry.consent_id)
                rows.append((entry.seq, leaf, hash_leaf(leaf), entry.requester, entry.subject_id,
                             entry.consent_id, entry.decision, committed_at))
                next_seq, not_before = next_seq + 1, entry.time
            for start in range(0, len(rows), _MAX_ROWS_PER_INSERT):
                chunk = rows[start:start + _MAX_ROWS_PER_INSERT]
                cursor.execute(_insert_sql(len(chunk), sql.mark), [v for row in chunk for v in row])
            cursor.execute(sql.advance, (next_seq, time_ms(not_before)))
            added = sorted(uses.added.items())
            for start in range(0, len(added), _MAX_ROWS_PER_INSERT):
                chunk = added[start:start + _MAX_ROWS_PER_INSERT]
                cursor.execute(sql.add_uses(len(chunk)), [v for row in chunk for v in row])
            self._raw.commit()
        except Exception:
            self._raw.rollback()
            raise
        finally:
            cursor.close()
        self._sequenced = next_seq

    # -- reads --------------------------------------------------------------------------------
    def use_counts(self, consent_ids: Iterable[str]) -> dict[str, int]:
        """Committed ALLOW entries per consent (0 for none): exact as of the read."""
        ids = list(set(consent_ids))
        if not ids:
            return {}
        with self.engine.connect() as connection:
            found = dict(connection.execute(select(ConsentUseRow.consent_id, ConsentUseRow.used)
                                            .where(ConsentUseRow.consent_id.in_(ids))).all())
        return {cid: int(found.get(cid, 0)) for cid in ids}

    def entry(self, seq: int) -> AuditEntry | None:
        with self.engine.connect() as connection:
            leaf = connection.scalar(select(AuditEntryRow.leaf).where(AuditEntryRow.seq == seq))
        return decode_leaf(leaf) if leaf is not None else None

    def head(self) -> tuple[int, bytes]:
        """Size and root of the latest signed checkpoint (0 and the empty root before the first)."""
        with self.engine.connect() as connection:
            latest = latest_checkpoint(connection)
        return (latest[0], latest[1]) if latest else (0, self._tree.root(0))

    def checkpoint_note(self) -> str | None:
        """The latest signed checkpoint, as a C2SP signed note."""
        with self.engine.connect() as connection:
            latest = latest_checkpoint(connection)
        return latest[2] if latest else None

    def root(self, size: int) -> bytes:
        return self._tree.root(size)

    def tile(self, level: int, index: int) -> bytes | None:
        """The stored tile at its widest (callers cut it to the width they serve)."""
        return self._tiles([(level, index)]).get((level, index))

    def leaf_hashes(self, start: int, end: int) -> list[bytes]:
        """Leaf hashes of integrated entries ``start`` to ``end - 1``, from the tiles."""
        return self._tree.leaf_hashes(start, end)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        return self._tree.inclusion_proof(index, size)

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        return self._tree.consistency_proof(size1, size2)
