"""Finding 2: a department whose DEPARTMENT_ROLE was revoked (or renounced) kept getting data.

``Participants.isActiveDepartment`` is active && hasRole(DEPARTMENT): the next request after the
revocation's receipt must be refused NOT_DEPARTMENT, a re-grant restores access, and the verifier
flags a release the operator writes for a block in between.
"""

from __future__ import annotations

from eth_utils import keccak

from ledger import keystore
from ledger.client import ApiClient
from tests.redteam import forgery
from tests.redteam.conftest import operator_chain, problem_kinds, verify_export
from tests.support.flows import ZHANG, grant, query

DEPARTMENT_ROLE = keccak(text="DEPARTMENT_ROLE")
FIELDS = ["name", "pension_months"]
PURPOSE = "finding02"


def _ask(running, key_name: str):
    department = ApiClient(running.api_url, keystore.load_key(key_name)).login()  # a new SIWE token
    try:
        return query(department, ZHANG, "hrss.social_insurance", FIELDS, purpose=PURPOSE)
    finally:
        department.close()


def _refused(reply, after_block: int) -> dict:
    assert reply.status_code == 403, reply.text
    body = reply.json()
    assert body["error"]["code"] == "NOT_DEPARTMENT"
    assert "data" not in body
    assert body["decision"]["block_number"] >= after_block
    return body


def test_revoked_or_renounced_department_role_stops_releases(fresh_system, fresh_clients, tmp_path):
    running = fresh_system()
    login = fresh_clients(running)
    zhang, hrss = login("citizen-zhang"), login("dept-hrss")
    consent = grant(zhang, hrss, ZHANG, "hrss.social_insurance", FIELDS, purpose=PURPOSE)
    assert _ask(running, "dept-hrss").status_code == 200

    admin = operator_chain(running, "admin")
    participants = admin.contract("Participants")
    admin_address = keystore.load_key("admin").address
    revoked = participants.transact("revokeRole", DEPARTMENT_ROLE, hrss.address, sender=admin_address)
    _refused(_ask(running, "dept-hrss"), revoked.block_number)

    participants.transact("grantRole", DEPARTMENT_ROLE, hrss.address, sender=admin_address)
    assert _ask(running, "dept-hrss").status_code == 200

    own = operator_chain(running, "dept-hrss")
    renounced = own.contract("Participants").transact("renounceRole", DEPARTMENT_ROLE, hrss.address,
                                                      sender=hrss.address)
    refused = _refused(_ask(running, "dept-hrss"), renounced.block_number)
    participants.transact("grantRole", DEPARTMENT_ROLE, hrss.address, sender=admin_address)
    assert _ask(running, "dept-hrss").status_code == 200
    admin.close()
    own.close()

    # The operator turns the refusal (its block and time are genuine) into a release.
    denied = forgery.entries(running)[refused["audit"]["seq"]]
    (forged,) = forgery.append_forged(running, forgery.forge(denied, decision="ALLOW", reason="OK",
                                                             consent_id=consent))
    report = verify_export(running, tmp_path)
    violations = {p["seq"] for p in report["problems"] if p["kind"] == "POLICY_VIOLATION"}
    assert violations == {forged}, report["problems"]
    assert "CONSENT_NOT_NAMED" not in problem_kinds(report)
