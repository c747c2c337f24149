"""Finding 12 (API items): SIWE binding, error hygiene, ops endpoints, default password, secret files."""

from __future__ import annotations

import copy
import os
import subprocess
import sys

import httpx
import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from bench.local_system import CHECKOUT, free_port
from ledger.client import ApiClient
from tests.support.flows import LI, window


def _login_with(system, edit) -> httpx.Response:
    """Sign in with a challenge changed by ``edit`` (and signed as changed, so only the server's checks stand)."""
    account = Account.create()
    with httpx.Client(base_url=system.api_url, timeout=10) as http:
        challenge = http.post("/v1/auth/challenge", json={"address": account.address}).json()
        message = edit(challenge["message"])
        signature = Account.sign_message(encode_defunct(text=message), account.key).signature
        return http.post("/v1/auth/login", json={"message": message, "signature": "0x" + signature.hex()})


def test_siwe_message_for_another_uri_is_refused(system):
    reply = _login_with(system, lambda m: m.replace(f"URI: {system.api_url}", "URI: https://evil.example/login"))
    assert reply.status_code == 401, reply.text
    assert reply.json()["error"]["code"] == "SIWE_URI_MISMATCH"


def test_siwe_message_with_another_scheme_is_refused(system):
    reply = _login_with(system, lambda m: m.replace("http://", "https://", 1))
    assert reply.status_code == 401, reply.text
    assert reply.json()["error"]["code"] == "SIWE_SCHEME_MISMATCH"


def test_unchanged_siwe_message_still_signs_in(system):
    assert _login_with(system, lambda m: m).status_code == 200


def test_ledger_refusal_is_mapped_not_passed_through(clients):
    """A consent the contract refuses (a resource granting no field): a stable code, no library text."""
    li = clients("citizen-li")
    draft = li.post("/v1/consents/drafts", {
        **LI, "grantee": clients("dept-hrss").address, "purpose": "zero_mask",
        "resources": [{"resource_id": "hrss.social_insurance", "fields": ["name"]}], **window()})
    typed = copy.deepcopy(draft["typed_data"])
    typed["message"]["fieldMasks"] = ["0"]
    reply = li.request("POST", "/v1/consents", {"typed_data": typed, "signatures": [li.sign_typed_data(typed)]})
    assert reply.status_code == 422, reply.text
    error = reply.json()["error"]
    assert error["code"] == "INVALID_CONSENT"
    for internal in ("failed:", "Consents", "()", "JSON-RPC", "http://"):
        assert internal not in error["message"], error["message"]


def _ops_token(system) -> str:
    return (system.home / "secrets" / "ops.token").read_text().strip()


def test_metrics_need_the_ops_token(system):
    with httpx.Client(base_url=system.api_url, timeout=10) as http:
        anonymous = http.get("/metrics")
        assert anonymous.status_code == 401, anonymous.text[:200]
        assert anonymous.json()["error"]["code"] == "OPS_TOKEN_REQUIRED"
        wrong = http.get("/metrics", headers={"authorization": "Bearer " + "0" * 64})
        assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "OPS_TOKEN_REQUIRED"
        ok = http.get("/metrics", headers={"authorization": f"Bearer {_ops_token(system)}"})
        assert ok.status_code == 200 and "consent_ledger_audit_tree_size" in ok.text


def test_public_readyz_answers_only_the_bare_status(system):
    with httpx.Client(base_url=system.api_url, timeout=10) as http:
        public = http.get("/readyz")
        assert public.status_code == 200 and public.json() == {"ready": True}
        detailed = http.get("/readyz", headers={"authorization": f"Bearer {_ops_token(system)}"})
        assert detailed.status_code == 200 and detailed.json()["checks"]["chain"]["ok"] is True


def test_ledger_outage_leaks_no_rpc_detail(fresh_system):
    running = fresh_system(demo=False)
    client = ApiClient(running.api_url, Account.create()).login()
    rpc_port = running.rpc_url.rsplit(":", 1)[1]
    running.stop("devnet")
    try:
        with httpx.Client(base_url=running.api_url, timeout=30) as http:
            public = http.get("/readyz")
            assert public.status_code == 503 and public.json() == {"ready": False}, public.text
            token = (running.home / "secrets" / "ops.token").read_text().strip()
            detailed = http.get("/readyz", headers={"authorization": f"Bearer {token}"})
            assert detailed.status_code == 503 and detailed.json()["checks"]["chain"]["ok"] is False
        reply = client.request("POST", "/v1/auth/challenge", {"address": client.address}, auth=False)
        for response in (reply, client.request("GET", "/v1/consents")):
            assert rpc_port not in response.text, response.text
    finally:
        client.close()


def _serve(system, extra_env: dict[str, str]) -> subprocess.CompletedProcess | None:
    """Start a second API on ``system``'s data dir with a dead chain RPC (so a start that should
    have been refused never touches the shared system); None if it kept running."""
    env = {**system.env, "CONSENT_LEDGER_RPC_URL": f"http://127.0.0.1:{free_port()}", **extra_env}
    try:
        return subprocess.run([sys.executable, "-m", "api.cli", "serve", "--port", str(free_port()),
                               "--log-level", "warning"], env=env, cwd=CHECKOUT, capture_output=True,
                              text=True, timeout=90)
    except subprocess.TimeoutExpired:
        return None


def test_default_key_password_is_refused_off_the_local_devnet(system):
    done = _serve(system, {"CONSENT_LEDGER_KEY_PASSWORD": "consent-ledger-devnet",
                           "CONSENT_LEDGER_RPC_URL": "http://ledger-rpc.invalid:8545"})
    assert done is not None and done.returncode != 0
    assert "CONSENT_LEDGER_KEY_PASSWORD" in done.stdout + done.stderr, (done.stdout + done.stderr)[-2000:]


@pytest.mark.parametrize("relative", ["secrets/jwt.key", "secrets/records.key", "secrets/audit-salt.key",
                                      "secrets/pepper", "keystore/admin.json"])
def test_world_readable_secret_file_is_refused(system, relative):
    path = system.home / relative
    mode = path.stat().st_mode & 0o777
    os.chmod(path, 0o644)
    try:
        done = _serve(system, {})
        assert (path.stat().st_mode & 0o777) == 0o644, "the loose file was quietly chmodded"
    finally:
        os.chmod(path, mode)
    assert done is not None, "the API kept running with a world-readable secret file"
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert str(path) in output and "chmod 600" in output, output[-2000:]
