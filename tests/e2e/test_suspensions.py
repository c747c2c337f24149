"""Suspension (永州办法 第十九条) over HTTP on the real devnet: the provider suspends a department's access, the
next query is refused with SUSPENDED, the data authority sees it listed, lifting restores access, and the
verifier finds nothing wrong with the trail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.flows import LI, query, verification

pytestmark = pytest.mark.e2e

RESOURCE = "mzj.registered_orgs"  # UNCONDITIONAL, not sensitive: released on its class alone
FIELDS = ["org_name"]
REASON = "查询量远超履职需要 (queries far beyond the department's duties)"


def _suspensions(client, path: str = "/v1/suspensions") -> list[dict]:
    return client.get(path)["suspensions"]


def _mine(listing: list[dict], department: str) -> dict:
    return next(s for s in listing if s["resource_id"] == RESOURCE and s["department"] == department)


def test_suspension_refuses_the_next_query_until_lifted(clients):
    civil, fund, tax = clients("dept-civil-affairs"), clients("dept-housing-fund"), clients("dept-tax")
    admin, regulator = clients("admin"), clients("regulator")
    path = f"/v1/resources/{RESOURCE}/suspensions"
    assert query(fund, LI, RESOURCE, FIELDS).json()["error"]["code"] == "NO_RECORD"  # allowed; no row held

    body = {"department": fund.address, "reason": REASON}
    refused = fund.request("POST", path, body)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "NOT_PROVIDER"
    unsigned = civil.post(path, body)["transaction"]
    created = civil.request("POST", path, {**body, "signed_transaction": civil.sign_transaction(unsigned)})
    assert created.status_code == 201, created.text
    suspension = created.json()
    assert suspension["kind"] == "ENDED" and suspension["in_force"] and suspension["until"] is None
    assert suspension["reason"] == REASON and suspension["provider"] == civil.address
    assert suspension["department_code"] == "jn.gjj" and suspension["tx_hash"] == suspension["act_tx_hash"]

    denied = query(fund, LI, RESOURCE, FIELDS)
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "SUSPENDED", denied.text
    assert isinstance(denied.json()["audit"]["seq"], int)  # the refusal is audited
    assert query(tax, LI, RESOURCE, FIELDS).json()["error"]["code"] == "NO_RECORD"  # others are unaffected

    # Reported to the data authority: the admin and regulators see it, the two departments too, a citizen not.
    for viewer in (admin, regulator, civil, fund):
        assert _mine(_suspensions(viewer), fund.address)["in_force"]
    assert all(s["department"] != fund.address for s in _suspensions(tax))
    assert clients("citizen-li").request("GET", "/v1/suspensions").status_code == 403

    lifted = admin.request("DELETE", f"{path}/{fund.address}")
    assert lifted.status_code == 200, lifted.text
    assert not lifted.json()["in_force"] and lifted.json()["lifted_by"] == admin.address
    assert query(fund, LI, RESOURCE, FIELDS).json()["error"]["code"] == "NO_RECORD"
    again = admin.request("DELETE", f"{path}/{fund.address}")
    assert again.status_code == 409 and again.json()["error"]["code"] == "NOT_SUSPENDED"

    report = verification(regulator)["report"]
    assert not [p for p in report["problems"] if p["kind"] == "RELEASE_WHILE_SUSPENDED"], report["problems"]


def test_a_suspension_with_an_end_is_lifted_by_its_provider(clients):
    civil, security = clients("dept-civil-affairs"), clients("dept-public-security")
    path = f"/v1/resources/{RESOURCE}/suspensions"
    until = (datetime.now(UTC) + timedelta(days=7)).replace(microsecond=0)
    created = civil.post_signed(path, {"department": security.address, "reason": "复核期间暂停 (paused for review)",
                                       "until": until.isoformat()})
    assert created["kind"] == "SUSPENDED" and created["until"] == until.isoformat().replace("+00:00", "Z")
    assert query(security, LI, RESOURCE, FIELDS).json()["error"]["code"] == "SUSPENDED"

    to_sign = civil.request("DELETE", f"{path}/{security.address}")
    assert to_sign.status_code == 200 and "transaction" in to_sign.json()
    lifted = civil.request("DELETE", f"{path}/{security.address}",
                           {"signed_transaction": civil.sign_transaction(to_sign.json()["transaction"])})
    assert lifted.status_code == 200 and lifted.json()["lifted_by"] == civil.address, lifted.text
    assert query(security, LI, RESOURCE, FIELDS).json()["error"]["code"] == "NO_RECORD"


@pytest.mark.parametrize("change, status, code", [
    ({"until": "2020-01-01T00:00:00Z"}, 422, "INVALID_INPUT"),
    ({"department": "0x" + "ab" * 20}, 422, "UNKNOWN_DEPARTMENT"),
    ({"reason": ""}, 422, "INVALID_INPUT"),
])
def test_bad_suspensions_are_refused_and_change_nothing(clients, change, status, code):
    civil, tax = clients("dept-civil-affairs"), clients("dept-tax")
    body = {"department": tax.address, "reason": REASON, **change}
    reply = civil.request("POST", f"/v1/resources/{RESOURCE}/suspensions", body)
    assert reply.status_code == status and reply.json()["error"]["code"] == code, reply.text
    assert query(tax, LI, RESOURCE, FIELDS).json()["error"]["code"] == "NO_RECORD"


def test_suspending_an_unknown_resource_is_not_found(clients):
    civil, tax = clients("dept-civil-affairs"), clients("dept-tax")
    reply = civil.request("POST", "/v1/resources/mzj.no_such_thing/suspensions",
                          {"department": tax.address, "reason": REASON})
    assert reply.status_code == 404 and reply.json()["error"]["code"] == "UNKNOWN_RESOURCE"
