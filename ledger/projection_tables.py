"""The API's chain projection, read from the indexed tables the indexer writes.

:class:`TableProjection` answers the release decision's questions (a :class:`ChainState`) with
one indexed SELECT per key, behind a bounded LRU cache of hot keys, and the services' other
questions (a subject's consents, a signer's subjects, ...) with indexed queries. Nothing is read
at start-up but the watermark, so memory does not grow with the chain.

**The cache is valid at one block.** ``cache.block`` is the block up to which this instance has
read the chain's logs itself (:mod:`ledger.indexer` advances it after each chunk, dropping exactly
the keys the chunk's events changed, whichever instance wrote the rows). Every entry holds the
value as of ``cache.block``: an entry is only stored when it was read at that very block.

**A decision reads one block** (:meth:`TableProjection.read`). If every key it needs is
cached, it is decided at ``cache.block`` without touching the database. Otherwise the snapshot
reads the watermark, the rows, and the watermark again: a fold writes its rows and moves the
watermark in one transaction, so an unchanged watermark means no fold committed in between and
every row was read as of it (this holds for per-statement snapshots, SQLite's and PostgreSQL's
READ COMMITTED alike); a changed one retries. Cached entries are used only when the watermark is
``cache.block``; when another instance has folded further, the rows are read from the tables alone.

The rows of the tables are written by :mod:`ledger.indexer` only (it also turns them into a scratch
:class:`~ledger.projection.Projection` to fold with, :func:`load_touched`).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ledger.domain import purpose_hash
from ledger.projection import (AgreementState, ChainState, ConsentState, DepartmentState, EmergencyState,
                               ObjectionState, Projection, ResourceState, SharingRequestState, SignerChangeState,
                               SubjectState, SuspensionState, VerificationState, hex32)
from ledger.storage import models as m

#: Hot keys kept per instance: departments, roles, resources, subjects, agreements and consent lookups.
CACHE_ENTRIES = 65_536
_MISSING = object()
_RETRIES = 8
T = TypeVar("T")


class BlockCache:
    """A bounded LRU of values, all as of ``block`` (see the module docstring)."""

    def __init__(self, size: int = CACHE_ENTRIES):
        self._size = size
        self._entries: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()
        self.block = -1

    def get(self, key: Hashable, block: int) -> object:
        with self._lock:
            if block != self.block:
                return _MISSING
            value = self._entries.get(key, _MISSING)
            if value is not _MISSING:
                self._entries.move_to_end(key)
            return value

    def put(self, key: Hashable, value: object, block: int) -> None:
        """Keep ``value`` read as of ``block``, unless the cache has moved on since."""
        with self._lock:
            if block != self.block:
                return
            self._entries[key] = value
            self._entries.move_to_end(key)
            if len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def advance(self, changed: Iterable[Hashable], block: int) -> None:
        """The chain's logs are read up to ``block``: drop what they changed."""
        with self._lock:
            for key in changed:
                self._entries.pop(key, None)
            self.block = block


def event_cache_keys(events: Iterable[tuple]) -> list[tuple]:
    """Cache keys named by the events themselves rather than by an entity they leave behind: a
    signer bound or unbound changes whether that address signs for anyone."""
    return [("signer", event[1]["signer"]) for event in events if event[0] in ("SignerBound", "SignerUnbound")]


def cache_keys(p: Projection, changed: tuple[str, object]) -> list[tuple]:
    """The cache keys an entity changed by a fold into ``p`` stands for."""
    kind, key = changed
    if kind == "role":
        return [("roles", key)]
    if kind in ("department", "resource", "subject"):
        return [(kind, key)]
    if kind == "consent":
        c = p.consents[key]
        return [("consents", c.subject_id, c.grantee, r) for r in c.resource_masks]
    if kind == "sharing_request":
        r = p.sharing_requests[key]
        return [("agreement", r.requester, r.resource_key, r.purpose_hash)]
    if kind == "emergency":
        return [("emergency", key)]
    if kind == "suspension":
        resource_key, department = key
        return [("suspension", department, resource_key)]
    if kind == "objection":
        o = p.objections[key]
        return [("objections", o.subject_id, o.resource_key)]
    return []


