"""Subjects registered by the identity attester's own transaction; signer changes over HTTP."""

from __future__ import annotations

import subprocess
import sys

from eth_account import Account

from bench._world import resident_id
from ledger.client import ApiClient


def _register(clients, index: int, signers: list[str], threshold: int = 1, id_type: str = "resident_id") -> str:
    result = clients("attester").post_signed("/v1/admin/subjects", {
        "id_type": id_type, "id_number": resident_id(index), "signers": signers, "threshold": threshold})
    return result["subject_id"]


def test_the_admin_cannot_register_a_subject(clients):
    reply = clients("admin").request("POST", "/v1/admin/subjects", {
        "id_type": "resident_id", "id_number": resident_id(900_001), "signers": [Account.create().address],
        "threshold": 1})
    assert reply.status_code == 403 and reply.json()["error"]["code"] == "ROLE_REQUIRED"


def test_a_relayed_registration_must_be_the_attesters_and_say_what_was_asked(clients):
    body = {"id_type": "resident_id", "id_number": resident_id(900_002), "signers": [Account.create().address],
            "threshold": 1}
    attester = clients("attester")
    prepared = attester.post("/v1/admin/subjects", body)
    other = {**body, "signers": [Account.create().address]}
    reply = attester.request("POST", "/v1/admin/subjects",
                             {**other, "signed_transaction": attester.sign_transaction(prepared["transaction"])})
    assert reply.status_code == 422 and reply.json()["error"]["code"] == "INVALID_TRANSACTION"
    again = attester.post_signed("/v1/admin/subjects", body)
    assert again["subject_id"] == prepared["subject_id"]
    duplicate = attester.request("POST", "/v1/admin/subjects", body)
    assert duplicate.status_code == 409 and duplicate.json()["error"]["code"] == "ALREADY_REGISTERED"


def test_the_subjects_own_signers_rotate_a_key_at_once(system, clients):
    old, new = Account.create(), Account.create()
    sid = _register(clients, 900_003, [old.address])
    signer = ApiClient(system.api_url, old).login()
    try:
        draft = signer.post(f"/v1/subjects/{sid}/signer-changes",
                            {"add": [new.address], "remove": [old.address], "threshold": 1})
        assert draft["signatures_needed"] == 1
        applied = signer.post(f"/v1/subjects/{sid}/signer-changes", {
            "add": [new.address], "remove": [old.address], "threshold": 1, "typed_data": draft["typed_data"],
            "signatures": [signer.sign_typed_data(draft["typed_data"])]})
    finally:
        signer.close()
    assert applied["change_id"] == draft["change_id"]
    assert applied["status"] == "APPLIED" and applied["approved"] is True
    listed = clients("attester").get(f"/v1/subjects/{sid}/signer-changes")["signer_changes"]
    assert [c["status"] for c in listed] == ["APPLIED"]


def test_an_attester_proposal_waits_and_its_subject_sees_and_approves_it(system, clients):
    first, added = Account.create(), Account.create()
    sid = _register(clients, 900_004, [first.address], id_type="resident_id")
    proposed = clients("attester").post_signed(f"/v1/subjects/{sid}/signer-changes",
                                               {"add": [added.address], "remove": [], "threshold": 1})
    assert proposed["status"] == "PENDING" and proposed["tx_hash"]
    early = clients("dept-hrss").request("POST", f"/v1/subjects/{sid}/signer-changes/{proposed['change_id']}/apply")
    assert early.status_code == 409 and early.json()["error"]["code"] == "CHANGE_NOT_DUE"
    signer = ApiClient(system.api_url, first).login()
    try:
        pending = [c for c in signer.get("/v1/me/signer-changes")["signer_changes"] if c["status"] == "PENDING"]
        assert [c["change_id"] for c in pending] == [proposed["change_id"]]
        typed = pending[0]["approval_typed_data"]
        applied = signer.post(f"/v1/subjects/{sid}/signer-changes", {
            "add": [added.address], "threshold": 1, "typed_data": typed,
            "signatures": [signer.sign_typed_data(typed)]})
    finally:
        signer.close()
    assert applied["change_id"] == proposed["change_id"] and applied["status"] == "APPLIED"


def test_bad_signer_change_input_is_refused_by_name(system, clients):
    owner = Account.create()
    sid = _register(clients, 900_005, [owner.address])
    attester = clients("attester")
    unknown = attester.request("POST", "/v1/subjects/0x" + "00" * 32 + "/signer-changes",
                               {"add": [Account.create().address], "threshold": 1})
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "UNKNOWN_SUBJECT"
    not_signer = attester.request("POST", f"/v1/subjects/{sid}/signer-changes",
                                  {"remove": [Account.create().address], "threshold": 1})
    assert not_signer.status_code == 422 and "SubjectsNotSigner" in not_signer.json()["error"]["message"]
    malformed = attester.request("POST", f"/v1/subjects/{sid}/signer-changes", {"add": ["0x12"], "threshold": 1})
    assert malformed.status_code == 422
    outsider = clients("dept-hrss").request("POST", f"/v1/subjects/{sid}/signer-changes",
                                            {"add": [Account.create().address], "threshold": 1})
    assert outsider.status_code == 403 and outsider.json()["error"]["code"] == "NOT_SUBJECT_SIGNER"
    signer = ApiClient(system.api_url, owner).login()
    try:
        change = {"add": [Account.create().address], "threshold": 1}
        draft = signer.post(f"/v1/subjects/{sid}/signer-changes", change)
        other = signer.request("POST", f"/v1/subjects/{sid}/signer-changes", {
            "add": [Account.create().address], "threshold": 1, "typed_data": draft["typed_data"],
            "signatures": [signer.sign_typed_data(draft["typed_data"])]})
        assert other.status_code == 422 and other.json()["error"]["code"] == "INVALID_TYPED_DATA"
        forged = signer.request("POST", f"/v1/subjects/{sid}/signer-changes", {
            **change, "typed_data": draft["typed_data"],
            "signatures": ["0x" + Account.create().unsafe_sign_hash(b"\1" * 32).signature.hex()]})
        assert forged.status_code == 422 and forged.json()["error"]["code"] == "INVALID_SIGNATURE"
        listing = signer.request("GET", "/v1/subjects/0x" + "11" * 32 + "/signer-changes")
        assert listing.status_code == 404
    finally:
        signer.close()


def test_the_attest_cli_registers_with_the_attesters_own_key(system):
    done = subprocess.run([sys.executable, "-m", "api.cli", "attest", "register", "--id-type", "resident_id",
                           "--id-number", resident_id(900_006), "--signer", Account.create().address,
                           "--api", system.api_url], env=system.env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert '"tx_hash"' in done.stdout
