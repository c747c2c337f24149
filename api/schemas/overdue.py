"""Everything past its statutory deadline, in one answer for regulators."""

from __future__ import annotations

from pydantic import Field

from api.schemas.common import Reply
from api.schemas.emergencies import EmergencyOut
from api.schemas.sharing import SharingRequestOut
from api.schemas.verifications import VerificationOut


class OverdueList(Reply):
    sharing_requests: list[SharingRequestOut] = Field(description="answered late, or not answered within 10 "
                                                                  "working days (第十八条)")
    verification_requests: list[VerificationOut] = Field(description="resolved late, or not resolved within 5 "
                                                                     "working days or the extension (第二十一条)")
    emergency_reviews: list[EmergencyOut] = Field(description="emergencies reviewed late, or not reviewed within 24 "
                                                              "hours of their end")