# -- rows to states -------------------------------------------------------------------------------
def _signer_change(row: m.SubjectSignerChangeRow) -> SignerChangeState:
    return SignerChangeState(row.change_id, row.subject_id, tuple(row.add), tuple(row.remove), row.threshold,
                             int(row.nonce), row.effective_at, row.proposed_by, row.proposed_block, row.status,
                             row.approved, row.ended_block, row.ended_by)


def _sharing_request(row: m.SharingRequestRow) -> SharingRequestState:
    return SharingRequestState(row.request_id, row.requester, row.resource_key, int(row.field_mask),
                               row.purpose_hash, row.valid_until, row.requested_at, row.requested_block,
                               row.status, row.decided_at)


def _verification(row: m.VerificationRequestRow) -> VerificationState:
    return VerificationState(row.request_id, row.requester, row.resource_key, row.audit_seq, int(row.field_mask),
                             row.reason_hash, row.requested_at, row.requested_block, row.tx_hash, row.status,
                             row.extended_until, row.extension_reason_hash, row.resolved_at, row.corrected,
                             row.note_hash)


def _objection(row: m.ObjectionRow) -> ObjectionState:
    return ObjectionState(row.objection_id, row.subject_id, row.resource_key, int(row.field_mask), row.kind,
                          row.filed_by, row.reason_hash, row.filed_at, row.filed_block, row.tx_hash, row.status,
                          row.marked_at, row.forwarded_at, row.provider, row.decided_at, row.decided_by,
                          row.corrected, row.record_version, row.note_hash, row.marked_block, row.forwarded_block,
                          row.decided_block)


def _emergency(row: m.EmergencyRow) -> EmergencyState:
    return EmergencyState(row.emergency_id, row.declared_by, row.event_hash, row.legal_basis_hash, row.all_subjects,
                          row.declared_at, row.until, row.declared_block, row.tx_hash, tuple(_json(row.departments)),
                          tuple(_json(row.resources)), tuple(_json(row.subjects)), row.extended_by, row.notice_by,
                          row.notice_reason_hash, row.reviewed_at, row.reviewed_by, row.proper, row.review_note_hash)


def _agreement(row: m.AgreementRow) -> AgreementState:
    return AgreementState(int(row.field_mask), row.valid_until, row.request_id, row.purpose_hash, row.valid_from,
                          row.ended_at, row.ended_by)


class Rows:
    """Reads on one DBAPI connection, in its driver's parameter style. The decision's lookups are
    primary-key and index reads of microseconds each, which the ORM would multiply (as the release
    path's record read, :meth:`api.services.release.ReleaseService._open_record`, does too)."""

    def __init__(self, dbapi_connection, paramstyle: str):
        self._cursor = dbapi_connection.cursor()
        self._native = paramstyle == "qmark"

    @classmethod
    def of(cls, session: Session) -> Rows:
        """On the session's connection, so inside its transaction."""
        return cls(session.connection().connection.dbapi_connection, session.get_bind().dialect.paramstyle)

    def all(self, sql: str, *params) -> list[tuple]:
        self._cursor.execute(sql if self._native else sql.replace("?", "%s"), params)
        return self._cursor.fetchall()

    def one(self, sql: str, *params) -> tuple | None:
        found = self.all(sql, *params)
        return found[0] if found else None


def _json(value) -> list:
    return json.loads(value) if isinstance(value, str) else value  # SQLite hands JSON back as text


_CONSENT_COLUMNS = ("c.consent_id, c.subject_id, c.grantee, c.purpose_hash, c.valid_from, c.valid_until, "
                    "c.max_uses, c.nonce, c.status, c.granted_block, c.granted_tx, c.ended_block, c.ended_by, "
                    "c.end_reason_hash, r.resource_key, r.field_mask")


