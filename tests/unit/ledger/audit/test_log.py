"""The durable audit log: gap-free seqs under concurrency, group commits, failing closed."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from ledger.audit.entry import AuditEntry
from ledger.audit.log import AuditLog, AuditUnavailable
from ledger.audit.tree import MerkleTree
from ledger.storage.database import make_engine, make_sessionmaker, migrate

pytestmark = pytest.mark.unit

REQUESTER = "0x" + "ab" * 20
SUBJECT = "0x" + "01" * 32
CONSENT = "0x" + "02" * 32


@pytest.fixture()
def sessions(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'audit.db'}")
    migrate(engine)
    yield make_sessionmaker(engine)
    engine.dispose()


def _decide(allow: bool = True):
    def decide(seq, uses):
        return AuditEntry(seq=seq, time=datetime.now(UTC), requester=REQUESTER, subject_id=SUBJECT,
                          resource="hrss.social_insurance", purpose="p", consent_id=CONSENT if allow else None,
                          decision="ALLOW" if allow else "DENY", reason="OK" if allow else "NO_CONSENT",
                          fields=("name",), block_number=7, payload_hash=("0x" + "03" * 32) if allow else None)
    return decide


def test_concurrent_appends_get_gap_free_seqs_and_one_tree(sessions):
    log = AuditLog(sessions)
    log.load()
    log.start()
    seqs: list[int] = []
    lock = threading.Lock()

    def worker():
        for i in range(50):
            entry = log.append(_decide(allow=i % 3 != 0))
            with lock:
                seqs.append(entry.seq)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    log.stop()
    assert sorted(seqs) == list(range(400))
    assert log.uses[CONSENT] == sum(1 for i in range(50) if i % 3 != 0) * 8

    # A restart rebuilds the same tree and use counts from the database alone.
    reloaded = AuditLog(sessions)
    reloaded.load()
    assert reloaded.size == 400 and reloaded.root() == log.root()
    assert reloaded.uses == log.uses
    with sessions() as session:
        hashes = [h for (h,) in session.execute(text("SELECT leaf_hash FROM audit_entries ORDER BY seq"))]
    assert MerkleTree(hashes).root() == log.root()


def test_a_failed_commit_fails_the_caller_and_frees_the_seq(sessions):
    log = AuditLog(sessions, commit_timeout=5)
    log.load()
    log.start()
    assert log.append(_decide()).seq == 0
    with sessions.begin() as session:  # the table disappears: the next commit cannot land
        session.execute(text("ALTER TABLE audit_entries RENAME TO audit_entries_gone"))
    with pytest.raises(AuditUnavailable):
        log.append(_decide())
    assert log.uses[CONSENT] == 1 and log.size == 1
    with sessions.begin() as session:
        session.execute(text("ALTER TABLE audit_entries_gone RENAME TO audit_entries"))
    assert log.append(_decide()).seq == 1  # no gap left behind by the failure
    log.stop()


def test_load_refuses_a_log_with_a_gap(sessions):
    log = AuditLog(sessions)
    log.load()
    log.start()
    for _ in range(3):
        log.append(_decide())
    log.stop()
    with sessions.begin() as session:
        session.execute(text("DELETE FROM audit_entries WHERE seq = 1"))
    with pytest.raises(AuditUnavailable, match="gap at seq 1"):
        AuditLog(sessions).load()
