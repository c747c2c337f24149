"""Sign-in routes: input refused before any service is asked, and the sign-in budget (429)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.schemas.auth import Challenge
from tests.support.fake_services import FakeServices, fake_settings

pytestmark = pytest.mark.unit

ADDRESS = "0x" + "ab" * 20


class _CountingAuth:
    def __init__(self, auth):
        self.auth = auth
        self.challenges = 0

    def challenge(self, address: str):
        self.challenges += 1
        return Challenge(message=f"127.0.0.1:8000 wants you to sign in with your Ethereum account:\n{address}",
                         nonce="n" * 64)

    def __getattr__(self, name):
        return getattr(self.auth, name)


def test_login_with_a_malformed_signature_is_invalid_input(client):
    reply = client.post("/v1/auth/login", json={"message": "hello", "signature": "0x1234"})
    assert reply.status_code == 422 and reply.json()["error"]["code"] == "INVALID_INPUT"
    assert "signature" in reply.json()["error"]["message"]


def test_unknown_body_fields_are_refused(client):
    reply = client.post("/v1/auth/challenge", json={"address": ADDRESS, "extra": 1})
    assert reply.status_code == 422 and reply.json()["error"]["code"] == "INVALID_INPUT"


def test_challenges_past_the_budget_get_429_with_retry_after(tmp_path):
    services = FakeServices(fake_settings(tmp_path, challenge_rate_per_second=0.001, challenge_burst=2))
    services.auth = _CountingAuth(services.auth)
    with TestClient(create_app(services.settings, services=services)) as client:
        codes = [client.post("/v1/auth/challenge", json={"address": ADDRESS}).status_code for _ in range(3)]
        refused = client.post("/v1/auth/challenge", json={"address": ADDRESS.upper().replace("0X", "0x")})
    assert codes == [200, 200, 429]
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "RATE_LIMITED"
    assert int(refused.headers["retry-after"]) >= 1
    assert services.auth.challenges == 2  # refused challenges never reach the authenticator
