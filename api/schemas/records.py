"""Provider record uploads and department record queries."""

from __future__ import annotations

from typing import Any, Literal

import orjson
from pydantic import Field, field_validator

from api.schemas.common import ErrorResponse, FieldName, Purpose, Reply, ResourceSlug, SubjectRef


class RecordUpsert(SubjectRef):
    data: dict[FieldName, Any] = Field(min_length=1, max_length=256)

    @field_validator("data")
    @classmethod
    def _storable(cls, data: dict[str, Any]) -> dict[str, Any]:
        try:
            orjson.dumps(data)  # what sealing does with each value
        except orjson.JSONEncodeError:
            raise ValueError("values must be JSON with integers of at most 64 bits") from None
        return data


class RecordQuery(SubjectRef):
    resource_id: ResourceSlug
    fields: list[FieldName] = Field(min_length=1, max_length=256)
    purpose: Purpose
    emergency_id: int | None = Field(default=None, ge=1, le=2**53, description="a request under this emergency "
                                     "(the green channel, 应急供需绿色通道): no consent needed, inside its scope and "
                                     "window")


# -- answers -----------------------------------------------------------------------------------------
class RecordStored(Reply):
    resource_id: str
    subject_id: str
    fields: list[str] = Field(description="every field the record now holds")
    version: int = Field(description="1 for the first write, one more per write: what a decision that corrected "
                                     "an objection cites")


class Decision(Reply):
    result: Literal["ALLOW", "DENY"]
    consent_id: str | None = Field(description="the consent the decision used, if it needed one")
    emergency_id: int | None = Field(default=None, description="the emergency the request was made under")
    block_number: int = Field(description="the chain state the policy was evaluated against")
    reason: str = Field(description="OK, or the policy's reason code (NO_CONSENT, REVOKED, ...)")


class AuditRef(Reply):
    seq: int = Field(description="the decision's audit entry (leaf index)")
    leaf_hash: str | None = Field(default=None, description="on a release: the entry's RFC 6962 leaf hash, which "
                                                            "the log's tree and its anchors commit to")
    payload_salt: str | None = Field(default=None, description="on a release: the salt of the payload hash")
    payload_hash: str | None = Field(default=None, description="on a release: hash of the released data")


class DisputedField(Reply):
    field: str
    objection_id: int = Field(description="the objection (异议) the data authority marked and has not decided")


class Release(Reply):
    data: dict[str, Any] = Field(description="only the requested, permitted fields")
    decision: Decision
    audit: AuditRef
    disputed: list[DisputedField] = Field(default=[], description="released fields whose values are under a marked "
                                                                  "objection (异议标注, 永州办法 第三十四条); the audit "
                                                                  "entry records the same")


class Denial(ErrorResponse):
    """A policy denial (403, with the reason code) or no record (404 ``NO_RECORD``): audited either way."""

    decision: Decision
    audit: AuditRef
