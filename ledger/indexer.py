"""Follows contract events into the projection tables, with a block watermark.

Freshness guarantee given to the API: :meth:`Indexer.fresh_state` reads the chain head with a
request that *starts after the caller arrived* (concurrent callers share one such request), then
makes sure the tables hold every event up to that head, and this instance's cache has dropped what
those events changed, before returning it. So a decision never uses state older than a head
observed after the request came in: once a revocation has a receipt, every request that arrives
afterwards sees it, on every instance.

Several instances share one database, and each runs an indexer. A chunk of blocks is folded in one
transaction that first locks the ``indexer_state`` row (an UPDATE of it: a row lock on PostgreSQL,
the database's write lock on SQLite), re-reads the watermark and applies only the events beyond it,
so no event is applied twice; the rows and the new watermark commit together. Each instance still
reads the logs of every block itself: they name the keys its cache must drop, whoever wrote the
rows (:mod:`ledger.projection_tables`).

Folding reuses :class:`~ledger.projection.Projection`'s event handlers on a scratch projection
that holds only the rows the chunk's events touch (:func:`ledger.projection_tables.load_touched`).

Consistency given to every reader: the rows and the watermark move in one transaction, and a
decision reads them as of one watermark (:meth:`ledger.projection_tables.TableProjection.read`),
never a block half applied or events of a block it would not record.
"""

from __future__ import annotations

import asyncio
import logging
import threading

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ledger.chain.client import Chain
from ledger.chain.rpc import AsyncRpcClient
from ledger.exceptions import ChainUnavailable
from ledger.projection import Projection
from ledger.projection_tables import (Rows, TableProjection, cache_keys, event_cache_keys, load_touched,
                                     read_watermark)
from ledger.storage import models as m

log = logging.getLogger(__name__)

_CONTRACTS = ("Participants", "Subjects", "Catalog", "Consents", "Objections", "AuditAnchor")
_LOG_CHUNK = 5_000


