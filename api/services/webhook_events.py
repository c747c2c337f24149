"""What a party must act on, read from the chain projection, and enqueued once per webhook endpoint.

Events are derived from the indexed tables, never from the API's own code paths: a department may
send its transaction to the chain directly, and the request it filed still needs the provider's
answer. Each scan computes the current action items and inserts, for every endpoint of each item's
recipient, one row of the outbox (:mod:`api.services.webhook_delivery`) keyed by the item's
idempotency key; the key is unique per endpoint, so a second scan, or a second API instance on the
same database, adds nothing.

An event source is a function of one :class:`Scan` that yields :class:`ActionItem`\\ s (build them
with :func:`action_item`); the scanner is given its sources at start-up, so a new kind of event is
one more function in that tuple.

Every scan is bounded: each source reads at most :data:`SCAN_LIMIT` rows, newest first, and only
items whose event is recent (:data:`FILED_LOOKBACK_SECONDS`) or whose deadline is near; delivered
rows are kept longer than an item can stay current (:data:`~api.services.webhook_delivery.RETENTION_SECONDS`),
so a purge never makes a scan enqueue an item again.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Select, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from api.schemas.common import iso
from ledger.deadlines import (SHARING_ANSWER_WORKING_DAYS, Deadline, objection_due, verification_due,
                              working_days_after)
from ledger.storage.models import (ObjectionRow, ResourceRow, SharingRequestRow, VerificationRequestRow,
                                   WebhookDeliveryRow, WebhookEndpointRow)

log = logging.getLogger(__name__)

#: Rows one source reads per scan (newest first).
SCAN_LIMIT = 500
#: A request filed longer ago than this is not announced any more (a newly registered endpoint gets what was filed
#: in the last three days, and every deadline that comes due).
FILED_LOOKBACK_SECONDS = 3 * 86400
#: Requests older than this cannot have a statutory deadline still ahead (15 working days is under 30 calendar
#: days, even across the Spring Festival).
DEADLINE_LOOKBACK_SECONDS = 45 * 86400
#: Idempotency keys checked against the outbox per query.
_KEYS_PER_QUERY = 500


@dataclass(frozen=True, slots=True)
class ActionItem:
    """Something ``recipient`` (a checksummed address) must act on. ``key`` is the idempotency key, the same for
    every scan that finds the item; ``data`` is what the delivery's body carries."""

    recipient: str
    event: str
    key: str
    data: dict


def action_item(recipient: str, event: str, ref: str | int, data: dict) -> ActionItem:
    """An action item whose idempotency key is ``<event>:<ref>`` (``ref`` names the thing: ``17``,
    ``verification_request:17:1767196799``)."""
    return ActionItem(recipient, event, f"{event}:{ref}", data)


@dataclass(slots=True)
class Scan:
    """What a source reads from: the session on the indexed tables, the scan's time (unix seconds) and the data
    authority's address."""

    session: Session
    now: float
    admin: str
    _resources: dict[str, ResourceRow | None] = field(default_factory=dict)

    def rows(self, query: Select) -> list:
        """The rows of ``query``, at most :data:`SCAN_LIMIT`."""
        return list(self.session.execute(query.limit(SCAN_LIMIT)))

    def resource(self, resource_key: str) -> ResourceRow | None:
        if resource_key not in self._resources:
            self._resources[resource_key] = self.session.scalar(
                select(ResourceRow).where(ResourceRow.resource_key == resource_key))
        return self._resources[resource_key]


EventSource = Callable[[Scan], Iterable[ActionItem]]


# -- the sources ------------------------------------------------------------------------------------------
def _sharing_data(r: SharingRequestRow, resource: ResourceRow, due: Deadline) -> dict:
    return {"request_id": r.request_id, "requester": r.requester, "resource_id": resource.resource_id,
            "requested_at": iso(r.requested_at), "answer_due": iso(due.at), "due_pending": due.pending,
            "see": "/v1/sharing-requests"}


def _verification_data(v: VerificationRequestRow, resource: ResourceRow, due: Deadline) -> dict:
    return {"request_id": v.request_id, "requester": v.requester, "resource_id": resource.resource_id,
            "audit_seq": v.audit_seq, "status": v.status, "requested_at": iso(v.requested_at), "due": iso(due.at),
            "due_pending": due.pending, "see": "/v1/verification-requests"}


