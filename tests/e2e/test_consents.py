"""Signing interop with an independent EIP-712 implementation, k-of-n enterprise consents, listing."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from ledger import keystore
from tests.support.flows import ENTERPRISE, LI, query, window

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def _ethers_sign(typed_data: dict, key_name: str) -> dict:
    key = keystore.load_key(key_name).key.hex()
    run = subprocess.run(["node", str(ROOT / "tests/js/sign-typed-data.mjs"), "0x" + key.removeprefix("0x")],
                         input=json.dumps(typed_data), capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(run.stdout)


def test_submit_accepts_ethers_signature(clients):
    li, security = clients("citizen-li"), clients("dept-public-security")
    draft = li.post("/v1/consents/drafts", {
        **LI, "grantee": security.address, "purpose": "wallet_interop", "max_uses": 3,
        "resources": [{"resource_id": "gaj.household_registration", "fields": ["name", "address"]}], **window()})
    signed = _ethers_sign(draft["typed_data"], "citizen-li")
    assert signed["digest"] == draft["consent_id"]  # ethers computes the same EIP-712 digest

    reply = li.request("POST", "/v1/consents", {"typed_data": draft["typed_data"], "signatures": [signed["signature"]]})
    assert reply.status_code == 201, reply.text
    assert query(security, LI, "gaj.household_registration", ["address"], purpose="wallet_interop").status_code == 200


def test_typed_data_uses_the_contract_domain(clients, system):
    li = clients("citizen-li")
    draft = li.post("/v1/consents/drafts", {
        **LI, "grantee": clients("dept-tax").address, "purpose": "domain_check",
        "resources": [{"resource_id": "hrss.social_insurance", "fields": ["name"]}], **window()})
    deployment = json.loads((system.home / "deployment.json").read_text())
    domain = draft["typed_data"]["domain"]
    assert domain == {"name": "ConsentLedger", "version": "1", "chainId": deployment["chain_id"],
                      "verifyingContract": deployment["contracts"]["Consents"]}
    assert draft["typed_data"]["types"]["EIP712Domain"][0] == {"name": "name", "type": "string"}


def test_enterprise_needs_two_of_three_signatures(clients):
    rep, agent, tax = clients("enterprise-legal-rep"), clients("enterprise-agent-1"), clients("dept-tax")
    draft = rep.post("/v1/consents/drafts", {
        **ENTERPRISE, "grantee": tax.address, "purpose": "credit_review",
        "resources": [{"resource_id": "swj.tax_credit", "fields": ["credit_grade", "rating_year"]}], **window()})
    consent_id = draft["consent_id"]

    first = rep.request("POST", "/v1/consents", {"typed_data": draft["typed_data"],
                                                 "signatures": [rep.sign_typed_data(draft["typed_data"])]})
    assert first.status_code == 202
    assert first.json()["status"] == "pending_signatures" and first.json()["signatures_needed"] == 1
    denied = query(tax, ENTERPRISE, "swj.tax_credit", ["credit_grade"], purpose="credit_review")
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "NO_CONSENT"

    # The same signer again does not count twice.
    again = rep.request("POST", f"/v1/consents/{consent_id}/signatures",
                        {"signature": rep.sign_typed_data(draft["typed_data"])})
    assert again.status_code == 202 and again.json()["signatures_needed"] == 1

    second = agent.request("POST", f"/v1/consents/{consent_id}/signatures",
                           {"signature": agent.sign_typed_data(draft["typed_data"])})
    assert second.status_code == 201, second.text
    assert second.json()["status"] == "active"

    released = query(tax, ENTERPRISE, "swj.tax_credit", ["credit_grade", "rating_year"], purpose="credit_review")
    assert released.status_code == 200
    assert released.json()["data"] == {"credit_grade": "A", "rating_year": 2025}


def test_signature_of_unbound_key_is_refused(clients):
    rep = clients("enterprise-legal-rep")
    draft = rep.post("/v1/consents/drafts", {
        **ENTERPRISE, "grantee": clients("dept-tax").address, "purpose": "credit_review_2",
        "resources": [{"resource_id": "swj.tax_credit", "fields": ["credit_grade"]}], **window()})
    outsider = clients("citizen-li")  # a real key, but not one of the enterprise's signers
    reply = rep.request("POST", "/v1/consents", {"typed_data": draft["typed_data"],
                                                 "signatures": [outsider.sign_typed_data(draft["typed_data"])]})
    assert reply.status_code == 422 and reply.json()["error"]["code"] == "INVALID_SIGNATURE"


def test_consent_lists_are_scoped_to_the_caller(clients):
    li, security, tax = clients("citizen-li"), clients("dept-public-security"), clients("dept-tax")
    mine = li.get("/v1/consents")["consents"]
    assert mine and all(c["subject_id"] == mine[0]["subject_id"] for c in mine)
    for_security = security.get("/v1/consents")["consents"]
    assert all(c["grantee"] == security.address for c in for_security)
    assert not {c["consent_id"] for c in for_security} & {c["consent_id"] for c in tax.get("/v1/consents")["consents"]}
