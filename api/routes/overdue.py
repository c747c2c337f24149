"""The regulator's one call for everything overdue across the workflows."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import RegulatorDep, SharingServiceDep, VerificationServiceDep
from api.schemas.common import SIGNED_IN, errors
from api.schemas.overdue import OverdueList

router = APIRouter(tags=["overdue"])


@router.get("/v1/overdue", response_model=OverdueList, responses=errors(*SIGNED_IN))
def overdue(principal: RegulatorDep, sharing: SharingServiceDep, verifications: VerificationServiceDep):
    """Sharing requests and verification requests past their deadlines on the official calendar, answered late
    or not at all. A deadline in a year whose calendar is not published is not counted as missed."""
    return {"sharing_requests": sharing.visible(principal, True),
            "verification_requests": verifications.visible(principal, True)}
