"""Webhooks: the signature a receiver checks, the retry schedule's bounds, action items enqueued once per
endpoint (also by two scanners at once), deliveries retried and given up, endpoints bounded and owned."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select, update

from api.core.security import Principal
from api.schemas.webhooks import WebhookCreate
from api.services import webhook_delivery as delivery
from api.services.webhook_delivery import WebhookWorker, purge_finished, retry_delay, sign, verify
from api.services.webhook_events import (ActionItem, WebhookScanner, action_item, deadlines_due_soon, enqueue,
                                         objections_to_act_on, sharing_requests_filed)
from api.services.webhooks import MAX_WEBHOOKS_PER_PARTY, WebhookService, checked_url
from ledger import domain_errors as refused
from ledger.deadlines import Deadline
from ledger.domain import Role
from ledger.storage.database import make_engine, make_sessionmaker, migrate
from ledger.storage.models import (ObjectionRow, ResourceRow, SharingRequestRow, VerificationRequestRow,
                                   WebhookDeliveryRow, WebhookEndpointRow)

pytestmark = pytest.mark.unit

PROVIDER = Principal("0x" + "11" * 20, frozenset({Role.DEPARTMENT}))
OTHER = Principal("0x" + "22" * 20, frozenset({Role.DEPARTMENT}))
ADMIN = "0x" + "aa" * 20
RESOURCE_KEY = "0x" + "ab" * 32
# A Tuesday in a year whose calendar is published: the next working day is Wednesday.
TUESDAY_NOON = datetime(2025, 3, 11, 4, 0, tzinfo=UTC).timestamp()  # 12:00 in Beijing


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["sqlite", "postgresql"])
def sessions(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'webhooks.db'}" if request.param == "sqlite" else \
        request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    migrate(engine)
    yield make_sessionmaker(engine)
    engine.dispose()


def _seed_request(sessions, request_id: int, requested_at: float, status: str = "PENDING") -> None:
    with sessions.begin() as session:
        if session.get(ResourceRow, "gjj.housing_fund") is None:
            session.add(ResourceRow(resource_id="gjj.housing_fund", resource_key=RESOURCE_KEY, name="fund",
                                    fields=["balance"], schema_hash="0x" + "00" * 32, provider=PROVIDER.address,
                                    sharing_class="CONDITIONAL", sensitive=True, active=True, on_chain=True))
        session.add(SharingRequestRow(request_id=request_id, requester=OTHER.address, resource_key=RESOURCE_KEY,
                                      field_mask="1", purpose_hash="0x" + "00" * 32, valid_until=2**40,
                                      requested_at=int(requested_at), status=status, requested_block=1))


def _deliveries(sessions) -> list[WebhookDeliveryRow]:
    with sessions() as session:
        return list(session.scalars(select(WebhookDeliveryRow).order_by(WebhookDeliveryRow.delivery_id)))


# -- the signature ----------------------------------------------------------------------------------------
def test_the_signature_is_hmac_sha256_over_id_timestamp_and_body():
    body = b'{"event":"sharing_request.filed"}'
    expected = hmac.new(b"whsec_k", b"sharing_request.filed:7.1700000000." + body, hashlib.sha256).hexdigest()
    assert sign("whsec_k", "sharing_request.filed:7", 1700000000, body) == f"sha256={expected}"


def test_a_receiver_verifies_the_signature_and_refuses_changes_and_replays():
    body = b'{"id":"x"}'
    headers = {"Webhook-Id": "x", "Webhook-Timestamp": "1700000000",
               "Webhook-Signature": sign("whsec_k", "x", 1700000000, body)}
    assert verify("whsec_k", headers, body, now=1700000100)
    assert verify("whsec_k", {k.lower(): v for k, v in headers.items()}, body, now=1700000100)
    assert not verify("whsec_other", headers, body, now=1700000100)
    assert not verify("whsec_k", headers, body + b" ", now=1700000100)
    assert not verify("whsec_k", {**headers, "Webhook-Id": "y"}, body, now=1700000100)
    assert not verify("whsec_k", headers, body, now=1700000000 + delivery.SIGNATURE_TOLERANCE_SECONDS + 1)
    assert not verify("whsec_k", {**headers, "Webhook-Timestamp": "soon"}, body, now=1700000000)


# -- the retry schedule ----------------------------------------------------------------------------------
@pytest.mark.parametrize("failed", range(1, 40))
def test_retries_back_off_exponentially_with_jitter_up_to_an_hour(failed):
    base = min(3600, 30 * 2 ** (failed - 1))
    low, high = retry_delay(failed, lambda: 0.0), retry_delay(failed, lambda: 0.999999)
    assert 0.8 * base <= low <= high <= min(3600, 1.2 * base)
    assert high <= delivery.MAX_RETRY_SECONDS


def test_the_first_retries_come_after_about_30_s_then_a_minute():
    assert 24 <= retry_delay(1, lambda: 0.5) <= 36 and 48 <= retry_delay(2, lambda: 0.5) <= 72


# -- the clock of a reminder -------------------------------------------------------------------------------
def test_a_deadline_comes_due_within_the_next_working_day_only():
    friday_noon = datetime(2025, 3, 14, 4, 0, tzinfo=UTC).timestamp()
    monday_end = Deadline(datetime(2025, 3, 17, 15, 59, 59, tzinfo=UTC))  # 23:59:59 Beijing, Monday
    assert monday_end.comes_due(friday_noon)  # the weekend is not a working day
    assert not monday_end.comes_due(friday_noon - 86400)  # Thursday: Friday is the next working day
    assert not monday_end.comes_due(monday_end.at.timestamp() + 1)  # passed: overdue, not coming due
    assert not Deadline(None, "calendar not published").comes_due(friday_noon)


# -- action items, enqueued once ---------------------------------------------------------------------------
def test_an_action_items_key_names_the_event_and_the_thing():
    item = action_item(PROVIDER.address, "objection.filed", 3, {"objection_id": 3})
    assert item == ActionItem(PROVIDER.address, "objection.filed", "objection.filed:3", {"objection_id": 3})


def test_enqueuing_the_same_item_twice_makes_one_row(sessions):
    service = WebhookService(sessions=sessions, clock=Clock(TUESDAY_NOON))
    hook = service.register(PROVIDER, WebhookCreate(url="https://provider.example/hook"))
    item = action_item(PROVIDER.address, "sharing_request.filed", 7, {"request_id": 7})
    endpoints = {PROVIDER.address: [hook.webhook_id]}
    assert enqueue(sessions, [item], endpoints, TUESDAY_NOON) == 1
    assert enqueue(sessions, [item, item], endpoints, TUESDAY_NOON + 5) == 0
    [row] = _deliveries(sessions)
    assert row.event_key == "sharing_request.filed:7" and row.status == "pending" and row.attempts == 0
    assert row.payload == {"id": "sharing_request.filed:7", "event": "sharing_request.filed",
                           "recipient": PROVIDER.address, "created_at": "2025-03-11T04:00:00Z",
                           "data": {"request_id": 7}}


def test_the_scanner_finds_pending_requests_in_the_projection_and_enqueues_each_once(sessions):
    clock = Clock(TUESDAY_NOON)
    service = WebhookService(sessions=sessions, clock=clock)
    first = service.register(PROVIDER, WebhookCreate(url="https://provider.example/a"))
    second = service.register(PROVIDER, WebhookCreate(url="https://provider.example/b"))
    service.register(OTHER, WebhookCreate(url="https://other.example/hook"))  # the requester: nothing to act on
    _seed_request(sessions, 7, TUESDAY_NOON - 3600)
    _seed_request(sessions, 8, TUESDAY_NOON - 3600, status="APPROVED")  # answered: no action item
    _seed_request(sessions, 9, TUESDAY_NOON - 30 * 86400)  # filed a month ago: not announced any more
    scanner = WebhookScanner(sessions=sessions, admin_address=ADMIN, sources=[sharing_requests_filed], clock=clock)
    assert scanner.run_once() == 2
    assert scanner.run_once() == 0
    rows = _deliveries(sessions)
    assert {(r.webhook_id, r.event_key) for r in rows} == {(first.webhook_id, "sharing_request.filed:7"),
                                                            (second.webhook_id, "sharing_request.filed:7")}
    data = rows[0].payload["data"]
    assert data["request_id"] == 7 and data["resource_id"] == "gjj.housing_fund" and data["requester"] == OTHER.address
    assert data["answer_due"] is not None


def test_two_scanners_at_once_enqueue_once(sessions):
    clock = Clock(TUESDAY_NOON)
    WebhookService(sessions=sessions, clock=clock).register(PROVIDER, WebhookCreate(url="https://p.example/h"))
    for request_id in range(20):
        _seed_request(sessions, request_id, TUESDAY_NOON - 60)
    scanners = [WebhookScanner(sessions=sessions, admin_address=ADMIN, clock=clock) for _ in range(2)]
    start = threading.Barrier(2)
    errors = []

    def scan(scanner):
        start.wait()
        try:
            scanner.run_once()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=scan, args=(s,)) for s in scanners]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    keys = [r.event_key for r in _deliveries(sessions)]
    assert sorted(keys) == sorted(f"sharing_request.filed:{i}" for i in range(20))


def test_a_deadline_coming_due_is_announced_with_its_date(sessions):
    clock = Clock(TUESDAY_NOON)
    WebhookService(sessions=sessions, clock=clock).register(PROVIDER, WebhookCreate(url="https://p.example/h"))
    # Filed on Tuesday two weeks before: 10 working days end on this Tuesday; so due now.
    _seed_request(sessions, 1, TUESDAY_NOON - 14 * 86400)
    # Filed on Monday a week before: due next week.
    _seed_request(sessions, 2, TUESDAY_NOON - 8 * 86400)
    scanner = WebhookScanner(sessions=sessions, admin_address=ADMIN, sources=[deadlines_due_soon], clock=clock)
    assert scanner.run_once() == 1
    [row] = _deliveries(sessions)
    assert row.event == "deadline.due_soon" and row.event_key.startswith("deadline.due_soon:sharing_request:1:")
    assert row.payload["data"]["kind"] == "sharing_request" and row.payload["data"]["answer_due"].startswith(
        "2025-03-11T15:59:59")


def test_open_verification_requests_are_announced_to_the_provider(sessions):
    from api.services.webhook_events import verification_requests_filed

    clock = Clock(TUESDAY_NOON)
    WebhookService(sessions=sessions, clock=clock).register(PROVIDER, WebhookCreate(url="https://p.example/h"))
    _seed_request(sessions, 1, TUESDAY_NOON, status="APPROVED")  # (for the resource row)
    with sessions.begin() as session:
        for request_id, status in ((4, "OPEN"), (5, "RESOLVED")):
            session.add(VerificationRequestRow(request_id=request_id, requester=OTHER.address,
                                               resource_key=RESOURCE_KEY, audit_seq=0, field_mask="1",
                                               reason_hash="0x" + "00" * 32, requested_at=int(TUESDAY_NOON) - 60,
                                               requested_block=1, tx_hash="0x" + "00" * 32, status=status))
    scanner = WebhookScanner(sessions=sessions, admin_address=ADMIN, sources=[verification_requests_filed],
                             clock=clock)
    assert scanner.run_once() == 1
    assert [r.event_key for r in _deliveries(sessions)] == ["verification_request.filed:4"]


def _seed_objection(sessions, objection_id: int, status: str, filed_at: float, **steps) -> None:
    with sessions.begin() as session:
        session.add(ObjectionRow(objection_id=objection_id, subject_id="0x" + "5a" * 32, resource_key=RESOURCE_KEY,
                                 field_mask="1", kind="WRONG", filed_by=OTHER.address, reason_hash="0x" + "00" * 32,
                                 filed_at=int(filed_at), filed_block=1, tx_hash="0x" + "00" * 32, status=status,
                                 **steps))


def test_objections_go_to_the_authority_until_forwarded_then_to_the_provider(sessions):
    clock = Clock(TUESDAY_NOON)
    service = WebhookService(sessions=sessions, clock=clock)
    service.register(PROVIDER, WebhookCreate(url="https://p.example/h"))
    service.register(Principal(ADMIN, frozenset({Role.ADMIN})), WebhookCreate(url="https://authority.example/h"))
    _seed_request(sessions, 1, TUESDAY_NOON, status="APPROVED")  # (for the resource row)
    _seed_objection(sessions, 1, "FILED", TUESDAY_NOON - 60)
    _seed_objection(sessions, 2, "MARKED", TUESDAY_NOON - 60, marked_at=int(TUESDAY_NOON))
    _seed_objection(sessions, 3, "FORWARDED", TUESDAY_NOON - 60, marked_at=int(TUESDAY_NOON),
                    forwarded_at=int(TUESDAY_NOON), provider=PROVIDER.address)
    _seed_objection(sessions, 4, "DECIDED", TUESDAY_NOON - 60, decided_at=int(TUESDAY_NOON))
    scanner = WebhookScanner(sessions=sessions, admin_address=ADMIN, sources=[objections_to_act_on], clock=clock)
    assert scanner.run_once() == 3
    with sessions() as session:
        owners = {w: o for w, o in session.execute(select(WebhookEndpointRow.webhook_id, WebhookEndpointRow.owner))}
    sent = {(owners[r.webhook_id], r.event_key): r.payload for r in _deliveries(sessions)}
    assert set(sent) == {(ADMIN, "objection.filed:1"), (ADMIN, "objection.filed:2"),
                         (PROVIDER.address, "objection.forwarded:3")}
    # filed on a Tuesday: marked by Wednesday's end (1 working day), forwarded by Thursday's (2)
    assert sent[ADMIN, "objection.filed:1"]["data"]["due"] == "2025-03-12T15:59:59.999999Z"
    assert sent[ADMIN, "objection.filed:2"]["data"]["due"] == "2025-03-13T15:59:59.999999Z"
    assert sent[PROVIDER.address, "objection.forwarded:3"]["data"]["due"] == "2025-03-18T15:59:59.999999Z"


def test_an_objection_not_marked_in_time_is_announced_as_due_to_the_authority(sessions):
    clock = Clock(TUESDAY_NOON)
    WebhookService(sessions=sessions, clock=clock).register(Principal(ADMIN, frozenset({Role.ADMIN})),
                                                            WebhookCreate(url="https://authority.example/h"))
    _seed_request(sessions, 1, TUESDAY_NOON, status="APPROVED")
    _seed_objection(sessions, 9, "FILED", TUESDAY_NOON - 86400)  # Monday: marking is due by Tuesday's end
    scanner = WebhookScanner(sessions=sessions, admin_address=ADMIN, sources=[deadlines_due_soon], clock=clock)
    assert scanner.run_once() == 1
    [row] = _deliveries(sessions)
    assert row.event_key == f"deadline.due_soon:objection:9:{int(datetime(2025, 3, 11, 15, 59, 59, tzinfo=UTC).timestamp())}"
    assert row.payload["data"]["kind"] == "objection"


# -- delivery ----------------------------------------------------------------------------------------------
class Receiver:
    """An httpx transport that answers each POST with the next status, recording what it got."""

    def __init__(self, *statuses: int):
        self.statuses = list(statuses)
        self.received: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.received.append(request)
        status = self.statuses.pop(0) if self.statuses else 200
        # streamed, as from the network: the worker reads only the start of it
        return httpx.Response(status, stream=httpx.ByteStream(b"receiver down" if status >= 500 else b"ok"))


def _one_pending(sessions, clock) -> tuple[WebhookService, str, str]:
    service = WebhookService(sessions=sessions, clock=clock)
    hook = service.register(PROVIDER, WebhookCreate(url="https://provider.example/hook"))
    enqueue(sessions, [action_item(PROVIDER.address, "sharing_request.filed", 7, {"request_id": 7})],
            {PROVIDER.address: [hook.webhook_id]}, clock())
    return service, hook.webhook_id, hook.secret


def test_a_delivery_is_signed_retried_after_a_failure_and_then_delivered(sessions):
    clock = Clock(TUESDAY_NOON)
    service, webhook_id, secret = _one_pending(sessions, clock)
    receiver = Receiver(500)
    worker = WebhookWorker(sessions=sessions, clock=clock, rng=lambda: 0.5, transport=httpx.MockTransport(receiver))
    assert worker.run_once() == 1
    [row] = _deliveries(sessions)
    assert row.status == "pending" and row.attempts == 1 and row.last_error == "HTTP 500: receiver down"
    assert row.next_attempt_at == int(TUESDAY_NOON) + 30 and row.leased_until is None
    assert service.visible(PROVIDER)[0].pending == 1
    assert worker.run_once() == 0  # not due yet
    clock.now += 30
    assert worker.run_once() == 1
    [row] = _deliveries(sessions)
    assert row.status == "delivered" and row.attempts == 2 and row.finished_at == int(clock.now)
    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == "sharing_request.filed:7"
    assert first.headers["content-type"] == "application/json"
    assert verify(secret, dict(second.headers), second.content, now=clock.now)
    assert json.loads(second.content)["data"] == {"request_id": 7}


def test_a_delivery_that_always_fails_is_given_up_after_the_last_attempt(sessions):
    clock = Clock(TUESDAY_NOON)
    service, _, _ = _one_pending(sessions, clock)
    worker = WebhookWorker(sessions=sessions, clock=clock,
                           transport=httpx.MockTransport(Receiver(*[503] * delivery.MAX_ATTEMPTS)))
    for _ in range(delivery.MAX_ATTEMPTS):
        clock.now += delivery.MAX_RETRY_SECONDS
        assert worker.run_once() == 1
    clock.now += delivery.MAX_RETRY_SECONDS
    assert worker.run_once() == 0
    [row] = _deliveries(sessions)
    assert row.status == "failed" and row.attempts == delivery.MAX_ATTEMPTS
    [listed] = service.visible(PROVIDER)
    assert listed.failed == 1 and listed.pending == 0 and listed.last_error.startswith("HTTP 503")


def test_an_unreachable_receiver_is_recorded_and_retried(sessions):
    clock = Clock(TUESDAY_NOON)
    _one_pending(sessions, clock)

    def refuse(request):
        raise httpx.ConnectError("connection refused", request=request)

    worker = WebhookWorker(sessions=sessions, clock=clock, transport=httpx.MockTransport(refuse))
    assert worker.run_once() == 1
    [row] = _deliveries(sessions)
    assert row.status == "pending" and row.last_error == "ConnectError: connection refused"


def test_a_claimed_delivery_is_not_taken_by_another_worker_until_its_lease_ends(sessions):
    clock = Clock(TUESDAY_NOON)
    _one_pending(sessions, clock)
    receiver = Receiver()
    worker = WebhookWorker(sessions=sessions, clock=clock, transport=httpx.MockTransport(receiver))
    with sessions.begin() as session:  # another instance holds it (and may be posting it now)
        session.execute(update(WebhookDeliveryRow).values(leased_until=int(clock.now) + delivery.LEASE_SECONDS))
    assert worker.run_once() == 0 and receiver.received == []
    clock.now += delivery.LEASE_SECONDS  # that instance died: the row is free again
    assert worker.run_once() == 1 and len(receiver.received) == 1


def test_two_workers_at_once_deliver_each_row_once(sessions):
    clock = Clock(TUESDAY_NOON)
    service = WebhookService(sessions=sessions, clock=clock)
    hook = service.register(PROVIDER, WebhookCreate(url="https://provider.example/hook"))
    enqueue(sessions, [action_item(PROVIDER.address, "sharing_request.filed", i, {}) for i in range(30)],
            {PROVIDER.address: [hook.webhook_id]}, clock())
    receiver = Receiver()
    lock = threading.Lock()

    def post(request):
        with lock:
            return receiver(request)

    workers = [WebhookWorker(sessions=sessions, clock=clock, transport=httpx.MockTransport(post)) for _ in range(2)]
    threads = [threading.Thread(target=w.run_once) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = [r.headers["webhook-id"] for r in receiver.received]
    assert sorted(ids) == sorted(f"sharing_request.filed:{i}" for i in range(30))
    assert all(r.status == "delivered" for r in _deliveries(sessions))


def test_finished_deliveries_are_purged_after_the_retention(sessions):
    clock = Clock(TUESDAY_NOON)
    _one_pending(sessions, clock)
    WebhookWorker(sessions=sessions, clock=clock, transport=httpx.MockTransport(Receiver())).run_once()
    assert purge_finished(sessions, clock.now + delivery.RETENTION_SECONDS) == 0
    assert purge_finished(sessions, clock.now + delivery.RETENTION_SECONDS + 1) == 1
    assert _deliveries(sessions) == []


# -- endpoints ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("url", ["https://dept.example/hooks?x=1", "http://127.0.0.1:9000/", "https://[::1]:8443/h"])
def test_http_and_https_urls_are_accepted(url):
    assert checked_url(url) == url


@pytest.mark.parametrize("url, why", [
    ("ftp://dept.example/h", "http:// or https://"), ("dept.example/h", "http:// or https://"),
    ("https:///path", "a host"), ("https://user:pw@dept.example/h", "no user or password"),
    ("https://dept.example/h#top", "no #fragment"), ("https://dept.example:99999/", "not a URL"),
    ("https://dept.example/a b", "no spaces"), ("https://dept.example/\n", "no spaces"),
    ("https://dept.example/" + "a" * 2048, "at most 2048"),
])
def test_other_urls_are_refused_saying_why(url, why):
    with pytest.raises(refused.InvalidWebhookUrl, match=why):
        checked_url(url)


def test_a_party_registers_a_bounded_number_of_endpoints_and_sees_only_its_own(sessions):
    service = WebhookService(sessions=sessions)
    made = [service.register(PROVIDER, WebhookCreate(url=f"https://p.example/{i}"))
            for i in range(MAX_WEBHOOKS_PER_PARTY)]
    assert all(m.secret.startswith("whsec_") and len(m.secret) > 40 for m in made)
    assert len({m.secret for m in made}) == MAX_WEBHOOKS_PER_PARTY
    with pytest.raises(refused.TooManyWebhooks):
        service.register(PROVIDER, WebhookCreate(url="https://p.example/more"))
    listed = service.visible(PROVIDER)
    assert [w.webhook_id for w in listed] == [m.webhook_id for m in made]
    assert all("secret" not in w.model_dump() for w in listed)
    assert service.visible(OTHER) == []
    with pytest.raises(refused.NotFound):
        service.delete(OTHER, made[0].webhook_id)
    service.delete(PROVIDER, made[0].webhook_id)
    service.register(PROVIDER, WebhookCreate(url="https://p.example/again"))


def test_deleting_an_endpoint_stops_its_pending_deliveries(sessions):
    clock = Clock(TUESDAY_NOON)
    service, webhook_id, _ = _one_pending(sessions, clock)
    deleted = service.delete(PROVIDER, webhook_id)
    assert deleted.webhook_id == webhook_id and deleted.pending == 1
    receiver = Receiver()
    assert WebhookWorker(sessions=sessions, clock=clock, transport=httpx.MockTransport(receiver)).run_once() == 0
    assert receiver.received == []
    [row] = _deliveries(sessions)
    assert row.status == "failed" and row.last_error == "the webhook was deleted"
    with sessions() as session:
        assert session.get(WebhookEndpointRow, webhook_id) is None
    with pytest.raises(refused.NotFound):
        service.delete(PROVIDER, webhook_id)


def test_created_at_is_utc(sessions):
    service = WebhookService(sessions=sessions, clock=Clock(TUESDAY_NOON))
    service.register(PROVIDER, WebhookCreate(url="https://p.example/h"))
    assert service.visible(PROVIDER)[0].created_at == "2025-03-11T04:00:00Z"
