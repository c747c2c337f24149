"""Finding 6: a sharing agreement must be bound to its purpose and term, and its provider can end it.

The demo world's ``gjj.housing_fund`` is CONDITIONAL and sensitive: a department needs an approved
agreement with the provider (the housing fund centre) and the citizen's consent. The attacks: use an
agreement approved for one purpose to obtain the data for another purpose the citizen also
consented to, and keep using an agreement after the provider ended it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.redteam.conftest import problem_kinds, verify_export
from tests.support.flows import ZHANG, grant, query

pytestmark = pytest.mark.redteam

RESOURCE = "gjj.housing_fund"


def _agreement(requester, provider, purpose: str, fields=("balance",)) -> int:
    """The requester asks for ``fields`` for ``purpose``; the provider approves; returns the request id."""
    ask = {"resource_id": RESOURCE, "fields": list(fields), "purpose": purpose,
           "valid_until": (datetime.now(UTC) + timedelta(days=30)).isoformat()}
    unsigned = requester.post("/v1/sharing-requests", ask)["transaction"]
    created = requester.post("/v1/sharing-requests", {**ask, "signed_transaction": requester.sign_transaction(unsigned)})
    request_id = created["request_id"]
    unsigned = provider.post(f"/v1/sharing-requests/{request_id}/approve", {})["transaction"]
    approved = provider.post(f"/v1/sharing-requests/{request_id}/approve",
                             {"signed_transaction": provider.sign_transaction(unsigned)})
    assert approved["status"] == "APPROVED"
    return request_id


def _end_as_provider(provider, request_id: int, reason: str):
    unsigned = provider.post(f"/v1/sharing-requests/{request_id}/end", {"reason": reason})["transaction"]
    return provider.request("POST", f"/v1/sharing-requests/{request_id}/end",
                            {"reason": reason, "signed_transaction": provider.sign_transaction(unsigned)})


def _code(reply) -> str:
    return reply.json()["error"]["code"]


def test_agreement_for_one_purpose_does_not_release_for_another(clients, system, tmp_path):
    tax, fund, zhang = clients("dept-tax"), clients("dept-housing-fund"), clients("citizen-zhang")
    _agreement(tax, fund, "f06_tax_audit")
    # The citizen consents to both purposes: only the agreement stands between P2 and the data.
    grant(zhang, tax, ZHANG, RESOURCE, ["balance"], purpose="f06_tax_audit")
    grant(zhang, tax, ZHANG, RESOURCE, ["balance"], purpose="f06_marketing")

    allowed = query(tax, ZHANG, RESOURCE, ["balance"], purpose="f06_tax_audit")
    assert allowed.status_code == 200, allowed.text

    other_purpose = query(tax, ZHANG, RESOURCE, ["balance"], purpose="f06_marketing")
    assert other_purpose.status_code == 403, other_purpose.text
    assert _code(other_purpose) == "NO_AGREEMENT"
    assert "data" not in other_purpose.json()

    # The regulator's re-evaluation agrees with every decision (the verifier passes the purpose too).
    report = verify_export(system, tmp_path)
    assert "POLICY_VIOLATION" not in problem_kinds(report), report["problems"]


def test_provider_ends_agreement_and_next_query_is_denied(clients):
    civil, fund, zhang = clients("dept-civil-affairs"), clients("dept-housing-fund"), clients("citizen-zhang")
    request_id = _agreement(civil, fund, "f06_subsidy")
    grant(zhang, civil, ZHANG, RESOURCE, ["balance"], purpose="f06_subsidy")
    assert query(civil, ZHANG, RESOURCE, ["balance"], purpose="f06_subsidy").status_code == 200

    # Neither the requester nor another department can end it.
    assert civil.request("POST", f"/v1/sharing-requests/{request_id}/end", {"reason": "x"}).status_code == 403

    ended = _end_as_provider(fund, request_id, "legal basis withdrawn")
    assert ended.status_code == 200, ended.text
    assert ended.json()["status"] == "ENDED"

    denied = query(civil, ZHANG, RESOURCE, ["balance"], purpose="f06_subsidy")
    assert denied.status_code == 403, denied.text
    assert _code(denied) == "AGREEMENT_ENDED"

    listed = {a["request_id"]: a for a in civil.get("/v1/sharing-requests")["agreements"]}
    assert listed[request_id]["ended_at"] is not None and listed[request_id]["in_force"] is False

    again = fund.request("POST", f"/v1/sharing-requests/{request_id}/end", {"reason": "twice"})
    assert again.status_code == 409 and _code(again) == "AGREEMENT_NOT_IN_FORCE"


def test_agreements_for_two_purposes_coexist_and_end_separately(clients):
    security, fund = clients("dept-public-security"), clients("dept-housing-fund")
    zhang, admin = clients("citizen-zhang"), clients("admin")
    first = _agreement(security, fund, "f06_case_a")
    second = _agreement(security, fund, "f06_case_b", fields=("balance", "account_status"))
    grant(zhang, security, ZHANG, RESOURCE, ["balance"], purpose="f06_case_a")
    grant(zhang, security, ZHANG, RESOURCE, ["balance"], purpose="f06_case_b")

    # The second approval did not replace the first.
    assert query(security, ZHANG, RESOURCE, ["balance"], purpose="f06_case_a").status_code == 200
    assert query(security, ZHANG, RESOURCE, ["balance"], purpose="f06_case_b").status_code == 200
    listed = {a["request_id"]: a for a in security.get("/v1/sharing-requests")["agreements"]}
    assert listed[first]["in_force"] and listed[second]["in_force"]
    assert listed[first]["purpose_hash"] != listed[second]["purpose_hash"]
    assert listed[first]["valid_from"] is not None and listed[first]["valid_until"] is not None

    # The data authority (admin) ends one of them; the other stays in force.
    ended = admin.request("POST", f"/v1/sharing-requests/{first}/end", {"reason": "audit finding"})
    assert ended.status_code == 200, ended.text
    assert _code(query(security, ZHANG, RESOURCE, ["balance"], purpose="f06_case_a")) == "AGREEMENT_ENDED"
    assert query(security, ZHANG, RESOURCE, ["balance"], purpose="f06_case_b").status_code == 200
