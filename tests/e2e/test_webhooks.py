"""Signed webhooks on the real devnet: the housing fund centre registers an endpoint (a real HTTP receiver on
loopback), the tax service files sharing requests for the fund's CONDITIONAL resource, and the scanner and the
worker, run here against the system's own database with a clock of the test's, deliver each request once,
signed with the endpoint's secret; a receiver that fails first gets the same delivery again later.

The API's own webhook thread runs too (it is another instance on the same database), so a delivery may come
from either: the test checks what the receiver got, and the outbox row, never who sent it."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from api.services.webhook_delivery import WebhookWorker, verify
from api.services.webhook_events import WebhookScanner
from ledger.settings import Settings
from ledger.storage.database import make_engine, make_sessionmaker
from ledger.storage.models import WebhookDeliveryRow

pytestmark = pytest.mark.e2e

# No other test files sharing requests from the tax service for the fund's resource.
PROVIDER, REQUESTER, RESOURCE = "dept-housing-fund", "dept-tax", "gjj.housing_fund"


class Receiver:
    """A stdlib HTTP server on loopback recording every POST; keys in ``fail_first`` get one 500 first."""

    def __init__(self):
        self.received: list[tuple[dict, bytes, int]] = []
        self.fail_first: set[str] = set()
        self._failed: set[str] = set()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                key = self.headers.get("webhook-id", "")
                with receiver._lock:
                    status = 500 if key in receiver.fail_first and key not in receiver._failed else 200
                    if status == 500:
                        receiver._failed.add(key)
                    receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body, status))
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/consent-ledger"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def got(self, key: str, status: int | None = None, timeout: float = 15.0) -> list[tuple[dict, bytes, int]]:
        """The requests received for ``key`` (with ``status``), waiting a little for the first."""
        stop_at = time.monotonic() + timeout
        while True:
            with self._lock:
                found = [r for r in self.received if r[0].get("webhook-id") == key and status in (None, r[2])]
            if found or time.monotonic() > stop_at:
                return found
            time.sleep(0.05)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Clock:
    def __init__(self):
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def receiver():
    running = Receiver()
    yield running
    running.close()


@pytest.fixture()
def sessions(system):
    """The system's own database (SQLite file or PostgreSQL), as a second instance sees it."""
    engine = make_engine(Settings.from_env().database_url)
    yield make_sessionmaker(engine)
    engine.dispose()


def _file_sharing_request(requester, purpose: str) -> int:
    created = requester.post_signed("/v1/sharing-requests", {
        "resource_id": RESOURCE, "fields": ["balance"], "purpose": purpose, "valid_until": "2031-01-01T00:00:00Z"})
    assert created["status"] == "PENDING"
    return created["request_id"]


def _row(sessions, webhook_id: str, key: str, attempts: int) -> WebhookDeliveryRow:
    """The outbox row once ``attempts`` were recorded (the sender records an attempt after the receiver answered)."""
    stop_at = time.monotonic() + 15
    while True:
        with sessions() as session:
            row = session.scalars(select(WebhookDeliveryRow).where(WebhookDeliveryRow.webhook_id == webhook_id,
                                                                   WebhookDeliveryRow.event_key == key)).one()
        if row.attempts >= attempts or time.monotonic() > stop_at:
            return row
        time.sleep(0.05)


