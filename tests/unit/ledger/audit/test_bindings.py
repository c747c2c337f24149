"""The verifier's view of who signed a consent: every binding state, fed as events.

On the real chain the Consents contract refuses signers that are not bound, so a consent signed
by a key whose binding is pending or was cancelled cannot be produced there (the red-team test
shows the refusal); these cases are built from events directly.
"""

from __future__ import annotations

import pytest

from ledger.audit.bindings import check_consent_signers

pytestmark = pytest.mark.unit

SUBJECT = bytes(range(32))
CITIZEN = "0x" + "11" * 20
MALLORY = "0x" + "ee" * 20
CHANGE_A, CHANGE_B = b"\xaa" * 32, b"\xbb" * 32


def _log(tx: str, name: str, **args) -> dict:
    return {"transactionHash": tx, "event": (name, args)}


def _registered() -> list[dict]:
    return [_log("0xreg", "SubjectRegistered", subjectId=SUBJECT, kind=1, threshold=1),
            _log("0xreg", "SignerBound", subjectId=SUBJECT, signer=CITIZEN)]


def _proposed(tx: str, change: bytes, add=(MALLORY,), remove=()) -> dict:
    return _log(tx, "SignerChangeProposed", changeId=change, subjectId=SUBJECT, add=list(add), remove=list(remove),
                threshold=1, nonce=0, effectiveAt=0, proposedBy="0x" + "aa" * 20)


def _granted(tx: str, consent: bytes = b"\xcc" * 32) -> dict:
    return _log(tx, "ConsentGranted", consentId=consent, subject=SUBJECT)


def _kinds(logs: list[dict], signers: dict[str, list[list[str]]]) -> list[str]:
    problems = check_consent_signers(logs, lambda lg: lg["event"], signers.get)
    return [p.kind for p in problems]


def test_a_consent_of_a_registered_signer_is_fine():
    assert _kinds([*_registered(), _granted("0xg")], {"0xg": [[CITIZEN]]}) == []


def test_a_consent_of_a_key_never_bound_is_named():
    assert _kinds([*_registered(), _granted("0xg")], {"0xg": [[MALLORY]]}) == ["CONSENT_SIGNER_NOT_BOUND"]


def test_a_consent_of_a_key_whose_binding_is_pending_is_named():
    logs = [*_registered(), _proposed("0xp", CHANGE_A), _granted("0xg")]
    assert _kinds(logs, {"0xg": [[MALLORY]]}) == ["CONSENT_SIGNER_BINDING_PENDING"]


def test_a_consent_of_a_key_whose_binding_was_cancelled_is_named():
    logs = [*_registered(), _proposed("0xp", CHANGE_A),
            _log("0xc", "SignerChangeCancelled", changeId=CHANGE_A, subjectId=SUBJECT, cancelledBy=CITIZEN),
            _granted("0xg")]
    assert _kinds(logs, {"0xg": [[MALLORY]]}) == ["CONSENT_SIGNER_BINDING_CANCELLED"]


def test_a_key_bound_by_notice_expiry_is_named_and_an_approved_one_is_not():
    applied = [*_registered(), _proposed("0xp", CHANGE_A),
               _log("0xa", "SignerChangeApplied", changeId=CHANGE_A, subjectId=SUBJECT, approved=False),
               _log("0xa", "SignerBound", subjectId=SUBJECT, signer=MALLORY), _granted("0xg")]
    assert _kinds(applied, {"0xg": [[MALLORY]]}) == ["CONSENT_SIGNER_BOUND_WITHOUT_APPROVAL"]
    approved = [*applied[:2], _log("0xa", "SignerChangeApplied", changeId=CHANGE_A, subjectId=SUBJECT, approved=True),
                _log("0xa", "SignerBound", subjectId=SUBJECT, signer=MALLORY), _granted("0xg")]
    assert _kinds(approved, {"0xg": [[MALLORY]]}) == []


def test_a_consent_granted_before_the_signer_was_unbound_is_fine_and_after_is_not():
    logs = [*_registered(), _granted("0xg1", b"\x01" * 32),
            _log("0xu", "SignerUnbound", subjectId=SUBJECT, signer=CITIZEN), _granted("0xg2", b"\x02" * 32)]
    assert _kinds(logs, {"0xg1": [[CITIZEN]], "0xg2": [[CITIZEN]]}) == ["CONSENT_SIGNER_NOT_BOUND"]


def test_each_consent_of_a_batch_is_matched_with_its_own_signers():
    logs = [*_registered(), _granted("0xb", b"\x01" * 32), _granted("0xb", b"\x02" * 32)]
    assert _kinds(logs, {"0xb": [[CITIZEN], [MALLORY]]}) == ["CONSENT_SIGNER_NOT_BOUND"]


def test_a_grant_that_is_not_a_direct_call_is_reported_unreadable():
    assert _kinds([*_registered(), _granted("0xg")], {}) == ["CONSENT_SIGNERS_UNREADABLE"]
