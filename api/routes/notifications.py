"""The subject's inbox."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import NotificationServiceDep, SignerDep
from api.schemas.common import SIGNED_IN, errors
from api.schemas.notifications import NotificationPage

router = APIRouter(tags=["notifications"])


@router.get("/v1/me/notifications", response_model=NotificationPage, responses=errors(*SIGNED_IN))
def inbox(principal: SignerDep, notifications: NotificationServiceDep,
          before: Annotated[str | None, Query(max_length=512, pattern=r"^[A-Za-z0-9_\-]+$")] = None,
          limit: Annotated[int, Query(ge=1, le=200)] = 50):
    """Every access to my data (allowed and denied: who, which fields, why, the decision) and every change to my
    consents and signers, newest first. ``next`` is the cursor of the following page."""
    return notifications.inbox(principal, before, limit)
