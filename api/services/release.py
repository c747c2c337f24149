"""The release path: policy inputs at a known block → decision → durable audit entry → data.

Nothing leaves without both a decision against chain state no older than a head read after the
request arrived (:meth:`ledger.indexer.Indexer.fresh_state`) and a committed audit entry. The
decision's inputs come from :func:`ledger.policy_inputs.gather`, as the regulator's re-check's
do. Any failure on the way raises, and nothing is released; so does a query while anchoring lags
behind its bound (:class:`~ledger.domain_errors.AnchorLag`).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from api.core.metrics import DECISIONS, RELEASE_SECONDS
from api.core.security import Principal
from api.schemas.records import RecordQuery, RecordStored, RecordUpsert
from api.services.catalog import ResourceFields
from ledger import domain_errors as refused, policy, policy_inputs
from ledger.audit.anchoring import Anchorer
from ledger.audit.entry import AuditEntry, encode_leaf, payload_hash
from ledger.audit.hasher import hash_leaf
from ledger.audit.log import AuditLog, Slot
from ledger.identity import subject_id as make_subject_id
from ledger.indexer import Indexer
from ledger.storage.models import RecordRow
from ledger.storage.sealing import RecordSealer

REASON_MESSAGES = {
    "NOT_DEPARTMENT": "the requester is not an active government department",
    "UNKNOWN_RESOURCE": "no such catalog resource",
    "RESOURCE_INACTIVE": "the resource is not active",
    "UNKNOWN_SUBJECT": "no subject is registered for this ID number",
    "UNKNOWN_FIELD": "the resource has no such field",
    "NOT_SHARED": "this resource is not shared (不予共享)",
    "NO_AGREEMENT": "a conditional resource needs an approved, unexpired sharing agreement for this purpose "
                    "covering these fields",
    "AGREEMENT_ENDED": "the provider (or the data authority) ended the sharing agreement for this purpose",
    "NO_EMERGENCY": "no such emergency has been declared on the green channel",
    "OUTSIDE_EMERGENCY_SCOPE": "the emergency does not cover this department, resource or subject",
    "EMERGENCY_NOT_IN_FORCE": "the emergency is not in force (it has ended, or not begun)",
    "SUSPENDED": "the provider suspended this department's access to the resource (暂停或者终止提供, 第十九条)",
    "NO_CONSENT": "the subject has not consented to this release",
    "REVOKED": "the subject revoked this consent",
    "ENDED_BY_REGULATOR": "a regulator ended this consent after finding it abused",
    "EXPIRED": "the consent has expired",
    "NOT_YET_VALID": "the consent is not valid yet",
    "PURPOSE_MISMATCH": "the consent was given for another purpose",
    "FIELD_NOT_GRANTED": "the consent does not cover all requested fields",
    "USES_EXHAUSTED": "the consent's uses are used up",
    "NO_RECORD": "the provider holds no record for this subject",
}


def _no_uses_counted(consent_id: str) -> int:
    return 0


@dataclass(frozen=True, slots=True)
class QueryOutcome:
    """An audited decision: the entry, and on a release the data and the salt of its payload hash."""

    entry: AuditEntry
    data: dict | None = None
    payload_salt: bytes | None = None

    @property
    def released(self) -> bool:
        return self.entry.allowed

    @property
    def leaf_hash(self) -> bytes:
        """The entry's leaf hash, the receipt a department keeps: the log's tree commits to it."""
        return hash_leaf(encode_leaf(self.entry))

    @property
    def message(self) -> str:
        """Why nothing was released, for people."""
        return REASON_MESSAGES.get(self.entry.reason, self.entry.reason)


class ReleaseService:
    def __init__(self, *, pepper: bytes, salt_key: bytes, indexer: Indexer, audit: AuditLog, anchorer: Anchorer,
                 max_anchor_lag_seconds: float, resources: ResourceFields, engine: Engine,
                 sessions: sessionmaker[Session], sealer: RecordSealer):
        self._pepper = pepper
        self._salt_key = salt_key
        self._indexer = indexer
        self._projection = indexer.projection
        self._audit = audit
        self._anchorer = anchorer
        self._max_anchor_lag_seconds = max_anchor_lag_seconds
        self._resources = resources
        self._engine = engine
        self._sessions = sessions
        self._sealer = sealer
        self._reader = None  # DBAPI connection of the event loop thread, opened on first query
        self._read_sql = ""

    def _subject_id(self, id_type, id_number: str) -> str:
        return "0x" + make_subject_id(self._pepper, id_type, id_number).hex()

    def payload_salt(self, seq: int) -> bytes:
        """Per-entry salt for the released payload's hash, reproducible by the platform only."""
        return hmac.new(self._salt_key, f"audit-payload:{seq}".encode(), hashlib.sha256).digest()

    # -- the provider's writes -------------------------------------------------------------------
    def upsert_record(self, principal: Principal, resource_id: str, body: RecordUpsert) -> RecordStored:
        meta, state = self._resources.require(resource_id, self._projection)
        if state.provider != principal.address:
            raise refused.NotProvider("only the resource's provider department may write its records")
        self._resources.require(resource_id, self._projection, body.data)
        sid = self._subject_id(body.id_type, body.id_number)
        with self._sessions.begin() as session:
            row = session.get(RecordRow, (resource_id, sid))
            sealed = self._sealer.seal(resource_id, sid, body.data)
            if row is None:
                row = RecordRow(resource_id=resource_id, subject_id=sid, sealed_fields={}, version=0)
                session.add(row)
            row.version += 1
            row.sealed_fields = {**row.sealed_fields, **sealed}
            row.updated_by, row.updated_at = principal.address, datetime.now(UTC)
            fields, version = sorted(row.sealed_fields), row.version
        return RecordStored(resource_id=resource_id, subject_id=sid, fields=fields, version=version)

    # -- the release path ------------------------------------------------------------------------
    async def query(self, principal: Principal, body: RecordQuery) -> QueryOutcome:
        """Decide and audit one query on the event loop: nothing here blocks for long (the chain
        head comes over an async connection, the audit commit resolves a future), so no thread
        pool hop and no thread contention per request."""
        started = time.perf_counter()
        self._check_anchoring()
        sid = self._subject_id(body.id_type, body.id_number)
        requested = tuple(sorted(set(body.fields)))
        request = policy.Request(requester=principal.address, subject_id=sid, resource_id=body.resource_id,
                                 fields=requested, purpose=body.purpose, emergency_id=body.emergency_id)
        await self._indexer.fresh_state_async()
        inputs = self._policy_inputs(request)
        # A first evaluation outside the audit lock decides whether to open the record at all. It
        # counts no uses, which saves a database read per request: the exact counts are read under
        # the sequence lock (``_entry``), and a record opened for a consent found used up there is
        # dropped, never released.
        data = None
        if inputs.evaluate(int(time.time()), _no_uses_counted).allowed:
            data = self._open_record(body.resource_id, sid, requested)
        entry = await self._audit.append_async(lambda slot: self._entry(slot, inputs, data),
                                               cites=[c.consent_id for c in inputs.consents])
        DECISIONS.labels(entry.decision, entry.reason).inc()
        RELEASE_SECONDS.observe(time.perf_counter() - started)
        if entry.allowed:
            return QueryOutcome(entry, data, self.payload_salt(entry.seq))
        return QueryOutcome(entry)

    def _check_anchoring(self) -> None:
        """Fail closed when anchoring has stopped (DESIGN §1.4): no decision, no entry, no data."""
        lag = self._anchorer.lag_seconds()
        if lag > self._max_anchor_lag_seconds:
            raise refused.AnchorLag(f"audit entries have waited {lag:.1f} s for an on-chain anchor (bound "
                                    f"{self._max_anchor_lag_seconds:g} s); nothing is released until anchoring "
                                    f"catches up")

    def _policy_inputs(self, request: policy.Request) -> policy_inputs.PolicyInputs:
        """Everything the decision needs from the chain state, copied in one consistent read."""
        meta = self._resources.by_slug.get(request.resource_id)
        fields = meta.fields if meta else None
        # The chain as of one block, no older than the one the indexer was brought to.
        return self._projection.read(lambda state: policy_inputs.gather(state, request, fields))

    def _entry(self, slot: Slot, inputs: policy_inputs.PolicyInputs, data: dict | None) -> AuditEntry:
        """The decision and its audit entry, made in the transaction that sequences it: the use counts
        are the stored ones under the sequence lock (exact across instances), and the entry's instant
        is taken here, so times follow seq. The cited block was mined before this instant; a
        successor, if mined already, only since the state was read (the verifier allows 2 s for that
        and the whole-second block timestamps)."""
        seq = slot.seq
        moment = self._stamp(slot.not_before)
        decision = inputs.evaluate(int(moment.timestamp()), slot.uses)
        allowed = decision.allowed and data is not None
        reason = decision.reason.value if not decision.allowed else ("OK" if data is not None else "NO_RECORD")
        request = inputs.request
        return AuditEntry(
            seq=seq, time=moment, requester=request.requester, subject_id="0x" + request.subject_id.hex(),
            resource=request.resource_id, purpose=request.purpose, consent_id=decision.consent_id,
            decision="ALLOW" if allowed else "DENY", reason=reason, fields=request.fields,
            block_number=inputs.block_number,
            payload_hash=payload_hash(self.payload_salt(seq), data) if allowed else None,
            emergency_id=request.emergency_id, disputed=decision.disputed if allowed else ())

    @staticmethod
    def _stamp(not_before: datetime) -> datetime:
        """Now, to the millisecond the leaf keeps (so the regulator re-evaluates at exactly the time
        this decision used), and never before the previous entry's, whichever instance wrote it: a
        clock stepped back, or a slower one, must not turn the log's times back."""
        moment = datetime.now(UTC)
        moment = moment.replace(microsecond=moment.microsecond - moment.microsecond % 1000)
        return max(moment, not_before)

    def _open_record(self, resource_id: str, sid: str, fields: tuple[str, ...]) -> dict | None:
        # The event loop's own DBAPI connection and one cached statement: a primary-key read is
        # tens of microseconds, which the ORM or even Core would multiply.
        if self._reader is None:
            self._reader = self._engine.raw_connection()
            mark = "?" if self._engine.dialect.paramstyle == "qmark" else "%s"
            self._read_sql = (f"SELECT sealed_fields FROM {RecordRow.__tablename__} "
                              f"WHERE resource_id = {mark} AND subject_id = {mark}")
        cursor = self._reader.cursor()
        try:
            cursor.execute(self._read_sql, (resource_id, sid))
            row = cursor.fetchone()
        finally:
            cursor.close()
        self._reader.commit()  # end the read transaction: later reads must see later writes
        if row is None:
            return None
        sealed = row[0] if isinstance(row[0], dict) else orjson.loads(row[0])
        return self._sealer.open(resource_id, sid, sealed, fields)
