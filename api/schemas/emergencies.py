"""The emergency green channel (应急供需绿色通道, 济南方案): declarations, extensions, notice delays, reviews."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from api.schemas.common import Address, Reply, ResourceSlug, Strict, SubjectRef, UtcDateTime
from api.schemas.sharing import SignedTransaction


class EmergencyCreate(Strict):
    event: str = Field(min_length=1, max_length=1000, description="what happened; its keccak256 goes on-chain")
    legal_basis: str = Field(min_length=1, max_length=500, description="the law cited (e.g. 突发事件应对法)")
    departments: list[Address] = Field(min_length=1, max_length=64)
    resources: list[ResourceSlug] = Field(min_length=1, max_length=64)
    subjects: Literal["all"] | list[SubjectRef] = Field(description='"all", or the subjects in scope (1..256)')
    until: UtcDateTime = Field(description="hard expiry: at most 72 hours from now")
    signed_transaction: str | None = SignedTransaction


class EmergencyExtend(Strict):
    until: UtcDateTime = Field(description="the new expiry: later than the current one, at most 72 hours from now")
    signed_transaction: str | None = SignedTransaction


class EmergencyNoticeDelay(Strict):
    reason: str = Field(min_length=1, max_length=500)
    notice_by: UtcDateTime = Field(description="the date by which the affected subjects are told")
    signed_transaction: str | None = SignedTransaction


class EmergencyReview(Strict):
    verdict: Literal["PROPER", "IMPROPER"]
    note: str = Field(min_length=1, max_length=1000)
    signed_transaction: str | None = SignedTransaction


class EmergencyOut(Reply):
    emergency_id: int
    declared_by: str
    event: str | None
    legal_basis: str | None
    departments: list[str]
    resources: list[str]
    subjects: str | int = Field(description='"all", or how many subjects are in scope')
    declared_at: str | None
    until: str | None
    extended_by: str | None
    in_force: bool
    notice_by: str | None = Field(description="the notice to subjects is delayed until then (reason on-chain)")
    notice_delay_reason: str | None
    review_due: str | None = Field(description="24 hours after the end")
    reviewed_at: str | None
    reviewed_by: str | None
    verdict: str | None = Field(description="PROPER or IMPROPER once reviewed")
    review_note: str | None
    review_overdue: bool
    tx_hash: str


class EmergencyReceipt(EmergencyOut):
    act_tx_hash: str
    act_block_number: int


class EmergencyList(Reply):
    emergencies: list[EmergencyOut]
