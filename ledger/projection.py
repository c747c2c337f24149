"""Chain state folded from contract events, in block order, and the read interface the policy uses.

:class:`ChainState` is what :func:`ledger.policy_inputs.gather` reads. :class:`Projection` is the
in-memory fold of the events: the regulator's verifier builds a fresh one from the chain and stops
it at each audit entry's block. The API's state lives in indexed tables instead
(:mod:`ledger.projection_tables`); its indexer folds each chunk of events into a scratch
:class:`Projection` holding just the rows those events touch, with the same handlers. Applying an
event returns the entity it changed, so the indexer writes exactly those.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from ledger.domain import ConsentStatus, SharingClass, SubjectKind, purpose_hash, role_name
from ledger.participants import fold_role_event


def hex32(value: bytes) -> str:
    return "0x" + value.hex()


def _subject_kind(value: int) -> str:
    return SubjectKind(value).name if value in (SubjectKind.PERSON, SubjectKind.ENTERPRISE) else "UNKNOWN"


@dataclass(slots=True)
class DepartmentState:
    address: str
    code: str
    name: str
    active: bool


@dataclass(slots=True)
class ResourceState:
    resource_key: str
    provider: str
    sharing_class: str
    sensitive: bool
    active: bool
    field_count: int
    schema_hash: str


@dataclass(slots=True)
class SubjectState:
    subject_id: str
    kind: str
    threshold: int
    signers: set[str] = field(default_factory=set)


@dataclass(slots=True)
class SignerChangeState:
    """A proposed change to a subject's signers: PENDING until CANCELLED or APPLIED.

    ``approved`` tells how an applied change took effect: True with the subject's signers'
    signatures, False only because its notice period ran out.
    """

    change_id: str
    subject_id: str
    add: tuple[str, ...]
    remove: tuple[str, ...]
    threshold: int
    nonce: int
    effective_at: int
    proposed_by: str
    proposed_block: int
    status: str  # PENDING | CANCELLED | APPLIED
    approved: bool | None = None
    ended_block: int | None = None
    ended_by: str | None = None


@dataclass(slots=True)
class ConsentState:
    consent_id: str
    subject_id: str
    grantee: str
    resource_masks: dict[str, int]
    purpose_hash: str
    valid_from: int
    valid_until: int
    max_uses: int
    nonce: int
    status: str  # ACTIVE | REVOKED | ENDED_BY_REGULATOR
    granted_block: int
    granted_tx: str
    ended_block: int | None = None
    ended_by: str | None = None
    end_reason_hash: str | None = None  # the regulator's written reason, for ENDED_BY_REGULATOR


@dataclass(slots=True)
class SharingRequestState:
    request_id: int
    requester: str
    resource_key: str
    field_mask: int
    purpose_hash: str
    valid_until: int
    requested_at: int
    requested_block: int
    status: str  # PENDING | APPROVED | DENIED | ENDED
    decided_at: int | None = None


@dataclass(slots=True)
class AgreementState:
    """The standing agreement of (department, resource, purpose): the latest approved request for it."""

    field_mask: int
    valid_until: int
    request_id: int
    purpose_hash: str
    valid_from: int
    ended_at: int | None = None
    ended_by: str | None = None


@dataclass(slots=True)
class SuspensionState:
    """A department's suspended access to a resource (第十九条): in force from ``since`` until ``until``
    (exclusive; 0: until lifted), unless ``lifted_at`` is set."""

    resource_key: str
    department: str
    provider: str
    reason_hash: str
    since: int
    until: int
    block_number: int
    tx_hash: str
    lifted_at: int | None = None
    lifted_by: str | None = None


@dataclass(slots=True)
class VerificationState:
    """A department's request that the provider verify a record it received (校核): OPEN, EXTENDED once,
    then RESOLVED (``corrected`` tells whether the provider corrected the record)."""

    request_id: int
    requester: str
    resource_key: str
    audit_seq: int
    field_mask: int
    reason_hash: str
    requested_at: int
    requested_block: int
    tx_hash: str
    status: str  # OPEN | EXTENDED | RESOLVED
    extended_until: int | None = None
    extension_reason_hash: str | None = None
    resolved_at: int | None = None
    corrected: bool | None = None
    note_hash: str | None = None


@dataclass(slots=True)
class EmergencyState:
    """An emergency on the green channel (应急供需绿色通道): in force on [declared_at, until) for its departments,
    resources and subjects (``subjects`` empty with ``all_subjects``)."""

    emergency_id: int
    declared_by: str
    event_hash: str
    legal_basis_hash: str
    all_subjects: bool
    declared_at: int
    until: int
    declared_block: int
    tx_hash: str
    departments: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    extended_by: str | None = None
    notice_by: int | None = None
    notice_reason_hash: str | None = None
    reviewed_at: int | None = None
    reviewed_by: str | None = None
    proper: bool | None = None
    review_note_hash: str | None = None


@dataclass(slots=True)
class ObjectionState:
    """A subject's objection to fields of a record (异议, 第三十四条): FILED, MARKED by the data authority, maybe
    FORWARDED to ``provider``, then DECIDED (``corrected`` citing ``record_version``). Times are block timestamps."""

    objection_id: int
    subject_id: str
    resource_key: str
    field_mask: int
    kind: str  # WRONG | INCOMPLETE | INFRINGES
    filed_by: str
    reason_hash: str
    filed_at: int
    filed_block: int
    tx_hash: str
    status: str  # FILED | MARKED | FORWARDED | DECIDED
    marked_at: int | None = None
    forwarded_at: int | None = None
    provider: str | None = None
    decided_at: int | None = None
    decided_by: str | None = None
    corrected: bool | None = None
    record_version: int | None = None
    note_hash: str | None = None
    marked_block: int | None = None
    forwarded_block: int | None = None
    decided_block: int | None = None

    @property
    def marked(self) -> bool:
        """Marked and not yet decided: releases of its fields are disputed."""
        return self.status in ("MARKED", "FORWARDED")


OBJECTION_KINDS = ("WRONG", "INCOMPLETE", "INFRINGES")  # IObjections.ObjectionKind, in order


class ChainState(Protocol):
    """The chain as of ``block``: what the policy's inputs are read from, key by key."""

    block: int

    def department(self, address: str) -> DepartmentState | None: ...

    def has_role(self, account: str, role: str) -> bool: ...

    def resource(self, resource_key: str) -> ResourceState | None: ...

    def subject_known(self, subject_id: str) -> bool: ...

    def agreement_for(self, department: str, resource_key: str, purpose: str) -> AgreementState | None:
        """The agreement of ``department`` for ``resource_key`` and the purpose text ``purpose``."""

    def consents_for(self, subject_id: str, grantee: str, resource_key: str) -> list[ConsentState]:
        """Every consent (any status) of ``subject_id`` to ``grantee`` naming ``resource_key``."""

    def suspension_of(self, department: str, resource_key: str) -> SuspensionState | None:
        """The latest suspension of ``department``'s access to ``resource_key``, lifted or not."""

    def emergency(self, emergency_id: int) -> EmergencyState | None:
        """An emergency declared on the green channel."""

    def marked_objections(self, subject_id: str, resource_key: str) -> list[ObjectionState]:
        """The objections to ``subject_id``'s record of ``resource_key`` that are marked and not yet decided."""


