"""Verification of shared data (校核, 永州办法 第二十一条): a department asks the provider to check a record."""

from __future__ import annotations

from pydantic import Field

from api.schemas.common import FieldName, Reply, Strict, UtcDateTime
from api.schemas.sharing import SignedTransaction


class VerificationCreate(Strict):
    # 2**53: within a JSON number's exact range (a bound at 2**63 - 1 would be printed as a float past it)
    audit_seq: int = Field(ge=0, le=2**53, description="the audit log entry of the release in doubt")
    fields: list[FieldName] = Field(min_length=1, max_length=256, description="the doubted fields, all released "
                                                                              "in that entry")
    reason: str = Field(min_length=1, max_length=500)
    signed_transaction: str | None = SignedTransaction


class VerificationExtend(Strict):
    reason: str = Field(min_length=1, max_length=500, description="why more time is needed (approved by the "
                                                                  "provider's head, 经提供部门负责人同意)")
    until: UtcDateTime = Field(description="the new due time: at most 15 working days after the request")
    signed_transaction: str | None = SignedTransaction


class VerificationResolve(Strict):
    corrected: bool = Field(description="whether the record was corrected; true needs the corrected record "
                                        "stored first (PUT /v1/resources/{id}/records)")
    note: str = Field(min_length=1, max_length=1000)
    signed_transaction: str | None = SignedTransaction


class VerificationOut(Reply):
    request_id: int
    requester: str
    resource_id: str
    audit_seq: int
    fields: list[str]
    reason: str | None
    status: str = Field(description="OPEN, EXTENDED or RESOLVED")
    requested_at: str | None
    due: str | None = Field(description="5 working days after the request, or the extension's date")
    due_pending: str | None = Field(description="why due is not known yet (the year's official calendar)")
    latest_due: str | None = Field(description="15 working days after the request: no extension may pass it")
    extended_until: str | None
    extension_reason: str | None
    resolved_at: str | None
    corrected: bool | None
    note: str | None
    overdue: bool
    tx_hash: str


class VerificationReceipt(VerificationOut):
    act_tx_hash: str
    act_block_number: int


class VerificationList(Reply):
    verification_requests: list[VerificationOut]
