"""Webhooks: departments and the data authority register where their action items are POSTed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.deps import ProviderOrAdminDep, WebhookServiceDep
from api.schemas.common import BODY, SIGNED_IN, errors
from api.schemas.webhooks import WebhookCreate, WebhookCreated, WebhookList, WebhookOut

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
WebhookId = Annotated[str, Path(min_length=1, max_length=40)]


@router.post("", status_code=201, response_model=WebhookCreated, responses=errors(*SIGNED_IN, *BODY, 409))
def register(body: WebhookCreate, principal: ProviderOrAdminDep, webhooks: WebhookServiceDep):
    """Register an endpoint (at most 5 per party). The answer carries the secret that signs every delivery, shown
    only this once. Deliveries: requests that need the caller's action and deadlines coming due (see the README,
    "Webhooks", for the events and how to check the signature)."""
    return webhooks.register(principal, body)


@router.get("", response_model=WebhookList, responses=errors(*SIGNED_IN))
def list_webhooks(principal: ProviderOrAdminDep, webhooks: WebhookServiceDep):
    """The caller's own endpoints, with their pending and failed deliveries (never the secrets)."""
    return {"webhooks": webhooks.visible(principal)}


@router.delete("/{webhook_id}", response_model=WebhookOut, responses=errors(*SIGNED_IN, 404))
def delete(webhook_id: WebhookId, principal: ProviderOrAdminDep, webhooks: WebhookServiceDep):
    """Delete one of the caller's endpoints: nothing more is sent to it, its pending deliveries end as failed."""
    return webhooks.delete(principal, webhook_id)
