"""The regulator's one call for everything overdue across the workflows."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import EmergencyServiceDep, ObjectionServiceDep, RegulatorDep, SharingServiceDep, VerificationServiceDep
from api.schemas.common import SIGNED_IN, errors
from api.schemas.overdue import OverdueList

router = APIRouter(tags=["overdue"])


@router.get("/v1/overdue", response_model=OverdueList, responses=errors(*SIGNED_IN))
def overdue(principal: RegulatorDep, sharing: SharingServiceDep, verifications: VerificationServiceDep,
            emergencies: EmergencyServiceDep, objections: ObjectionServiceDep):
    """Sharing and verification requests past their deadlines on the official calendar, answered late or not at
    all (a deadline in a year whose calendar is not published is not counted as missed), and emergencies whose
    review was due 24 hours after their end, and objections not marked, forwarded or decided in time."""
    return {"sharing_requests": sharing.visible(principal, True),
            "verification_requests": verifications.visible(principal, True),
            "emergency_reviews": emergencies.visible(principal, overdue_only=True),
            "objections": objections.visible(principal, True)}
