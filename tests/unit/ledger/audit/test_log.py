"""The durable audit log: seqs and use counts in the database (exact across instances), group commits,
failing closed; integration into tiles and a signed checkpoint by the lease holder only."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from ledger.audit.entry import AuditEntry
from ledger.audit.integrate import Integrator, LeaseLost
from ledger.audit.lease import Lease
from ledger.audit.log import AuditLog, AuditUnavailable, Slot
from ledger.audit.note import Checkpoint, NoteSigner, open_note
from ledger.audit.tree import MerkleTree
from ledger.storage.database import make_engine, migrate

pytestmark = pytest.mark.unit

REQUESTER = "0x" + "ab" * 20
SUBJECT = "0x" + "01" * 32
CONSENT = "0x" + "02" * 32
ORIGIN = "consent-ledger.test/audit"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'audit.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    return url


@pytest.fixture()
def engine(db_url):
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture()
def signer():
    return NoteSigner.from_seed(ORIGIN, bytes(range(32)))


def _decide(allow: bool = True, max_uses: int | None = None):
    def decide(slot: Slot) -> AuditEntry:
        allowed = allow and (max_uses is None or slot.uses(CONSENT) < max_uses)
        return AuditEntry(seq=slot.seq, time=max(datetime.now(UTC), slot.not_before), requester=REQUESTER,
                          subject_id=SUBJECT, resource="hrss.social_insurance", purpose="p",
                          consent_id=CONSENT if allow else None, decision="ALLOW" if allowed else "DENY",
                          reason="OK" if allowed else ("USES_EXHAUSTED" if allow else "NO_CONSENT"),
                          fields=("name",), block_number=7, payload_hash=("0x" + "03" * 32) if allowed else None)
    return decide


def _started(engine, **kwargs) -> AuditLog:
    log = AuditLog(engine, **kwargs)
    log.load()
    log.start()
    return log


def _leaf_hashes(engine) -> list[bytes]:
    with engine.connect() as connection:
        return [bytes(h) for (h,) in connection.execute(text("SELECT leaf_hash FROM audit_entries ORDER BY seq"))]


def _hammer(logs: list[AuditLog], per_thread: int, threads_per_log: int, decide_for, *,
            cites: tuple[str, ...] = ()) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    lock = threading.Lock()

    def worker(log: AuditLog):
        for i in range(per_thread):
            entry = log.append(decide_for(i), cites=cites)
            with lock:
                entries.append(entry)

    threads = [threading.Thread(target=worker, args=(log,)) for log in logs for _ in range(threads_per_log)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return entries


def test_concurrent_appends_get_gap_free_seqs_and_exact_use_counts(engine):
    log = _started(engine)
    entries = _hammer([log], 50, 8, lambda i: _decide(allow=i % 3 != 0))
    log.stop()
    assert sorted(e.seq for e in entries) == list(range(400))
    assert log.use_counts([CONSENT]) == {CONSENT: sum(1 for i in range(50) if i % 3 != 0) * 8}
    times = [e.time for e in sorted(entries, key=lambda e: e.seq)]
    assert times == sorted(times)  # entry times follow seq
    reloaded = AuditLog(engine)
    reloaded.load()
    assert reloaded.size == 400


@pytest.mark.parametrize("cites", [(), (CONSENT,)], ids=["read-when-asked", "named-up-front"])
def test_two_instances_share_one_log_and_max_uses_holds_exactly(db_url, cites):
    engines = [make_engine(db_url), make_engine(db_url)]
    logs = [_started(e) for e in engines]
    entries = _hammer(logs, 4, 4, lambda i: _decide(max_uses=5), cites=cites)  # 32 requests, split across both
    for log in logs:
        log.stop()
    assert sorted(e.seq for e in entries) == list(range(32))
    assert sum(e.decision == "ALLOW" for e in entries) == 5
    assert {e.reason for e in entries if e.decision == "DENY"} == {"USES_EXHAUSTED"}
    assert logs[0].use_counts([CONSENT]) == {CONSENT: 5}
    for e in engines:
        e.dispose()


def test_a_failed_commit_fails_the_caller_and_leaves_no_gap(engine):
    log = _started(engine, commit_timeout=5)
    assert log.append(_decide()).seq == 0
    with engine.begin() as connection:  # the table disappears: the next commit cannot land
        connection.execute(text("ALTER TABLE audit_entries RENAME TO audit_entries_gone"))
    engine.dispose()  # PostgreSQL: drop the writer's cached plans of the old table
    with pytest.raises(AuditUnavailable):
        log.append(_decide())
    assert log.use_counts([CONSENT]) == {CONSENT: 1} and log.size == 1
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE audit_entries_gone RENAME TO audit_entries"))
    assert log.append(_decide()).seq == 1  # no gap left behind by the failure
    log.stop()


def test_append_async_many_coroutines_each_get_their_committed_entry(engine):
    log = _started(engine)

    async def main() -> list[AuditEntry]:
        entries = await asyncio.gather(*(log.append_async(_decide()) for _ in range(300)))
        await asyncio.sleep(0.2)  # a sweep of the commit deadlines passes
        assert not log._deadlines._waiting  # nothing committed is still watched
        return entries

    entries = asyncio.run(main())
    log.stop()
    assert sorted(e.seq for e in entries) == list(range(300))


def test_append_async_fails_after_the_timeout_when_nothing_commits(engine):
    log = AuditLog(engine, commit_timeout=0.3)
    log.load()  # not started: nothing will commit

    async def main() -> float:
        started = time.monotonic()
        results = await asyncio.gather(*(log.append_async(_decide()) for _ in range(3)), return_exceptions=True)
        assert all(isinstance(r, AuditUnavailable) and "not committed in time" in str(r) for r in results)
        return time.monotonic() - started

    waited = asyncio.run(main())
    assert 0.3 <= waited < 1.0


def test_a_failing_decision_fails_only_its_caller(engine):
    log = _started(engine)

    def broken(slot: Slot) -> AuditEntry:
        raise RuntimeError("policy blew up")

    def too_early(slot: Slot) -> AuditEntry:
        return replace(_decide()(slot), time=slot.not_before - timedelta(seconds=1))

    assert log.append(_decide()).seq == 0
    with pytest.raises(AuditUnavailable, match="policy blew up"):
        log.append(broken)
    with pytest.raises(AuditUnavailable, match="must not precede"):
        log.append(too_early)
    assert log.append(_decide()).seq == 1
    log.stop()


def test_integration_builds_tiles_and_a_signed_checkpoint_of_the_committed_log(engine, signer):
    log = _started(engine)
    _hammer([log], 100, 3, lambda i: _decide())
    lease = Lease(engine, "integrator", "instance-a")
    assert lease.hold()
    integrator = Integrator(engine, lease, signer, ORIGIN, chunk=128)
    sizes = []
    checkpoint = integrator.integrate_all(progress=sizes.append)
    assert sizes == [128, 256, 300] and checkpoint.size == 300
    expected = MerkleTree(_leaf_hashes(engine))
    assert log.head() == (300, expected.root())
    assert Checkpoint.parse(open_note(log.checkpoint_note(), [signer.verifier]), ORIGIN) == checkpoint
    assert log.inclusion_proof(17, 300) == expected.inclusion_proof(17, 300)
    assert log.consistency_proof(128, 300) == expected.consistency_proof(128, 300)
    assert log.root(256) == expected.root(256)

    _hammer([log], 10, 1, lambda i: _decide())
    log.stop()
    # A new leader (another process) continues from the stored tiles alone.
    lease.release()
    successor = Lease(engine, "integrator", "instance-b")
    assert successor.hold() and successor.term == 2
    assert Integrator(engine, successor, signer, ORIGIN).integrate_once().size == 310
    assert log.head() == (310, MerkleTree(_leaf_hashes(engine)).root())


def test_only_the_lease_holder_integrates_and_a_deposed_one_is_fenced(engine, signer):
    log = _started(engine)
    log.append(_decide())
    first = Lease(engine, "integrator", "a", ttl=0.2)
    second = Lease(engine, "integrator", "b", ttl=0.2)
    assert first.hold() and not second.hold()
    stale = Integrator(engine, first, signer, ORIGIN)
    time.sleep(0.3)  # "a" stops renewing (hung, or dead): its lease lapses
    assert second.hold()
    with pytest.raises(LeaseLost):
        stale.integrate_once()
    assert log.head()[0] == 0  # nothing written under the lost lease
    assert Integrator(engine, second, signer, ORIGIN).integrate_once().size == 1
    log.stop()


def test_integration_refuses_a_log_with_a_gap(engine, signer):
    log = _started(engine)
    for _ in range(3):
        log.append(_decide())
    log.stop()
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_entries WHERE seq = 1"))
    lease = Lease(engine, "integrator", "a")
    lease.hold()
    with pytest.raises(RuntimeError, match="gap at seq 1"):
        Integrator(engine, lease, signer, ORIGIN).integrate_once()
    assert log.head()[0] == 0


def test_load_takes_the_newest_time_of_a_log_migrated_without_one(engine):
    log = _started(engine)
    last = _hammer([log], 3, 1, lambda i: _decide())[-1]
    log.stop()
    with engine.begin() as connection:  # as migration 0006 leaves an older log
        connection.execute(text("UPDATE audit_sequence SET last_time_ms = 0"))
    reloaded = _started(engine)
    floors = []

    def decide(slot: Slot) -> AuditEntry:
        floors.append(slot.not_before)
        return _decide()(slot)

    assert reloaded.append(decide).seq == 3
    reloaded.stop()
    assert floors == [last.time]
