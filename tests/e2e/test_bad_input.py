"""Bad input gets the right 4xx with a stable code, and changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from ledger.client import ApiClient
from tests.support.flows import LI, window

pytestmark = pytest.mark.e2e


def _audit_size(clients) -> int:
    """Entries in the log: the seq after the last one, paging to the end."""
    size = 0
    while page := clients("regulator").get(f"/v1/audit/entries?after={size - 1}&limit=500")["entries"]:
        size = page[-1]["seq"] + 1
    return size


@pytest.mark.parametrize("id_number, fragment", [
    ("370102198506124537", "check"),        # wrong MOD 11-2 check digit
    ("3701021985061245", "18"),             # too short
    ("370102198513124536", "birth"),        # month 13
    ("100102198506124536", "region"),       # province 10 does not exist (check digit valid)
])
def test_query_with_malformed_resident_id_is_422(clients, id_number, fragment):
    before = _audit_size(clients)
    reply = clients("dept-hrss").request("POST", "/v1/records/query", {
        "id_type": "resident_id", "id_number": id_number, "resource_id": "hrss.social_insurance",
        "fields": ["name"], "purpose": "pension_eligibility"})
    assert reply.status_code == 422
    assert reply.json()["error"]["code"] == "INVALID_ID_NUMBER"
    assert fragment in reply.json()["error"]["message"].lower()
    assert _audit_size(clients) == before


def test_subject_with_malformed_uscc_is_422(clients):
    reply = clients("attester").request("POST", "/v1/admin/subjects", {
        "id_type": "uscc", "id_number": "91370100MA5F3K2Y1H", "signers": [Account.create().address], "threshold": 1})
    assert reply.status_code == 422 and reply.json()["error"]["code"] == "INVALID_ID_NUMBER"


def test_consent_with_bad_signature_is_refused(clients):
    li = clients("citizen-li")
    draft = li.post("/v1/consents/drafts", {
        **LI, "grantee": clients("dept-hrss").address, "purpose": "bad_signature",
        "resources": [{"resource_id": "hrss.social_insurance", "fields": ["name"]}], **window()})
    signature = li.sign_typed_data(draft["typed_data"])
    flipped = signature[:10] + ("0" if signature[10] != "0" else "1") + signature[11:]
    for bad in (flipped, "0x" + "00" * 65):
        reply = li.request("POST", "/v1/consents", {"typed_data": draft["typed_data"], "signatures": [bad]})
        assert reply.status_code == 422, reply.text
        assert reply.json()["error"]["code"] == "INVALID_SIGNATURE"
    # Tampered typed data (the grantee swapped after signing) does not verify for the signer either.
    tampered = {**draft["typed_data"], "message": {**draft["typed_data"]["message"],
                                                    "grantee": clients("dept-tax").address}}
    reply = li.request("POST", "/v1/consents", {"typed_data": tampered, "signatures": [signature]})
    assert reply.status_code == 422
    assert all(c["consent_id"] != draft["consent_id"] or c["status"] == "pending_signatures"
               for c in li.get("/v1/consents")["consents"])


def test_siwe_nonce_cannot_be_replayed(system):
    account = Account.create()
    client = ApiClient(system.api_url, account)
    challenge = client.post("/v1/auth/challenge", {"address": account.address}, auth=False)
    signature = "0x" + Account.sign_message(encode_defunct(text=challenge["message"]), account.key).signature.hex()
    login = {"message": challenge["message"], "signature": signature}
    assert client.request("POST", "/v1/auth/login", login, auth=False).status_code == 200
    replay = client.request("POST", "/v1/auth/login", login, auth=False)
    assert replay.status_code == 401 and replay.json()["error"]["code"] == "NONCE_INVALID"


def test_siwe_signature_by_another_key_is_refused(system):
    account, thief = Account.create(), Account.create()
    client = ApiClient(system.api_url, account)
    challenge = client.post("/v1/auth/challenge", {"address": account.address}, auth=False)
    signature = "0x" + Account.sign_message(encode_defunct(text=challenge["message"]), thief.key).signature.hex()
    reply = client.request("POST", "/v1/auth/login", {"message": challenge["message"], "signature": signature},
                           auth=False)
    assert reply.status_code == 401 and reply.json()["error"]["code"] == "INVALID_SIGNATURE"


def test_forged_and_expired_tokens_are_refused(system, clients):
    hrss = clients("dept-hrss")
    secret = (system.home / "secrets" / "jwt.key").read_bytes()
    now = datetime.now(UTC)
    claims = {"iss": "consent-ledger", "aud": "consent-ledger-api", "sub": hrss.address, "iat": now - timedelta(hours=2),
              "exp": now - timedelta(hours=1)}
    cases = {
        "TOKEN_EXPIRED": jwt.encode(claims, secret, algorithm="HS256"),
        "INVALID_TOKEN": jwt.encode({**claims, "exp": now + timedelta(hours=1)}, b"x" * 32, algorithm="HS256"),
    }
    cases["INVALID_TOKEN_ALG_NONE"] = jwt.encode({**claims, "exp": now + timedelta(hours=1)}, None, algorithm="none")
    for expected, token in cases.items():
        reply = hrss.http.get("/v1/consents", headers={"authorization": f"Bearer {token}"})
        assert reply.status_code == 401
        assert reply.json()["error"]["code"] == expected.removesuffix("_ALG_NONE")
    assert hrss.http.get("/v1/consents").json()["error"]["code"] == "UNAUTHENTICATED"


def test_oversized_body_is_413(clients):
    reply = clients("dept-hrss").request("POST", "/v1/records/query", {
        **LI, "resource_id": "hrss.social_insurance", "fields": ["name"], "purpose": "x" * 200_000})
    assert reply.status_code == 413 and reply.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


def test_unknown_keys_and_wrong_types_are_422(clients):
    reply = clients("dept-hrss").request("POST", "/v1/records/query", {
        **LI, "resource_id": "hrss.social_insurance", "fields": ["name"], "purpose": "p", "sneaky": True})
    assert reply.status_code == 422 and reply.json()["error"]["code"] == "INVALID_INPUT"


def test_roles_are_enforced(clients):
    li = clients("citizen-li")
    reply = li.request("POST", "/v1/admin/departments", {"address": Account.create().address, "code": "x",
                                                         "name": "fake"})
    assert reply.status_code == 403 and reply.json()["error"]["code"] == "ROLE_REQUIRED"
    # A department may not write another provider's records.
    reply = clients("dept-tax").request("PUT", "/v1/resources/hrss.social_insurance/records",
                                        {**LI, "data": {"name": "forged"}})
    assert reply.status_code == 403 and reply.json()["error"]["code"] == "NOT_PROVIDER"
    assert clients("regulator").request("GET", "/v1/me/access-log").status_code == 403
