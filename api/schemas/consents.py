"""Consent drafts, submissions, signatures and revocations."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from api.schemas.common import Address, FieldName, Purpose, Reply, ResourceSlug, Strict, SubjectRef, UtcDateTime


class ResourceGrant(Strict):
    resource_id: ResourceSlug
    fields: list[FieldName] = Field(min_length=1, max_length=256)


class ConsentDraftCreate(SubjectRef):
    grantee: Address
    resources: list[ResourceGrant] = Field(min_length=1, max_length=16)
    purpose: Purpose
    valid_from: UtcDateTime
    valid_until: UtcDateTime
    max_uses: int = Field(default=0, ge=0, le=2**32 - 1, description="0 = unlimited")

    @model_validator(mode="after")
    def _window(self):
        if self.valid_until <= self.valid_from:
            raise ValueError("valid_until must be after valid_from")
        return self


class ConsentDraftPublic(Reply):
    consent_id: str
    typed_data: dict[str, Any]


class Submission(Reply):
    consent_id: str
    status: str  # active | pending_signatures
    tx_hash: str | None = None
    block_number: int | None = None
    signatures_needed: int | None = None
    signed_by: list[str] | None = None


class Withdrawal(Reply):
    consent_id: str
    status: str  # withdrawn


class RevocationDraft(Reply):
    typed_data: dict[str, Any]


class TransactionReceipt(Reply):
    consent_id: str
    status: str
    tx_hash: str
    block_number: int


class ResourceFields(Reply):
    resource_id: str
    fields: list[str]


class ConsentOut(Reply):
    """A consent on the ledger (with its grant and use counts) or a submission still collecting
    signatures (with its typed data and deadline); ``status`` tells which."""

    consent_id: str
    subject_id: str
    status: str = Field(description="active, revoked (by the subject), ended_by_regulator, expired, "
                                    "not_yet_valid, exhausted (used up) on the ledger; pending_signatures or "
                                    "expired (a submission)")
    grantee: str | None = None
    resources: list[ResourceFields] | None = None
    purpose: str | None = None
    purpose_hash: str | None = None
    valid_from: str | None = None
    valid_until: str | None = None
    max_uses: int | None = None
    uses: int | None = None
    block_number: int | None = None
    tx_hash: str | None = None
    ended_block: int | None = Field(default=None, description="block of the revocation or the regulator's end")
    ended_by: str | None = Field(default=None, description="the signer who revoked it, or the regulator")
    end_reason: str | None = Field(default=None, description="the regulator's written reason")
    end_reason_hash: str | None = None
    deadline: str | None = Field(default=None, description="a submission's signing deadline")
    typed_data: dict[str, Any] | None = Field(default=None, description="a submission's typed data")
    signed_by: list[str] | None = None


class ConsentList(Reply):
    consents: list[ConsentOut]


Signature = Field(pattern=r"^0x[0-9a-fA-F]{130}$", description="65-byte r||s||v, 0x-hex")


class ConsentSubmit(Strict):
    typed_data: dict[str, Any]
    signatures: list[str] = Field(min_length=1, max_length=16)

    @model_validator(mode="after")
    def _hex(self):
        for sig in self.signatures:
            _check_signature(sig)
        return self


class SignatureAdd(Strict):
    signature: str = Signature


class RevocationSubmit(Strict):
    typed_data: dict[str, Any]
    signature: str = Signature


class RegulatorEnd(Strict):
    """A regulator ends a consent it found abused; ``reason`` is hashed on-chain, its text kept here."""

    reason: str = Field(min_length=1, max_length=500)
    signed_transaction: str | None = Field(default=None, pattern=r"^0x[0-9a-fA-F]+$", max_length=20_000,
                                           description="the regulator's own signed transaction; omit it to get "
                                                       "the one to sign")


def _check_signature(sig: str) -> None:
    if not (isinstance(sig, str) and len(sig) == 132 and sig.startswith("0x")):
        raise ValueError("each signature must be 65 bytes of 0x-hex (r||s||v)")
    int(sig[2:], 16)
