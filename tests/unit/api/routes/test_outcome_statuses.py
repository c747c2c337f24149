"""Routes whose status depends on the outcome pick it from the service's answer: the transaction to
sign (200), done (201), waiting for more signatures or attestations (202)."""

from __future__ import annotations

import pytest

from api.schemas.admin import SubjectAttested, SubjectRegistered, SubjectTransaction
from api.schemas.common import UnsignedTransaction
from api.schemas.consents import Submission
from api.schemas.sharing import SharingReceipt

pytestmark = pytest.mark.unit

SIGNER = "0x" + "5a" * 20
ATTESTER = "0x" + "a7" * 20
DEPARTMENT = "0x" + "dd" * 20
CONSENT_ID = "0x" + "c0" * 32
SIGNATURE = "0x" + "11" * 65
TO_SIGN = {"from": DEPARTMENT, "to": "0x" + "ca" * 20, "data": "0x1234", "value": "0x0", "chainId": 1337,
           "nonce": 3, "gas": 60_000, "maxFeePerGas": 2 * 10**9}
REQUEST = {"request_id": 4, "requester": DEPARTMENT, "resource_id": "hrss.social_insurance", "fields": ["name"],
           "purpose_hash": "0x" + "bb" * 32, "valid_until": "2030-01-01T00:00:00Z", "status": "PENDING",
           "requested_at": "2026-01-01T00:00:00Z", "answer_due": "2026-01-15T00:00:00Z", "decided_at": None,
           "overdue": False, "tx_hash": "0x" + "ee" * 32, "block_number": 9}


class Answers:
    """A service that answers every call with the next of ``answers``."""

    def __init__(self, *answers):
        self.answers = list(answers)

    def __getattr__(self, name):
        return lambda *args, **kwargs: self.answers.pop(0)


def test_a_submission_is_201_once_active_and_202_while_it_waits(client, services):
    services.consents = Answers(
        Submission(consent_id=CONSENT_ID, status="active", tx_hash="0x" + "ee" * 32, block_number=9),
        Submission(consent_id=CONSENT_ID, status="pending_signatures", signatures_needed=1, signed_by=[SIGNER]))
    auth = {"authorization": services.sign_in(SIGNER, "SUBJECT_SIGNER")}
    done = client.post(f"/v1/consents/{CONSENT_ID}/signatures", json={"signature": SIGNATURE}, headers=auth)
    assert done.status_code == 201
    assert done.json() == {"consent_id": CONSENT_ID, "status": "active", "tx_hash": "0x" + "ee" * 32,
                           "block_number": 9}
    waiting = client.post(f"/v1/consents/{CONSENT_ID}/signatures", json={"signature": SIGNATURE}, headers=auth)
    assert waiting.status_code == 202
    assert waiting.json() == {"consent_id": CONSENT_ID, "status": "pending_signatures", "signatures_needed": 1,
                              "signed_by": [SIGNER]}  # only what the service set: no null receipt fields


def test_a_sharing_request_is_200_to_sign_then_201_relayed(client, services):
    services.sharing = Answers(UnsignedTransaction(transaction=TO_SIGN), SharingReceipt(**REQUEST))
    auth = {"authorization": services.sign_in(DEPARTMENT, "DEPARTMENT")}
    body = {"resource_id": "hrss.social_insurance", "fields": ["name"], "purpose": "benefits",
            "valid_until": "2030-01-01T00:00:00Z"}
    to_sign = client.post("/v1/sharing-requests", json=body, headers=auth)
    assert to_sign.status_code == 200 and to_sign.json() == {"transaction": TO_SIGN}
    relayed = client.post("/v1/sharing-requests", json={**body, "signed_transaction": "0xf8"}, headers=auth)
    assert relayed.status_code == 201 and relayed.json() == REQUEST


def test_a_subject_registration_is_200_201_or_202(client, services):
    subject_id = "0x" + "5b" * 32
    receipt = {"tx_hash": "0x" + "ee" * 32, "block_number": 9}
    services.subjects = Answers(
        SubjectTransaction(subject_id=subject_id, transaction=TO_SIGN),
        SubjectAttested(subject_id=subject_id, status="ATTESTED", attestations=1, attestations_required=2, **receipt),
        SubjectRegistered(subject_id=subject_id, kind="PERSON", signers=[SIGNER], threshold=1, **receipt))
    auth = {"authorization": services.sign_in(ATTESTER, "IDENTITY_ATTESTER")}
    body = {"id_type": "resident_id", "id_number": "370102198506124536", "signers": [SIGNER], "threshold": 1}
    statuses = [client.post("/v1/admin/subjects", json=body, headers=auth) for _ in range(3)]
    assert [r.status_code for r in statuses] == [200, 202, 201]
    assert statuses[0].json() == {"subject_id": subject_id, "transaction": TO_SIGN}
    assert statuses[1].json()["attestations_required"] == 2
    assert statuses[2].json()["kind"] == "PERSON"
