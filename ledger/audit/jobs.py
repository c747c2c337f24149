"""Verification jobs: an incremental re-verification of the stored log, run in a process of its own.

The API inserts a :class:`~ledger.storage.models.VerificationJobRow` and starts
``python -m ledger.audit.jobs`` with the job's parameters on stdin (nothing secret on the command
line). That process lowers its priority, verifies the entries the job's state file has not seen
(:func:`ledger.audit.incremental.verify_in_runs`; the state lives under the data dir and moves on
only after an OK run), and writes its progress, a heartbeat and finally the report into the row,
so any instance sharing the database can answer a poll. Being another process, it never holds the
serving process's GIL, and on a busy host the scheduler serves the release path first.

:func:`read_stored_log` is also how ``consent-ledger audit verify --database`` reads the log.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from ledger.audit.incremental import InvalidState, StateMismatch, VerifierState, verify_in_runs
from ledger.audit.integrate import latest_checkpoint
from ledger.audit.tiles import TiledTree
from ledger.audit.tilestore import TileReader
from ledger.chain.client import Chain, Deployment, deployment_path
from ledger.exceptions import LedgerError
from ledger.storage.database import make_engine
from ledger.storage.models import AuditEntryRow, ResourceRow, VerificationJobRow

__all__ = ["HEARTBEAT_SECONDS", "JOB_SILENCE", "JobParams", "STATE_FILE", "StoredLeafHashes", "StoredLeaves", "alive",
           "claim_job", "read_stored_log", "run_job", "spawn_job", "stored_time"]

#: How often a running job renews its heartbeat; a job silent for 10 times this is taken as dead.
HEARTBEAT_SECONDS = 2.0
#: A queued or running job whose process has not been heard from for this long has died.
JOB_SILENCE = dt.timedelta(seconds=10 * HEARTBEAT_SECONDS)
#: The API's own verifier state, under the data dir.
STATE_FILE = "verifier-state.json"
_JOBS = VerificationJobRow.__table__
_NICENESS = 10


@dataclass(frozen=True, slots=True)
class JobParams:
    job_id: str
    data_dir: str
    database_url: str
    rpc_url: str
    max_anchor_lag: float
    full: bool = False


class _Stored(Sequence[bytes]):
    """Seqs ``start`` to ``end - 1`` of something stored per entry, read from the database a slice
    at a time, so a verification of the whole log holds one run of it
    (:func:`~ledger.audit.incremental.verify_in_runs`)."""

    def __init__(self, start: int, end: int):
        self._start, self._end = start, max(start, end)

    def __len__(self) -> int:
        return self._end - self._start

    def __getitem__(self, item):
        if isinstance(item, slice):
            first, last, step = item.indices(len(self))
            if step != 1:
                raise ValueError("the stored log is read in runs: a slice with a step is not supported")
            return self._read(self._start + first, self._start + last) if last > first else []
        index = item + len(self) if item < 0 else item
        if not 0 <= index < len(self):
            raise IndexError(f"seq {self._start + index} is not in {self._start}..{self._end - 1}")
        return self._read(self._start + index, self._start + index + 1)[0]

    def _read(self, first: int, last: int) -> list[bytes]:
        raise NotImplementedError


class StoredLeaves(_Stored):
    """The committed leaves of seqs ``start`` to ``end - 1``."""

    def __init__(self, engine: Engine, start: int, end: int):
        super().__init__(start, end)
        self._engine = engine

    def _read(self, first: int, last: int) -> list[bytes]:
        with self._engine.connect() as connection:
            return [bytes(leaf) for leaf in connection.scalars(
                select(AuditEntryRow.leaf).where(AuditEntryRow.seq >= first, AuditEntryRow.seq < last)
                .order_by(AuditEntryRow.seq))]


class StoredLeafHashes(_Stored):
    """The committed leaf hashes of seqs ``start`` to ``size - 1`` (the signed checkpoint's size),
    from the level-0 tiles."""

    def __init__(self, engine: Engine, start: int, size: int):
        super().__init__(start, size)
        self._tree = TiledTree(TileReader(engine))

    def _read(self, first: int, last: int) -> list[bytes]:
        return self._tree.leaf_hashes(first, last)


def read_stored_log(engine: Engine, start: int) -> tuple[StoredLeaves, StoredLeafHashes, dict[str, list[str]]]:
    """Leaves from seq ``start`` on, as committed when called; the committed leaf hashes of those the
    tiles hold; and the resources' field lists, from the database. The leaves and hashes are read
    when sliced."""
    with engine.connect() as connection:
        last = connection.scalar(select(func.max(AuditEntryRow.seq)))
        fields = {r.resource_id: list(r.fields) for r in connection.execute(select(ResourceRow.resource_id,
                                                                                  ResourceRow.fields))}
        checkpoint = latest_checkpoint(connection)
    size = checkpoint[0] if checkpoint else 0
    end = 0 if last is None else last + 1
    return StoredLeaves(engine, start, end), StoredLeafHashes(engine, start, size), fields


def claim_job(sessions: sessionmaker[Session], *, full: bool) -> tuple[VerificationJobRow, bool]:
    """The one active job: ``(row, False)`` for the job already queued or running, else a new
    queued one, ``(row, True)``, whose process the caller starts. A job that is not
    :func:`alive` is marked failed. Across instances the unique ``active`` column decides: of
    two inserting at once, the second gets the first's job."""
    now = _now()
    try:
        with sessions.begin() as session:
            row = session.scalars(select(VerificationJobRow).where(VerificationJobRow.active == 1)).first()
            if row is not None:
                if alive(row, now):
                    return row, False
                row.status, row.finished_at, row.active = "failed", now, None
                row.error = "the verifying process stopped without a report"
                session.flush()  # the active slot is free before the new job takes it
            row = VerificationJobRow(job_id=uuid.uuid4().hex, active=1, status="queued", entries_done=0,
                                     entries_total=0, full=full, from_size=0, created_at=now, heartbeat_at=now)
            session.add(row)
        return row, True
    except IntegrityError:
        with sessions() as session:
            row = session.scalars(select(VerificationJobRow).where(VerificationJobRow.active == 1)).first()
        if row is None:  # the other instance's job ended in between: nothing to wait for
            raise
        return row, False


def alive(row: VerificationJobRow, now: dt.datetime) -> bool:
    """Whether a queued or running job's process was heard from within ``JOB_SILENCE``."""
    return now - stored_time(row.heartbeat_at) < JOB_SILENCE


def stored_time(moment: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands timestamps back without their zone; they were written in UTC."""
    return moment.replace(tzinfo=dt.timezone.utc) if moment is not None and moment.tzinfo is None else moment


def spawn_job(params: JobParams) -> subprocess.Popen:
    """Start the job's process; it reports through the job's row, so nobody needs to wait for it
    (a thread reaps it)."""
    process = subprocess.Popen([sys.executable, "-m", "ledger.audit.jobs"], stdin=subprocess.PIPE,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    process.stdin.write(json.dumps(asdict(params)).encode())
    process.stdin.close()
    threading.Thread(target=process.wait, name=f"verification-{params.job_id}", daemon=True).start()
    return process


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def run_job(params: JobParams) -> None:
    engine = make_engine(params.database_url)
    where = _JOBS.c.job_id == params.job_id

    def write(**values) -> None:
        with engine.begin() as connection:
            connection.execute(update(_JOBS).where(where).values(heartbeat_at=_now(), **values))

    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(HEARTBEAT_SECONDS):
            write()

    heart = threading.Thread(target=beat, daemon=True)
    chain = None
    try:
        state_path = Path(params.data_dir) / STATE_FILE
        chain = Chain(params.rpc_url, deployment=Deployment.load(deployment_path(Path(params.data_dir))))
        state = VerifierState.empty(chain)
        if state_path.exists() and not params.full:
            try:
                state = VerifierState.load(state_path)
                state.check_log(chain)
            except (InvalidState, StateMismatch):
                state = VerifierState.empty(chain)  # the API's own state, of an older deployment: start over
        anchors_until = chain.block_number()  # before the leaves: every anchor then covers leaves we read
        leaves, reference, fields = read_stored_log(engine, state.size)
        write(status="running", from_size=state.size, entries_total=len(leaves))
        heart.start()
        last = [0.0]

        def progress(done: int) -> None:
            if time.monotonic() - last[0] >= 0.5:
                last[0] = time.monotonic()
                write(entries_done=done)

        report, new_state = verify_in_runs(chain, state, leaves, fields, reference_hashes=reference,
                                             max_anchor_lag=params.max_anchor_lag, anchors_until=anchors_until,
                                             progress=progress)
        if new_state is not None:
            new_state.save(state_path)
        stop.set()
        write(status="done", active=None, entries_done=len(leaves), finished_at=_now(),
              report=report.as_dict() | {"from_size": state.size,
                                         "verified_size": (new_state or state).size})
    except (LedgerError, SQLAlchemyError, OSError, ValueError) as exc:
        stop.set()
        write(status="failed", active=None, finished_at=_now(), error=f"the verification could not finish: {exc}")
    finally:
        stop.set()
        if chain is not None:
            chain.close()
        engine.dispose()


def main() -> None:
    os.nice(_NICENESS)
    run_job(JobParams(**json.loads(sys.stdin.buffer.read())))


if __name__ == "__main__":
    main()
