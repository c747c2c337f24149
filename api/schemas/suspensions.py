"""A provider's suspension of a department's access to one of its resources (第十九条)."""

from __future__ import annotations

from pydantic import Field

from api.schemas.common import Address, Reply, Strict, UtcDateTime
from api.schemas.sharing import SignedTransaction


class SuspensionCreate(Strict):
    department: Address
    reason: str = Field(min_length=1, max_length=500, description="why; its keccak256 goes on-chain")
    until: UtcDateTime | None = Field(default=None, description="end of the suspension; omit it to end access "
                                                                "until the provider lifts it (终止提供)")
    signed_transaction: str | None = SignedTransaction


class SuspensionLift(Strict):
    signed_transaction: str | None = SignedTransaction


class SuspensionOut(Reply):
    resource_id: str
    department: str
    department_code: str | None
    department_name: str | None
    provider: str
    kind: str = Field(description="SUSPENDED (with an end) or ENDED (until lifted)")
    reason: str | None = Field(description="the written reason, when this platform holds the text")
    reason_hash: str
    since: str | None
    until: str | None
    in_force: bool
    lifted_at: str | None
    lifted_by: str | None
    tx_hash: str = Field(description="the transaction that set the suspension")
    block_number: int


class SuspensionReceipt(SuspensionOut):
    """The suspension after the relayed transaction; ``act_tx_hash`` is that transaction's."""

    act_tx_hash: str
    act_block_number: int


class SuspensionList(Reply):
    suspensions: list[SuspensionOut]