def _pending_sharing_requests(scan: Scan, since: float) -> Iterator[tuple[SharingRequestRow, ResourceRow]]:
    r = SharingRequestRow
    for (row,) in scan.rows(select(r).where(r.status == "PENDING", r.requested_at >= since)
                            .order_by(r.request_id.desc())):
        resource = scan.resource(row.resource_key)
        if resource is not None and resource.provider:
            yield row, resource


def _open_verification_requests(scan: Scan, since: float) -> Iterator[tuple[VerificationRequestRow, ResourceRow]]:
    v = VerificationRequestRow
    for (row,) in scan.rows(select(v).where(v.status != "RESOLVED", v.requested_at >= since)
                            .order_by(v.request_id.desc())):
        resource = scan.resource(row.resource_key)
        if resource is not None and resource.provider:
            yield row, resource


def _objection_data(o: ObjectionRow, resource: ResourceRow, due: Deadline) -> dict:
    return {"objection_id": o.objection_id, "resource_id": resource.resource_id, "objection_kind": o.kind,
            "status": o.status, "filed_at": iso(o.filed_at), "due": iso(due.at), "due_pending": due.pending,
            "see": "/v1/objections"}


def _open_objections(scan: Scan, since: float) -> Iterator[tuple[ObjectionRow, ResourceRow, str, Deadline]]:
    """Undecided objections filed since ``since``, each with who acts next and by when: the data authority marks
    (1 working day) and forwards (2) or decides (5); once forwarded, the provider decides (5 from the forwarding)."""
    o = ObjectionRow
    for (row,) in scan.rows(select(o).where(o.status != "DECIDED", o.filed_at >= since)
                            .order_by(o.objection_id.desc())):
        resource = scan.resource(row.resource_key)
        if resource is None:
            continue
        clocks = objection_due(row.filed_at, row.forwarded_at)
        if row.status == "FORWARDED":
            if row.provider:
                yield row, resource, row.provider, clocks.decide
        else:  # the authority's next deadline still ahead: marking, then forwarding, then its own decision
            steps = (clocks.mark, clocks.forward, clocks.decide) if row.status == "FILED" else (clocks.forward,
                                                                                                 clocks.decide)
            yield row, resource, scan.admin, next((d for d in steps if d.at is None or d.at.timestamp() >= scan.now),
                                                  steps[-1])


def sharing_requests_filed(scan: Scan) -> Iterator[ActionItem]:
    """``sharing_request.filed`` for the provider: a request waiting for its answer (10 working days, 第十八条)."""
    for r, resource in _pending_sharing_requests(scan, scan.now - FILED_LOOKBACK_SECONDS):
        due = working_days_after(r.requested_at, SHARING_ANSWER_WORKING_DAYS)
        yield action_item(resource.provider, "sharing_request.filed", r.request_id, _sharing_data(r, resource, due))


def verification_requests_filed(scan: Scan) -> Iterator[ActionItem]:
    """``verification_request.filed`` for the provider: a record in doubt to check (5 working days, 第二十一条)."""
    for v, resource in _open_verification_requests(scan, scan.now - FILED_LOOKBACK_SECONDS):
        due = verification_due(v.requested_at, v.extended_until)
        yield action_item(resource.provider, "verification_request.filed", v.request_id,
                          _verification_data(v, resource, due))


def objections_to_act_on(scan: Scan) -> Iterator[ActionItem]:
    """``objection.filed`` for the data authority, which marks it within a working day (第三十四条), and
    ``objection.forwarded`` for the provider it was forwarded to, which decides within five."""
    for o, resource, recipient, due in _open_objections(scan, scan.now - FILED_LOOKBACK_SECONDS):
        event = "objection.forwarded" if o.status == "FORWARDED" else "objection.filed"
        yield action_item(recipient, event, o.objection_id, _objection_data(o, resource, due))


