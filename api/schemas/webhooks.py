"""Webhooks: a party's endpoints for its action items, signed deliveries."""

from __future__ import annotations

from pydantic import Field

from api.schemas.common import Reply, Strict


class WebhookCreate(Strict):
    # Checked by the service (INVALID_WEBHOOK_URL says what is wrong); the body limit bounds it before that.
    url: str = Field(description="where deliveries are POSTed: http or https, at most 2048 characters, no "
                                 "user:password@ part (deliveries are signed instead)")


class WebhookOut(Reply):
    webhook_id: str
    url: str
    created_at: str
    pending: int = Field(description="deliveries waiting for their first or next attempt")
    failed: int = Field(description="deliveries given up after every attempt failed (kept 14 days)")
    last_error: str | None = Field(description="why the latest failed attempt failed, if any is on record")


class WebhookCreated(WebhookOut):
    secret: str = Field(description="the key of every delivery's Webhook-Signature; shown only now, keep it")


class WebhookList(Reply):
    webhooks: list[WebhookOut]
