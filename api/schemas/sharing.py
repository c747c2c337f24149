"""Conditional sharing (有条件共享) requests between departments."""

from __future__ import annotations

from pydantic import Field

from api.schemas.common import FieldName, Purpose, ResourceSlug, Strict, UtcDateTime

SignedTransaction = Field(default=None, pattern=r"^0x[0-9a-fA-F]+$", max_length=20_000,
                          description="the department's own signed transaction; omit it to get the one to sign")


class SharingRequestCreate(Strict):
    resource_id: ResourceSlug
    fields: list[FieldName] = Field(min_length=1, max_length=256)
    purpose: Purpose
    valid_until: UtcDateTime
    signed_transaction: str | None = SignedTransaction


class SharingDecision(Strict):
    """A provider's answer to a request (approve, deny) or the end of its agreement; ``reason`` is hashed on-chain."""

    reason: str | None = Field(default=None, max_length=500)
    signed_transaction: str | None = SignedTransaction