# -- single-key reads (one indexed SELECT each) ---------------------------------------------------------
def read_department(rows: Rows, address: str) -> DepartmentState | None:
    row = rows.one("SELECT address, code, name, active FROM departments WHERE address = ?", address)
    return DepartmentState(row[0], row[1], row[2], bool(row[3])) if row else None


def read_roles(rows: Rows, account: str) -> frozenset[str]:
    return frozenset(role for role, in rows.all("SELECT role FROM roles WHERE account = ?", account))


def read_resource(rows: Rows, resource_key: str) -> ResourceState | None:
    row = rows.one("SELECT provider, sharing_class, sensitive, active, fields, schema_hash FROM resources "
                   "WHERE resource_key = ? AND on_chain = ?", resource_key, True)
    return ResourceState(resource_key, row[0], row[1], bool(row[2]), bool(row[3]), len(_json(row[4])),
                         row[5]) if row else None


def read_subject(rows: Rows, subject_id: str) -> SubjectState | None:
    found = rows.all("SELECT s.kind, s.threshold, g.signer FROM subjects s LEFT JOIN subject_signers g "
                     "ON g.subject_id = s.subject_id WHERE s.subject_id = ?", subject_id)
    if not found:
        return None
    return SubjectState(subject_id, found[0][0], found[0][1], {signer for *_, signer in found if signer})


def read_agreement(rows: Rows, department: str, resource_key: str, purpose: str) -> AgreementState | None:
    row = rows.one("SELECT field_mask, valid_until, request_id, purpose_hash, valid_from, ended_at, ended_by "
                   "FROM agreements WHERE department = ? AND resource_key = ? AND purpose_hash = ?",
                   department, resource_key, purpose)
    return AgreementState(int(row[0]), *row[1:]) if row else None


_SUSPENSION_COLUMNS = ("resource_key, department, provider, reason_hash, since, until, block_number, tx_hash, "
                       "lifted_at, lifted_by")


def read_suspension(rows: Rows, department: str, resource_key: str) -> SuspensionState | None:
    row = rows.one(f"SELECT {_SUSPENSION_COLUMNS} FROM suspensions WHERE resource_key = ? AND department = ?",
                   resource_key, department)
    return SuspensionState(*row) if row else None


_EMERGENCY_COLUMNS = ("emergency_id, declared_by, event_hash, legal_basis_hash, all_subjects, declared_at, until, "
                      "declared_block, tx_hash, departments, resources, subjects, extended_by, notice_by, "
                      "notice_reason_hash, reviewed_at, reviewed_by, proper, review_note_hash")


def read_emergency(rows: Rows, emergency_id: int) -> EmergencyState | None:
    row = rows.one(f"SELECT {_EMERGENCY_COLUMNS} FROM emergencies WHERE emergency_id = ?", emergency_id)
    if row is None:
        return None
    row = list(row)
    row[4] = bool(row[4])
    for i in (9, 10, 11):
        row[i] = tuple(_json(row[i]))
    if row[17] is not None:
        row[17] = bool(row[17])
    return EmergencyState(*row)


_OBJECTION_COLUMNS = ("objection_id, subject_id, resource_key, field_mask, kind, filed_by, reason_hash, filed_at, "
                      "filed_block, tx_hash, status, marked_at, forwarded_at, provider, decided_at, decided_by, "
                      "corrected, record_version, note_hash, marked_block, forwarded_block, decided_block")


def read_marked_objections(rows: Rows, subject_id: str, resource_key: str) -> list[ObjectionState]:
    """The marked, undecided objections to one record: what every release of it must flag."""
    found = []
    for row in rows.all(f"SELECT {_OBJECTION_COLUMNS} FROM objections WHERE subject_id = ? AND resource_key = ? "
                        f"AND status IN ('MARKED', 'FORWARDED') ORDER BY objection_id", subject_id, resource_key):
        row = list(row)
        row[3] = int(row[3])
        found.append(ObjectionState(*row))
    return found


