"""Bodies and replies of the subject signer-change endpoints."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field, model_validator

from api.schemas.common import Address, Strict, UnsignedTransaction  # noqa: F401 (the routes import it here)

SignedTransaction = Field(default=None, pattern=r"^0x[0-9a-fA-F]+$", max_length=20_000,
                          description="the attester's own signed transaction; omit it to get the one to sign")
Signature = Annotated[str, Field(pattern=r"^0x[0-9a-fA-F]{130}$", description="65-byte r||s||v, 0x-hex")]


class SignerChangeCreate(Strict):
    """An attester proposes ``add``/``remove``/``threshold`` (prepare, then ``signed_transaction``);
    the subject's signers get the ``typed_data`` to sign, then send it back with k-of-n ``signatures``."""

    add: list[Address] = Field(default_factory=list, max_length=16)
    remove: list[Address] = Field(default_factory=list, max_length=16)
    threshold: int = Field(ge=1, le=16)
    signed_transaction: str | None = SignedTransaction
    typed_data: dict[str, Any] | None = Field(default=None, description="the SignerChange the signers signed")
    signatures: list[Signature] = Field(default_factory=list, max_length=16,
                                        description="the signers' signatures of typed_data (k of n)")

    @model_validator(mode="after")
    def _consistent(self):
        if len(set(self.add)) != len(self.add) or len(set(self.remove)) != len(self.remove):
            raise ValueError("add and remove must not repeat an address")
        if set(self.add) & set(self.remove):
            raise ValueError("an address cannot be both added and removed")
        if self.typed_data is not None and self.signed_transaction is not None:
            raise ValueError("send either the signers' typed_data and signatures or the attester's transaction")
        if self.typed_data is not None and not self.signatures:
            raise ValueError("typed_data needs the signers' signatures")
        return self


class SignerChangeCancel(Strict):
    signature: Signature | None = Field(default=None, description="the signer's signature of the "
                                                                  "CancelSignerChange typed data; omit it to get "
                                                                  "the typed data")


class SignerChangeOut(BaseModel):
    change_id: str
    subject_id: str
    add: list[str]
    remove: list[str]
    threshold: int
    status: str = Field(description="PENDING, CANCELLED or APPLIED")
    effective_at: str = Field(description="when a pending change may be applied without the signers' approval")
    proposed_by: str
    proposed_block: int
    approved: bool | None = Field(description="applied with the signers' approval (true) or by notice expiry")
    ended_block: int | None
    ended_by: str | None
    approval_typed_data: dict[str, Any] | None = Field(
        default=None, description="for a pending change: what the signers sign to approve it at once")
    tx_hash: str | None = None
    block_number: int | None = None


class SignerChangeList(BaseModel):
    signer_changes: list[SignerChangeOut]


class SignerChangeDraft(BaseModel):
    change_id: str
    typed_data: dict[str, Any]
    signatures_needed: int | None = None