def test_registration_is_per_party_validated_and_bounded(clients):
    fund, tax = clients(PROVIDER), clients(REQUESTER)
    bad = fund.request("POST", "/v1/webhooks", {"url": "ftp://fund.example/hooks"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "INVALID_WEBHOOK_URL"
    assert "http" in bad.json()["error"]["message"]
    assert fund.request("POST", "/v1/webhooks", {"url": "https://fund.example/h", "extra": 1}).status_code == 422
    assert clients("citizen-li").request("POST", "/v1/webhooks", {"url": "https://x.example/"}).status_code == 403
    assert clients("regulator").request("GET", "/v1/webhooks").status_code == 403
    made = tax.request("POST", "/v1/webhooks", {"url": "https://tax.example/hooks"})
    assert made.status_code == 201, made.text
    webhook = made.json()
    assert webhook["secret"].startswith("whsec_") and webhook["url"] == "https://tax.example/hooks"
    try:
        listed = tax.get("/v1/webhooks")["webhooks"]
        assert [w["webhook_id"] for w in listed] == [webhook["webhook_id"]] and "secret" not in listed[0]
        assert webhook["webhook_id"] not in [w["webhook_id"] for w in fund.get("/v1/webhooks")["webhooks"]]
        gone = fund.request("DELETE", f"/v1/webhooks/{webhook['webhook_id']}")
        assert gone.status_code == 404 and gone.json()["error"]["code"] == "NOT_FOUND"
    finally:
        assert tax.request("DELETE", f"/v1/webhooks/{webhook['webhook_id']}").status_code == 200
    assert tax.get("/v1/webhooks")["webhooks"] == []
    admin = clients("admin")
    own = admin.post("/v1/webhooks", {"url": "https://authority.example/hooks"})
    assert admin.request("DELETE", f"/v1/webhooks/{own['webhook_id']}").status_code == 200


def test_a_filed_sharing_request_reaches_the_providers_receiver_signed_and_a_failure_is_retried(
        clients, receiver, sessions):
    fund, tax = clients(PROVIDER), clients(REQUESTER)
    for old in fund.get("/v1/webhooks")["webhooks"]:  # a rerun against a kept world starts clean
        fund.request("DELETE", f"/v1/webhooks/{old['webhook_id']}")
    webhook = fund.post("/v1/webhooks", {"url": receiver.url})
    clock = Clock()
    scanner = WebhookScanner(sessions=sessions, admin_address=clients("admin").address, clock=clock)
    worker = WebhookWorker(sessions=sessions, clock=clock)
    try:
        # Filed through the API; the event comes from the chain projection all the same.
        request_id = _file_sharing_request(tax, "webhook_tax_review")
        key = f"sharing_request.filed:{request_id}"
        scanner.run_once()
        worker.run_once()
        [(headers, body, status)] = receiver.got(key)
        assert status == 200 and headers["content-type"] == "application/json"
        assert verify(webhook["secret"], headers, body, now=int(headers["webhook-timestamp"]))
        assert not verify("whsec_" + "x" * 43, headers, body, now=int(headers["webhook-timestamp"]))
        payload = json.loads(body)
        assert payload["id"] == key and payload["event"] == "sharing_request.filed"
        assert payload["recipient"] == fund.address
        data = payload["data"]
        assert data["request_id"] == request_id and data["requester"] == tax.address
        assert data["resource_id"] == RESOURCE and data["see"] == "/v1/sharing-requests"
        assert _row(sessions, webhook["webhook_id"], key, attempts=1).status == "delivered"
        # Scanned again (here and by the API's thread): enqueued once, delivered once.
        scanner.run_once()
        worker.run_once()
        assert len(receiver.got(key)) == 1

        # The next one fails first (HTTP 500): kept pending with the error, retried once due.
        second_id = _file_sharing_request(tax, "webhook_tax_audit")
        second = f"sharing_request.filed:{second_id}"
        receiver.fail_first.add(second)
        scanner.run_once()
        worker.run_once()
        [(_, _, failed)] = receiver.got(second)
        assert failed == 500
        row = _row(sessions, webhook["webhook_id"], second, attempts=1)
        assert row.status == "pending" and row.attempts == 1 and row.last_error.startswith("HTTP 500")
        assert row.next_attempt_at >= int(clock.now) + 24  # about 30 s later, not at once
        listed = next(w for w in fund.get("/v1/webhooks")["webhooks"] if w["webhook_id"] == webhook["webhook_id"])
        assert listed["pending"] >= 1 and listed["last_error"].startswith("HTTP 500")
        clock.now += 2 * 3600
        worker.run_once()
        [(headers, body, status)] = receiver.got(second, status=200)
        assert headers["webhook-id"] == second and json.loads(body)["data"]["request_id"] == second_id
        assert verify(webhook["secret"], headers, body, now=int(headers["webhook-timestamp"]))
        row = _row(sessions, webhook["webhook_id"], second, attempts=2)
        assert row.status == "delivered" and row.attempts == 2
    finally:
        worker.close()
        assert fund.request("DELETE", f"/v1/webhooks/{webhook['webhook_id']}").status_code == 200