def deadlines_due_soon(scan: Scan) -> Iterator[ActionItem]:
    """``deadline.due_soon`` for whoever acts next (the provider; for an objection not yet forwarded, the data
    authority): an answer due by the end of the next working day, on the clocks
    ``/v1/overdue`` uses. The key names the deadline, so an extended one is announced again."""
    since = scan.now - DEADLINE_LOOKBACK_SECONDS
    for r, resource in _pending_sharing_requests(scan, since):
        due = working_days_after(r.requested_at, SHARING_ANSWER_WORKING_DAYS)
        if due.comes_due(scan.now):
            yield action_item(resource.provider, "deadline.due_soon",
                              f"sharing_request:{r.request_id}:{int(due.at.timestamp())}",
                              {"kind": "sharing_request", **_sharing_data(r, resource, due)})
    for v, resource in _open_verification_requests(scan, since):
        due = verification_due(v.requested_at, v.extended_until)
        if due.comes_due(scan.now):
            yield action_item(resource.provider, "deadline.due_soon",
                              f"verification_request:{v.request_id}:{int(due.at.timestamp())}",
                              {"kind": "verification_request", **_verification_data(v, resource, due)})
    for o, resource, recipient, due in _open_objections(scan, since):
        if due.comes_due(scan.now):
            yield action_item(recipient, "deadline.due_soon", f"objection:{o.objection_id}:{int(due.at.timestamp())}",
                              {"kind": "objection", **_objection_data(o, resource, due)})


#: The events every installation sends; bootstrap may pass more.
EVENT_SOURCES: tuple[EventSource, ...] = (sharing_requests_filed, verification_requests_filed, objections_to_act_on,
                                          deadlines_due_soon)


# -- the scanner ------------------------------------------------------------------------------------------
class WebhookScanner:
    """Computes the current action items and enqueues each once per endpoint of its recipient."""

    def __init__(self, *, sessions: sessionmaker[Session], admin_address: str,
                 sources: Sequence[EventSource] = EVENT_SOURCES, clock: Callable[[], float] = time.time):
        self._sessions = sessions
        self._admin = admin_address
        self._sources = tuple(sources)
        self._clock = clock

    def run_once(self) -> int:
        """One scan; returns how many deliveries it enqueued."""
        now = self._clock()
        with self._sessions() as session:
            endpoints: dict[str, list[str]] = defaultdict(list)
            for webhook_id, owner in session.execute(select(WebhookEndpointRow.webhook_id, WebhookEndpointRow.owner)):
                endpoints[owner].append(webhook_id)
            if not endpoints:  # nobody listens: nothing to read
                return 0
            scan = Scan(session, now, self._admin)
            items: dict[str, ActionItem] = {}
            for source in self._sources:
                for item in source(scan):
                    if item.recipient in endpoints:
                        items.setdefault(item.key, item)
        return enqueue(self._sessions, items.values(), endpoints, now)


def enqueue(sessions: sessionmaker[Session], items: Iterable[ActionItem], endpoints: dict[str, list[str]],
            now: float) -> int:
    """One pending delivery per (endpoint of the recipient, item), inserted only where absent; returns how many
    were new. Safe against a concurrent scan: the unique key decides, and the loser's insert does nothing."""
    wanted = {(webhook_id, item.key): item for item in items for webhook_id in endpoints.get(item.recipient, ())}
    if not wanted:
        return 0
    with sessions.begin() as session:
        keys = sorted({key for _, key in wanted})
        d = WebhookDeliveryRow
        for start in range(0, len(keys), _KEYS_PER_QUERY):
            for found in session.execute(select(d.webhook_id, d.event_key).where(
                    d.event_key.in_(keys[start:start + _KEYS_PER_QUERY]))):
                wanted.pop(tuple(found), None)
        if not wanted:
            return 0
        moment = int(now)
        rows = [{"webhook_id": webhook_id, "recipient": item.recipient, "event_key": key, "event": item.event,
                 "payload": {"id": key, "event": item.event, "recipient": item.recipient, "created_at": iso(moment),
                             "data": item.data},
                 "status": "pending", "attempts": 0, "created_at": moment, "next_attempt_at": moment}
                for (webhook_id, key), item in wanted.items()]
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        result = session.connection().execute(dialect.insert(d).on_conflict_do_nothing(
            index_elements=[d.webhook_id, d.event_key]), rows)
    added = result.rowcount if result.rowcount is not None and result.rowcount >= 0 else len(rows)
    if added:
        log.info("webhooks: %d deliveries enqueued", added)
    return added
