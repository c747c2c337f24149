"""The release policy (DESIGN §4): one pure decision function shared by the API and the regulator.

``evaluate`` decides whether department D may receive fields F of resource R about subject S
for purpose P at block b. It reads nothing but its arguments (chain state as of b, already
fetched), so re-running it over an audit entry with the state at the entry's block must give
the same decision.

Checks, in this order (the first failing one is the reason):

1. ``NOT_DEPARTMENT``   the requester is not an active department
2. ``UNKNOWN_RESOURCE`` no such resource in the catalog
3. ``RESOURCE_INACTIVE``
4. ``SUSPENDED``        R's provider suspended or ended D's access to R and the suspension is in
   force: not lifted as of b and, if it has an end, timestamp < end (永州办法 第十九条, "提供部门发现
   使用部门违反规定使用政务数据的,有权暂停或者终止提供")
5. ``UNKNOWN_FIELD``    F is empty or names a field the resource does not have
   A request under an emergency (``emergency_id``, the green channel, 应急供需绿色通道) is then decided
   by the emergency alone, needing no consent, agreement or registered subject and ignoring
   NOT_SHARED: ``NO_EMERGENCY`` (no such emergency as of b), ``OUTSIDE_EMERGENCY_SCOPE`` (D, R or
   S is not in its declared scope), ``EMERGENCY_NOT_IN_FORCE`` (the timestamp is outside
   [declared_at, until)); otherwise it allows the release.
6. ``NOT_SHARED``       the resource's class is NOT_SHARED (不予共享)
7. ``NO_AGREEMENT``     CONDITIONAL resource without an approved agreement D↔R for purpose P
   whose field mask covers F and whose term [valid_from, valid_until) holds the block timestamp;
   ``AGREEMENT_ENDED`` when that agreement was ended by its provider (or the admin)
8. only for sensitive resources (they need the subject's consent):
   ``UNKNOWN_SUBJECT`` the subject is not registered; then the consents for (S, D, R) are
   judged one by one, each by the first rule it breaks: ``PURPOSE_MISMATCH`` (a consent for
   another purpose says nothing about this one, so it ranks furthest), ``ENDED_BY_REGULATOR``
   (a regulator ended it for abuse at or before b), ``REVOKED`` (its subject revoked it at or
   before b), ``EXPIRED`` (timestamp >= valid_until), ``NOT_YET_VALID`` (timestamp <
   valid_from), ``FIELD_NOT_GRANTED`` (its mask for R does not cover F),
   ``USES_EXHAUSTED`` (max_uses > 0 and uses_so_far >= max_uses). A consent breaking none
   allows the release. If none does, the reason is that of the consent that got furthest
   down this list (it is the closest to being usable and the most useful to report);
   ``NO_CONSENT`` when there is no consent for (S, D, R) at all.

An allowed release of fields under an objection that the data authority has marked and not yet
decided (异议标注, 永州办法 第三十四条) still goes ahead, but names each such field with the objection in
``Decision.disputed``, so the recipient knows the value is contested.

Non-sensitive resources need no consent and no registered subject (most residents never
register a wallet, and unconditional sharing must still work for them).

When several consents allow the release, the chosen one is, deterministically: the one that
expires first, then the one with the fewest uses left (unlimited last), then the smallest id.

Field masks: bit j stands for ``resource.fields[j]`` (the same masks the Consents and
Catalog contracts store). Times are block timestamps in seconds; a consent is in force on
``[valid_from, valid_until)``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

# SharingClass, ConsentStatus and the hashes are named here too, for the policy's callers.
from ledger.domain import ConsentStatus, SharingClass, purpose_hash, resource_key, schema_hash
from ledger.exceptions import PolicyInputError

__all__ = [
    "Agreement",
    "Block",
    "Consent",
    "ConsentStatus",
    "Decision",
    "Department",
    "Emergency",
    "Objection",
    "Reason",
    "Request",
    "Resource",
    "SharingClass",
    "Suspension",
    "evaluate",
    "fields_to_mask",
    "mask_to_fields",
    "purpose_hash",
    "resource_key",
    "schema_hash",
]

MAX_FIELDS = 256


class Reason(str, enum.Enum):
    """Stable decision codes; they appear in audit entries and API errors and never change."""

    OK = "OK"
    NOT_DEPARTMENT = "NOT_DEPARTMENT"
    UNKNOWN_RESOURCE = "UNKNOWN_RESOURCE"
    RESOURCE_INACTIVE = "RESOURCE_INACTIVE"
    UNKNOWN_SUBJECT = "UNKNOWN_SUBJECT"
    UNKNOWN_FIELD = "UNKNOWN_FIELD"
    NOT_SHARED = "NOT_SHARED"
    NO_AGREEMENT = "NO_AGREEMENT"
    NO_CONSENT = "NO_CONSENT"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"
    NOT_YET_VALID = "NOT_YET_VALID"
    PURPOSE_MISMATCH = "PURPOSE_MISMATCH"
    FIELD_NOT_GRANTED = "FIELD_NOT_GRANTED"
    USES_EXHAUSTED = "USES_EXHAUSTED"
    AGREEMENT_ENDED = "AGREEMENT_ENDED"
    SUSPENDED = "SUSPENDED"
    NO_EMERGENCY = "NO_EMERGENCY"
    OUTSIDE_EMERGENCY_SCOPE = "OUTSIDE_EMERGENCY_SCOPE"
    EMERGENCY_NOT_IN_FORCE = "EMERGENCY_NOT_IN_FORCE"
    ENDED_BY_REGULATOR = "ENDED_BY_REGULATOR"

    def __str__(self) -> str:
        return self.value


# --- helpers ---------------------------------------------------------------------------------


def _bytes32(value: bytes | str, name: str) -> bytes:
    if isinstance(value, str):
        text = value[2:] if value[:2] in ("0x", "0X") else value
        try:
            value = bytes.fromhex(text)
        except ValueError:
            raise PolicyInputError(f"{name} must be 32 bytes or 0x hex, got {value!r}") from None
    if not isinstance(value, (bytes, bytearray)) or len(value) != 32:
        raise PolicyInputError(f"{name} must be 32 bytes, got {value!r}")
    return bytes(value)


def fields_to_mask(resource: Resource, fields: Iterable[str]) -> int:
    """Bit mask of ``fields`` over ``resource.fields``; raises on an unknown field name."""
    index = resource._index
    mask = 0
    for name in fields:
        bit = index.get(name)
        if bit is None:
            raise PolicyInputError(f"resource {resource.resource_id} has no field {name!r}")
        mask |= 1 << bit
    return mask


def mask_to_fields(resource: Resource, mask: int) -> tuple[str, ...]:
    """Field names selected by ``mask``, in the resource's field order."""
    if mask < 0 or mask >> len(resource.fields):
        raise PolicyInputError(f"mask {mask:#x} has bits beyond the {len(resource.fields)} fields of {resource.resource_id}")
    return tuple(name for j, name in enumerate(resource.fields) if mask >> j & 1)


