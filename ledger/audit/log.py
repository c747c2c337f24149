"""The durable audit log: sequence numbers, group commits, and the in-memory Merkle tree.

``append`` runs the caller's decision under the log's lock (so a consent's use count is checked
and reserved atomically with its sequence number), queues the encoded leaf, and returns only
after the database commit that holds it: a caller that gets an entry back may release data; a
caller that gets an exception must not. One writer thread commits whatever is queued in a single
transaction ("group commit"), so durability costs one fsync per batch, not per entry. Leaves join
the Merkle tree only after they are committed, so every tree head we anchor is on disk.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ledger.audit.entry import AuditEntry, decode_leaf, encode_leaf
from ledger.audit.hasher import hash_leaf
from ledger.audit.tree import MerkleTree
from ledger.exceptions import LedgerError
from ledger.storage.models import AuditEntryRow


_COLUMNS = ("seq", "leaf", "leaf_hash", "requester", "subject_id", "consent_id", "decision")
_MAX_ROWS_PER_INSERT = 256  # 7 columns each: well under SQLite's 32,766 bound parameters


@lru_cache(maxsize=_MAX_ROWS_PER_INSERT * 2)
def _insert_sql(rows: int, paramstyle: str) -> str:
    mark = {"qmark": "?", "format": "%s", "pyformat": "%s"}[paramstyle]
    group = "(" + ", ".join([mark] * len(_COLUMNS)) + ")"
    return (f"INSERT INTO {AuditEntryRow.__tablename__} ({', '.join(_COLUMNS)}) VALUES "
            + ", ".join([group] * rows))


class AuditUnavailable(LedgerError):
    """The audit entry could not be made durable; nothing may be released."""


@dataclass(slots=True)
class _Pending:
    entry: AuditEntry
    leaf: bytes
    leaf_hash: bytes
    done: threading.Event | None  # a waiting thread's, or
    future: asyncio.Future | None  # a waiting coroutine's
    error: Exception | None = None


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


class AuditLog:
    def __init__(self, sessions: sessionmaker[Session], *, commit_timeout: float = 5.0):
        self.sessions = sessions
        self.commit_timeout = commit_timeout
        self._engine = sessions.kw["bind"]
        self._paramstyle = self._engine.dialect.paramstyle
        self._raw = None  # the writer thread's own DBAPI connection, opened on first use
        self.tree = MerkleTree()
        self.tree_lock = threading.Lock()
        # (tree size after a committed batch, monotonic commit time), oldest first: the anchor lag
        self._commits: deque[tuple[int, float]] = deque()
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._queue: list[_Pending] = []
        self._next_seq = 0
        self.uses: Counter[str] = Counter()  # ALLOW entries per consent id, committed or queued
        self._stopping = False
        self._writer: threading.Thread | None = None

    def load(self) -> None:
        """Rebuild the tree and use counts from the stored log (sequence must be gap-free)."""
        hashes = []
        with self.sessions() as session:
            for seq, leaf_hash, consent_id, decision in session.execute(
                    select(AuditEntryRow.seq, AuditEntryRow.leaf_hash, AuditEntryRow.consent_id,
                           AuditEntryRow.decision).order_by(AuditEntryRow.seq)):
                if seq != len(hashes):
                    raise AuditUnavailable(f"audit log has a gap at seq {len(hashes)}")
                hashes.append(leaf_hash)
                if decision == "ALLOW" and consent_id:
                    self.uses[consent_id] += 1
        self.tree.extend(hashes)
        self._next_seq = len(hashes)
        if hashes:  # their commit times are not stored: count their wait from now
            self._commits.append((len(hashes), time.monotonic()))

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
        return self.tree.size

    def append(self, decide: Callable[[int, Counter], AuditEntry]) -> AuditEntry:
        """Build an entry with its seq under the lock, then wait until it is committed."""
        pending = self._enqueue(decide, threading.Event(), None)
        if not pending.done.wait(self.commit_timeout):
            raise AuditUnavailable("the audit entry was not committed in time")
        return self._outcome(pending)

    async def append_async(self, decide: Callable[[int, Counter], AuditEntry]) -> AuditEntry:
        """``append`` for an event loop: the writer thread resolves a future instead of an event."""
        loop = asyncio.get_running_loop()
        pending = self._enqueue(decide, None, loop.create_future())
        try:
            async with asyncio.timeout(self.commit_timeout):  # lighter than wait_for: no extra task
                await pending.future
        except TimeoutError:
            raise AuditUnavailable("the audit entry was not committed in time") from None
        return self._outcome(pending)

    def _enqueue(self, decide, done: threading.Event | None, future: asyncio.Future | None) -> _Pending:
        with self._lock:
            if self._stopping:
                raise AuditUnavailable("the audit log is shutting down")
            entry = decide(self._next_seq, self.uses)
            if entry.seq != self._next_seq:
                raise ValueError("audit entry seq must be the one handed to decide()")
            leaf = encode_leaf(entry)
            pending = _Pending(entry, leaf, hash_leaf(leaf), done, future)
            self._next_seq += 1
            if entry.decision == "ALLOW" and entry.consent_id:
                self.uses[entry.consent_id] += 1
            self._queue.append(pending)
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
                self._insert(batch)
            except Exception as exc:  # fail the batch and everything queued behind it (their seqs follow)
                self._fail(batch, exc)
                continue
            with self.tree_lock:
                for p in batch:
                    self.tree.append(p.leaf_hash)
                self._commits.append((self.tree.size, time.monotonic()))
            _settle(batch)

    def _insert(self, batch: list[_Pending]) -> None:
        """One multi-row INSERT per chunk, on the writer's own DBAPI connection.

        executemany would cost a GIL hand-off per row (the driver releases it around each step),
        and under load every hand-back waits behind the busy request threads; one statement per
        chunk, with its SQL text cached per row count, keeps a batch to a few hand-offs.
        """
        if self._raw is None:
            self._raw = self._engine.raw_connection()
        cursor = self._raw.cursor()
        try:
            for start in range(0, len(batch), _MAX_ROWS_PER_INSERT):
                chunk = batch[start:start + _MAX_ROWS_PER_INSERT]
                params = []
                for p in chunk:
                    e = p.entry
                    params += (e.seq, p.leaf, p.leaf_hash, e.requester, e.subject_id, e.consent_id, e.decision)
                cursor.execute(_insert_sql(len(chunk), self._paramstyle), params)
            self._raw.commit()
        except Exception:
            self._raw.rollback()
            raise
        finally:
            cursor.close()

    def _fail(self, batch: list[_Pending], exc: Exception) -> None:
        with self._lock:
            failed = batch + self._queue
            self._queue = []
            self._next_seq = batch[0].entry.seq
            for p in failed:
                if p.entry.decision == "ALLOW" and p.entry.consent_id:
                    self.uses[p.entry.consent_id] -= 1
        for p in failed:
            p.error = exc
        _settle(failed)

    # -- reads --------------------------------------------------------------------------------
    def committed_since(self, anchored_size: int) -> float | None:
        """Monotonic commit time of the oldest entry at or beyond ``anchored_size`` (None: there is none).

        Batches wholly below ``anchored_size`` are forgotten: anchored sizes only grow.
        """
        with self.tree_lock:
            while self._commits and self._commits[0][0] <= anchored_size:
                self._commits.popleft()
            return self._commits[0][1] if self._commits else None

    def entry(self, seq: int) -> AuditEntry | None:
        with self.sessions() as session:
            leaf = session.scalar(select(AuditEntryRow.leaf).where(AuditEntryRow.seq == seq))
        return decode_leaf(leaf) if leaf is not None else None

    def root(self, size: int | None = None) -> bytes:
        with self.tree_lock:
            return self.tree.root(size)

    def head(self) -> tuple[int, bytes]:
        with self.tree_lock:
            return self.tree.size, self.tree.root()

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        with self.tree_lock:
            return self.tree.inclusion_proof(index, size)

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        with self.tree_lock:
            return self.tree.consistency_proof(size1, size2)
