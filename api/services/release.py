"""The release path: authenticate → policy at a known block → durable audit entry → data.

Nothing leaves without both a decision against chain state no older than a head read after the
request arrived (:meth:`ledger.indexer.Indexer.fresh_state`) and a committed audit entry. The
decision's inputs come from :func:`ledger.policy_inputs.gather`, as the regulator's re-check's
do. Any failure on the way raises, and the route answers 503 with no data; so does a query while
anchoring lags behind its bound (``ANCHOR_LAG``).
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import orjson

from api.core.errors import ApiError
from api.core.metrics import DECISIONS, RELEASE_SECONDS
from api.core.security import Principal
from api.schemas.records import RecordQuery, RecordUpsert
from ledger import policy, policy_inputs
from ledger.audit.entry import AuditEntry, payload_hash
from ledger.identity import subject_id as make_subject_id
from ledger.storage.models import RecordRow

if TYPE_CHECKING:
    from api.services.context import AppServices

_REASON_MESSAGES = {
    "NOT_DEPARTMENT": "the requester is not an active government department",
    "UNKNOWN_RESOURCE": "no such catalog resource",
    "RESOURCE_INACTIVE": "the resource is not active",
    "UNKNOWN_SUBJECT": "no subject is registered for this ID number",
    "UNKNOWN_FIELD": "the resource has no such field",
    "NOT_SHARED": "this resource is not shared (不予共享)",
    "NO_AGREEMENT": "a conditional resource needs an approved, unexpired sharing agreement for this purpose "
                    "covering these fields",
    "AGREEMENT_ENDED": "the provider (or the data authority) ended the sharing agreement for this purpose",
    "NO_CONSENT": "the subject has not consented to this release",
    "REVOKED": "the subject revoked this consent",
    "EXPIRED": "the consent has expired",
    "NOT_YET_VALID": "the consent is not valid yet",
    "PURPOSE_MISMATCH": "the consent was given for another purpose",
    "FIELD_NOT_GRANTED": "the consent does not cover all requested fields",
    "USES_EXHAUSTED": "the consent's uses are used up",
    "NO_RECORD": "the provider holds no record for this subject",
}


class ReleaseService:
    def __init__(self, services: "AppServices"):
        self.s = services
        self._reader = None  # DBAPI connection of the event loop thread, opened on first query
        self._read_sql = ""
        self._latest_stamp = datetime.min.replace(tzinfo=UTC)

    def upsert_record(self, principal: Principal, resource_id: str, body: RecordUpsert) -> dict:
        meta = self.s.resources_by_slug.get(resource_id)
        state = self.s.projection.resources.get(meta.resource_key) if meta else None
        if meta is None or state is None:
            raise ApiError(404, "UNKNOWN_RESOURCE", f"no catalog resource {resource_id}")
        if state.provider != principal.address:
            raise ApiError(403, "NOT_PROVIDER", "only the resource's provider department may write its records")
        unknown = sorted(set(body.data) - set(meta.fields))
        if unknown:
            raise ApiError(422, "UNKNOWN_FIELD", f"{resource_id} has no field(s) {', '.join(unknown)}")
        sid = "0x" + make_subject_id(self.s.pepper, body.id_type, body.id_number).hex()
        with self.s.sessions.begin() as session:
            row = session.get(RecordRow, (resource_id, sid))
            sealed = self.s.sealer.seal(resource_id, sid, body.data)
            if row is None:
                row = RecordRow(resource_id=resource_id, subject_id=sid, sealed_fields={})
                session.add(row)
            row.sealed_fields = {**row.sealed_fields, **sealed}
            row.updated_by, row.updated_at = principal.address, datetime.now(UTC)
            fields = sorted(row.sealed_fields)
        return {"resource_id": resource_id, "subject_id": sid, "fields": fields}

    async def query(self, principal: Principal, body: RecordQuery) -> tuple[int, dict]:
        """Decide and audit one query on the event loop: nothing here blocks for long (the chain
        head comes over an async connection, the audit commit resolves a future), so no thread
        pool hop and no thread contention per request."""
        started = time.perf_counter()
        self._check_anchoring()
        sid = "0x" + make_subject_id(self.s.pepper, body.id_type, body.id_number).hex()
        await self.s.indexer.fresh_state_async()
        data, decide = self._prepare(principal, body, sid)
        entry = await self.s.audit.append_async(decide)
        DECISIONS.labels(entry.decision, entry.reason).inc()
        RELEASE_SECONDS.observe(time.perf_counter() - started)
        return self._reply(entry, data)

    def _check_anchoring(self) -> None:
        """Fail closed when anchoring has stopped (DESIGN §1.4): no decision, no entry, no data."""
        lag = self.s.anchorer.lag_seconds()
        if lag > self.s.settings.max_anchor_lag_seconds:
            raise ApiError(503, "ANCHOR_LAG", f"audit entries have waited {lag:.1f} s for an on-chain anchor (bound "
                                              f"{self.s.settings.max_anchor_lag_seconds:g} s); nothing is released "
                                              f"until anchoring catches up")

    def _prepare(self, principal: Principal, body: RecordQuery, sid: str):
        """Everything the decision needs from the chain state, copied in one consistent read; returns
        the record fields a release would carry (read only if the policy allows) and the audit
        log's ``decide``."""
        requested = tuple(sorted(set(body.fields)))
        meta = self.s.resources_by_slug.get(body.resource_id)
        request = policy.Request(requester=principal.address, subject_id=sid, resource_id=body.resource_id,
                                 fields=requested, purpose=body.purpose)
        with self.s.indexer.consistent() as state:  # the chain as of the newest folded block, exactly
            inputs = policy_inputs.gather(state, request, meta.fields if meta else None)
        # A first evaluation outside the audit lock decides whether to open the record at all.
        first = inputs.evaluate(int(time.time()), self.s.audit.uses.__getitem__)
        data = self._open_record(body.resource_id, sid, requested) if first.allowed else None

        def decide(seq: int, uses: Counter) -> AuditEntry:
            # Under the audit lock: the use count is checked and reserved atomically, and the
            # entry's instant is taken here, so times follow seq. The cited block was mined before
            # this instant; a successor, if mined already, only since the state was read (the
            # verifier allows 2 s for that and the whole-second block timestamps).
            moment = self._stamp()
            decision = inputs.evaluate(int(moment.timestamp()), uses.__getitem__)
            allowed = decision.allowed and data is not None
            reason = decision.reason.value if not decision.allowed else ("OK" if data is not None else "NO_RECORD")
            return AuditEntry(
                seq=seq, time=moment, requester=principal.address, subject_id=sid,
                resource=body.resource_id, purpose=body.purpose, consent_id=decision.consent_id,
                decision="ALLOW" if allowed else "DENY", reason=reason, fields=requested,
                block_number=inputs.block_number,
                payload_hash=payload_hash(self.s.payload_salt(seq), data) if allowed else None)

        return data, decide

    def _stamp(self) -> datetime:
        """Now, to the millisecond the leaf keeps (so the regulator re-evaluates at exactly the time
        this decision used), and never before the previous entry's: a clock stepped back must not
        turn the log's times back. Called under the audit log's lock."""
        moment = datetime.now(UTC)
        moment = moment.replace(microsecond=moment.microsecond - moment.microsecond % 1000)
        self._latest_stamp = max(moment, self._latest_stamp)
        return self._latest_stamp

    def _reply(self, entry: AuditEntry, data: dict | None) -> tuple[int, dict]:
        audit = {"seq": entry.seq}
        if entry.decision == "ALLOW":
            audit["payload_salt"] = "0x" + self.s.payload_salt(entry.seq).hex()
            audit["payload_hash"] = entry.payload_hash
            return 200, {"data": data, "decision": {"result": "ALLOW", "consent_id": entry.consent_id,
                                                    "block_number": entry.block_number, "reason": "OK"}, "audit": audit}
        status = 404 if entry.reason == "NO_RECORD" else 403
        return status, {"error": {"code": entry.reason,
                                  "message": _REASON_MESSAGES.get(entry.reason, entry.reason)},
                        "decision": {"result": "DENY", "consent_id": entry.consent_id, "block_number": entry.block_number,
                                     "reason": entry.reason}, "audit": audit}

    def _open_record(self, resource_id: str, sid: str, fields: tuple[str, ...]) -> dict | None:
        # The event loop's own DBAPI connection and one cached statement: a primary-key read is
        # tens of microseconds, which the ORM or even Core would multiply.
        if self._reader is None:
            self._reader = self.s.engine.raw_connection()
            mark = "?" if self.s.engine.dialect.paramstyle == "qmark" else "%s"
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
        return self.s.sealer.open(resource_id, sid, sealed, fields)
