"""The records query route: the status follows the audited outcome (200 release, 403 denial, 404 no
record), the body carries the decision and the audit seq, and a refusal before any decision uses the
one error body."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from api.services.release import QueryOutcome
from ledger.audit.entry import AuditEntry, encode_leaf
from ledger.audit.hasher import hash_leaf
from ledger.domain_errors import AnchorLag

pytestmark = pytest.mark.unit

DEPARTMENT = "0x" + "dd" * 20
QUERY = {"id_type": "resident_id", "id_number": "370102198506124536", "resource_id": "hrss.social_insurance",
         "fields": ["name"], "purpose": "benefits"}


def _entry(decision: str, reason: str, payload_hash: str | None = None) -> AuditEntry:
    return AuditEntry(seq=7, time=datetime(2026, 1, 1, tzinfo=UTC), requester=DEPARTMENT, subject_id="0x" + "ab" * 32,
                      resource=QUERY["resource_id"], purpose=QUERY["purpose"],
                      consent_id="0x" + "cc" * 32 if decision == "ALLOW" else None, decision=decision, reason=reason,
                      fields=("name",), block_number=42, payload_hash=payload_hash)


class FakeRelease:
    def __init__(self):
        self.outcome: QueryOutcome | Exception | None = None
        self.queries = []

    async def query(self, principal, body):
        self.queries.append((principal, body))
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome


@pytest.fixture
def release(services) -> FakeRelease:
    services.release = FakeRelease()
    return services.release


def _query(client, services):
    return client.post("/v1/records/query", json=QUERY,
                       headers={"authorization": services.sign_in(DEPARTMENT, "DEPARTMENT")})


def test_a_release_is_200_with_the_data_decision_and_audit(client, services, release):
    entry = _entry("ALLOW", "OK", "0x" + "ee" * 32)
    release.outcome = QueryOutcome(entry, {"name": "张伟"}, b"\x01" * 32)
    reply = _query(client, services)
    assert reply.status_code == 200
    assert reply.json() == {
        "data": {"name": "张伟"},
        "decision": {"result": "ALLOW", "consent_id": "0x" + "cc" * 32, "block_number": 42, "reason": "OK"},
        "audit": {"seq": 7, "leaf_hash": "0x" + hash_leaf(encode_leaf(entry)).hex(), "payload_salt": "0x" + "01" * 32,
                  "payload_hash": "0x" + "ee" * 32},
        "disputed": []}
    (principal, body), = release.queries
    assert principal.address == DEPARTMENT and body.resource_id == QUERY["resource_id"]


@pytest.mark.parametrize("reason, status, message", [
    ("NO_CONSENT", 403, "the subject has not consented to this release"),
    ("REVOKED", 403, "the subject revoked this consent"),
    ("NO_RECORD", 404, "the provider holds no record for this subject"),
])
def test_a_denial_is_audited_with_its_reason(client, services, release, reason, status, message):
    release.outcome = QueryOutcome(_entry("DENY", reason))
    reply = _query(client, services)
    assert reply.status_code == status
    assert reply.json() == {
        "error": {"code": reason, "message": message},
        "decision": {"result": "DENY", "consent_id": None, "block_number": 42, "reason": reason},
        "audit": {"seq": 7}}


def test_a_refusal_before_any_decision_is_the_one_error_body(client, services, release):
    release.outcome = AnchorLag("audit entries have waited too long")
    reply = _query(client, services)
    assert reply.status_code == 503
    assert reply.json() == {"error": {"code": "ANCHOR_LAG", "message": "audit entries have waited too long"}}


def test_without_a_token_the_release_service_is_never_asked(client, release):
    reply = client.post("/v1/records/query", json=QUERY)
    assert reply.status_code == 401 and reply.json()["error"]["code"] == "UNAUTHENTICATED"
    assert release.queries == []
