"""A subject's inbox: every access to its data, and every change to its consents and signers."""

from __future__ import annotations

from pydantic import Field

from api.schemas.common import Reply


class DepartmentRef(Reply):
    address: str
    code: str | None
    name: str | None


class AccessNotice(Reply):
    """A department asked for the subject's data; what it got and why, as the audit log records it."""

    seq: int
    department: DepartmentRef
    resource_id: str
    resource_name: str | None
    purpose: str
    fields: list[str]
    decision: str = Field(description="ALLOW or DENY")
    reason: str = Field(description="the policy's reason code (OK when allowed)")
    reason_text: str | None
    consent_id: str | None
    emergency_id: int | None = Field(default=None, description="released under this emergency (the green channel), "
                                                               "without consent")
    proof: str = Field(description="where the entry's inclusion proof is")
    bundle: str = Field(description="where the offline proof bundle is, once the entry is anchored")


class ConsentNotice(Reply):
    consent_id: str
    grantee: DepartmentRef
    resources: list[str]
    status: str = Field(description="granted, revoked or ended_by_regulator")
    by: str | None = Field(description="who revoked or ended it")
    reason: str | None = Field(description="the regulator's written reason")
    block_number: int


class SignerChangeNotice(Reply):
    change_id: str
    add: list[str]
    remove: list[str]
    threshold: int
    status: str = Field(description="PROPOSED (effective_at: when it applies unless cancelled), CANCELLED or APPLIED")
    effective_at: str | None
    by: str | None
    block_number: int


class ObjectionNotice(Reply):
    objection_id: int
    resource_id: str
    resource_name: str | None
    fields: list[str]
    step: str = Field(description="FILED, MARKED (异议标注: releases of these fields now say they are disputed), "
                                  "FORWARDED (to the provider) or DECIDED")
    by: str | None
    corrected: bool | None = Field(default=None, description="on DECIDED: whether the record was corrected")
    note: str | None = Field(default=None, description="on DECIDED: the decision as written")
    block_number: int


class Notification(Reply):
    id: str
    kind: str = Field(description="ACCESS, CONSENT, SIGNER_CHANGE or OBJECTION")
    time: str
    subject_id: str
    summary: str = Field(description="one line for people")
    access: AccessNotice | None = None
    consent: ConsentNotice | None = None
    signer_change: SignerChangeNotice | None = None
    objection: ObjectionNotice | None = None


class NotificationPage(Reply):
    notifications: list[Notification] = Field(description="newest first")
    next: str | None = Field(description="pass as ?before= for the next (older) page; null at the end")
