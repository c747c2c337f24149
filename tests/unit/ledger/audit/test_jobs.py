"""Verification jobs: one queued or running at a time, across instances sharing the database."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import update

from ledger.audit.jobs import JOB_SILENCE, claim_job
from ledger.storage.database import make_engine, make_sessionmaker, migrate
from ledger.storage.models import VerificationJobRow

pytestmark = pytest.mark.unit


@pytest.fixture(params=["sqlite", "postgresql"])
def sessions(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'jobs.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    migrate(engine)
    yield make_sessionmaker(engine)
    with engine.begin() as connection:  # the PostgreSQL database is shared by the tests
        connection.execute(VerificationJobRow.__table__.delete())
    engine.dispose()


def test_claim_job_returns_the_active_job_while_it_is_alive(sessions):
    first, created = claim_job(sessions, full=False)
    assert created and first.status == "queued"
    again, created = claim_job(sessions, full=True)
    assert not created and again.job_id == first.job_id


def test_claim_job_replaces_a_job_not_heard_from(sessions):
    dead, _ = claim_job(sessions, full=False)
    with sessions.begin() as session:
        session.execute(update(VerificationJobRow).where(VerificationJobRow.job_id == dead.job_id).values(
            heartbeat_at=dt.datetime.now(dt.timezone.utc) - JOB_SILENCE - dt.timedelta(seconds=1)))
    fresh, created = claim_job(sessions, full=False)
    assert created and fresh.job_id != dead.job_id
    with sessions() as session:
        old = session.get(VerificationJobRow, dead.job_id)
    assert old.status == "failed" and old.active is None and "stopped" in old.error


def test_claim_job_after_the_job_ended_starts_a_new_one(sessions):
    done, _ = claim_job(sessions, full=False)
    with sessions.begin() as session:  # what the job's process writes when it finishes
        session.execute(update(VerificationJobRow).where(VerificationJobRow.job_id == done.job_id)
                        .values(status="done", active=None))
    fresh, created = claim_job(sessions, full=False)
    assert created and fresh.job_id != done.job_id


def test_claim_job_from_many_instances_at_once_creates_one_job(sessions):
    results, errors = [], []
    barrier = threading.Barrier(8)

    def claim() -> None:
        barrier.wait()
        try:
            results.append(claim_job(sessions, full=False))
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert sum(created for _, created in results) == 1
    assert len({row.job_id for row, _ in results}) == 1
