"""Objections (异议, 永州办法 第三十四条) over HTTP on the real devnet: an enterprise's signer objects to its record,
the data authority marks it (releases then say the field is disputed, and so does the audit entry), forwards
it to the provider, who corrects the record and decides citing the new version; the objector reads every step
in its inbox; a second objection is decided by the authority itself; the verifier finds the trail sound."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest

from tests.support.flows import ENTERPRISE, query, verification

pytestmark = pytest.mark.e2e

# UNCONDITIONAL and not sensitive: released on its class alone, so no consent is needed to see the flag.
RESOURCE = "mzj.registered_orgs"
RECORD = {"org_name": "济南泉城软件行业协会", "registered_at": "2019-05-20"}
REASON = "协会名称登记有误, 应为 济南泉城软件产业协会 (the association's registered name is wrong)"


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _file(signer, fields: list[str], kind: str, reason: str) -> dict:
    draft = signer.post("/v1/objections/drafts", {**ENTERPRISE, "resource_id": RESOURCE, "fields": fields,
                                                  "kind": kind, "reason": reason})
    typed = draft["typed_data"]
    filed = signer.request("POST", "/v1/objections", {"typed_data": typed, "signature": signer.sign_typed_data(typed),
                                                      "reason": reason})
    assert filed.status_code == 201, filed.text
    return filed.json()


def _entry(regulator, seq: int) -> dict:
    return regulator.get(f"/v1/audit/entries?after={seq - 1}&limit=1")["entries"][0]


def test_objection_marked_forwarded_and_corrected_by_the_provider(clients):
    rep, civil, tax = clients("enterprise-legal-rep"), clients("dept-civil-affairs"), clients("dept-tax")
    admin, regulator = clients("admin"), clients("regulator")
    stored = civil.put(f"/v1/resources/{RESOURCE}/records", {**ENTERPRISE, "data": RECORD})
    first_version = stored["version"]

    filed = _file(rep, ["org_name"], "WRONG", REASON)
    objection_id, path = filed["objection_id"], f"/v1/objections/{filed['objection_id']}"
    assert filed["status"] == "FILED" and filed["kind"] == "WRONG" and filed["fields"] == ["org_name"]
    assert filed["reason"] == REASON and filed["history"][0]["by"] == rep.address
    filed_at = _when(filed["history"][0]["at"])
    if filed["due"]["pending"] is None:  # 1 and 5 working days, each at least a calendar day away
        assert filed_at + timedelta(days=1) <= _when(filed["due"]["mark"]) < _when(filed["due"]["decide"])

    # Filed but not marked yet: nothing is flagged.
    before = query(tax, ENTERPRISE, RESOURCE, ["org_name", "registered_at"])
    assert before.status_code == 200 and before.json()["disputed"] == []

    assert civil.request("POST", f"{path}/mark").json()["error"]["code"] == "ROLE_REQUIRED"
    marked = admin.post(f"{path}/mark")
    assert marked["status"] == "MARKED" and [s["step"] for s in marked["history"]] == ["FILED", "MARKED"]
    again = admin.request("POST", f"{path}/mark")
    assert again.status_code == 409 and again.json()["error"]["code"] == "OBJECTION_WRONG_STEP"

    # Marked: the release still goes ahead, and names the disputed field with the objection, as does its entry.
    disputed = query(tax, ENTERPRISE, RESOURCE, ["org_name", "registered_at"])
    assert disputed.status_code == 200 and disputed.json()["data"] == RECORD
    assert disputed.json()["disputed"] == [{"field": "org_name", "objection_id": objection_id}]
    entry = _entry(regulator, disputed.json()["audit"]["seq"])
    assert entry["disputed"] == [{"field": "org_name", "objection_id": objection_id}]
    assert query(tax, ENTERPRISE, RESOURCE, ["registered_at"]).json()["disputed"] == []  # other fields are not

    forwarded = admin.post(f"{path}/forward")
    assert forwarded["status"] == "FORWARDED" and forwarded["provider"] == civil.address
    refused = admin.request("POST", f"{path}/decide", {"corrected": False, "note": "x"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "NOT_OBJECTION_DECIDER"
    early = civil.request("POST", f"{path}/decide", {"corrected": True, "note": "已更正"})
    assert early.status_code == 409 and early.json()["error"]["code"] == "RECORD_NOT_CORRECTED"

    # The filing's block is stamped in whole seconds: a correction is a write from the next second on.
    time.sleep(max(0.0, filed_at.timestamp() + 1.05 - time.time()))
    corrected = civil.put(f"/v1/resources/{RESOURCE}/records",
                          {**ENTERPRISE, "data": {"org_name": "济南泉城软件产业协会"}})
    assert corrected["version"] == first_version + 1
    decided = civil.post_signed(f"{path}/decide", {"corrected": True, "note": "已按登记档案更正 (corrected from the "
                                                                            "registration file)"})
    assert decided["status"] == "DECIDED" and decided["corrected"] is True
    assert decided["record_version"] == first_version + 1 and not decided["overdue"]
    assert [s["step"] for s in decided["history"]] == ["FILED", "MARKED", "FORWARDED", "DECIDED"]
    after = query(tax, ENTERPRISE, RESOURCE, ["org_name"])
    assert after.json()["data"] == {"org_name": "济南泉城软件产业协会"} and after.json()["disputed"] == []

    # The objector is told the outcome, step by step; the provider and regulators see it; another department not.
    inbox = rep.get("/v1/me/notifications?limit=100")["notifications"]
    steps = [n["objection"]["step"] for n in inbox if n["kind"] == "OBJECTION"
             and n["objection"]["objection_id"] == objection_id]
    assert steps == ["DECIDED", "FORWARDED", "MARKED", "FILED"]
    assert any(n["kind"] == "ACCESS" and n["access"]["seq"] == disputed.json()["audit"]["seq"] for n in inbox)
    for viewer in (rep, civil, regulator, admin):
        listed = next(o for o in viewer.get("/v1/objections")["objections"] if o["objection_id"] == objection_id)
        assert listed["note"].startswith("已按登记档案更正")
    assert all(o["objection_id"] != objection_id for o in tax.get("/v1/objections")["objections"])


def test_objection_decided_by_the_data_authority_and_the_trail_verifies(clients):
    rep, admin, tax, regulator = clients("enterprise-legal-rep"), clients("admin"), clients("dept-tax"), \
        clients("regulator")
    clients("dept-civil-affairs").put(f"/v1/resources/{RESOURCE}/records", {**ENTERPRISE, "data": RECORD})
    filed = _file(rep, ["registered_at"], "INCOMPLETE", "缺少变更登记日期 (the date of the change is missing)")
    path = f"/v1/objections/{filed['objection_id']}"
    early = admin.request("POST", f"{path}/decide", {"corrected": False, "note": "x"})
    assert early.status_code == 409 and early.json()["error"]["code"] == "OBJECTION_WRONG_STEP"  # mark first
    admin.post(f"{path}/mark")
    flagged = query(tax, ENTERPRISE, RESOURCE, ["registered_at"])
    assert flagged.json()["disputed"] == [{"field": "registered_at", "objection_id": filed["objection_id"]}]
    decided = admin.post(f"{path}/decide", {"corrected": False, "note": "登记日期无误 (the date is right)"})
    assert decided["status"] == "DECIDED" and decided["corrected"] is False and decided["record_version"] is None
    assert decided["provider"] is None
    assert query(tax, ENTERPRISE, RESOURCE, ["registered_at"]).json()["disputed"] == []

    report = verification(regulator)["report"]
    kinds = {p["kind"] for p in report["problems"]}
    assert not kinds & {"DISPUTE_NOT_FLAGGED", "OBJECTION_UNMARKED", "OBJECTION_UNDECIDED", "POLICY_VIOLATION"}, \
        report["problems"]


def test_an_objection_is_the_subjects_own_and_says_what_it_signed(clients):
    rep, li, agent = clients("enterprise-legal-rep"), clients("citizen-li"), clients("enterprise-agent-1")
    body = {**ENTERPRISE, "resource_id": RESOURCE, "fields": ["org_name"], "kind": "INFRINGES", "reason": "商业秘密"}
    stranger = li.request("POST", "/v1/objections/drafts", body)
    assert stranger.status_code == 403 and stranger.json()["error"]["code"] == "NOT_SUBJECT_SIGNER"
    unknown = rep.request("POST", "/v1/objections/drafts", {**body, "fields": ["salary"]})
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "UNKNOWN_FIELD"
    bad_kind = rep.request("POST", "/v1/objections/drafts", {**body, "kind": "ANGRY"})
    assert bad_kind.status_code == 422

    typed = rep.post("/v1/objections/drafts", body)["typed_data"]
    other_text = rep.request("POST", "/v1/objections", {"typed_data": typed, "signature": rep.sign_typed_data(typed),
                                                        "reason": "another text"})
    assert other_text.status_code == 422 and other_text.json()["error"]["code"] == "INVALID_INPUT"
    by_li = rep.request("POST", "/v1/objections", {"typed_data": typed, "signature": li.sign_typed_data(typed),
                                                   "reason": "商业秘密"})
    assert by_li.status_code == 422 and by_li.json()["error"]["code"] == "INVALID_SIGNATURE"
    tampered = {**typed, "message": {**typed["message"], "kind": 0}}
    forged = rep.request("POST", "/v1/objections", {"typed_data": tampered, "signature": rep.sign_typed_data(typed),
                                                    "reason": "商业秘密"})
    assert forged.status_code == 422
    # Another signer of the same subject may file what a co-signer wrote; it is filed once only.
    filed = agent.request("POST", "/v1/objections", {"typed_data": typed, "signature": agent.sign_typed_data(typed),
                                                     "reason": "商业秘密"})
    assert filed.status_code == 201, filed.text
    replay = agent.request("POST", "/v1/objections", {"typed_data": typed, "signature": agent.sign_typed_data(typed),
                                                      "reason": "商业秘密"})
    assert replay.status_code == 409 and replay.json()["error"]["code"] == "NONCE_USED"
    assert li.request("POST", "/v1/objections/999999/mark").status_code in (403, 404)
    assert clients("admin").request("POST", "/v1/objections/999999/mark").status_code == 404
