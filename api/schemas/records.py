"""Provider record uploads and department record queries."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from api.schemas.common import FieldName, Purpose, ResourceSlug, SubjectRef


class RecordUpsert(SubjectRef):
    data: dict[FieldName, Any] = Field(min_length=1, max_length=256)


class RecordQuery(SubjectRef):
    resource_id: ResourceSlug
    fields: list[FieldName] = Field(min_length=1, max_length=256)
    purpose: Purpose
