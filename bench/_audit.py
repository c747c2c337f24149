"""The audit log under load: durable appends with anchoring running, anchor lag, proofs.

Appends go through :class:`ledger.audit.log.AuditLog` exactly as the release path makes them
(the entry is built under the log's lock, the call returns after the group commit that holds
it) on a real SQLite file (WAL, synchronous=FULL), from many coroutines on one event loop
(``append_async``, as the API's release path appends) or from threads (``append``), while an
:class:`ledger.audit.anchoring.Anchorer` anchors tree heads on the devnet every second (the API's
default) into an AuditAnchor of its own. Anchor lag is, per entry, the time from its commit
(``append`` returned) to the receipt of the first anchor whose tree size covers it.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import random
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert, update

from bench._stats import percentile, rnd
from bench._synthetic import make_rows, random_grants
from ledger.audit.anchoring import Anchorer
from ledger.audit.entry import AuditEntry
from ledger.audit.hasher import hash_leaf
from ledger.audit.integrate import IntegrationLoop, Integrator
from ledger.audit.lease import Lease
from ledger.audit.log import AuditLog, Slot
from ledger.audit.note import NoteSigner
from ledger.audit.tree import MerkleTree
from ledger.audit.verify import verify_inclusion
from ledger.storage.database import make_engine, make_sessionmaker, migrate
from ledger.storage.models import AuditEntryRow, AuditSequenceRow


class RecordingAnchorer(Anchorer):
    """The production anchorer, noting when each anchored size got its receipt."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.anchored: list[tuple[int, float]] = []

    def anchor_once(self):
        row = super().anchor_once()
        if row is not None:
            self.anchored.append((row.tree_size, time.monotonic()))
        return row


class EntryFactory:
    """Release-like decisions (80% ALLOW with a consent and payload hash, 20% DENY), made as the
    release path makes them: the consent named up front (``cites``), its use count asked under
    the sequence lock."""

    def __init__(self, requester: str, seed: int = 3):
        rng = random.Random(seed)
        self.requester = requester
        self.grants = random_grants(1000, requester)
        self.payloads = ["0x" + hashlib.sha256(rng.randbytes(8)).hexdigest() for _ in range(1000)]
        self._drawn = itertools.count()

    def draw(self) -> tuple[Callable[[Slot], AuditEntry], tuple[str, ...]]:
        """The next decision to append, and the consents it cites."""
        k = next(self._drawn)
        g = self.grants[k % len(self.grants)]
        allow = k % 5 != 4
        payload = self.payloads[k % len(self.payloads)]

        def decide(slot: Slot) -> AuditEntry:
            slot.uses(g.consent_id)  # what the policy reads; the bench's grants have no max_uses
            moment = max(datetime.now(UTC), slot.not_before)
            return AuditEntry(seq=slot.seq, time=moment, requester=g.requester, subject_id=g.subject_id,
                              resource=g.resource, purpose=g.purpose, consent_id=g.consent_id if allow else None,
                              decision="ALLOW" if allow else "DENY", reason="OK" if allow else "FIELD_NOT_GRANTED",
                              fields=g.fields, block_number=1000, payload_hash=payload if allow else None)

        return decide, (g.consent_id,)


def open_log(path: Path):
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    sessions = make_sessionmaker(engine)
    return engine, sessions


def start_log(engine) -> tuple[AuditLog, IntegrationLoop]:
    """An audit log with its integrator running, as one API instance runs them."""
    origin = "consent-ledger.bench/audit"
    lease = Lease(engine, "integrator", "bench")
    integration = IntegrationLoop(Integrator(engine, lease, NoteSigner.from_seed(origin, bytes(32)), origin))
    log = AuditLog(engine, on_commit=integration.wake)
    log.load()
    log.start()
    integration.start()
    return log, integration


def prefill(sessions, count: int, requester: str, chunk: int = 50_000) -> None:
    """Store ``count`` synthetic committed entries, as if the log had already grown that far."""
    grants = random_grants(1000, requester)
    for start in range(0, count, chunk):
        rows = [{"seq": start + i, "leaf": leaf, "leaf_hash": hash_leaf(leaf), "requester": requester,
                 "subject_id": grant.subject_id, "consent_id": grant.consent_id if allowed else None,
                 "decision": "ALLOW" if allowed else "DENY"}
                for i, (leaf, grant, allowed) in enumerate(
                    make_rows(min(chunk, count - start), grants, block=1000, seed=start, first_seq=start))]
        with sessions.begin() as session:
            session.execute(insert(AuditEntryRow), rows)
    with sessions.begin() as session:  # the sequence row moves past them, as sequencing would have moved it
        session.execute(update(AuditSequenceRow).where(AuditSequenceRow.id == 1).values(next_seq=count))


