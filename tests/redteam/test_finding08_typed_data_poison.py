"""Finding 8: one signer must not be able to break drafts for a subject for good.

A pending submission (an enterprise consent below its 2-of-3 threshold) is stored by the API. Its
typed data is the signer's own input: a non-canonical nonce (``"0x5"``) or a huge one
(``2**256 - 1``) used to be stored as sent and then broke every later draft of the subject (500).
"""

from __future__ import annotations

import copy
import time

import pytest

from tests.support.flows import ENTERPRISE, window

RESOURCE = {"resource_id": "swj.tax_credit", "fields": ["credit_grade"]}


def _draft(client, grantee: str, purpose: str):
    return client.request("POST", "/v1/consents/drafts", {
        **ENTERPRISE, "grantee": grantee, "resources": [RESOURCE], "purpose": purpose, **window()})


def _typed(client, grantee: str, purpose: str) -> dict:
    reply = _draft(client, grantee, purpose)
    assert reply.status_code == 201, f"drafts broken: {reply.status_code} {reply.text}"
    return copy.deepcopy(reply.json()["typed_data"])


def _pending(client, consent_id: str) -> dict | None:
    return next((c for c in client.get("/v1/consents")["consents"] if c["consent_id"] == consent_id), None)


@pytest.fixture(scope="module")
def active_enterprise_consent(clients) -> str:
    """An enterprise consent on the ledger (2 of 3 signatures), made before any poisoning."""
    rep, agent = clients("enterprise-legal-rep"), clients("enterprise-agent-1")
    draft = _draft(rep, clients("dept-tax").address, "poison_baseline")
    assert draft.status_code == 201, draft.text
    typed = draft.json()["typed_data"]
    reply = rep.request("POST", "/v1/consents", {"typed_data": typed, "signatures": [
        rep.sign_typed_data(typed), agent.sign_typed_data(typed)]})
    assert reply.status_code == 201, reply.text
    return draft.json()["consent_id"]


def _drafts_still_work(clients, consent_id: str) -> None:
    agent, tax = clients("enterprise-agent-1"), clients("dept-tax")
    reply = _draft(agent, tax.address, "after_poison")
    assert reply.status_code == 201, f"drafts broken: {reply.status_code} {reply.text}"
    reply = agent.request("POST", f"/v1/consents/{consent_id}/revocation-drafts")
    assert reply.status_code == 201, f"revocation drafts broken: {reply.status_code} {reply.text}"
    assert agent.request("GET", "/v1/consents").status_code == 200


def test_hex_nonce_is_refused_at_the_boundary(clients, active_enterprise_consent):
    agent = clients("enterprise-agent-1")
    typed = _typed(agent, clients("dept-tax").address, "poison_hex")
    typed["message"]["nonce"] = "0x5"  # the same number, spelt so that int(...) fails
    reply = agent.request("POST", "/v1/consents", {"typed_data": typed, "signatures": [agent.sign_typed_data(typed)]})
    assert reply.status_code == 422, reply.text
    assert reply.json()["error"]["code"] == "NON_CANONICAL_TYPED_DATA"
    _drafts_still_work(clients, active_enterprise_consent)


@pytest.mark.parametrize("field, value", [("nonce", 5), ("validFrom", "1700000000"), ("maxUses", True)])
def test_other_non_canonical_spellings_are_refused(clients, field, value):
    agent = clients("enterprise-agent-1")
    typed = _typed(agent, clients("dept-tax").address, "poison_spelling")
    typed["message"][field] = value
    # The boundary refuses the spelling before any signature is looked at.
    reply = agent.request("POST", "/v1/consents", {"typed_data": typed, "signatures": ["0x" + "11" * 65]})
    assert reply.status_code == 422, reply.text
    assert reply.json()["error"]["code"] in ("NON_CANONICAL_TYPED_DATA", "INVALID_TYPED_DATA")


def test_huge_nonce_pending_submission_does_not_block_drafts(clients, active_enterprise_consent):
    agent = clients("enterprise-agent-1")
    typed = _typed(agent, clients("dept-tax").address, "poison_huge")
    typed["message"]["nonce"] = str(2**256 - 1)  # canonical and valid on-chain, but max(...) + 1 overflows
    reply = agent.request("POST", "/v1/consents", {"typed_data": typed, "signatures": [agent.sign_typed_data(typed)]})
    assert reply.status_code == 202, reply.text
    _drafts_still_work(clients, active_enterprise_consent)
    withdrawn = agent.request("DELETE", f"/v1/consents/{reply.json()['consent_id']}")
    assert withdrawn.status_code == 200, withdrawn.text


