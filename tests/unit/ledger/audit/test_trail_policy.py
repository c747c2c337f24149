"""The shared policy adapter and the verifier's re-evaluation of releases, on a hand-folded projection."""

from __future__ import annotations

import datetime as dt

import orjson
import pytest
from eth_utils import keccak

from ledger import policy, policy_inputs
from ledger.audit.entry import AuditEntry
from ledger.audit.trail import _reevaluate, _UsesBefore
from ledger.projection import Projection

pytestmark = pytest.mark.unit

DEPARTMENT = "0x" + "11" * 20
SUBJECT = b"\x05" * 32
SLUG, FIELDS, PURPOSE = "hrss.social_insurance", ["name", "employer"], "pension_eligibility"
CONSENT = "0x" + "cc" * 32
DEPARTMENT_ROLE = keccak(text="DEPARTMENT_ROLE")
T = dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.timezone.utc)


def log(block: int) -> dict:
    return {"blockNumber": hex(block), "logIndex": "0x0", "transactionHash": "0x" + f"{block:064x}"}


def world(max_uses: int = 0) -> Projection:
    p = Projection()
    for name, args in [
        ("DepartmentRegistered", {"account": DEPARTMENT, "code": b"d" * 32, "name": "hrss"}),
        ("RoleGranted", {"role": DEPARTMENT_ROLE, "account": DEPARTMENT}),
        ("ResourceRegistered", {"resourceId": keccak(text=SLUG), "provider": DEPARTMENT, "sharingClass": 0,
                                "sensitive": True, "fieldCount": 2,
                                "schemaHash": keccak(orjson.dumps(FIELDS))}),
        ("SubjectRegistered", {"subjectId": SUBJECT, "kind": 1, "threshold": 1}),
        ("ConsentGranted", {"consentId": bytes.fromhex(CONSENT[2:]), "subject": SUBJECT, "grantee": DEPARTMENT,
                            "resources": [keccak(text=SLUG)], "fieldMasks": [1], "purposeHash": keccak(text=PURPOSE),
                            "validFrom": 0, "validUntil": 2 ** 40, "maxUses": max_uses, "nonce": 1}),
    ]:
        p.apply(name, args, log(10), 1_700_000_000)
    p.block = 10
    return p


def release(seq: int, consent_id: str | None = CONSENT) -> AuditEntry:
    return AuditEntry(seq=seq, time=T, requester=DEPARTMENT, subject_id="0x" + SUBJECT.hex(), resource=SLUG,
                      purpose=PURPOSE, consent_id=consent_id, decision="ALLOW", reason="OK", fields=["name"],
                      block_number=10, payload_hash="0x" + "ef" * 32)


def request() -> policy.Request:
    return policy.Request(DEPARTMENT, SUBJECT, SLUG, ("name",), PURPOSE)


def recheck(state: Projection, entry: AuditEntry, log_entries: list[AuditEntry]):
    return _reevaluate(entry, state, {SLUG: FIELDS}, {}, _UsesBefore(log_entries))


def test_adapter_allows_under_the_consent():
    decision = policy_inputs.gather(world(), request(), FIELDS).evaluate(int(T.timestamp()), lambda c: 0)
    assert decision.allowed and decision.consent_id == CONSENT


def test_department_without_its_role_is_not_a_department_until_regranted():
    state = world()
    state.apply("RoleRevoked", {"role": DEPARTMENT_ROLE, "account": DEPARTMENT}, log(11), 1_700_000_010)
    inputs = policy_inputs.gather(state, request(), FIELDS)
    assert inputs.department is not None and not inputs.department.active
    assert inputs.evaluate(int(T.timestamp()), lambda c: 0).reason is policy.Reason.NOT_DEPARTMENT
    state.apply("RoleGranted", {"role": DEPARTMENT_ROLE, "account": DEPARTMENT}, log(12), 1_700_000_020)
    assert policy_inputs.gather(state, request(), FIELDS).evaluate(int(T.timestamp()), lambda c: 0).allowed


def test_release_naming_its_consent_passes():
    assert recheck(world(), release(0), [release(0)]) is None


def test_release_naming_no_consent_is_named():
    problem = recheck(world(), release(0, consent_id=None), [release(0, consent_id=None)])
    assert problem.kind == "CONSENT_NOT_NAMED" and problem.seq == 0


def test_uses_are_counted_from_the_log_for_the_cited_consent():
    state = world(max_uses=2)
    log_entries = [release(0), release(1), release(2)]
    assert recheck(state, log_entries[1], log_entries) is None
    problem = recheck(state, log_entries[2], log_entries)
    assert problem.kind == "POLICY_VIOLATION" and "USES_EXHAUSTED" in problem.message


def test_a_release_after_the_role_is_revoked_is_a_violation():
    state = world()
    state.apply("RoleRevoked", {"role": DEPARTMENT_ROLE, "account": DEPARTMENT}, log(11), 1_700_000_010)
    problem = recheck(state, release(0), [release(0)])
    assert problem.kind == "POLICY_VIOLATION" and "NOT_DEPARTMENT" in problem.message
