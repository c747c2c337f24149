"""Everything past its statutory deadline, in one answer for regulators."""

from __future__ import annotations

from pydantic import Field

from api.schemas.common import Reply
from api.schemas.emergencies import EmergencyOut
from api.schemas.objections import ObjectionOut
from api.schemas.sharing import SharingRequestOut
from api.schemas.verifications import VerificationOut


class OverdueList(Reply):
    sharing_requests: list[SharingRequestOut] = Field(description="answered late, or not answered within 10 "
                                                                  "working days (第十八条)")
    verification_requests: list[VerificationOut] = Field(description="resolved late, or not resolved within 5 "
                                                                     "working days or the extension (第二十一条)")
    emergency_reviews: list[EmergencyOut] = Field(description="emergencies reviewed late, or not reviewed within 24 "
                                                              "hours of their end")
    objections: list[ObjectionOut] = Field(description="not marked within 1 working day, forwarded within 2, or "
                                                       "decided within 5 (of filing, or of the forwarding) "
                                                       "(第三十四条)")
