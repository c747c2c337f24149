"""The emergency green channel (应急供需绿色通道) over HTTP on the real devnet: declared by one EMERGENCY holder,
extended only by another, used inside and outside its scope and window, its notice delayed, reviewed by the
regulator after its end, and the verifier finding nothing to flag in the honest trail."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.flows import LI, ZHANG, query, verification

pytestmark = pytest.mark.e2e

EVENT = "危化品泄漏, 周边居民疏散 (chemical leak: residents evacuated)"
LEGAL_BASIS = "《中华人民共和国突发事件应对法》; 《个人信息保护法》第十三条第一款第(四)项"


def _later(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


def _declare(officer, department, *, subjects, until: str, resources=("gaj.household_registration",)) -> dict:
    return officer.post_signed("/v1/emergencies", {
        "event": EVENT, "legal_basis": LEGAL_BASIS, "departments": [department.address],
        "resources": list(resources), "subjects": subjects, "until": until})


def _under(department, subject, resource, fields, emergency_id):
    return department.request("POST", "/v1/records/query", {
        **subject, "resource_id": resource, "fields": fields, "purpose": "evacuation", "emergency_id": emergency_id})


def test_an_emergency_releases_inside_its_scope_only_and_is_reviewed(clients):
    first, second = clients("emergency-officer-1"), clients("emergency-officer-2")
    tax, security, regulator, li = clients("dept-tax"), clients("dept-public-security"), clients("regulator"), \
        clients("citizen-li")
    refused = tax.request("POST", "/v1/emergencies", {"event": EVENT, "legal_basis": LEGAL_BASIS,
                                                      "departments": [tax.address], "resources": ["gaj.household_registration"],
                                                      "subjects": "all", "until": _later(60)})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "ROLE_REQUIRED"
    too_long = first.request("POST", "/v1/emergencies", {"event": EVENT, "legal_basis": LEGAL_BASIS,
                                                         "departments": [tax.address], "resources": ["gaj.household_registration"],
                                                         "subjects": "all", "until": _later(72 * 3600 + 60)})
    assert too_long.status_code == 422 and "72 hours" in too_long.json()["error"]["message"]

    declared = _declare(first, tax, subjects=[LI], until=_later(60),
                        resources=("gaj.household_registration", "gaj.criminal_record"))
    emergency_id = declared["emergency_id"]
    assert declared["in_force"] and declared["event"] == EVENT and declared["legal_basis"] == LEGAL_BASIS
    assert declared["subjects"] == 1 and declared["declared_by"] == first.address

    released = _under(tax, LI, "gaj.household_registration", ["name", "address"], emergency_id)
    assert released.status_code == 200, released.text  # no consent from 李娜 to the tax service
    assert released.json()["decision"]["emergency_id"] == emergency_id
    assert released.json()["decision"]["consent_id"] is None
    not_shared = _under(tax, LI, "gaj.criminal_record", ["name"], emergency_id)
    assert not_shared.json()["error"]["code"] == "NO_RECORD"  # NOT_SHARED is set aside: allowed, no row held
    for who, subject in ((tax, ZHANG), (security, LI)):
        outside = _under(who, subject, "gaj.household_registration", ["name"], emergency_id)
        assert outside.status_code == 403 and outside.json()["error"]["code"] == "OUTSIDE_EMERGENCY_SCOPE"
    unknown = _under(tax, LI, "gaj.household_registration", ["name"], 10**9)
    assert unknown.json()["error"]["code"] == "NO_EMERGENCY"
    assert query(tax, LI, "gaj.household_registration", ["name"], purpose="evacuation").status_code == 403

    # Only a second, distinct holder extends it; nobody reviews it before its end.
    by_declarer = first.request("POST", f"/v1/emergencies/{emergency_id}/extend", {"until": _later(120)})
    assert by_declarer.status_code == 403
    extended = second.post_signed(f"/v1/emergencies/{emergency_id}/extend", {"until": _later(120)})
    assert extended["extended_by"] == second.address and extended["until"] > declared["until"]
    early = regulator.request("POST", f"/v1/emergencies/{emergency_id}/review", {"verdict": "PROPER", "note": "x"})
    assert early.status_code == 409 and early.json()["error"]["code"] == "EMERGENCY_NOT_OVER"

    # 李娜 is told, in her inbox, unless the notice is delayed (with a reason and a date on-chain).
    seq = released.json()["audit"]["seq"]
    inbox = {n["id"]: n for n in li.get("/v1/me/notifications?limit=200")["notifications"]}
    assert inbox[f"access:{seq}"]["access"]["emergency_id"] == emergency_id
    delayed = first.post_signed(f"/v1/emergencies/{emergency_id}/notice-delay",
                                {"reason": "侦查需要 (an investigation must not be tipped off)",
                                 "notice_by": _later(86_400)})
    assert delayed["notice_by"] and delayed["notice_delay_reason"].startswith("侦查需要")
    inbox = {n["id"] for n in li.get("/v1/me/notifications?limit=200")["notifications"]}
    assert f"access:{seq}" not in inbox

    # A short emergency: used in its window, refused after it, then reviewed.
    short = _declare(first, tax, subjects="all", until=_later(4))
    assert _under(tax, ZHANG, "gaj.household_registration", ["name"], short["emergency_id"]).status_code == 200
    time.sleep(max(0.0, datetime.fromisoformat(short["until"].replace("Z", "+00:00")).timestamp() - time.time()) + 1.5)
    late = _under(tax, ZHANG, "gaj.household_registration", ["name"], short["emergency_id"])
    assert late.json()["error"]["code"] == "EMERGENCY_NOT_IN_FORCE"
    assert regulator.request("POST", f"/v1/emergencies/{short['emergency_id']}/review",
                             {"verdict": "PROPER", "note": "x"}).status_code == 200  # the transaction to sign
    reviewed = regulator.post_signed(f"/v1/emergencies/{short['emergency_id']}/review",
                                     {"verdict": "IMPROPER", "note": "范围过宽 (scope far too wide)"})
    assert reviewed["verdict"] == "IMPROPER" and reviewed["reviewed_by"] == regulator.address
    assert not reviewed["review_overdue"]
    again = regulator.request("POST", f"/v1/emergencies/{short['emergency_id']}/review",
                              {"verdict": "PROPER", "note": "x"})
    assert again.status_code == 409
    unreviewed = regulator.get("/v1/emergencies?unreviewed=true")["emergencies"]
    assert short["emergency_id"] not in {e["emergency_id"] for e in unreviewed}
    assert emergency_id in {e["emergency_id"] for e in unreviewed}
    assert li.request("GET", "/v1/emergencies").status_code == 403

    report = verification(regulator)["report"]
    assert not [p for p in report["problems"] if p["kind"] == "RELEASE_OUTSIDE_EMERGENCY"], report["problems"]
