"""Conditional sharing (有条件共享) requests between departments."""

from __future__ import annotations

from pydantic import Field

from api.schemas.common import FieldName, Purpose, Reply, ResourceSlug, Strict, UtcDateTime

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


# -- answers -----------------------------------------------------------------------------------------
class SharingRequestOut(Reply):
    request_id: int
    requester: str
    resource_id: str
    fields: list[str]
    purpose_hash: str
    valid_until: str | None
    status: str = Field(description="PENDING, APPROVED or DENIED")
    requested_at: str | None
    answer_due: str | None = Field(description="10 working days after the request (official calendar); null while "
                                                "that calendar is not published")
    due_pending: str | None = Field(default=None, description="why answer_due is not known yet")
    decided_at: str | None
    overdue: bool


class SharingReceipt(SharingRequestOut):
    """The request after the relayed transaction, with the transaction's receipt."""

    tx_hash: str
    block_number: int


class AgreementOut(Reply):
    request_id: int
    department: str
    resource_id: str
    fields: list[str]
    purpose_hash: str
    valid_from: str | None
    valid_until: str | None
    ended_at: str | None
    ended_by: str | None
    in_force: bool


class SharingList(Reply):
    sharing_requests: list[SharingRequestOut]
    agreements: list[AgreementOut] = Field(description="the standing agreement per (department, resource, purpose)")
