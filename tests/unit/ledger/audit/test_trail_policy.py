"""The verifier's re-evaluation of releases, on a hand-folded projection."""

from __future__ import annotations

import datetime as dt

import pytest
from eth_utils import keccak

from ledger.audit.entry import AuditEntry
from ledger.audit.trail import _reevaluate, UsesBefore, extension_problems, review_problems
from ledger.projection import Projection
from tests.support.folded import (CONSENT, DEPARTMENT, DEPARTMENT_ROLE, FIELDS, PURPOSE, SLUG, SUBJECT, T, log,
                                  world)

pytestmark = pytest.mark.unit
PROVIDER = "0x" + "22" * 20


def release(seq: int, consent_id: str | None = CONSENT) -> AuditEntry:
    return AuditEntry(seq=seq, time=T, requester=DEPARTMENT, subject_id="0x" + SUBJECT.hex(), resource=SLUG,
                      purpose=PURPOSE, consent_id=consent_id, decision="ALLOW", reason="OK", fields=["name"],
                      block_number=10, payload_hash="0x" + "ef" * 32)


def recheck(state: Projection, entry: AuditEntry, log_entries: list[AuditEntry]):
    return _reevaluate(entry, state, {SLUG: FIELDS}, {}, UsesBefore(log_entries))


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


def _suspend(state: Projection, until: int) -> None:
    state.apply("AccessSuspended", {"resourceId": keccak(text=SLUG), "department": DEPARTMENT, "provider": PROVIDER,
                                    "reasonHash": keccak(text="misuse"), "since": 1_700_000_005, "until": until},
                log(11), 1_700_000_005)


def test_a_release_while_suspended_is_flagged_as_such():
    state = world()
    _suspend(state, until=0)
    problem = recheck(state, release(0), [release(0)])
    assert problem.kind == "RELEASE_WHILE_SUSPENDED" and problem.seq == 0


def test_a_release_after_the_suspension_ended_or_was_lifted_passes():
    state = world()
    _suspend(state, until=int(T.timestamp()))  # over at the entry's time (the end is exclusive)
    assert recheck(state, release(0), [release(0)]) is None
    _suspend(state, until=0)
    state.apply("SuspensionLifted", {"resourceId": keccak(text=SLUG), "department": DEPARTMENT, "liftedBy": PROVIDER,
                                     "liftedAt": 1_700_000_009}, log(12), 1_700_000_009)
    assert recheck(state, release(0), [release(0)]) is None


def _declare(state: Projection, *, departments=(DEPARTMENT,), until: int) -> None:
    state.apply("EmergencyDeclared", {"emergencyId": 1, "declaredBy": PROVIDER, "eventHash": keccak(text="flood"),
                                      "legalBasisHash": keccak(text="law"), "allSubjects": True,
                                      "declaredAt": 1_700_000_000, "until": until}, log(11), 1_700_000_000)
    state.apply("EmergencyScope", {"emergencyId": 1, "departments": list(departments), "resources": [keccak(text=SLUG)],
                                   "subjects": []}, log(11), 1_700_000_000)


def _under_emergency(seq: int) -> AuditEntry:
    return AuditEntry(seq=seq, time=T, requester=DEPARTMENT, subject_id="0x" + SUBJECT.hex(), resource=SLUG,
                      purpose=PURPOSE, consent_id=None, decision="ALLOW", reason="OK", fields=["name"],
                      block_number=10, payload_hash="0x" + "ef" * 32, emergency_id=1)


def test_a_release_inside_an_emergency_needs_no_consent():
    state = world()
    _declare(state, until=int(T.timestamp()) + 60)
    assert recheck(state, _under_emergency(0), [_under_emergency(0)]) is None


@pytest.mark.parametrize("scope", [dict(until=int(T.timestamp())), dict(until=2**40, departments=(PROVIDER,))])
def test_a_release_outside_the_emergency_window_or_scope_is_flagged(scope):
    state = world()
    _declare(state, **scope)
    problem = recheck(state, _under_emergency(0), [_under_emergency(0)])
    assert problem.kind == "RELEASE_OUTSIDE_EMERGENCY" and problem.seq == 0


def test_a_release_citing_an_emergency_never_declared_is_flagged():
    problem = recheck(world(), _under_emergency(0), [_under_emergency(0)])
    assert problem.kind == "RELEASE_OUTSIDE_EMERGENCY" and "NO_EMERGENCY" in problem.message


@pytest.mark.parametrize("reviewed_at, head_after_end, kinds", [
    (None, 24 * 3600, []),  # due, not yet late
    (None, 24 * 3600 + 1, ["UNREVIEWED_EMERGENCY"]),
    (3600, 10**6, []),  # reviewed in time
    (24 * 3600 + 1, 10**6, ["EMERGENCY_REVIEWED_LATE"]),
])
def test_emergency_reviews_are_due_24_hours_after_the_end(reviewed_at, head_after_end, kinds):
    state = world()
    until = int(T.timestamp())
    _declare(state, until=until)
    if reviewed_at is not None:
        state.apply("EmergencyReviewed", {"emergencyId": 1, "regulator": PROVIDER, "proper": True,
                                          "noteHash": keccak(text="ok"), "reviewedAt": until + reviewed_at},
                    log(12), until + reviewed_at)
    problems = review_problems(state.emergencies.values(), until + head_after_end)
    assert [p.kind for p in problems] == kinds