def read_consents(rows: Rows, where: str, *params) -> list[ConsentState]:
    """The consents the condition ``where`` on ``consent_resources k`` selects, each with every
    resource it names, oldest first."""
    consents: dict[str, ConsentState] = {}
    for row in rows.all(f"SELECT {_CONSENT_COLUMNS} FROM consents c JOIN consent_resources r "
                        f"ON r.consent_id = c.consent_id WHERE c.consent_id IN "
                        f"(SELECT k.consent_id FROM consent_resources k WHERE {where}) "
                        f"ORDER BY c.granted_block, c.consent_id", *params):
        consent = consents.get(row[0])
        if consent is None:
            consent = consents[row[0]] = ConsentState(*row[:3], {}, *row[3:7], int(row[7]), *row[8:14])
        consent.resource_masks[row[14]] = int(row[15])
    return list(consents.values())


def read_consents_for(rows: Rows, subject_id: str, grantee: str, resource_key: str) -> list[ConsentState]:
    return read_consents(rows, "k.subject_id = ? AND k.grantee = ? AND k.resource_key = ?",
                         subject_id, grantee, resource_key)


def read_is_signer(rows: Rows, address: str) -> bool:
    return rows.one(f"SELECT 1 FROM {m.SubjectSignerRow.__tablename__} WHERE signer = ? LIMIT 1", address) \
        is not None


def read_watermark(rows: Rows) -> int | None:
    row = rows.one("SELECT block FROM indexer_state WHERE name = ?", "chain")
    return row[0] if row else None


class _Snapshot:
    """The chain as of ``block``: cache entries valid at it, else ``rows``."""

    def __init__(self, rows: Rows | None, cache: BlockCache, block: int, use_cache: bool):
        self._rows = rows
        self._cache = cache
        self.block = block
        self._use_cache = use_cache

    def _read(self, key: tuple, load):
        if self._use_cache:
            value = self._cache.get(key, self.block)
            if value is not _MISSING:
                return value
        return load(self._rows)

    def department(self, address: str) -> DepartmentState | None:
        return self._read(("department", address), lambda s: read_department(s, address))

    def roles(self, account: str) -> frozenset[str]:
        return self._read(("roles", account), lambda s: read_roles(s, account))

    def has_role(self, account: str, role: str) -> bool:
        return role in self.roles(account)

    def resource(self, resource_key: str) -> ResourceState | None:
        return self._read(("resource", resource_key), lambda s: read_resource(s, resource_key))

    def subject(self, subject_id: str) -> SubjectState | None:
        return self._read(("subject", subject_id), lambda s: read_subject(s, subject_id))

    def subject_known(self, subject_id: str) -> bool:
        return self.subject(subject_id) is not None

    def is_signer(self, address: str) -> bool:
        """Whether ``address`` is a bound signer of any subject."""
        return self._read(("signer", address), lambda s: read_is_signer(s, address))

    def agreement_for(self, department: str, resource_key: str, purpose: str) -> AgreementState | None:
        hashed = hex32(purpose_hash(purpose))
        return self._read(("agreement", department, resource_key, hashed),
                          lambda s: read_agreement(s, department, resource_key, hashed))

    def consents_for(self, subject_id: str, grantee: str, resource_key: str) -> list[ConsentState]:
        return self._read(("consents", subject_id, grantee, resource_key),
                          lambda s: read_consents_for(s, subject_id, grantee, resource_key))

    def suspension_of(self, department: str, resource_key: str) -> SuspensionState | None:
        return self._read(("suspension", department, resource_key),
                          lambda s: read_suspension(s, department, resource_key))

    def emergency(self, emergency_id: int) -> EmergencyState | None:
        return self._read(("emergency", emergency_id), lambda s: read_emergency(s, emergency_id))

    def marked_objections(self, subject_id: str, resource_key: str) -> list[ObjectionState]:
        return self._read(("objections", subject_id, resource_key),
                          lambda s: read_marked_objections(s, subject_id, resource_key))


class _NeedsRows(Exception):
    """A cache-only read met a key that is not cached."""


class _CacheOnly(_Snapshot):
    def _read(self, key: tuple, load):
        value = self._cache.get(key, self.block)
        if value is _MISSING:
            raise _NeedsRows
        return value