# --- inputs ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Department:
    """A government department (政务部门) as registered in Participants."""

    address: str
    code: str
    active: bool


@dataclass(frozen=True, slots=True)
class Resource:
    """A catalog resource (政务数据资源目录 entry) with its ordered field names."""

    resource_id: str
    resource_key: bytes
    provider: str
    sharing_class: SharingClass
    sensitive: bool
    active: bool
    fields: tuple[str, ...]
    _index: Mapping[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        put = object.__setattr__
        put(self, "resource_key", _bytes32(self.resource_key, "resource_key"))
        try:
            put(self, "sharing_class", SharingClass(self.sharing_class))
        except ValueError:
            raise PolicyInputError(f"unknown sharing class {self.sharing_class!r}") from None
        names = tuple(self.fields)
        if not 1 <= len(names) <= MAX_FIELDS:
            raise PolicyInputError(f"a resource has 1..{MAX_FIELDS} fields, got {len(names)}")
        if len(set(names)) != len(names):
            raise PolicyInputError(f"resource {self.resource_id} repeats a field name")
        put(self, "fields", names)
        put(self, "_index", {name: j for j, name in enumerate(names)})


@dataclass(frozen=True, slots=True)
class Agreement:
    """An approved sharing agreement (department, conditional resource, purpose) from the Catalog.

    It covers ``field_mask`` for the purpose whose hash it carries, on [valid_from, valid_until),
    unless ``ended`` (its provider or the admin ended it, as of the evaluated block)."""

    field_mask: int
    valid_until: int
    purpose_hash: bytes
    valid_from: int = 0
    ended: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "purpose_hash", _bytes32(self.purpose_hash, "purpose_hash"))


@dataclass(frozen=True, slots=True)
class Suspension:
    """The provider's suspension of the requester's access to the resource, not lifted as of the
    evaluated block: in force while the timestamp is before ``until``, or for good when ``until`` is 0."""

    until: int = 0

    def in_force(self, timestamp: int) -> bool:
        return self.until == 0 or timestamp < self.until


