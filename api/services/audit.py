"""Audit log reads: entries, inclusion proofs against anchored heads, anchors, verification jobs, and
the log as C2SP tlog-tiles (checkpoint, tiles, entry bundles)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.core.security import Principal
from api.schemas.audit import InclusionProof, VerificationJob
from api.schemas.common import iso
from ledger import domain_errors as refused
from ledger.audit.bundle import TlogProof, make_bundle
from ledger.audit.entry import decode_leaf
from ledger.audit.jobs import JobParams, alive, claim_job, spawn_job, stored_time
from ledger.audit.log import AuditLog
from ledger.audit.note import Checkpoint, NoteSigner
from ledger.audit.tiles import TILE_HEIGHT, TILE_WIDTH, parse_tile_path
from ledger.chain.client import Chain
from ledger.domain import Role
from ledger.exceptions import TreeRangeError
from ledger.projection_tables import TableProjection
from ledger.settings import Settings
from ledger.storage.models import AnchorRow, AuditEntryRow, ResourceRow, VerificationJobRow

class AuditService:
    def __init__(self, *, chain: Chain, sessions: sessionmaker[Session], projection: TableProjection, audit: AuditLog,
                 log_signer: NoteSigner, settings: Settings):
        self._chain = chain
        self._log_signer = log_signer
        self._sessions = sessions
        self._projection = projection
        self._audit = audit
        self._settings = settings

    def _own_subjects(self, principal: Principal) -> set[str]:
        return self._projection.subjects_of_signer(principal.address)

    def entries(self, principal: Principal, *, after: int, limit: int, mine_only: bool = False) -> list[dict]:
        query = select(AuditEntryRow.leaf).where(AuditEntryRow.seq > after).order_by(AuditEntryRow.seq).limit(limit)
        if mine_only or not principal.has(Role.REGULATOR):
            subjects = self._own_subjects(principal)
            if not subjects:
                raise refused.RoleRequired("audit entries are for regulators and for the subjects they are about")
            query = query.where(AuditEntryRow.subject_id.in_(subjects))
        with self._sessions() as session:
            leaves = session.scalars(query).all()
        out = []
        for leaf in leaves:
            entry = decode_leaf(leaf).as_dict()
            entry["requester_name"] = getattr(self._projection.department(entry["requester"]), "name", None)
            entry["proof"] = f"/v1/audit/entries/{entry['seq']}/proof"
            out.append(entry)
        return out

    def _entry_and_anchor(self, principal: Principal, seq: int) -> tuple[AuditEntryRow, AnchorRow | None]:
        """The entry, for a regulator or its subject's signer, and the newest anchored head covering it."""
        with self._sessions() as session:
            row = session.get(AuditEntryRow, seq)
            anchor = session.scalar(select(AnchorRow).where(AnchorRow.tree_size > seq)
                                    .order_by(AnchorRow.tree_size.desc()).limit(1))
        if row is None:
            raise refused.NotFound("no committed audit entry with this seq")
        if not principal.has(Role.REGULATOR) and row.subject_id not in self._own_subjects(principal):
            raise refused.Forbidden("this entry is not about a subject you sign for")
        return row, anchor

    def bundle(self, principal: Principal, seq: int) -> dict:
        """The entry's offline proof bundle (:mod:`ledger.audit.bundle`), once an anchored tree head
        covers it: the checkpoint in it is the log's signed note of that head (Ed25519 signatures are
        deterministic, so it is the note the log signed at that size)."""
        row, anchor = self._entry_and_anchor(principal, seq)
        if anchor is None:
            raise refused.NotFound("this audit entry is not yet covered by an anchored tree head; ask again in a "
                                   "few seconds")
        size = anchor.tree_size
        note = Checkpoint(self._log_signer.name, size, self._audit.root(size)).sign(self._log_signer)
        proof = TlogProof(seq, tuple(self._audit.inclusion_proof(seq, size)), note)
        return make_bundle(bytes(row.leaf), proof, chain_id=self._chain.chain_id,
                           audit_anchor=self._chain.contract("AuditAnchor").address, tx_hash=anchor.tx_hash,
                           block_number=anchor.block_number)

    def proof(self, principal: Principal, seq: int) -> InclusionProof:
        row, anchor = self._entry_and_anchor(principal, seq)
        size = anchor.tree_size if anchor else self._audit.head()[0]
        if seq >= size:
            raise refused.NotFound("this audit entry is committed but not yet in the log's tree; ask again in a moment")
        path = self._audit.inclusion_proof(seq, size)
        return InclusionProof(
            leaf_index=seq, tree_size=size, leaf_hash="0x" + row.leaf_hash.hex(), leaf=row.leaf.decode(),
            audit_path=["0x" + h.hex() for h in path], root_hash="0x" + self._audit.root(size).hex(),
            anchor={"tx_hash": anchor.tx_hash, "block_number": anchor.block_number,
                    "contract": self._chain.contract("AuditAnchor").address} if anchor else None)

    def anchors(self, *, after: int, limit: int) -> list[dict]:
        with self._sessions() as session:
            rows = session.scalars(select(AnchorRow).where(AnchorRow.tree_size > after)
                                   .order_by(AnchorRow.tree_size).limit(limit)).all()
        return [{"tree_size": r.tree_size, "root_hash": r.root_hash, "tx_hash": r.tx_hash,
                 "block_number": r.block_number, "anchored_at": iso(r.anchored_at)} for r in rows]

    # -- verification jobs ---------------------------------------------------------------------------
    def start_verification(self, *, full: bool = False) -> VerificationJob:
        """A new job, started in a process of its own; or the job already queued or running (one at a
        time, across instances).

        ``full``: from the empty state (every entry again), not from the last verified tree head."""
        row, created = claim_job(self._sessions, full=full)
        if created:
            settings = self._settings
            spawn_job(JobParams(row.job_id, str(settings.data_dir), settings.database_url, settings.rpc_url,
                                settings.max_anchor_lag_seconds, full))
        return _job(row)

    def verification(self, job_id: str) -> VerificationJob:
        with self._sessions() as session:
            row = session.get(VerificationJobRow, job_id)
        if row is None:
            raise refused.VerificationJobNotFound("no verification job with this id")
        if row.status in ("queued", "running") and not alive(row, dt.datetime.now(dt.timezone.utc)):
            row.status, row.error = "failed", "the verifying process stopped without a report"
        return _job(row)

    # -- the log as tlog-tiles (c2sp.org/tlog-tiles) -------------------------------------------------
    def public_identity(self) -> dict:
        """What a client needs to check checkpoints alone: the chain, the log's origin and its note verifier key."""
        return {"chain_id": self._chain.chain_id, "log_origin": self._log_signer.name,
                "log_key": self._log_signer.verifier.encode()}

    def checkpoint(self) -> str:
        note = self._audit.checkpoint_note()
        if note is None:
            raise refused.NotFound("the log has no checkpoint yet")
        return note

    def tile(self, path: str) -> bytes:
        """A hash tile (``tile/<L>/<N>[.p/<W>]``) of the tree as of the latest checkpoint."""
        level, index, width = self._tile_address(path)
        if level is None:
            raise refused.NotFound("entry bundles are served at /log/tile/entries/..., to regulators")
        data = self._audit.tile(level, index)
        if data is None or len(data) < width * 32:
            raise refused.NotFound(f"no tile {path} in the log as of its latest checkpoint")
        return data[:width * 32]

    def entry_bundle(self, path: str) -> bytes:
        """An entry bundle (``tile/entries/<N>[.p/<W>]``): each leaf behind a big-endian uint16 length."""
        level, index, width = self._tile_address(path)
        if level is not None:
            raise refused.NotFound(f"not an entry bundle: {path}")
        start = index * TILE_WIDTH
        with self._sessions() as session:
            leaves = session.scalars(select(AuditEntryRow.leaf).where(
                AuditEntryRow.seq >= start, AuditEntryRow.seq < start + width).order_by(AuditEntryRow.seq)).all()
        if len(leaves) != width:
            raise refused.NotFound(f"no entry bundle {path} in the log as of its latest checkpoint")
        return b"".join(len(leaf).to_bytes(2, "big") + leaf for leaf in leaves)

    def _tile_address(self, path: str) -> tuple[int | None, int, int]:
        """Level, index and width of a canonical tile path within the latest checkpoint; 404 otherwise."""
        try:
            level, index, width = parse_tile_path(path)
        except TreeRangeError as exc:
            raise refused.NotFound(str(exc)) from None
        size = self._audit.head()[0]
        count = size >> (TILE_HEIGHT * (level or 0))  # hashes the checkpoint's tree has at this level
        if index * TILE_WIDTH + width > count:  # a partial tile stays servable after it fills: a prefix
            raise refused.NotFound(f"no {path} in the log as of its latest checkpoint (size {size})")
        return level, index, width


def _job(row: VerificationJobRow) -> VerificationJob:
    return VerificationJob(job_id=row.job_id, status=row.status, full=row.full, entries_checked=row.entries_done,
                           entries_total=row.entries_total, from_size=row.from_size,
                           created_at=iso(stored_time(row.created_at)), finished_at=iso(stored_time(row.finished_at)),
                           report=row.report, error=row.error)