class _Recording(_Snapshot):
    """A snapshot that remembers what it read, to cache it once the read is known consistent."""

    def __init__(self, *args):
        super().__init__(*args)
        self.read: dict[tuple, object] = {}

    def _read(self, key: tuple, load):
        value = super()._read(key, load)
        self.read[key] = value
        return value


class TableProjection:
    """The chain projection in the database, with a per-instance cache valid at one block."""

    def __init__(self, sessions: sessionmaker[Session], cache_entries: int = CACHE_ENTRIES):
        self._sessions = sessions
        self._engine = sessions.kw["bind"]
        self.cache = BlockCache(cache_entries)

    @property
    def block(self) -> int:
        """The block up to which this instance has read the chain's logs (and the tables are complete)."""
        return self.cache.block

    def read(self, decide: Callable[[ChainState], T]) -> T:
        """``decide(state)`` on a :class:`~ledger.projection.ChainState` as of one block, at least
        :attr:`block`; its result. ``decide`` only reads the state, and may run more than once
        (a read that saw a fold commit midway is done again)."""
        try:  # hot keys: decided at the cache's block, without the database
            return decide(_CacheOnly(None, self.cache, self.cache.block, True))
        except _NeedsRows:
            pass
        connection = self._engine.raw_connection()
        try:
            rows = Rows(connection, self._engine.dialect.paramstyle)
            for _ in range(_RETRIES):
                block = read_watermark(rows)
                state = _Recording(rows, self.cache, block, block == self.cache.block)
                result = decide(state)
                if read_watermark(rows) == block:
                    for key, value in state.read.items():
                        self.cache.put(key, value, block)
                    return result
                connection.rollback()  # PostgreSQL: end the transaction the reads opened
        finally:
            connection.close()
        raise RuntimeError("the projection tables kept changing under a read")

    # -- the services' lookups (each an indexed query; outside the decision, not cached) ----------------
    def _one(self, load):
        with self._sessions() as session:
            return load(session)

    def _consents(self, where: str, *params) -> list[ConsentState]:
        with self._sessions() as session:
            return read_consents(Rows.of(session), where, *params)

    def department(self, address: str) -> DepartmentState | None:
        return self.read(lambda s: s.department(address))

    def roles(self, account: str) -> frozenset[str]:
        return self.read(lambda s: s.roles(account))

    def has_role(self, account: str, role: str) -> bool:
        return role in self.roles(account)

    def resource(self, resource_key: str) -> ResourceState | None:
        return self.read(lambda s: s.resource(resource_key))

    def subject(self, subject_id: str) -> SubjectState | None:
        return self.read(lambda s: s.subject(subject_id))

    def is_signer(self, address: str) -> bool:
        """Whether ``address`` is a bound signer of any subject."""
        return self.read(lambda s: s.is_signer(address))

    def subjects_of_signer(self, address: str) -> set[str]:
        return self._one(lambda s: set(s.scalars(select(m.SubjectSignerRow.subject_id)
                                                 .where(m.SubjectSignerRow.signer == address))))

    def consent(self, consent_id: str) -> ConsentState | None:
        found = self._consents("k.consent_id = ?", consent_id)
        return found[0] if found else None

    def has_consent(self, consent_id: str) -> bool:
        return self._one(lambda s: s.get(m.ConsentRow, consent_id)) is not None

    def consents_visible(self, subject_ids: Iterable[str], grantee: str) -> list[ConsentState]:
        """The consents of any of ``subject_ids``, or to ``grantee``, oldest first."""
        subject_ids = list(subject_ids)
        where = "k.grantee = ?" + (f" OR k.subject_id IN ({', '.join('?' * len(subject_ids))})" if subject_ids else "")
        return self._consents(where, grantee, *subject_ids)

    def consent_nonces(self, subject_id: str) -> set[int]:
        """The nonces of the subject's consents on the ledger."""
        return self._one(lambda s: {int(n) for n in s.scalars(
            select(m.ConsentRow.nonce).where(m.ConsentRow.subject_id == subject_id))})

    def signer_change(self, change_id: str) -> SignerChangeState | None:
        row = self._one(lambda s: s.get(m.SubjectSignerChangeRow, change_id))
        return _signer_change(row) if row else None

    def signer_changes_of(self, subject_ids: Iterable[str]) -> list[SignerChangeState]:
        """The signer changes of ``subject_ids``, in the order they were proposed."""
        subject_ids = list(subject_ids)
        if not subject_ids:
            return []
        c = m.SubjectSignerChangeRow
        return self._one(lambda s: [_signer_change(row) for row in s.scalars(
            select(c).where(c.subject_id.in_(subject_ids)).order_by(c.proposed_block, c.change_id))])

    def sharing_request(self, request_id: int) -> SharingRequestState | None:
        row = self._one(lambda s: s.get(m.SharingRequestRow, request_id))
        return _sharing_request(row) if row else None

    def agreement(self, request: SharingRequestState) -> AgreementState | None:
        """The standing agreement of ``request``'s department, resource and purpose (maybe a later request's)."""
        return self._one(lambda s: read_agreement(Rows.of(s), request.requester, request.resource_key,
                                                  request.purpose_hash))

    def sharing_requests(self, party: str | None) -> list[SharingRequestState]:
        """The sharing requests ``party`` made or provides the resource of (None: all), by id."""
        r = m.SharingRequestRow
        query = select(r).order_by(r.request_id)
        if party is not None:
            query = query.where((r.requester == party) | r.resource_key.in_(self._provided(party)))
        return self._one(lambda s: [_sharing_request(row) for row in s.scalars(query)])

    def agreements(self, party: str | None) -> list[tuple[str, str, AgreementState]]:
        """(department, resource key, agreement) that ``party`` holds or provides (None: all), by request id."""
        a = m.AgreementRow
        query = select(a).order_by(a.request_id)
        if party is not None:
            query = query.where((a.department == party) | a.resource_key.in_(self._provided(party)))
        return self._one(lambda s: [(row.department, row.resource_key, _agreement(row)) for row in s.scalars(query)])

    def suspensions(self, party: str | None) -> list[SuspensionState]:
        """The suspensions ``party`` is under or set as provider (None: all), newest first."""
        where, params = ("", ()) if party is None else (" WHERE department = ? OR provider = ?", (party, party))
        return self._one(lambda s: [SuspensionState(*row) for row in Rows.of(s).all(
            f"SELECT {_SUSPENSION_COLUMNS} FROM suspensions{where} ORDER BY block_number DESC, resource_key, "
            f"department", *params)])

    def emergency_record(self, emergency_id: int) -> EmergencyState | None:
        """One emergency as the tables hold it now (the services' read, outside the decision)."""
        return self._one(lambda s: read_emergency(Rows.of(s), emergency_id))

    def emergencies(self) -> list[EmergencyState]:
        """Every emergency, newest first."""
        e = m.EmergencyRow
        return self._one(lambda s: [_emergency(row) for row in s.scalars(select(e).order_by(e.emergency_id.desc()))])

    def verification(self, request_id: int) -> VerificationState | None:
        row = self._one(lambda s: s.get(m.VerificationRequestRow, request_id))
        return _verification(row) if row else None

    def verifications(self, party: str | None) -> list[VerificationState]:
        """The verification requests ``party`` made or must answer as provider (None: all), newest first."""
        v = m.VerificationRequestRow
        query = select(v).order_by(v.request_id.desc())
        if party is not None:
            query = query.where((v.requester == party) | v.resource_key.in_(self._provided(party)))
        return self._one(lambda s: [_verification(row) for row in s.scalars(query)])

    def suspension(self, department: str, resource_key: str) -> SuspensionState | None:
        return self._one(lambda s: read_suspension(Rows.of(s), department, resource_key))

    def objection(self, objection_id: int) -> ObjectionState | None:
        row = self._one(lambda s: s.get(m.ObjectionRow, objection_id))
        return _objection(row) if row else None

    def objections(self, *, subjects: list[str] | None = None, party: str | None = None) -> list[ObjectionState]:
        """Objections newest first: all of them, or those about ``subjects``, or those forwarded to ``party``
        or about resources it provides."""
        o = m.ObjectionRow
        query = select(o).order_by(o.objection_id.desc())
        if subjects is not None:
            query = query.where(o.subject_id.in_(subjects))
        if party is not None:
            query = query.where((o.provider == party) | o.resource_key.in_(self._provided(party)))
        return self._one(lambda s: [_objection(row) for row in s.scalars(query)])

    @staticmethod
    def _provided(party: str):
        return select(m.ResourceRow.resource_key).where(m.ResourceRow.provider == party)


