"""Bodies of the admin (数据主管部门) and identity-attester endpoints."""

from __future__ import annotations

from pydantic import Field, model_validator

from api.schemas.common import (Address, FieldName, ResourceSlug, Strict, SubjectRef, TransactionRef,
                               UnsignedTransaction)
from ledger.domain import SharingClass


class DepartmentCreate(Strict):
    address: Address
    code: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.\-]+$")
    name: str = Field(min_length=1, max_length=200)


class RegulatorCreate(Strict):
    address: Address
    name: str = Field(min_length=1, max_length=200)


class EmergencyOfficerCreate(Strict):
    """An account granted the EMERGENCY role: it may declare and extend emergencies on the green channel."""

    address: Address


class ResourceCreate(Strict):
    resource_id: ResourceSlug
    name: str = Field(min_length=1, max_length=200)
    provider: Address
    sharing_class: SharingClass
    sensitive: bool
    fields: list[FieldName] = Field(min_length=1, max_length=256)

    @model_validator(mode="after")
    def _unique(self):
        if len(set(self.fields)) != len(self.fields):
            raise ValueError("fields must not repeat")
        return self


class SubjectCreate(SubjectRef):
    signers: list[Address] = Field(min_length=1, max_length=16)
    threshold: int = Field(ge=1, le=16)
    signed_transaction: str | None = Field(
        default=None, pattern=r"^0x[0-9a-fA-F]+$", max_length=20_000,
        description="the identity attester's own signed transaction; omit it to get the one to sign")

    @model_validator(mode="after")
    def _threshold(self):
        if len(set(self.signers)) != len(self.signers):
            raise ValueError("signers must not repeat")
        if self.threshold > len(self.signers):
            raise ValueError("threshold cannot exceed the number of signers")
        return self


# -- answers -----------------------------------------------------------------------------------------
class DepartmentOut(TransactionRef):
    address: str
    code: str
    name: str


class RegulatorOut(TransactionRef):
    address: str
    name: str


class EmergencyOfficerOut(TransactionRef):
    address: str


class ResourceOut(TransactionRef):
    resource_id: str
    resource_key: str = Field(description="keccak256 of resource_id, the on-chain key")
    schema_hash: str = Field(description="hash of the field list, held on-chain")
    fields: list[str]
    sharing_class: SharingClass
    sensitive: bool
    provider: str


class SubjectRegistered(TransactionRef):
    subject_id: str
    kind: str = Field(description="PERSON or ENTERPRISE")
    signers: list[str]
    threshold: int


class SubjectAttested(TransactionRef):
    """An attestation recorded; the registration waits for more attesters."""

    subject_id: str
    status: str = Field(description="ATTESTED")
    attestations: int
    attestations_required: int


class SubjectTransaction(UnsignedTransaction):
    subject_id: str
