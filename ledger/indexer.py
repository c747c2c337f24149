"""Follows contract events into the projection (memory + SQL) with a block watermark.

Freshness guarantee given to the API: :meth:`Indexer.fresh_state` reads the chain head with a
request that *starts after the caller arrived* (concurrent callers share one such request), then
folds every event up to that head before returning it. So a decision never uses state older than
a head observed after the request came in: once a revocation has a receipt, every request that
arrives afterwards sees it.

Consistency given to every reader of the projection: a chunk of blocks is folded, and
``projection.block`` moved to its end, under one lock that readers hold too
(:meth:`Indexer.consistent`), so a reader sees the chain as of exactly ``projection.block``, never
a block half applied or events of a block it would not record.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from ledger.chain.client import Chain
from ledger.chain.rpc import AsyncRpcClient
from ledger.exceptions import ChainUnavailable
from ledger.projection import Projection
from ledger.storage import models as m

log = logging.getLogger(__name__)

_CONTRACTS = ("Participants", "Subjects", "Catalog", "Consents", "AuditAnchor")
_LOG_CHUNK = 5_000


class Indexer:
    def __init__(self, chain: Chain, sessions: sessionmaker[Session], projection: Projection | None = None):
        self.chain = chain
        self.sessions = sessions
        self.projection = projection or Projection()
        self._sync_lock = threading.Lock()  # one folder at a time
        self._fold_lock = threading.Lock()  # a fold in memory vs. the readers of the projection
        self._unpersisted: set[tuple[str, object]] = set()
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
        """Restore the projection from SQL, or start from the deployment block."""
        deployment = self.chain.deployment
        self._by_address = {deployment.contracts[n].lower(): self.chain.abis[n] for n in _CONTRACTS}
        with self.sessions() as session:
            state = session.get(m.IndexerStateRow, "chain")
            if state is None:
                self.projection.block = deployment.deploy_block - 1
                return
            _load_rows(session, self.projection)
            self.projection.block = state.block

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

    @contextmanager
    def consistent(self) -> Iterator[Projection]:
        """The projection with no fold under way: the chain as of ``projection.block``, exactly.

        Hold it only to copy what a decision needs (see :func:`ledger.policy_inputs.gather`): a
        fold of new blocks waits for it.
        """
        with self._fold_lock:
            yield self.projection

    # -- folding -----------------------------------------------------------------------------
    def sync(self, to_block: int | None = None) -> int:
        with self._sync_lock:
            target = self.chain.block_number() if to_block is None else to_block
            while self.projection.block < target:
                start = self.projection.block + 1
                end = min(target, start + _LOG_CHUNK - 1)
                logs = self.chain.get_logs(list(self._by_address), start, end)
                self._apply(logs, end)
            if self._unpersisted:  # a chunk whose rows could not be written before
                self._persist()
            return self.projection.block

    def _apply(self, logs: list[dict], end_block: int) -> None:
        """Fold one chunk: chain reads and decoding first, then the fold and the block watermark
        under the lock (memory only), then the rows."""
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
        with self._fold_lock:
            for name, args, lg, timestamp in events:
                changed = self.projection.apply(name, args, lg, timestamp)
                if changed:
                    self._unpersisted.add(changed)
            self.projection.block = end_block
        self._persist()

    def _persist(self) -> None:
        """Write the changed entities and the watermark in one transaction (kept for a retry if it fails).

        Every instance on one database follows the chain into the same tables: the watermark row,
        locked first, orders their writes, and an instance behind the stored watermark writes
        nothing (the one ahead wrote every entity changed up to its block), so no row ever goes
        back to an older block than the watermark says."""
        with self.sessions.begin() as session:
            stored = session.scalar(select(m.IndexerStateRow.block).where(m.IndexerStateRow.name == "chain")
                                    .with_for_update())
            if stored is None or stored <= self.projection.block:
                _persist(session, self.projection, self._unpersisted)
                session.merge(m.IndexerStateRow(name="chain", block=self.projection.block))
        self._unpersisted.clear()

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


def _persist(session: Session, p: Projection, dirty: set[tuple[str, object]]) -> None:
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
            row.subject_id, row.grantee, row.purpose_hash = c.subject_id, c.grantee, c.purpose_hash
            row.resources = [[k, str(v)] for k, v in c.resource_masks.items()]
            row.valid_from, row.valid_until, row.max_uses = c.valid_from, c.valid_until, c.max_uses
            row.nonce, row.status, row.granted_block, row.granted_tx = str(c.nonce), c.status, c.granted_block, c.granted_tx
            row.ended_block, row.ended_by = c.ended_block, c.ended_by
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


def _load_rows(session: Session, p: Projection) -> None:
    from ledger.projection import (AgreementState, ConsentState, DepartmentState, ResourceState,
                                   SharingRequestState, SignerChangeState, SubjectState)

    for row in session.scalars(select(m.RoleRow)):
        p.roles.setdefault(row.account, set()).add(row.role)
    for row in session.scalars(select(m.DepartmentRow)):
        p.departments[row.address] = DepartmentState(row.address, row.code, row.name, row.active)
    for row in session.scalars(select(m.RegulatorRow)):
        p.regulators[row.address] = row.name
    for row in session.scalars(select(m.ResourceRow).where(m.ResourceRow.on_chain.is_(True))):
        p.resources[row.resource_key] = ResourceState(row.resource_key, row.provider, row.sharing_class,
                                                      row.sensitive, row.active, len(row.fields), row.schema_hash)
    for row in session.scalars(select(m.SubjectRow)):
        p.subjects[row.subject_id] = SubjectState(row.subject_id, row.kind, row.threshold)
    for row in session.scalars(select(m.SubjectSignerRow)):
        p.subjects[row.subject_id].signers.add(row.signer)
        p.signer_subjects.setdefault(row.signer, set()).add(row.subject_id)
    for row in session.scalars(select(m.SubjectSignerChangeRow)):
        p.signer_changes[row.change_id] = SignerChangeState(
            row.change_id, row.subject_id, tuple(row.add), tuple(row.remove), row.threshold, int(row.nonce),
            row.effective_at, row.proposed_by, row.proposed_block, row.status, row.approved, row.ended_block,
            row.ended_by)
    for row in session.scalars(select(m.ConsentRow)):
        p.add_consent(ConsentState(
            row.consent_id, row.subject_id, row.grantee, {k: int(v) for k, v in row.resources}, row.purpose_hash,
            row.valid_from, row.valid_until, row.max_uses, int(row.nonce), row.status, row.granted_block,
            row.granted_tx, row.ended_block, row.ended_by))
    for row in session.scalars(select(m.SharingRequestRow)):
        p.sharing_requests[row.request_id] = SharingRequestState(
            row.request_id, row.requester, row.resource_key, int(row.field_mask), row.purpose_hash,
            row.valid_until, row.requested_at, row.requested_block, row.status, row.decided_at)
    for row in session.scalars(select(m.AgreementRow)):
        p.agreements[(row.department, row.resource_key, row.purpose_hash)] = AgreementState(
            int(row.field_mask), row.valid_until, row.request_id, row.purpose_hash, row.valid_from, row.ended_at,
            row.ended_by)