class Indexer:
    def __init__(self, chain: Chain, sessions: sessionmaker[Session], projection: TableProjection | None = None):
        self.chain = chain
        self.sessions = sessions
        self.projection = projection or TableProjection(sessions)
        self._sync_lock = threading.Lock()  # one folder per instance; instances exclude each other in SQL
        self._cond = threading.Condition()
        self._started = 0
        self._done = 0
        self._fetching = False
        self._head: int | None = None
        self._head_error: Exception | None = None
        self._async_rpc: AsyncRpcClient | None = None
        self._fetching_async: asyncio.Task | None = None
        self._next_head: asyncio.Future | None = None
        self._by_address = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- start-up ----------------------------------------------------------------------------
    def load(self) -> None:
        """Read the watermark (the only start-up read), or start from the deployment block."""
        deployment = self.chain.deployment
        self._by_address = {deployment.contracts[n].lower(): self.chain.abis[n] for n in _CONTRACTS}
        with self.sessions() as session:
            block = read_watermark(Rows.of(session))
        if block is None:
            block = deployment.deploy_block - 1
            try:
                with self.sessions.begin() as session:
                    session.add(m.IndexerStateRow(name="chain", block=block))
            except IntegrityError:  # another instance started at the same moment
                with self.sessions() as session:
                    block = read_watermark(Rows.of(session))
        self.projection.cache.advance((), block)

    # -- freshness ---------------------------------------------------------------------------
    def fresh_head(self) -> int:
        """A chain head from an eth_blockNumber that started after this call (shared by callers)."""
        with self._cond:
            need = self._started + 1
            while self._done < need:
                if self._fetching:
                    self._cond.wait()
                    continue
                self._started += 1
                generation = self._started
                self._fetching = True
                self._cond.release()
                head, error = None, None
                try:
                    head = int(self.chain.rpc.call("eth_blockNumber"), 16)
                except Exception as exc:  # reported to every waiter of this generation
                    error = exc
                finally:
                    self._cond.acquire()
                    self._fetching = False
                    self._done = generation
                    self._head, self._head_error = head, error
                    self._cond.notify_all()
            if self._head_error is not None:
                raise ChainUnavailable(f"cannot read the chain head: {self._head_error}")
            return self._head

    async def fresh_head_async(self) -> int:
        """``fresh_head`` for an event loop: a fetch in flight may predate the caller, so the
        caller then waits for the next one, which all callers arriving meanwhile share."""
        if self._async_rpc is None:
            self._async_rpc = AsyncRpcClient(self.chain.rpc.url)
        loop = asyncio.get_running_loop()
        if self._fetching_async is None:
            self._fetching_async = loop.create_task(self._fetch_head_async())
            return await asyncio.shield(self._fetching_async)
        if self._next_head is None:
            self._next_head = loop.create_future()
        return await asyncio.shield(self._next_head)

    async def _fetch_head_async(self) -> int:
        try:
            return int(await self._async_rpc.call("eth_blockNumber"), 16)
        except ChainUnavailable:
            raise
        except Exception as exc:
            raise ChainUnavailable(f"cannot read the chain head: {exc}") from exc
        finally:
            waiting, self._next_head = self._next_head, None
            self._fetching_async = None
            if waiting is not None:  # start the fetch the late arrivals wait for
                self._fetching_async = asyncio.get_running_loop().create_task(self._fetch_head_async())
                self._fetching_async.add_done_callback(lambda task: _copy_outcome(task, waiting))

    async def fresh_state_async(self) -> int:
        """``fresh_state`` for an event loop; folding new blocks (rare, cheap) runs in a thread."""
        head = await self.fresh_head_async()
        if head > self.projection.block:
            await asyncio.to_thread(self.sync, head)
        return head

    def fresh_state(self) -> int:
        """Bring the projection up to a head observed after this call; returns that block."""
        head = self.fresh_head()
        if head > self.projection.block:
            self.sync(head)
        return head

    # -- folding -----------------------------------------------------------------------------
    def sync(self, to_block: int | None = None) -> int:
        """Fold up to ``to_block`` (default: the chain head), or further if another instance has."""
        with self._sync_lock:
            target = self.chain.block_number() if to_block is None else to_block
            with self.sessions() as session:
                target = max(target, read_watermark(Rows.of(session)))
            while self.projection.block < target:
                start = self.projection.block + 1
                end = min(target, start + _LOG_CHUNK - 1)
                self._apply(self.chain.get_logs(list(self._by_address), start, end), end)
            return self.projection.block

    def _apply(self, logs: list[dict], end_block: int) -> None:
        """Fold one chunk read from the chain: decode first, then, in one transaction holding the
        watermark's lock, the events beyond the watermark; then drop what the chunk changed from
        the cache."""
        logs.sort(key=lambda lg: (int(lg["blockNumber"], 16), int(lg["logIndex"], 16)))
        blocks = sorted({lg["blockNumber"] for lg in logs})
        timestamps = {}
        if blocks:
            headers = self.chain.rpc.batch([("eth_getBlockByNumber", [b, False]) for b in blocks])
            timestamps = {b: int(h["timestamp"], 16) for b, h in zip(blocks, headers)}
        events = []
        for lg in logs:
            abi = self._by_address.get(lg["address"].lower())
            decoded = abi.decode_log(lg) if abi else None
            if decoded is not None:
                events.append((*decoded, lg, timestamps[lg["blockNumber"]]))
        changed: list[tuple] = event_cache_keys(events)
        with self.sessions.begin() as session:
            session.execute(update(m.IndexerStateRow).where(m.IndexerStateRow.name == "chain")
                            .values(block=m.IndexerStateRow.block))  # the lock: first statement, a write
            done = read_watermark(Rows.of(session))
            folded = [e for e in events if int(e[2]["blockNumber"], 16) <= done]
            fresh = [e for e in events if int(e[2]["blockNumber"], 16) > done]
            if folded:  # written by another instance: only the keys they changed are needed
                seen = load_touched(session, folded)
                changed += [key for entity in _fold(seen, folded) for key in cache_keys(seen, entity)]
            if end_block > done:
                changed += _write(session, fresh, end_block)
        self.projection.cache.advance(changed, end_block)

    # -- background follower -------------------------------------------------------------------
    def start(self, interval: float = 0.25) -> None:
        def run():
            while not self._stop.wait(interval):
                try:
                    self.fresh_state()
                except Exception as exc:  # keep following; readiness reports the lag
                    log.warning("indexer: %s", exc)

        self._thread = threading.Thread(target=run, name="indexer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)


def _copy_outcome(task: asyncio.Task, future: asyncio.Future) -> None:
    if future.done():
        return
    if task.cancelled():
        future.cancel()
    elif task.exception() is not None:
        future.set_exception(task.exception())
    else:
        future.set_result(task.result())


def _write(session: Session, events: list[tuple[str, dict, dict, int]], end_block: int) -> list[tuple]:
    """Fold ``events`` (none of them folded yet) into their rows and move the watermark to
    ``end_block``; the cache keys they changed."""
    scratch = load_touched(session, events)
    dirty = _fold(scratch, events)
    _persist(session, scratch, dirty)
    session.execute(update(m.IndexerStateRow).where(m.IndexerStateRow.name == "chain").values(block=end_block))
    return [key for entity in dirty for key in cache_keys(scratch, entity)]


def _fold(p: Projection, events: list[tuple[str, dict, dict, int]]) -> list[tuple[str, object]]:
    """Apply ``events`` to ``p``; the entities they changed, each once."""
    dirty: dict[tuple[str, object], None] = {}
    for name, args, lg, timestamp in events:
        entity = p.apply(name, args, lg, timestamp)
        if entity:
            dirty[entity] = None
    return list(dirty)


def _persist(session: Session, p: Projection, dirty: list[tuple[str, object]]) -> None:
    for kind, key in dirty:
        if kind == "role":
            session.execute(delete(m.RoleRow).where(m.RoleRow.account == key))
            session.add_all(m.RoleRow(account=key, role=r) for r in p.roles.get(key, ()))
        elif kind == "department":
            d = p.departments[key]
            session.merge(m.DepartmentRow(address=d.address, code=d.code, name=d.name, active=d.active))
        elif kind == "regulator":
            session.merge(m.RegulatorRow(address=key, name=p.regulators[key]))
        elif kind == "resource":
            r = p.resources[key]
            row = session.scalar(select(m.ResourceRow).where(m.ResourceRow.resource_key == key))
            if row is None:  # registered on-chain by someone else: slug and fields unknown here
                row = m.ResourceRow(resource_id=key, resource_key=key, name=key, fields=[], schema_hash=r.schema_hash)
                session.add(row)
            row.provider, row.sharing_class, row.sensitive = r.provider, r.sharing_class, r.sensitive
            row.active, row.on_chain, row.schema_hash = r.active, True, r.schema_hash
        elif kind == "subject":
            s = p.subjects[key]
            session.merge(m.SubjectRow(subject_id=key, kind=s.kind, threshold=s.threshold))
            session.execute(delete(m.SubjectSignerRow).where(m.SubjectSignerRow.subject_id == key))
            session.add_all(m.SubjectSignerRow(subject_id=key, signer=signer) for signer in s.signers)
        elif kind == "signer_change":
            c = p.signer_changes[key]
            session.merge(m.SubjectSignerChangeRow(
                change_id=key, subject_id=c.subject_id, add=list(c.add), remove=list(c.remove),
                threshold=c.threshold, nonce=str(c.nonce), effective_at=c.effective_at, proposed_by=c.proposed_by,
                proposed_block=c.proposed_block, status=c.status, approved=c.approved, ended_block=c.ended_block,
                ended_by=c.ended_by))
        elif kind == "consent":
            c = p.consents[key]
            row = session.get(m.ConsentRow, key)
            if row is None:
                row = m.ConsentRow(consent_id=key)
                session.add(row)
                session.add_all(m.ConsentResourceRow(consent_id=key, resource_key=k, field_mask=str(v),
                                                     subject_id=c.subject_id, grantee=c.grantee)
                                for k, v in c.resource_masks.items())
            row.subject_id, row.grantee, row.purpose_hash = c.subject_id, c.grantee, c.purpose_hash
            row.valid_from, row.valid_until, row.max_uses = c.valid_from, c.valid_until, c.max_uses
            row.nonce, row.status, row.granted_block, row.granted_tx = str(c.nonce), c.status, c.granted_block, c.granted_tx
            row.ended_block, row.ended_by, row.end_reason_hash = c.ended_block, c.ended_by, c.end_reason_hash
        elif kind == "sharing_request":
            r = p.sharing_requests[key]
            session.merge(m.SharingRequestRow(
                request_id=r.request_id, requester=r.requester, resource_key=r.resource_key,
                field_mask=str(r.field_mask), purpose_hash=r.purpose_hash, valid_until=r.valid_until,
                requested_at=r.requested_at, decided_at=r.decided_at, status=r.status,
                requested_block=r.requested_block))
            a = p.agreements.get((r.requester, r.resource_key, r.purpose_hash))
            if a is not None and a.request_id == r.request_id:
                session.merge(m.AgreementRow(department=r.requester, resource_key=r.resource_key,
                                             purpose_hash=a.purpose_hash, field_mask=str(a.field_mask),
                                             valid_from=a.valid_from, valid_until=a.valid_until,
                                             request_id=a.request_id, ended_at=a.ended_at, ended_by=a.ended_by))
        elif kind == "emergency":
            x = p.emergencies[key]
            session.merge(m.EmergencyRow(
                emergency_id=x.emergency_id, declared_by=x.declared_by, event_hash=x.event_hash,
                legal_basis_hash=x.legal_basis_hash, all_subjects=x.all_subjects, declared_at=x.declared_at,
                until=x.until, declared_block=x.declared_block, tx_hash=x.tx_hash, departments=list(x.departments),
                resources=list(x.resources), subjects=list(x.subjects), extended_by=x.extended_by,
                notice_by=x.notice_by, notice_reason_hash=x.notice_reason_hash, reviewed_at=x.reviewed_at,
                reviewed_by=x.reviewed_by, proper=x.proper, review_note_hash=x.review_note_hash))
        elif kind == "verification":
            v = p.verifications[key]
            session.merge(m.VerificationRequestRow(
                request_id=v.request_id, requester=v.requester, resource_key=v.resource_key, audit_seq=v.audit_seq,
                field_mask=str(v.field_mask), reason_hash=v.reason_hash, requested_at=v.requested_at,
                requested_block=v.requested_block, tx_hash=v.tx_hash, status=v.status, extended_until=v.extended_until,
                extension_reason_hash=v.extension_reason_hash, resolved_at=v.resolved_at, corrected=v.corrected,
                note_hash=v.note_hash))
        elif kind == "objection":
            o = p.objections[key]
            session.merge(m.ObjectionRow(
                objection_id=o.objection_id, subject_id=o.subject_id, resource_key=o.resource_key,
                field_mask=str(o.field_mask), kind=o.kind, filed_by=o.filed_by, reason_hash=o.reason_hash,
                filed_at=o.filed_at, filed_block=o.filed_block, tx_hash=o.tx_hash, status=o.status,
                marked_at=o.marked_at, forwarded_at=o.forwarded_at, provider=o.provider, decided_at=o.decided_at,
                decided_by=o.decided_by, corrected=o.corrected, record_version=o.record_version,
                note_hash=o.note_hash, marked_block=o.marked_block, forwarded_block=o.forwarded_block,
                decided_block=o.decided_block))
        elif kind == "suspension":
            x = p.suspensions[key]
            session.merge(m.SuspensionRow(resource_key=x.resource_key, department=x.department, provider=x.provider,
                                          reason_hash=x.reason_hash, since=x.since, until=x.until,
                                          block_number=x.block_number, tx_hash=x.tx_hash, lifted_at=x.lifted_at,
                                          lifted_by=x.lifted_by))