def test_pending_submission_can_be_withdrawn_by_its_signers(clients):
    agent, other, rep = clients("enterprise-agent-1"), clients("enterprise-agent-2"), clients("enterprise-legal-rep")
    typed = _typed(agent, clients("dept-tax").address, "withdraw_me")
    reply = agent.request("POST", "/v1/consents", {"typed_data": typed, "signatures": [agent.sign_typed_data(typed)]})
    assert reply.status_code == 202, reply.text
    consent_id = reply.json()["consent_id"]
    assert _pending(other, consent_id)["status"] == "pending_signatures"

    outsider = clients("citizen-li").request("DELETE", f"/v1/consents/{consent_id}")
    assert outsider.status_code == 403 and outsider.json()["error"]["code"] == "NOT_SUBJECT_SIGNER"

    withdrawn = other.request("DELETE", f"/v1/consents/{consent_id}")
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "withdrawn"
    assert _pending(other, consent_id) is None
    late = rep.request("POST", f"/v1/consents/{consent_id}/signatures", {"signature": rep.sign_typed_data(typed)})
    assert late.status_code == 409 and late.json()["error"]["code"] == "CONSENT_WITHDRAWN"
    again = other.request("DELETE", f"/v1/consents/{consent_id}")
    assert again.status_code == 409 and again.json()["error"]["code"] == "CONSENT_WITHDRAWN"


def test_on_chain_consent_cannot_be_withdrawn(clients, active_enterprise_consent):
    reply = clients("enterprise-agent-1").request("DELETE", f"/v1/consents/{active_enterprise_consent}")
    assert reply.status_code == 409 and reply.json()["error"]["code"] == "CONSENT_EXISTS"
    missing = clients("enterprise-agent-1").request("DELETE", "/v1/consents/0x" + "ab" * 32)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "NOT_FOUND"


def test_pending_submission_expires_at_its_deadline(clients, active_enterprise_consent):
    agent, rep = clients("enterprise-agent-1"), clients("enterprise-legal-rep")
    typed = _typed(agent, clients("dept-tax").address, "short_lived")
    typed["message"]["deadline"] = int(time.time()) + 3
    reply = agent.request("POST", "/v1/consents", {"typed_data": typed, "signatures": [agent.sign_typed_data(typed)]})
    assert reply.status_code == 202, reply.text
    consent_id = reply.json()["consent_id"]
    time.sleep(4)
    listed = _pending(agent, consent_id)
    assert listed is None or listed["status"] == "expired", listed
    late = rep.request("POST", f"/v1/consents/{consent_id}/signatures", {"signature": rep.sign_typed_data(typed)})
    assert late.status_code == 409 and late.json()["error"]["code"] == "DEADLINE_PASSED", late.text
    _drafts_still_work(clients, active_enterprise_consent)


def test_consent_with_times_past_year_9999_cannot_poison_listings(clients):
    """validUntil = 2**64 - 1 is a valid uint64, but no listing can show it as a date."""
    li = clients("citizen-li")
    draft = li.post("/v1/consents/drafts", {
        "id_type": "resident_id", "id_number": "440304199003072312", "grantee": clients("dept-hrss").address,
        "resources": [{"resource_id": "hrss.social_insurance", "fields": ["name"]}], "purpose": "forever",
        **window()})
    typed = copy.deepcopy(draft["typed_data"])
    typed["message"]["validUntil"] = 2**64 - 1
    reply = li.request("POST", "/v1/consents", {"typed_data": typed, "signatures": [li.sign_typed_data(typed)]})
    assert reply.status_code == 422 and reply.json()["error"]["code"] == "INVALID_CONSENT", reply.text
    assert li.request("GET", "/v1/consents").status_code == 200
    assert clients("dept-hrss").request("GET", "/v1/consents").status_code == 200


def test_signing_deadline_is_bounded(clients):
    agent = clients("enterprise-agent-1")
    typed = _typed(agent, clients("dept-tax").address, "far_deadline")
    typed["message"]["deadline"] = 2**64 - 1
    reply = agent.request("POST", "/v1/consents", {"typed_data": typed, "signatures": [agent.sign_typed_data(typed)]})
    assert reply.status_code == 422 and reply.json()["error"]["code"] == "DEADLINE_TOO_FAR", reply.text
