"""Audit routes: listing entries and anchors, who may list what, and the authentication errors."""

from __future__ import annotations

import pytest

from api.core.security import Principal
from api.deps import current_principal

pytestmark = pytest.mark.unit

REGULATOR = "0x" + "aa" * 20
CITIZEN = "0x" + "cc" * 20
DEPARTMENT = "0x" + "dd" * 20
ENTRY = {"seq": 3, "decision": "ALLOW", "reason": "OK"}


def test_a_regulator_lists_entries_with_the_page_it_asked_for(client, services):
    services.audit.entries_page = [ENTRY]
    reply = client.get("/v1/audit/entries", params={"after": 2, "limit": 10},
                       headers={"authorization": services.sign_in(REGULATOR, "REGULATOR")})
    assert reply.status_code == 200 and reply.json() == {"entries": [ENTRY]}
    (name, call), = services.audit.calls
    assert name == "entries" and call["after"] == 2 and call["limit"] == 10 and not call["mine_only"]
    assert call["principal"] == Principal(REGULATOR, frozenset({"REGULATOR"}))


def test_listing_defaults_and_bounds(client, services):
    auth = {"authorization": services.sign_in(REGULATOR, "REGULATOR")}
    assert client.get("/v1/audit/entries", headers=auth).status_code == 200
    assert services.audit.calls[-1][1]["after"] == -1 and services.audit.calls[-1][1]["limit"] == 100
    for params in ({"limit": 0}, {"after": -2}, {"after": 2**63}, {"limit": "many"}):
        reply = client.get("/v1/audit/entries", params=params, headers=auth)
        assert reply.status_code == 422 and reply.json()["error"]["code"] == "INVALID_INPUT", params
    assert len(services.audit.calls) == 1  # a refused request never reaches the service


def test_a_signer_reads_only_their_own_access_log(client, services):
    services.audit.entries_page = [ENTRY]
    reply = client.get("/v1/me/access-log", headers={"authorization": services.sign_in(CITIZEN, "SUBJECT_SIGNER")})
    assert reply.status_code == 200 and reply.json() == {"entries": [ENTRY]}
    assert services.audit.calls[-1][1]["mine_only"] is True


def test_anchors_are_for_regulators_only(client, services):
    services.audit.anchors_page = [{"tree_size": 8}]
    reply = client.get("/v1/audit/anchors", headers={"authorization": services.sign_in(DEPARTMENT, "DEPARTMENT")})
    assert reply.status_code == 403 and reply.json()["error"]["code"] == "ROLE_REQUIRED"
    assert services.audit.calls == []
    reply = client.get("/v1/audit/anchors", params={"after": 4},
                       headers={"authorization": services.sign_in(REGULATOR, "REGULATOR")})
    assert reply.status_code == 200 and reply.json() == {"anchors": [{"tree_size": 8}]}
    assert services.audit.calls == [("anchors", {"after": 4, "limit": 100})]


@pytest.mark.parametrize("headers, code", [
    ({}, "UNAUTHENTICATED"),
    ({"authorization": "Basic dXNlcjpwYXNz"}, "UNAUTHENTICATED"),
    ({"authorization": "Bearer not-a-token-we-issued"}, "INVALID_TOKEN"),
])
def test_entries_without_a_valid_token_are_refused(client, services, headers, code):
    reply = client.get("/v1/audit/entries", headers=headers)
    body = reply.json()
    assert reply.status_code == 401 and list(body) == ["error"] and body["error"]["code"] == code
    assert body["error"]["message"]
    assert services.audit.calls == []


def test_the_principal_dependency_can_be_overridden(app, client, services):
    app.dependency_overrides[current_principal] = lambda: Principal(REGULATOR, frozenset({"REGULATOR"}))
    try:
        assert client.get("/v1/audit/entries").status_code == 200  # no token: the override stands in
        assert client.get("/v1/audit/anchors").status_code == 200  # the role check runs on the override
    finally:
        app.dependency_overrides.clear()
    assert client.get("/v1/audit/entries").status_code == 401


def test_verify_starts_a_job_and_a_poll_reads_it(client, services):
    auth = {"authorization": services.sign_in(REGULATOR, "REGULATOR")}
    reply = client.post("/v1/audit/verify", headers=auth)
    assert reply.status_code == 202
    job = reply.json()
    assert job["status"] == "queued" and reply.headers["location"] == f"/v1/audit/verify/{job['job_id']}"
    again = client.post("/v1/audit/verify", headers=auth)  # one job at a time: the running one answers
    assert again.status_code == 202 and again.json()["job_id"] == job["job_id"]

    report = {"ok": True, "entries_checked": 5, "anchors_checked": 2, "allows_reevaluated": 3,
              "unanchored_entries": 0, "from_size": 0, "verified_size": 5, "problems": []}
    services.audit.jobs[job["job_id"]] |= {"status": "done", "entries_checked": 5, "entries_total": 5,
                                            "finished_at": "2026-01-01T00:00:01Z", "report": report}
    polled = client.get(reply.headers["location"], headers=auth)
    assert polled.status_code == 200 and polled.json()["report"] == report and polled.json()["status"] == "done"


def test_an_unknown_verification_job_is_a_404_with_its_own_code(client, services):
    auth = {"authorization": services.sign_in(REGULATOR, "REGULATOR")}
    reply = client.get("/v1/audit/verify/" + "0" * 32, headers=auth)
    assert reply.status_code == 404 and reply.json()["error"]["code"] == "VERIFICATION_JOB_NOT_FOUND"
    assert client.get("/v1/audit/verify/" + "x" * 65, headers=auth).status_code == 422


def test_verification_jobs_are_for_regulators_only(client, services):
    auth = {"authorization": services.sign_in(DEPARTMENT, "DEPARTMENT")}
    assert client.post("/v1/audit/verify", headers=auth).json()["error"]["code"] == "ROLE_REQUIRED"
    assert client.get("/v1/audit/verify/" + "0" * 32, headers=auth).status_code == 403
    assert services.audit.calls == []
