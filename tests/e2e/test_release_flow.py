"""Grant → query → revoke → denied, and every denial code, over HTTP against the real devnet."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from tests.support.flows import LI, ZHANG, grant, query, revoke

pytestmark = pytest.mark.e2e


def test_grant_query_revoke_denies_with_revoked(clients):
    zhang, hrss = clients("citizen-zhang"), clients("dept-hrss")
    consent_id = grant(zhang, hrss, ZHANG, "hrss.social_insurance", ["name", "pension_months"])

    released = query(hrss, ZHANG, "hrss.social_insurance", ["name", "pension_months"])
    assert released.status_code == 200, released.text
    body = released.json()
    assert body["data"] == {"name": "张伟", "pension_months": 142}  # only the granted fields
    assert body["decision"]["consent_id"] == consent_id
    assert isinstance(body["audit"]["seq"], int)

    outcome = revoke(zhang, consent_id)
    assert outcome["status"] == "revoked"

    denied = query(hrss, ZHANG, "hrss.social_insurance", ["name", "pension_months"])
    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "REVOKED"
    assert "data" not in denied.json()
    assert denied.json()["audit"]["seq"] == body["audit"]["seq"] + 1  # the denial is audited too


def test_query_field_not_granted(clients):
    li, hrss = clients("citizen-li"), clients("dept-hrss")
    grant(li, hrss, LI, "hrss.social_insurance", ["employer"], purpose="employment_check")
    reply = query(hrss, LI, "hrss.social_insurance", ["employer", "monthly_base"], purpose="employment_check")
    assert reply.status_code == 403 and reply.json()["error"]["code"] == "FIELD_NOT_GRANTED"
    assert query(hrss, LI, "hrss.social_insurance", ["employer"], purpose="employment_check").status_code == 200


def test_query_purpose_mismatch(clients):
    li, hrss = clients("citizen-li"), clients("dept-hrss")
    grant(li, hrss, LI, "hrss.social_insurance", ["name"], purpose="subsidy_review")
    reply = query(hrss, LI, "hrss.social_insurance", ["name"], purpose="marketing")
    assert reply.status_code == 403 and reply.json()["error"]["code"] == "PURPOSE_MISMATCH"


def test_query_not_yet_valid(clients):
    zhang, security = clients("citizen-zhang"), clients("dept-public-security")
    grant(zhang, security, ZHANG, "gaj.household_registration", ["name"], purpose="future_check",
          start=timedelta(days=2))
    reply = query(security, ZHANG, "gaj.household_registration", ["name"], purpose="future_check")
    assert reply.status_code == 403 and reply.json()["error"]["code"] == "NOT_YET_VALID"


def test_query_expired(clients):
    zhang, security = clients("citizen-zhang"), clients("dept-public-security")
    grant(zhang, security, ZHANG, "gaj.household_registration", ["address"], purpose="short_check",
          start=timedelta(seconds=-1), length=timedelta(seconds=3))
    assert query(security, ZHANG, "gaj.household_registration", ["address"], purpose="short_check").status_code == 200
    time.sleep(3.2)
    reply = query(security, ZHANG, "gaj.household_registration", ["address"], purpose="short_check")
    assert reply.status_code == 403 and reply.json()["error"]["code"] == "EXPIRED"


def test_query_uses_exhausted(clients):
    li, security = clients("citizen-li"), clients("dept-public-security")
    grant(li, security, LI, "gaj.household_registration", ["gender"], purpose="one_time_check", max_uses=2)
    for _ in range(2):
        assert query(security, LI, "gaj.household_registration", ["gender"], purpose="one_time_check").status_code == 200
    reply = query(security, LI, "gaj.household_registration", ["gender"], purpose="one_time_check")
    assert reply.status_code == 403 and reply.json()["error"]["code"] == "USES_EXHAUSTED"


def test_query_not_shared_resource(clients):
    reply = query(clients("dept-hrss"), ZHANG, "gaj.criminal_record", ["name"])
    assert reply.status_code == 403 and reply.json()["error"]["code"] == "NOT_SHARED"


def test_query_no_consent(clients):
    reply = query(clients("dept-tax"), LI, "hrss.social_insurance", ["name"])
    assert reply.status_code == 403 and reply.json()["error"]["code"] == "NO_CONSENT"


def test_query_by_non_department_is_denied_and_audited(clients):
    reply = query(clients("citizen-li"), LI, "hrss.social_insurance", ["name"])
    assert reply.status_code == 403 and reply.json()["error"]["code"] == "NOT_DEPARTMENT"
    assert isinstance(reply.json()["audit"]["seq"], int)


def test_conditional_resource_needs_agreement_then_consent(clients):
    zhang, hrss, fund = clients("citizen-zhang"), clients("dept-hrss"), clients("dept-housing-fund")
    grant(zhang, hrss, ZHANG, "gjj.housing_fund", ["balance"], purpose="loan_review")
    reply = query(hrss, ZHANG, "gjj.housing_fund", ["balance"], purpose="loan_review")
    assert reply.status_code == 403 and reply.json()["error"]["code"] == "NO_AGREEMENT"

    ask = {"resource_id": "gjj.housing_fund", "fields": ["balance", "account_status"], "purpose": "loan_review",
           "valid_until": "2030-01-01T00:00:00Z"}
    unsigned = hrss.post("/v1/sharing-requests", ask)["transaction"]
    created = hrss.request("POST", "/v1/sharing-requests", {**ask, "signed_transaction": hrss.sign_transaction(unsigned)})
    assert created.status_code == 201, created.text
    request = created.json()
    assert request["status"] == "PENDING" and request["answer_due"] > request["requested_at"]

    # Only the provider answers.
    assert hrss.request("POST", f"/v1/sharing-requests/{request['request_id']}/approve", {}).status_code == 403
    unsigned = fund.post(f"/v1/sharing-requests/{request['request_id']}/approve", {})["transaction"]
    approved = fund.post(f"/v1/sharing-requests/{request['request_id']}/approve",
                         {"signed_transaction": fund.sign_transaction(unsigned)})
    assert approved["status"] == "APPROVED"

    released = query(hrss, ZHANG, "gjj.housing_fund", ["balance"], purpose="loan_review")
    assert released.status_code == 200 and released.json()["data"] == {"balance": 65321.5}


def test_non_sensitive_unconditional_resource_needs_no_consent(clients):
    reply = query(clients("dept-tax"), LI, "mzj.registered_orgs", ["org_name"])
    # Released under the catalog's sharing class alone; the provider simply has no row for this subject.
    assert reply.status_code == 404 and reply.json()["error"]["code"] == "NO_RECORD"