class Projection:
    """The chain folded in memory; a :class:`ChainState`."""

    def __init__(self) -> None:
        self.block = 0
        self.departments: dict[str, DepartmentState] = {}
        self.regulators: dict[str, str] = {}
        self.roles: dict[str, set[str]] = {}
        self.resources: dict[str, ResourceState] = {}
        self.subjects: dict[str, SubjectState] = {}
        self.signer_subjects: dict[str, set[str]] = {}
        self.signer_changes: dict[str, SignerChangeState] = {}
        self.consents: dict[str, ConsentState] = {}
        # (subject, grantee, resource_key) -> consent ids, the policy's lookup
        self.consent_index: dict[tuple[str, str, str], list[str]] = {}
        self.sharing_requests: dict[int, SharingRequestState] = {}
        # (department, resource_key, purpose_hash) -> the standing agreement, as the Catalog keys it
        self.agreements: dict[tuple[str, str, str], AgreementState] = {}
        # (resource_key, department) -> the latest suspension, as the Catalog keys it
        self.suspensions: dict[tuple[str, str], SuspensionState] = {}
        self.verifications: dict[int, VerificationState] = {}
        self.emergencies: dict[int, EmergencyState] = {}
        self.objections: dict[int, ObjectionState] = {}
        # (subject_id, resource_key) -> ids of its objections, the policy's lookup
        self.objection_index: dict[tuple[str, str], list[int]] = {}

    # -- queries ---------------------------------------------------------------------------
    def department(self, address: str) -> DepartmentState | None:
        return self.departments.get(address)

    def resource(self, resource_key: str) -> ResourceState | None:
        return self.resources.get(resource_key)

    def subject_known(self, subject_id: str) -> bool:
        return subject_id in self.subjects

    def has_role(self, account: str, role: str) -> bool:
        return role in self.roles.get(account, ())

    def agreement_for(self, department: str, resource_key: str, purpose: str) -> AgreementState | None:
        """The agreement of ``department`` for ``resource_key`` and the purpose text ``purpose``."""
        return self.agreements.get((department, resource_key, hex32(purpose_hash(purpose))))

    def consents_for(self, subject_id: str, grantee: str, resource_key: str) -> list[ConsentState]:
        ids = self.consent_index.get((subject_id, grantee, resource_key), ())
        return [self.consents[i] for i in ids]

    def suspension_of(self, department: str, resource_key: str) -> SuspensionState | None:
        return self.suspensions.get((resource_key, department))

    def emergency(self, emergency_id: int) -> EmergencyState | None:
        return self.emergencies.get(emergency_id)

    def marked_objections(self, subject_id: str, resource_key: str) -> list[ObjectionState]:
        found = (self.objections[i] for i in self.objection_index.get((subject_id, resource_key), ()))
        return [o for o in found if o.marked]

    # -- folding events ----------------------------------------------------------------------
    def apply(self, name: str, args: dict, log: dict, block_timestamp: int) -> tuple[str, object] | None:
        """Fold one decoded event; returns (kind, key) of the changed entity, or None."""
        handler = getattr(self, "_on_" + name, None)
        if handler is None:
            return None
        return handler(args, log, block_timestamp)

    def _on_role_event(self, name, a):
        role = role_name(a["role"])
        if role and fold_role_event(self.roles, name, a["account"], role):
            return ("role", a["account"])

    def _on_RoleGranted(self, a, log, ts):
        return self._on_role_event("RoleGranted", a)

    def _on_RoleRevoked(self, a, log, ts):
        return self._on_role_event("RoleRevoked", a)

    def _on_DepartmentRegistered(self, a, log, ts):
        self.departments[a["account"]] = DepartmentState(a["account"], hex32(a["code"]), a["name"], True)
        return ("department", a["account"])

    def _on_DepartmentActiveSet(self, a, log, ts):
        dept = self.departments.get(a["account"])
        if dept:
            dept.active = a["active"]
            return ("department", a["account"])

    def _on_RegulatorRegistered(self, a, log, ts):
        self.regulators[a["account"]] = a["name"]
        return ("regulator", a["account"])

    def _on_ResourceRegistered(self, a, log, ts):
        key = hex32(a["resourceId"])
        self.resources[key] = ResourceState(key, a["provider"], SharingClass.from_index(a["sharingClass"]).value, a["sensitive"],
                                            True, a["fieldCount"], hex32(a["schemaHash"]))
        return ("resource", key)

    def _on_ResourceUpdated(self, a, log, ts):
        key = hex32(a["resourceId"])
        previous = self.resources.get(key)
        self.resources[key] = ResourceState(key, a["provider"], SharingClass.from_index(a["sharingClass"]).value, a["sensitive"],
                                            previous.active if previous else True, a["fieldCount"],
                                            hex32(a["schemaHash"]))
        return ("resource", key)

    def _on_ResourceActiveSet(self, a, log, ts):
        key = hex32(a["resourceId"])
        resource = self.resources.get(key)
        if resource:
            resource.active = a["active"]
            return ("resource", key)

    def _on_SubjectRegistered(self, a, log, ts):
        key = hex32(a["subjectId"])
        self.subjects[key] = SubjectState(key, _subject_kind(a["kind"]), a["threshold"])
        return ("subject", key)

    def _on_SignerBound(self, a, log, ts):
        key = hex32(a["subjectId"])
        self.subjects[key].signers.add(a["signer"])
        self.signer_subjects.setdefault(a["signer"], set()).add(key)
        return ("subject", key)

    def _on_SignerUnbound(self, a, log, ts):
        key = hex32(a["subjectId"])
        self.subjects[key].signers.discard(a["signer"])
        self.signer_subjects.get(a["signer"], set()).discard(key)
        return ("subject", key)

    def _on_ThresholdChanged(self, a, log, ts):
        key = hex32(a["subjectId"])
        self.subjects[key].threshold = a["threshold"]
        return ("subject", key)

    def _on_SignerChangeProposed(self, a, log, ts):
        change = SignerChangeState(
            change_id=hex32(a["changeId"]), subject_id=hex32(a["subjectId"]), add=tuple(a["add"]),
            remove=tuple(a["remove"]), threshold=a["threshold"], nonce=a["nonce"], effective_at=a["effectiveAt"],
            proposed_by=a["proposedBy"], proposed_block=int(log["blockNumber"], 16), status="PENDING")
        self.signer_changes[change.change_id] = change
        return ("signer_change", change.change_id)

    def _on_SignerChangeCancelled(self, a, log, ts):
        change = self.signer_changes.get(hex32(a["changeId"]))
        if change:
            change.status, change.ended_block, change.ended_by = "CANCELLED", int(log["blockNumber"], 16), \
                a["cancelledBy"]
            return ("signer_change", change.change_id)

    def _on_SignerChangeApplied(self, a, log, ts):
        change = self.signer_changes.get(hex32(a["changeId"]))
        if change:
            change.status, change.approved, change.ended_block = "APPLIED", a["approved"], int(log["blockNumber"], 16)
            return ("signer_change", change.change_id)

    def _on_ConsentGranted(self, a, log, ts):
        consent = ConsentState(
            consent_id=hex32(a["consentId"]), subject_id=hex32(a["subject"]), grantee=a["grantee"],
            resource_masks={hex32(r): m for r, m in zip(a["resources"], a["fieldMasks"])},
            purpose_hash=hex32(a["purposeHash"]), valid_from=a["validFrom"], valid_until=a["validUntil"],
            max_uses=a["maxUses"], nonce=a["nonce"], status=ConsentStatus.ACTIVE.value, granted_block=int(log["blockNumber"], 16),
            granted_tx=log["transactionHash"])
        self.add_consent(consent)
        return ("consent", consent.consent_id)

    def add_consent(self, consent: ConsentState) -> None:
        self.consents[consent.consent_id] = consent
        for resource_key in consent.resource_masks:
            ids = self.consent_index.setdefault((consent.subject_id, consent.grantee, resource_key), [])
            if consent.consent_id not in ids:
                ids.append(consent.consent_id)

    def _on_ConsentRevoked(self, a, log, ts):
        consent = self.consents.get(hex32(a["consentId"]))
        if consent:
            consent.status = ConsentStatus.REVOKED.value
            consent.ended_block = int(log["blockNumber"], 16)
            consent.ended_by = a["revokedBy"]
            return ("consent", consent.consent_id)

    def _on_ConsentEndedByRegulator(self, a, log, ts):
        consent = self.consents.get(hex32(a["consentId"]))
        if consent:
            consent.status = ConsentStatus.ENDED_BY_REGULATOR.value
            consent.ended_block = int(log["blockNumber"], 16)
            consent.ended_by = a["regulator"]
            consent.end_reason_hash = hex32(a["reasonHash"])
            return ("consent", consent.consent_id)

    def _on_SharingRequested(self, a, log, ts):
        request = SharingRequestState(a["requestId"], a["requester"], hex32(a["resourceId"]), a["fieldMask"],
                                      hex32(a["purpose"]), a["validUntil"], ts, int(log["blockNumber"], 16),
                                      "PENDING")
        self.sharing_requests[request.request_id] = request
        return ("sharing_request", request.request_id)

    def _on_SharingApproved(self, a, log, ts):
        request = self.sharing_requests.get(a["requestId"])
        if request:
            request.status, request.decided_at = "APPROVED", a["decidedAt"]
            self.agreements[(request.requester, request.resource_key, request.purpose_hash)] = AgreementState(
                request.field_mask, request.valid_until, request.request_id, request.purpose_hash, a["decidedAt"])
            return ("sharing_request", request.request_id)

    def _on_AgreementEnded(self, a, log, ts):
        request = self.sharing_requests.get(a["requestId"])
        if request:
            request.status = "ENDED"
            agreement = self.agreements.get((request.requester, request.resource_key, request.purpose_hash))
            if agreement and agreement.request_id == request.request_id:  # not when a renewal replaced it
                agreement.ended_at, agreement.ended_by = a["endedAt"], a["endedBy"]
            return ("sharing_request", request.request_id)

    def _on_SharingDenied(self, a, log, ts):
        request = self.sharing_requests.get(a["requestId"])
        if request:
            request.status, request.decided_at = "DENIED", a["decidedAt"]
            return ("sharing_request", request.request_id)

    def _on_AccessSuspended(self, a, log, ts):
        key = (hex32(a["resourceId"]), a["department"])
        self.suspensions[key] = SuspensionState(key[0], key[1], a["provider"], hex32(a["reasonHash"]), a["since"],
                                                a["until"], int(log["blockNumber"], 16), log["transactionHash"])
        return ("suspension", key)

    def _on_SuspensionLifted(self, a, log, ts):
        key = (hex32(a["resourceId"]), a["department"])
        suspension = self.suspensions.get(key)
        if suspension:
            suspension.lifted_at, suspension.lifted_by = a["liftedAt"], a["liftedBy"]
            return ("suspension", key)

    def _on_VerificationRequested(self, a, log, ts):
        request = VerificationState(a["requestId"], a["requester"], hex32(a["resourceId"]), a["auditSeq"],
                                    a["fieldMask"], hex32(a["reasonHash"]), a["requestedAt"],
                                    int(log["blockNumber"], 16), log["transactionHash"], "OPEN")
        self.verifications[request.request_id] = request
        return ("verification", request.request_id)

    def _on_VerificationExtended(self, a, log, ts):
        request = self.verifications.get(a["requestId"])
        if request:
            request.status, request.extended_until = "EXTENDED", a["until"]
            request.extension_reason_hash = hex32(a["reasonHash"])
            return ("verification", request.request_id)

    def _on_VerificationResolved(self, a, log, ts):
        request = self.verifications.get(a["requestId"])
        if request:
            request.status, request.resolved_at, request.corrected = "RESOLVED", a["resolvedAt"], a["corrected"]
            request.note_hash = hex32(a["noteHash"])
            return ("verification", request.request_id)

    def _on_EmergencyDeclared(self, a, log, ts):
        emergency = EmergencyState(a["emergencyId"], a["declaredBy"], hex32(a["eventHash"]), hex32(a["legalBasisHash"]),
                                   a["allSubjects"], a["declaredAt"], a["until"], int(log["blockNumber"], 16),
                                   log["transactionHash"])
        self.emergencies[emergency.emergency_id] = emergency
        return ("emergency", emergency.emergency_id)

    def _on_EmergencyScope(self, a, log, ts):
        emergency = self.emergencies.get(a["emergencyId"])
        if emergency:
            emergency.departments = tuple(a["departments"])
            emergency.resources = tuple(hex32(r) for r in a["resources"])
            emergency.subjects = tuple(hex32(s) for s in a["subjects"])
            return ("emergency", emergency.emergency_id)

    def _on_EmergencyExtended(self, a, log, ts):
        emergency = self.emergencies.get(a["emergencyId"])
        if emergency:
            emergency.until, emergency.extended_by = a["until"], a["extendedBy"]
            return ("emergency", emergency.emergency_id)

    def _on_EmergencyNoticeDelayed(self, a, log, ts):
        emergency = self.emergencies.get(a["emergencyId"])
        if emergency:
            emergency.notice_by, emergency.notice_reason_hash = a["noticeBy"], hex32(a["reasonHash"])
            return ("emergency", emergency.emergency_id)

    def _on_EmergencyReviewed(self, a, log, ts):
        emergency = self.emergencies.get(a["emergencyId"])
        if emergency:
            emergency.reviewed_at, emergency.reviewed_by = a["reviewedAt"], a["regulator"]
            emergency.proper, emergency.review_note_hash = a["proper"], hex32(a["noteHash"])
            return ("emergency", emergency.emergency_id)

    def _on_ObjectionFiled(self, a, log, ts):
        objection = ObjectionState(a["objectionId"], hex32(a["subject"]), hex32(a["resourceId"]), a["fieldMask"],
                                   OBJECTION_KINDS[a["kind"]], a["signer"], hex32(a["reasonHash"]), a["filedAt"],
                                   int(log["blockNumber"], 16), log["transactionHash"], "FILED")
        self.add_objection(objection)
        return ("objection", objection.objection_id)

    def add_objection(self, objection: ObjectionState) -> None:
        self.objections[objection.objection_id] = objection
        ids = self.objection_index.setdefault((objection.subject_id, objection.resource_key), [])
        if objection.objection_id not in ids:
            ids.append(objection.objection_id)

    def _on_ObjectionMarked(self, a, log, ts):
        objection = self.objections.get(a["objectionId"])
        if objection:
            objection.status, objection.marked_at = "MARKED", a["markedAt"]
            objection.marked_block = int(log["blockNumber"], 16)
            return ("objection", objection.objection_id)

    def _on_ObjectionForwarded(self, a, log, ts):
        objection = self.objections.get(a["objectionId"])
        if objection:
            objection.status, objection.forwarded_at, objection.provider = "FORWARDED", a["forwardedAt"], a["provider"]
            objection.forwarded_block = int(log["blockNumber"], 16)
            return ("objection", objection.objection_id)

    def _on_ObjectionDecided(self, a, log, ts):
        objection = self.objections.get(a["objectionId"])
        if objection:
            objection.status, objection.decided_at, objection.decided_by = "DECIDED", a["decidedAt"], a["by"]
            objection.corrected, objection.note_hash = a["corrected"], hex32(a["noteHash"])
            objection.record_version = a["recordVersion"] or None
            objection.decided_block = int(log["blockNumber"], 16)
            return ("objection", objection.objection_id)