def load_touched(session: Session, events: list[tuple[str, dict, dict, int]]) -> Projection:
    """A scratch projection holding exactly the rows ``events`` read before they write: the entities
    they update (a consent for its revocation, a subject for its signers, a request and its
    agreement for a decision, an account's roles, ...). Entities they create need no row."""
    p = Projection()
    rows = Rows.of(session)
    for name, a, _log, _ts in events:
        if name in ("RoleGranted", "RoleRevoked") and a["account"] not in p.roles:
            p.roles[a["account"]] = set(read_roles(rows, a["account"]))
        elif name == "DepartmentActiveSet" and a["account"] not in p.departments:
            found = read_department(rows, a["account"])
            if found:
                p.departments[found.address] = found
        elif name in ("ResourceUpdated", "ResourceActiveSet"):
            key = hex32(a["resourceId"])
            found = key in p.resources or read_resource(rows, key)
            if isinstance(found, ResourceState):
                p.resources[key] = found
        elif name in ("SignerBound", "SignerUnbound", "ThresholdChanged"):
            key = hex32(a["subjectId"])
            found = key in p.subjects or read_subject(rows, key)
            if isinstance(found, SubjectState):
                p.subjects[key] = found
        elif name in ("SignerChangeCancelled", "SignerChangeApplied"):
            key = hex32(a["changeId"])
            row = key not in p.signer_changes and session.get(m.SubjectSignerChangeRow, key)
            if row:
                p.signer_changes[key] = _signer_change(row)
        elif name in ("ConsentRevoked", "ConsentEndedByRegulator"):
            key = hex32(a["consentId"])
            if key not in p.consents:
                for consent in read_consents(rows, "k.consent_id = ?", key):
                    p.add_consent(consent)
        elif name in ("SharingApproved", "AgreementEnded", "SharingDenied"):
            if a["requestId"] not in p.sharing_requests:
                row = session.get(m.SharingRequestRow, a["requestId"])
                if row:
                    request = p.sharing_requests[row.request_id] = _sharing_request(row)
                    agreement_key = (request.requester, request.resource_key, request.purpose_hash)
                    found = read_agreement(rows, *agreement_key)
                    if found:
                        p.agreements[agreement_key] = found
        elif name in ("EmergencyScope", "EmergencyExtended", "EmergencyNoticeDelayed", "EmergencyReviewed"):
            if a["emergencyId"] not in p.emergencies:
                found = read_emergency(rows, a["emergencyId"])
                if found:
                    p.emergencies[found.emergency_id] = found
        elif name in ("ObjectionMarked", "ObjectionForwarded", "ObjectionDecided"):
            if a["objectionId"] not in p.objections:
                row = session.get(m.ObjectionRow, a["objectionId"])
                if row:
                    p.add_objection(_objection(row))
        elif name in ("VerificationExtended", "VerificationResolved"):
            if a["requestId"] not in p.verifications:
                row = session.get(m.VerificationRequestRow, a["requestId"])
                if row:
                    p.verifications[row.request_id] = _verification(row)
        elif name == "SuspensionLifted":
            key = (hex32(a["resourceId"]), a["department"])
            if key not in p.suspensions:
                found = read_suspension(rows, key[1], key[0])
                if found:
                    p.suspensions[key] = found
    return p
