"""Verification of shared data (校核, 永州办法 第二十一条) over HTTP on the real devnet: a department doubts a record it
received, the provider extends once within 15 working days, corrects the record and resolves; queries go on."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.support.flows import LI, grant, query

pytestmark = pytest.mark.e2e

RESOURCE = "hrss.social_insurance"
PURPOSE = "verification_check"


def _release(clients) -> int:
    li, civil = clients("citizen-li"), clients("dept-civil-affairs")
    grant(li, civil, LI, RESOURCE, ["employer", "monthly_base"], purpose=PURPOSE)
    released = query(civil, LI, RESOURCE, ["employer", "monthly_base"], purpose=PURPOSE)
    assert released.status_code == 200, released.text
    return released.json()["audit"]["seq"]


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_verification_extended_corrected_and_resolved(clients):
    civil, hrss, regulator = clients("dept-civil-affairs"), clients("dept-hrss"), clients("regulator")
    seq = _release(clients)
    body = {"audit_seq": seq, "fields": ["monthly_base"], "reason": "缴费基数与单位申报不符 (base differs from payroll)"}
    created = civil.post_signed("/v1/verification-requests", body)
    request_id = created["request_id"]
    assert created["status"] == "OPEN" and created["audit_seq"] == seq and created["fields"] == ["monthly_base"]
    assert created["reason"] == body["reason"] and created["requester"] == civil.address
    assert created["due"] is None or _when(created["requested_at"]) + timedelta(days=5) <= _when(created["due"])

    # Services are not refused meanwhile (第二十一条: 受理单位应照常办理).
    assert query(civil, LI, RESOURCE, ["monthly_base"], purpose=PURPOSE).status_code == 200

    path = f"/v1/verification-requests/{request_id}"
    refused = civil.request("POST", f"{path}/extend", {"reason": "x", "until": created["requested_at"]})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "NOT_PROVIDER"
    if created["latest_due"] is None:  # the official calendar for those days is not published: nothing is guessed
        reply = hrss.request("POST", f"{path}/extend", {"reason": "x", "until": created["requested_at"]})
        assert reply.status_code == 503 and reply.json()["error"]["code"] == "CALENDAR_NOT_PUBLISHED"
    else:
        latest = _when(created["latest_due"])
        too_late = hrss.request("POST", f"{path}/extend", {"reason": "需调取档案", "until": (latest + timedelta(
            seconds=1)).isoformat()})
        assert too_late.status_code == 422 and "15 working days" in too_late.json()["error"]["message"]
        extended = hrss.post_signed(f"{path}/extend", {"reason": "需调取档案 (the archive must be fetched)",
                                                       "until": latest.isoformat()})
        assert extended["status"] == "EXTENDED" and extended["due"] == extended["extended_until"]
        assert extended["extension_reason"].startswith("需调取档案")
        again = hrss.request("POST", f"{path}/extend", {"reason": "more", "until": latest.isoformat()})
        assert again.status_code == 409 and again.json()["error"]["code"] == "VERIFICATION_NOT_OPEN"

    early = hrss.request("POST", f"{path}/resolve", {"corrected": True, "note": "已更正"})
    assert early.status_code == 409 and early.json()["error"]["code"] == "RECORD_NOT_CORRECTED"
    hrss.put(f"/v1/resources/{RESOURCE}/records", {**LI, "data": {"monthly_base": 9300}})
    resolved = hrss.post_signed(f"{path}/resolve", {"corrected": True, "note": "已更正为 9300 (corrected to 9300)"})
    assert resolved["status"] == "RESOLVED" and resolved["corrected"] is True and not resolved["overdue"]
    again = hrss.request("POST", f"{path}/resolve", {"corrected": False, "note": "x"})
    assert again.status_code == 409

    # The requester is told the outcome; the regulator sees every request; a citizen none.
    for viewer in (civil, hrss, regulator):
        listed = next(v for v in viewer.get("/v1/verification-requests")["verification_requests"]
                      if v["request_id"] == request_id)
        assert listed["note"].startswith("已更正") and listed["corrected"] is True
    assert clients("citizen-li").request("GET", "/v1/verification-requests").status_code == 403
    fresh = query(civil, LI, RESOURCE, ["monthly_base"], purpose=PURPOSE)
    assert fresh.json()["data"] == {"monthly_base": 9300}


def test_only_the_receiving_department_may_doubt_a_release(clients):
    civil, security = clients("dept-civil-affairs"), clients("dept-public-security")
    seq = _release(clients)
    other = security.request("POST", "/v1/verification-requests", {"audit_seq": seq, "fields": ["employer"],
                                                                  "reason": "x"})
    assert other.status_code == 403 and other.json()["error"]["code"] == "NOT_YOUR_RELEASE"
    unreleased = civil.request("POST", "/v1/verification-requests", {"audit_seq": seq, "fields": ["pension_months"],
                                                                 "reason": "x"})
    assert unreleased.status_code == 422 and unreleased.json()["error"]["code"] == "UNKNOWN_FIELD"
    missing = civil.request("POST", "/v1/verification-requests", {"audit_seq": 2**53, "fields": ["employer"],
                                                              "reason": "x"})
    assert missing.status_code == 404


def test_regulators_list_everything_overdue_in_one_call(clients):
    regulator = clients("regulator")
    overdue = regulator.get("/v1/overdue")
    assert set(overdue) == {"sharing_requests", "verification_requests", "emergency_reviews", "objections"}
    assert all(v["overdue"] for kind in overdue.values() for v in kind)
    listed = regulator.get("/v1/verification-requests?overdue=true")["verification_requests"]
    assert [v["request_id"] for v in listed] == [v["request_id"] for v in overdue["verification_requests"]]
    for other in ("dept-tax", "citizen-li", "admin"):
        assert clients(other).request("GET", "/v1/overdue").status_code == 403
