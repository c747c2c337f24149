"""Webhook deliveries: the outbox's rows POSTed, signed, retried with backoff, on a thread of their own.

Each delivery is a JSON POST with three headers a receiver checks (the README shows how):

- ``Webhook-Id``: the idempotency key (``sharing_request.filed:17``); a retry sends the same one, so a
  receiver that has seen it drops the repeat (delivery is at least once).
- ``Webhook-Timestamp``: unix seconds of this attempt.
- ``Webhook-Signature``: ``sha256=<hex HMAC-SHA256 under the endpoint's secret of "<id>.<timestamp>.<body>">``.

A worker claims one due row at a time with a conditional UPDATE of its lease (the same statement on
SQLite and PostgreSQL: of two instances, one changes the row and the other none), posts it with a
short timeout, and records the outcome: delivered on a 2xx; otherwise retried after 30 s, 1 min, 2 min,
... at most an hour, with jitter, and failed after :data:`MAX_ATTEMPTS`. Redirects are not followed.
Everything is bounded: rows per run, attempts, the wait, what is read of an answer, and the table
(finished rows are purged after :data:`RETENTION_SECONDS`). A dead receiver costs this thread its
timeout, never a request or a release. Secrets and request headers are never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from api.services.webhook_events import WebhookScanner
from ledger.storage.models import WebhookDeliveryRow, WebhookEndpointRow

log = logging.getLogger(__name__)

#: Seconds one attempt may wait for the receiver (each of connect, write and read).
TIMEOUT_SECONDS = 5.0
#: Attempts before a delivery is given up as failed (30 s, 1, 2, 4, 8, 16, 32 min, then hourly: about 5 h in all).
MAX_ATTEMPTS = 10
FIRST_RETRY_SECONDS = 30
MAX_RETRY_SECONDS = 3600
#: Deliveries one run attempts.
BATCH_SIZE = 50
#: How long a claimed row is invisible to other workers: well over one attempt.
LEASE_SECONDS = 60
#: Bytes of a failed answer read (for the error shown to the endpoint's owner), and the time spent reading them.
MAX_RESPONSE_BYTES = 1024
_READ_SECONDS = 2.0
#: Delivered and failed rows are purged after this: longer than an action item stays current (three days for a
#: filing, up to the next working day for a deadline, which a long holiday stretches to about ten days), so a
#: purge never lets a scan enqueue an item again.
RETENTION_SECONDS = 14 * 86400
#: A receiver's check of Webhook-Timestamp (the README's suggestion): older or newer signatures are refused.
SIGNATURE_TOLERANCE_SECONDS = 300
DISPATCH_INTERVAL_SECONDS = 5.0


# -- the signature ----------------------------------------------------------------------------------------
def sign(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """``Webhook-Signature``: ``sha256=`` and the hex HMAC-SHA256 under ``secret`` of ``<id>.<timestamp>.<body>``."""
    mac = hmac.new(secret.encode(), f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, headers: Mapping[str, str], body: bytes, *, now: float | None = None,
           tolerance: float = SIGNATURE_TOLERANCE_SECONDS) -> bool:
    """What a receiver checks: the signature over the body as received, and a timestamp within ``tolerance``
    seconds of ``now`` (a replayed old delivery is refused). ``headers`` as received (names in any case)."""
    lower = {k.lower(): v for k, v in headers.items()}
    webhook_id, stamp, given = (lower.get(n, "") for n in ("webhook-id", "webhook-timestamp", "webhook-signature"))
    if not stamp.isdigit() or abs((time.time() if now is None else now) - int(stamp)) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, webhook_id, int(stamp), body), given)


def retry_delay(failed_attempts: int, rng: Callable[[], float] = random.random) -> float:
    """Seconds to wait after ``failed_attempts`` (>= 1) failures: 30 s doubling each time, at most an hour, each
    wait scattered by ±20 % (never past the hour) so receivers that fail together are not retried together."""
    base = min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** min(failed_attempts - 1, 16))
    return min(MAX_RETRY_SECONDS, base * (0.8 + 0.4 * rng()))


def purge_finished(sessions: sessionmaker[Session], now: float) -> int:
    """Delete delivered and failed rows finished more than :data:`RETENTION_SECONDS` before ``now``."""
    d = WebhookDeliveryRow
    with sessions.begin() as session:
        return session.execute(delete(d).where(d.status != "pending",
                                               d.finished_at < int(now) - RETENTION_SECONDS)).rowcount


# -- the worker -------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Claimed:
    delivery_id: int
    webhook_id: str
    event_key: str
    payload: dict
    attempts: int
    url: str
    secret: str
    lease: int


class WebhookWorker:
    """Claims due deliveries one at a time and posts them; ``clock`` is unix seconds (tests move it on)."""

    def __init__(self, *, sessions: sessionmaker[Session], clock: Callable[[], float] = time.time,
                 rng: Callable[[], float] = random.random, transport: httpx.BaseTransport | None = None):
        self._sessions = sessions
        self._clock = clock
        self._rng = rng
        self._client = httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False, transport=transport,
                                    headers={"user-agent": "consent-ledger-webhooks/1",
                                             # what is read of an answer is read raw: never inflated
                                             "accept-encoding": "identity"})

    def run_once(self, keep_going: Callable[[], bool] = lambda: True) -> int:
        """Attempt up to :data:`BATCH_SIZE` due deliveries; returns how many were attempted."""
        attempted = 0
        while attempted < BATCH_SIZE and keep_going():
            claimed = self._claim_next()
            if claimed is None:
                break
            self._record(claimed, self._post(claimed))
            attempted += 1
        return attempted

    def close(self) -> None:
        self._client.close()

    def _claim_next(self) -> _Claimed | None:
        now = int(self._clock())
        d, e = WebhookDeliveryRow, WebhookEndpointRow
        free = (d.status == "pending", or_(d.leased_until.is_(None), d.leased_until <= now))
        with self._sessions.begin() as session:
            due = session.scalars(select(d.delivery_id).join(e, e.webhook_id == d.webhook_id)
                                  .where(*free, d.next_attempt_at <= now)
                                  .order_by(d.next_attempt_at, d.delivery_id).limit(8)).all()
            for delivery_id in due:
                lease = now + LEASE_SECONDS
                taken = session.execute(update(d).where(d.delivery_id == delivery_id, *free)
                                        .values(leased_until=lease)).rowcount
                if taken != 1:  # another worker took it in between
                    continue
                row = session.execute(select(d.webhook_id, d.event_key, d.payload, d.attempts, e.url, e.secret)
                                      .join(e, e.webhook_id == d.webhook_id)
                                      .where(d.delivery_id == delivery_id)).one_or_none()
                if row is not None:
                    return _Claimed(delivery_id, row.webhook_id, row.event_key, row.payload, row.attempts, row.url,
                                    row.secret, lease)
        return None

    def _post(self, claimed: _Claimed) -> str | None:
        """None when the receiver took it (2xx); else why not, for the row and the log."""
        body = json.dumps(claimed.payload, ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = int(self._clock())
        headers = {"content-type": "application/json", "webhook-id": claimed.event_key,
                   "webhook-timestamp": str(timestamp),
                   "webhook-signature": sign(claimed.secret, claimed.event_key, timestamp, body)}
        try:
            with self._client.stream("POST", claimed.url, content=body, headers=headers) as response:
                if 200 <= response.status_code < 300:
                    return None
                answer = _read_at_most(response)
                return f"HTTP {response.status_code}" + (f": {answer}" if answer else "")
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"[:300]
        except Exception as exc:  # an invalid URL, a broken receiver: recorded and retried like any failure
            return f"{type(exc).__name__}"

    def _record(self, claimed: _Claimed, error: str | None) -> None:
        now = int(self._clock())
        attempts = claimed.attempts + 1
        if error is None:
            values = {"status": "delivered", "finished_at": now, "last_error": None}
        elif attempts >= MAX_ATTEMPTS:
            values = {"status": "failed", "finished_at": now, "last_error": error[:500]}
            log.warning("webhook %s: gave up on %s after %d attempts: %s", claimed.webhook_id, claimed.event_key,
                        attempts, error)
        else:
            retry_at = now + math.ceil(retry_delay(attempts, self._rng))
            values = {"next_attempt_at": retry_at, "last_error": error[:500]}
            log.info("webhook %s: %s not delivered (attempt %d of %d), retried in %d s: %s", claimed.webhook_id,
                     claimed.event_key, attempts, MAX_ATTEMPTS, retry_at - now, error)
        d = WebhookDeliveryRow
        with self._sessions.begin() as session:  # unless the endpoint was deleted, or the lease ran out, meanwhile
            session.execute(update(d).where(d.delivery_id == claimed.delivery_id, d.status == "pending",
                                            d.leased_until == claimed.lease)
                            .values(attempts=attempts, leased_until=None, **values))


def _read_at_most(response: httpx.Response) -> str:
    """The start of an answer, as printable text: at most :data:`MAX_RESPONSE_BYTES`, for at most a few seconds."""
    stop_at = time.monotonic() + _READ_SECONDS
    data = b""
    for chunk in response.iter_raw():
        data += chunk
        if len(data) >= MAX_RESPONSE_BYTES or time.monotonic() > stop_at:
            break
    text = data[:MAX_RESPONSE_BYTES].decode("utf-8", "replace")
    return "".join(c if c.isprintable() else " " for c in text).strip()[:200]


# -- the thread -------------------------------------------------------------------------------------------
class WebhookDispatcher:
    """Scans for action items and delivers them every ``interval`` seconds, on a thread of its own."""

    def __init__(self, scanner: WebhookScanner, worker: WebhookWorker,
                 interval: float = DISPATCH_INTERVAL_SECONDS):
        self.scanner = scanner
        self.worker = worker
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="webhooks", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=TIMEOUT_SECONDS + 1)
        self.worker.close()

    def run_once(self) -> None:
        for step in (self.scanner.run_once, lambda: self.worker.run_once(lambda: not self._stop.is_set())):
            try:
                step()
            except Exception:  # a busy or unavailable database: try again next round
                log.warning("webhooks: a round failed", exc_info=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.run_once()
