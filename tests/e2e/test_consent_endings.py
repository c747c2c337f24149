"""How a consent ended, kept apart on-chain and in the subject's listing: revoked by the subject, ended by a
regulator for abuse (a REGULATOR's own signed transaction), expired, used up."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from tests.support.flows import ZHANG, grant, query, revoke

pytestmark = pytest.mark.e2e

RESOURCE = "gaj.household_registration"
ABUSE = "以授权为办理条件, 强迫申请人同意 (consent pressed out of applicants as a condition of service)"


def _listed(signer, consent_id: str) -> dict:
    return next(c for c in signer.get("/v1/consents")["consents"] if c["consent_id"] == consent_id)


def test_a_regulator_ends_an_abused_consent_apart_from_a_revocation(clients):
    zhang, security, regulator = clients("citizen-zhang"), clients("dept-public-security"), clients("regulator")
    abused = grant(zhang, security, ZHANG, RESOURCE, ["birth_date"], purpose="endings_abuse")
    revoked = grant(zhang, security, ZHANG, RESOURCE, ["birth_date"], purpose="endings_revoked")
    assert query(security, ZHANG, RESOURCE, ["birth_date"], purpose="endings_abuse").status_code == 200

    path = f"/v1/consents/{abused}/regulator-end"
    for outsider in (security, zhang):
        refused = outsider.request("POST", path, {"reason": ABUSE})
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "ROLE_REQUIRED", refused.text
    unsigned = regulator.post(path, {"reason": ABUSE})["transaction"]
    assert unsigned["from"] == regulator.address  # the regulator's own act, never the platform's key
    ended = regulator.post(path, {"reason": ABUSE, "signed_transaction": regulator.sign_transaction(unsigned)})
    assert ended["status"] == "ended_by_regulator"

    denied = query(security, ZHANG, RESOURCE, ["birth_date"], purpose="endings_abuse")
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "ENDED_BY_REGULATOR", denied.text
    revoke(zhang, revoked)
    denied = query(security, ZHANG, RESOURCE, ["birth_date"], purpose="endings_revoked")
    assert denied.json()["error"]["code"] == "REVOKED"

    by_regulator, by_subject = _listed(zhang, abused), _listed(zhang, revoked)
    assert by_regulator["status"] == "ended_by_regulator" and by_regulator["ended_by"] == regulator.address
    assert by_regulator["end_reason"] == ABUSE and by_regulator["ended_block"] == ended["block_number"]
    assert by_subject["status"] == "revoked" and by_subject["ended_by"] == zhang.address
    assert by_subject["end_reason"] is None
    assert _listed(security, abused)["status"] == "ended_by_regulator"  # the grantee sees it too

    again = regulator.request("POST", path, {"reason": ABUSE})
    assert again.status_code == 409 and again.json()["error"]["code"] == "CONSENT_NOT_ACTIVE"
    draft = zhang.request("POST", f"/v1/consents/{abused}/revocation-drafts")
    assert draft.status_code == 409 and "regulator" in draft.json()["error"]["message"]


def test_expired_and_used_up_are_listed_apart(clients):
    zhang, security = clients("citizen-zhang"), clients("dept-public-security")
    used_up = grant(zhang, security, ZHANG, RESOURCE, ["gender"], purpose="endings_used_up", max_uses=1)
    expiring = grant(zhang, security, ZHANG, RESOURCE, ["gender"], purpose="endings_expired",
                     start=timedelta(seconds=-1), length=timedelta(seconds=3))
    assert query(security, ZHANG, RESOURCE, ["gender"], purpose="endings_used_up").status_code == 200
    time.sleep(3.2)
    assert _listed(zhang, used_up)["status"] == "exhausted"
    assert _listed(zhang, expiring)["status"] == "expired"
    assert query(security, ZHANG, RESOURCE, ["gender"], purpose="endings_used_up").json()["error"]["code"] == \
        "USES_EXHAUSTED"


def test_a_regulator_end_with_a_bad_body_changes_nothing(clients):
    zhang, security, regulator = clients("citizen-zhang"), clients("dept-public-security"), clients("regulator")
    consent = grant(zhang, security, ZHANG, RESOURCE, ["name"], purpose="endings_bad_body")
    for body in ({}, {"reason": ""}, {"reason": "x" * 501}, {"reason": "ok", "signed_transaction": "0xzz"}):
        reply = regulator.request("POST", f"/v1/consents/{consent}/regulator-end", body)
        assert reply.status_code == 422 and reply.json()["error"]["code"] == "INVALID_INPUT", reply.text
    forged = regulator.request("POST", f"/v1/consents/{consent}/regulator-end",
                               {"reason": "ok", "signed_transaction": "0x" + "00" * 40})
    assert forged.status_code == 422 and forged.json()["error"]["code"] == "INVALID_TRANSACTION"
    unknown = regulator.request("POST", "/v1/consents/0x" + "ab" * 32 + "/regulator-end", {"reason": "ok"})
    assert unknown.status_code == 404
    assert _listed(zhang, consent)["status"] == "active"


DPV = "https://w3id.org/dpv#"


def _triples(record: dict):
    """The receipt as RDF: it must be JSON-LD that expands to the DPV terms it claims."""
    import json

    import rdflib

    graph = rdflib.Graph()
    graph.parse(data=json.dumps(record), format="json-ld")
    return graph, rdflib.URIRef(record["@id"])


def test_a_consent_exports_as_a_dpv_consent_record(clients):
    import rdflib

    zhang, security, regulator = clients("citizen-zhang"), clients("dept-public-security"), clients("regulator")
    active = grant(zhang, security, ZHANG, RESOURCE, ["name", "gender"], purpose="receipt_check", max_uses=3)
    withdrawn = grant(zhang, security, ZHANG, RESOURCE, ["name"], purpose="receipt_withdrawn")
    revoke(zhang, withdrawn)
    ended = grant(zhang, security, ZHANG, RESOURCE, ["name"], purpose="receipt_ended")
    regulator.post_signed(f"/v1/consents/{ended}/regulator-end", {"reason": ABUSE})

    record = zhang.get(f"/v1/consents/{active}/receipt")
    assert security.get(f"/v1/consents/{active}/receipt") == record  # the grantee reads the same record
    graph, node = _triples(record)
    dpv = rdflib.Namespace(DPV)
    assert (node, rdflib.RDF.type, dpv.ConsentRecord) in graph
    assert (node, dpv.hasConsentStatus, dpv.ConsentGiven) in graph
    assert (node, dpv.hasLegalBasis, dpv.Consent) in graph
    assert (node, dpv.hasIdentifier, rdflib.Literal(active)) in graph
    fields = {str(graph.value(pd, rdflib.URIRef("http://purl.org/dc/terms/title")))
              for pd in graph.objects(node, dpv.hasPersonalData)}
    assert fields == {"name", "gender"}
    recipient = graph.value(node, dpv.hasRecipient)
    assert str(graph.value(recipient, dpv.hasName)) == "济南市公安局 Public Security Bureau"
    assert record["cl:maxUses"] == 3 and record["cl:grantTransaction"].startswith("0x")
    purpose = graph.value(node, dpv.hasPurpose)
    assert str(graph.value(purpose, rdflib.URIRef("http://purl.org/dc/terms/identifier"))) == "receipt_check"

    for consent_id, status in ((withdrawn, dpv.ConsentWithdrawn), (ended, dpv.ConsentRevoked)):
        graph, node = _triples(zhang.get(f"/v1/consents/{consent_id}/receipt"))
        assert (node, dpv.hasConsentStatus, status) in graph
    assert zhang.get(f"/v1/consents/{ended}/receipt")["cl:endReason"] == ABUSE

    assert clients("citizen-li").request("GET", f"/v1/consents/{active}/receipt").status_code == 403
    assert clients("dept-tax").request("GET", f"/v1/consents/{active}/receipt").status_code == 403
    assert zhang.request("GET", "/v1/consents/0x" + "ab" * 32 + "/receipt").status_code == 404