def append_load(log: AuditLog, factory: EntryFactory, threads: int, duration: float) -> tuple[int, float, list]:
    """``threads`` appenders for ``duration`` s; returns (entries, elapsed, [(seq, commit time)])."""
    commits: list[list[tuple[int, float]]] = [[] for _ in range(threads)]
    stop = threading.Event()
    barrier = threading.Barrier(threads + 1)

    errors: list[BaseException] = []

    def run(k: int) -> None:
        mine = commits[k]
        barrier.wait()
        try:
            while not stop.is_set():
                decide, cites = factory.draw()
                entry = log.append(decide, cites=cites)
                mine.append((entry.seq, time.monotonic()))
        except BaseException as exc:  # surfaced below: a benchmark that quietly lost its workers lies
            errors.append(exc)

    workers = [threading.Thread(target=run, args=(k,), daemon=True) for k in range(threads)]
    for w in workers:
        w.start()
    barrier.wait()
    started = time.monotonic()
    time.sleep(duration)
    stop.set()
    for w in workers:
        w.join()
    if errors:
        raise RuntimeError(f"{len(errors)} audit appender(s) failed") from errors[0]
    elapsed = time.monotonic() - started
    flat = [c for per in commits for c in per]
    return len(flat), elapsed, flat


def append_load_async(log: AuditLog, factory: EntryFactory, concurrency: int, duration: float
                      ) -> tuple[int, float, list]:
    """``concurrency`` coroutines on one event loop calling ``append_async`` back to back, as the API's
    release path does; returns (entries, elapsed, [(seq, commit time)])."""
    import asyncio

    try:
        import uvloop
        runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        runner = asyncio.Runner()
    commits: list[tuple[int, float]] = []

    async def main() -> float:
        started = time.monotonic()
        end = started + duration

        async def one() -> None:
            while time.monotonic() < end:
                decide, cites = factory.draw()
                entry = await log.append_async(decide, cites=cites)
                commits.append((entry.seq, time.monotonic()))

        await asyncio.gather(*(one() for _ in range(concurrency)))
        return time.monotonic() - started

    with runner:
        elapsed = runner.run(main())
    return len(commits), elapsed, commits


def drive(log: AuditLog, factory: EntryFactory, driver: str, concurrency: int, duration: float):
    """``async``: coroutines calling ``append_async`` (the release path's way); ``threads``: ``append``."""
    load = append_load_async if driver == "async" else append_load
    return load(log, factory, concurrency, duration)


def measure_append(ops, work: Path, *, duration: float, driver: str = "async", concurrency: int = 256,
                   interval: float = 1.0, sampler=None) -> dict:
    """Appends/s and anchor lag with ``concurrency`` appenders; with ``sampler`` (a profiler) running over
    the measured appends only."""
    from bench._chain import deploy_audit_anchor

    engine, sessions = open_log(work / f"audit-append-{time.monotonic_ns()}.db")
    log, integration = start_log(engine)
    anchorer = RecordingAnchorer(log, deploy_audit_anchor(ops), sessions, sender=ops.anchorer, interval=interval,
                                 is_leader=integration.integrator.lease.confirm)
    anchorer.load()
    anchorer.start()
    try:
        factory = EntryFactory(ops.chain.sender.addresses[0])
        drive(log, factory, driver, concurrency, 0.5)  # warm-up: connections, caches
        first_seq = log.size
        if sampler is not None:
            sampler.start()
        count, elapsed, commits = drive(log, factory, driver, concurrency, duration)
        profile = sampler.stop() if sampler is not None else None
        deadline = time.monotonic() + 10 * interval + 10
        while anchorer.last_size < log.size and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        log.stop()
        integration.stop()
        anchorer.stop()
        integration.integrator.lease.release()
        engine.dispose()
    sizes = [s for s, _ in anchorer.anchored]
    lags = []
    for seq, committed in commits:
        k = bisect.bisect_right(sizes, seq)  # first anchor with tree size > seq covers the entry
        if k < len(sizes) and seq >= first_seq:
            lags.append(anchorer.anchored[k][1] - committed)
    return {
        "append_per_s": rnd(count / elapsed, 0),
        "anchor_lag_p50_s": rnd(percentile(lags, 50), 3),
        "anchor_lag_p99_s": rnd(percentile(lags, 99), 3),
        "anchor_lag_max_s": rnd(max(lags) if lags else float("nan"), 3),
        "entries_appended": count,
        "entries_unanchored": len(commits) - len(lags),
        "anchors": len(anchorer.anchored),
        "anchor_interval_s": interval,
        "appenders": f"{concurrency} {'coroutines (append_async)' if driver == 'async' else 'threads (append)'}",
        "duration_s": round(elapsed, 2),
        **({"profile": profile} if sampler is not None else {}),
    }


def measure_proofs(size: int, samples: int = 2000, repeats: int = 5, seed: int = 5) -> dict:
    """Inclusion proofs in a tree of ``size`` leaves: bytes of the audit path, build and verify time
    (per proof, the best of ``repeats`` passes over ``samples`` random leaves, to keep noise out)."""
    rng = random.Random(seed)
    hashes = [hashlib.sha256(i.to_bytes(8, "big")).digest() for i in range(size)]
    tree = MerkleTree(hashes)
    root = tree.root()
    picks = [rng.randrange(size) for _ in range(samples)]
    build = verify = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        proofs = [tree.inclusion_proof(i) for i in picks]
        build = min(build, (time.perf_counter() - started) / samples)
        started = time.perf_counter()
        for i, proof in zip(picks, proofs):
            verify_inclusion(hashes[i], i, size, proof, root)
        verify = min(verify, (time.perf_counter() - started) / samples)
    sizes = [32 * len(p) for p in proofs]
    return {"entries": size, "proof_bytes": max(sizes), "proof_nodes": max(sizes) // 32,
            "proof_build_us": rnd(build * 1e6, 1), "proof_verify_us": rnd(verify * 1e6, 1)}
