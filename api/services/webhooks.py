"""Webhook endpoints: a department, or the data authority, registers where its action items are POSTed.

Each party has at most :data:`MAX_WEBHOOKS_PER_PARTY` endpoints and sees and deletes only its own.
The secret is made here, shown once, and kept to sign deliveries; deleting an endpoint ends its
pending deliveries. What is delivered, and how, is in :mod:`api.services.webhook_events` and
:mod:`api.services.webhook_delivery`.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlsplit

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from api.core.security import Principal
from api.schemas.common import iso
from api.schemas.webhooks import WebhookCreate, WebhookCreated, WebhookOut
from api.services.webhook_delivery import purge_finished
from ledger import domain_errors as refused
from ledger.storage.models import WebhookDeliveryRow, WebhookEndpointRow

MAX_WEBHOOKS_PER_PARTY = 5
MAX_WEBHOOK_URL_LENGTH = 2048


def checked_url(url: str) -> str:
    """``url`` if deliveries can be POSTed to it; else the refusal, saying what is wrong."""
    def bad(why: str) -> refused.InvalidWebhookUrl:
        return refused.InvalidWebhookUrl(f"url: {why}")

    if len(url) > MAX_WEBHOOK_URL_LENGTH:
        raise bad(f"at most {MAX_WEBHOOK_URL_LENGTH} characters")
    if not url.isprintable() or any(c.isspace() for c in url):
        raise bad("no spaces or control characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number in range
    except ValueError:
        raise bad("not a URL") from None
    if parts.scheme not in ("http", "https"):
        raise bad("http:// or https:// only")
    if not parts.hostname:
        raise bad("a host is needed")
    if parts.username is not None or parts.password is not None:
        raise bad("no user or password in the URL: deliveries are signed with the webhook's secret")
    if parts.fragment:
        raise bad("no #fragment: it is never sent")
    return url


class WebhookService:
    def __init__(self, *, sessions: sessionmaker[Session], clock: Callable[[], float] = time.time):
        self._sessions = sessions
        self._clock = clock

    def register(self, principal: Principal, body: WebhookCreate) -> WebhookCreated:
        url = checked_url(body.url)
        row = WebhookEndpointRow(webhook_id="wh_" + secrets.token_hex(8), owner=principal.address, url=url,
                                 secret="whsec_" + secrets.token_urlsafe(32),
                                 created_at=datetime.fromtimestamp(self._clock(), UTC))
        with self._sessions.begin() as session:
            held = session.scalar(select(func.count()).select_from(WebhookEndpointRow)
                                  .where(WebhookEndpointRow.owner == principal.address))
            if held >= MAX_WEBHOOKS_PER_PARTY:
                raise refused.TooManyWebhooks(f"a party has at most {MAX_WEBHOOKS_PER_PARTY} webhooks; delete one "
                                              "first")
            session.add(row)
        return WebhookCreated(**self._public(row, {}).model_dump(), secret=row.secret)

    def visible(self, principal: Principal) -> list[WebhookOut]:
        """The caller's own endpoints, oldest first, with how their deliveries stand."""
        e = WebhookEndpointRow
        with self._sessions() as session:
            rows = session.scalars(select(e).where(e.owner == principal.address)
                                   .order_by(e.created_at, e.webhook_id)).all()
            standing = self._standing(session, [r.webhook_id for r in rows])
        return [self._public(r, standing) for r in rows]

    def delete(self, principal: Principal, webhook_id: str) -> WebhookOut:
        """Delete one of the caller's endpoints; its pending deliveries end as failed."""
        now = int(self._clock())
        d = WebhookDeliveryRow
        with self._sessions.begin() as session:
            row = session.get(WebhookEndpointRow, webhook_id)
            if row is None or row.owner != principal.address:  # another party's is not found either
                raise refused.NotFound("no webhook with this id")
            standing = self._standing(session, [webhook_id])
            session.execute(update(d).where(d.webhook_id == webhook_id, d.status == "pending")
                            .values(status="failed", finished_at=now, leased_until=None,
                                    last_error="the webhook was deleted"))
            session.delete(row)
        return self._public(row, standing)

    def purge_finished(self) -> int:
        return purge_finished(self._sessions, self._clock())

    @staticmethod
    def _standing(session: Session, webhook_ids: list[str]) -> dict[str, dict]:
        """Per endpoint: pending and failed deliveries, and the latest error on record."""
        if not webhook_ids:
            return {}
        d = WebhookDeliveryRow
        out: dict[str, dict] = {w: {"pending": 0, "failed": 0, "last_error": None} for w in webhook_ids}
        for webhook_id, status, count in session.execute(
                select(d.webhook_id, d.status, func.count()).where(d.webhook_id.in_(webhook_ids),
                                                                    d.status.in_(("pending", "failed")))
                .group_by(d.webhook_id, d.status)):
            out[webhook_id][status] = count
        latest = (select(d.webhook_id, func.max(d.delivery_id).label("delivery_id"))
                  .where(d.webhook_id.in_(webhook_ids), d.status != "delivered", d.last_error.is_not(None))
                  .group_by(d.webhook_id).subquery())
        for webhook_id, error in session.execute(select(d.webhook_id, d.last_error).join(
                latest, latest.c.delivery_id == d.delivery_id)):
            out[webhook_id]["last_error"] = error
        return out

    @staticmethod
    def _public(row: WebhookEndpointRow, standing: dict[str, dict]) -> WebhookOut:
        counts = standing.get(row.webhook_id, {"pending": 0, "failed": 0, "last_error": None})
        created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)  # SQLite: naive
        return WebhookOut(webhook_id=row.webhook_id, url=row.url, created_at=iso(created), **counts)
