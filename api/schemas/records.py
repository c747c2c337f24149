"""Provider record uploads and department record queries."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import Field, field_validator

from api.schemas.common import FieldName, Purpose, ResourceSlug, SubjectRef


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
