"""Objections (异议, 永州办法 第三十四条): a subject objects to data about it; the data authority marks it, then
decides or forwards it to the provider, who decides."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from api.schemas.common import FieldName, Reply, ResourceSlug, Strict, SubjectRef
from api.schemas.sharing import SignedTransaction
from api.schemas.subjects import Signature

ObjectionKind = Literal["WRONG", "INCOMPLETE", "INFRINGES"]
Reason = Field(min_length=1, max_length=1000, description="the objector's own words; kept off-chain, its keccak256 "
                                                          "on-chain")


class ObjectionDraftCreate(SubjectRef):
    resource_id: ResourceSlug
    fields: list[FieldName] = Field(min_length=1, max_length=256, description="the fields objected to")
    kind: ObjectionKind = Field(description="WRONG (错误), INCOMPLETE (遗漏), or INFRINGES a trade secret or privacy "
                                            "(侵犯商业秘密、个人隐私)")
    reason: str = Reason


class ObjectionDraft(Reply):
    typed_data: dict[str, Any] = Field(description="the Objection to sign with eth_signTypedData_v4")


class ObjectionFile(Strict):
    typed_data: dict[str, Any] = Field(description="the draft's typed data, unchanged")
    signature: Signature
    reason: str = Reason


class ObjectionDecide(Strict):
    corrected: bool = Field(description="whether the record was corrected; true needs the corrected record stored "
                                        "first (PUT /v1/resources/{id}/records), whose version the decision cites")
    note: str = Field(min_length=1, max_length=1000, description="the decision as the objector will read it")
    signed_transaction: str | None = SignedTransaction


class ObjectionDue(Reply):
    mark: str | None = Field(description="异议标注: 1 working day after filing")
    forward: str | None = Field(description="to the provider: 2 working days after filing")
    decide: str | None = Field(description="5 working days after filing, or after the forwarding")
    pending: str | None = Field(description="why a due time is not known yet (the year's official calendar)")


class ObjectionStep(Reply):
    step: Literal["FILED", "MARKED", "FORWARDED", "DECIDED"]
    at: str
    by: str | None = None


class ObjectionOut(Reply):
    objection_id: int
    subject_id: str
    resource_id: str
    resource_name: str | None
    fields: list[str]
    kind: ObjectionKind
    reason: str | None
    status: Literal["FILED", "MARKED", "FORWARDED", "DECIDED"]
    history: list[ObjectionStep]
    provider: str | None = Field(description="the department it was forwarded to")
    corrected: bool | None
    record_version: int | None = Field(description="the corrected record's version")
    note: str | None
    due: ObjectionDue
    overdue: bool = Field(description="a step is past its due time")
    tx_hash: str


class ObjectionReceipt(ObjectionOut):
    act_tx_hash: str
    act_block_number: int


class ObjectionList(Reply):
    objections: list[ObjectionOut]