@dataclass(frozen=True, slots=True)
class Emergency:
    """An emergency on the green channel as of the evaluated block: its scope and window. ``subjects`` is
    None when every subject is in scope."""

    departments: frozenset[str]
    resources: frozenset[bytes]
    subjects: frozenset[bytes] | None
    declared_at: int
    until: int

    def __post_init__(self) -> None:
        put = object.__setattr__
        put(self, "departments", frozenset(d.lower() for d in self.departments))
        put(self, "resources", frozenset(_bytes32(r, "resource key") for r in self.resources))
        if self.subjects is not None:
            put(self, "subjects", frozenset(_bytes32(s, "subject_id") for s in self.subjects))


@dataclass(frozen=True, slots=True)
class Objection:
    """An objection to the subject's record of the resource, marked and not yet decided as of the
    evaluated block: the fields of ``field_mask`` are disputed."""

    objection_id: int
    field_mask: int


@dataclass(frozen=True, slots=True)
class Consent:
    """A consent as of the evaluated block.

    ``resource_masks`` maps resource keys (bytes32) to granted field masks. ``uses_so_far``
    counts earlier releases under this consent (from the audit log). ``granted_at_block`` /
    ``revoked_at_block`` (optional) let a verifier pass today's record and evaluate an old
    block: a consent granted after the block is ignored, and one ended (revoked, or ended by a
    regulator: ``status`` tells which) after it still counts as active at it. Without
    ``revoked_at_block``, ``status`` is taken as of the block.
    """

    consent_id: str
    subject_id: bytes
    grantee: str
    resource_masks: Mapping[bytes, int] = field(hash=False)
    purpose_hash: bytes
    valid_from: int
    valid_until: int
    max_uses: int
    status: ConsentStatus
    uses_so_far: int = 0
    granted_at_block: int | None = None
    revoked_at_block: int | None = None

    def __post_init__(self) -> None:
        put = object.__setattr__
        put(self, "subject_id", _bytes32(self.subject_id, "subject_id"))
        put(self, "purpose_hash", _bytes32(self.purpose_hash, "purpose_hash"))
        put(
            self,
            "resource_masks",
            {_bytes32(k, "resource key"): int(v) for k, v in self.resource_masks.items()},
        )
        try:
            put(self, "status", ConsentStatus(self.status))
        except ValueError:
            raise PolicyInputError(f"unknown consent status {self.status!r}") from None


@dataclass(frozen=True, slots=True)
class Request:
    """What a department asks for."""

    requester: str
    subject_id: bytes
    resource_id: str
    fields: tuple[str, ...]
    purpose: str
    emergency_id: int | None = None  # a release under this emergency (the green channel)

    def __post_init__(self) -> None:
        object.__setattr__(self, "subject_id", _bytes32(self.subject_id, "subject_id"))
        object.__setattr__(self, "fields", tuple(self.fields))


@dataclass(frozen=True, slots=True)
class Block:
    """The block the chain state was read at."""

    number: int
    timestamp: int


class Decision(NamedTuple):
    """Outcome. ``fields`` are the requested fields (sorted, unique) and ``field_mask`` their mask
    (0 when a name is unknown or the resource is unknown); ``consent_id`` is set only when a
    consent allowed the release; ``disputed`` pairs (field, objection id), by field then id, for
    released fields under a marked objection. A named tuple: immutable and cheap to build on the
    hot path."""

    allowed: bool
    reason: Reason
    consent_id: str | None
    field_mask: int
    fields: tuple[str, ...]
    disputed: tuple[tuple[str, int], ...] = ()


# --- the decision ----------------------------------------------------------------------------

# Consent judgements, ordered from furthest from usable to closest.
_RANKED = (
    Reason.PURPOSE_MISMATCH,
    Reason.ENDED_BY_REGULATOR,
    Reason.REVOKED,
    Reason.EXPIRED,
    Reason.NOT_YET_VALID,
    Reason.FIELD_NOT_GRANTED,
    Reason.USES_EXHAUSTED,
)
_UNLIMITED = 1 << 64


def _deny(reason: Reason, mask: int, fields: tuple[str, ...]) -> Decision:
    return Decision(False, reason, None, mask, fields)


def _disputed(resource: Resource, mask: int, objections: Iterable[Objection]) -> tuple[tuple[str, int], ...]:
    pairs = [(name, o.objection_id) for o in objections if o.field_mask & mask
             for j, name in enumerate(resource.fields) if (o.field_mask & mask) >> j & 1]
    return tuple(sorted(pairs))


def _allow(consent_id: str | None, mask: int, fields: tuple[str, ...], resource: Resource,
           objections: Iterable[Objection]) -> Decision:
    return Decision(True, Reason.OK, consent_id, mask, fields, _disputed(resource, mask, objections))