def test_a_verification_extended_past_15_working_days_is_flagged():
    from ledger.projection import VerificationState

    requested = int(dt.datetime(2025, 9, 30, 2, tzinfo=dt.timezone.utc).timestamp())  # before the National Day week
    latest = int(dt.datetime(2025, 10, 28, 15, 59, 59, tzinfo=dt.timezone.utc).timestamp())  # 15 working days on

    def request(extended_until: int) -> VerificationState:
        return VerificationState(1, DEPARTMENT, "0x" + "11" * 32, 4, 1, "0x" + "22" * 32, requested, 10,
                                 "0x" + "33" * 32, "EXTENDED", extended_until)

    assert extension_problems([request(latest)]) == []
    assert [p.kind for p in extension_problems([request(latest + 1)])] == ["VERIFICATION_EXTENDED_TOO_LONG"]


def _object(state: Projection, block: int, *, mark: bool = True) -> None:
    state.apply("ObjectionFiled", {"objectionId": 1, "subject": SUBJECT, "resourceId": keccak(text=SLUG),
                                   "signer": PROVIDER, "kind": 0, "fieldMask": 1, "reasonHash": keccak(text="wrong"),
                                   "filedAt": 1_700_000_005}, log(block), 1_700_000_005)
    if mark:
        state.apply("ObjectionMarked", {"objectionId": 1, "by": PROVIDER, "markedAt": 1_700_000_006}, log(block),
                    1_700_000_006)


def test_a_release_under_a_marked_objection_must_say_so():
    state = world()
    _object(state, 10)
    flagged = AuditEntry(**{**release(0).as_dict(), "disputed": [{"field": "name", "objection_id": 1}]})
    assert recheck(state, flagged, [flagged]) is None
    problem = recheck(state, release(0), [release(0)])
    assert problem.kind == "DISPUTE_NOT_FLAGGED" and "name (objection 1)" in problem.message


def test_a_release_may_not_flag_what_no_marked_objection_disputes():
    state = world()
    _object(state, 10, mark=False)  # filed, not marked: nothing is disputed yet
    flagged = AuditEntry(**{**release(0).as_dict(), "disputed": [{"field": "name", "objection_id": 1}]})
    assert recheck(state, flagged, [flagged]).kind == "DISPUTE_NOT_FLAGGED"
    assert recheck(state, release(0), [release(0)]) is None


@pytest.mark.parametrize("steps, head, kinds", [
    ({}, (2025, 9, 30, 15), []),  # filed this morning: nothing due yet
    ({}, (2025, 10, 9, 16), ["OBJECTION_UNMARKED"]),  # past the next working day (Oct 9, after the holiday)
    ({"marked": (2025, 10, 10, 2)}, (2025, 10, 10, 3), ["OBJECTION_MARKED_LATE"]),
    ({"marked": (2025, 9, 30, 3)}, (2025, 10, 14, 16), ["OBJECTION_UNDECIDED"]),  # the authority's 5 days ran out
    ({"marked": (2025, 9, 30, 3), "forwarded": (2025, 10, 13, 2)}, (2025, 10, 14, 16), ["OBJECTION_FORWARDED_LATE"]),
    ({"marked": (2025, 9, 30, 3), "forwarded": (2025, 10, 9, 2), "decided": (2025, 10, 15, 2)}, (2026, 1, 5, 0), []),
    ({"marked": (2025, 9, 30, 3), "decided": (2025, 10, 15, 2)}, (2026, 1, 5, 0), ["OBJECTION_DECIDED_LATE"]),
])
def test_objection_steps_follow_the_working_day_clocks(steps, head, kinds):
    from ledger.audit.trail import objection_problems
    from ledger.projection import ObjectionState

    def ts(parts) -> int:
        return int(dt.datetime(*parts, tzinfo=dt.timezone.utc).timestamp())

    forwarded = ts(steps["forwarded"]) if "forwarded" in steps else None
    objection = ObjectionState(1, "0x" + SUBJECT.hex(), "0x" + "11" * 32, 1, "WRONG", PROVIDER, "0x" + "22" * 32,
                               ts((2025, 9, 30, 2)), 10, "0x" + "33" * 32, "FILED",
                               marked_at=ts(steps["marked"]) if "marked" in steps else None, forwarded_at=forwarded,
                               decided_at=ts(steps["decided"]) if "decided" in steps else None)
    assert [p.kind for p in objection_problems([objection], ts(head))] == kinds