def _under_emergency(request: Request, emergency: Emergency | None, resource: Resource, requester: str, mask: int,
                     fields: tuple[str, ...], now: int, objections: Iterable[Objection]) -> Decision:
    if emergency is None:
        return _deny(Reason.NO_EMERGENCY, mask, fields)
    if requester not in emergency.departments or resource.resource_key not in emergency.resources or \
            emergency.subjects is not None and request.subject_id not in emergency.subjects:
        return _deny(Reason.OUTSIDE_EMERGENCY_SCOPE, mask, fields)
    if not emergency.declared_at <= now < emergency.until:
        return _deny(Reason.EMERGENCY_NOT_IN_FORCE, mask, fields)
    return _allow(None, mask, fields, resource, objections)


def evaluate(
    request: Request,
    *,
    department: Department | None,
    resource: Resource | None,
    subject_known: bool,
    agreement: Agreement | None,
    consents: Iterable[Consent],
    block: Block,
    suspension: Suspension | None = None,
    emergency: Emergency | None = None,
    objections: Iterable[Objection] = (),
) -> Decision:
    """Decide one request against chain state at ``block`` (see the module docstring)."""
    fields = tuple(sorted(set(request.fields)))
    requester = request.requester.lower()
    if department is None or not department.active or department.address.lower() != requester:
        return _deny(Reason.NOT_DEPARTMENT, 0, fields)
    if resource is None or resource.resource_id != request.resource_id:
        return _deny(Reason.UNKNOWN_RESOURCE, 0, fields)
    if not resource.active:
        return _deny(Reason.RESOURCE_INACTIVE, 0, fields)
    now = block.timestamp
    if suspension is not None and suspension.in_force(now):
        return _deny(Reason.SUSPENDED, 0, fields)

    index = resource._index
    mask = 0
    for name in fields:
        bit = index.get(name)
        if bit is None:
            return _deny(Reason.UNKNOWN_FIELD, 0, fields)
        mask |= 1 << bit
    if not mask:
        return _deny(Reason.UNKNOWN_FIELD, 0, fields)
    if request.emergency_id is not None:
        return _under_emergency(request, emergency, resource, requester, mask, fields, now, objections)

    sharing = resource.sharing_class
    if sharing is SharingClass.NOT_SHARED:
        return _deny(Reason.NOT_SHARED, mask, fields)
    if sharing is SharingClass.CONDITIONAL:
        if agreement is None or agreement.purpose_hash != purpose_hash(request.purpose):
            return _deny(Reason.NO_AGREEMENT, mask, fields)
        if agreement.ended:
            return _deny(Reason.AGREEMENT_ENDED, mask, fields)
        if agreement.field_mask & mask != mask or not agreement.valid_from <= now < agreement.valid_until:
            return _deny(Reason.NO_AGREEMENT, mask, fields)
    if not resource.sensitive:
        return _allow(None, mask, fields, resource, objections)
    if not subject_known:
        return _deny(Reason.UNKNOWN_SUBJECT, mask, fields)

    subject, key, number = request.subject_id, resource.resource_key, block.number
    wanted_purpose = purpose_hash(request.purpose)
    best: Consent | None = None
    best_key: tuple[int, int, str] | None = None
    furthest = -1
    for c in consents:
        granted = c.resource_masks.get(key)
        if granted is None or c.subject_id != subject or c.grantee.lower() != requester:
            continue
        if c.granted_at_block is not None and c.granted_at_block > number:
            continue  # not yet on chain at this block
        revoked_at = c.revoked_at_block
        if c.purpose_hash != wanted_purpose:
            rank = 0
        elif revoked_at <= number if revoked_at is not None else c.status is not ConsentStatus.ACTIVE:
            rank = 1 if c.status is ConsentStatus.ENDED_BY_REGULATOR else 2
        elif now >= c.valid_until:
            rank = 3
        elif now < c.valid_from:
            rank = 4
        elif granted & mask != mask:
            rank = 5
        elif c.max_uses and c.uses_so_far >= c.max_uses:
            rank = 6
        else:
            left = c.max_uses - c.uses_so_far if c.max_uses else _UNLIMITED
            candidate = (c.valid_until, left, c.consent_id)
            if best_key is None or candidate < best_key:
                best, best_key = c, candidate
            continue
        if rank > furthest:
            furthest = rank
    if best is not None:
        return _allow(best.consent_id, mask, fields, resource, objections)
    if furthest < 0:
        return _deny(Reason.NO_CONSENT, mask, fields)
    return _deny(_RANKED[furthest], mask, fields)
