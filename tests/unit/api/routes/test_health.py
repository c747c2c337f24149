"""Operations routes: liveness, readiness (bare status public, checks with the ops token), metrics."""

from __future__ import annotations

import pytest

from tests.support.fake_services import OPS_TOKEN

pytestmark = pytest.mark.unit

OPS = {"authorization": f"Bearer {OPS_TOKEN}"}


def test_healthz_is_public(client, services):
    reply = client.get("/healthz")
    assert reply.status_code == 200 and reply.json() == {"status": "ok"}
    assert services.started == 1  # the lifespan started the injected services


def test_readyz_without_the_ops_token_is_the_bare_status(client, services):
    reply = client.get("/readyz")
    assert reply.status_code == 200 and reply.json() == {"ready": True}
    services.health.report = {"ready": False, "checks": {"anchoring": {"ok": False, "lag_seconds": 12.5}}}
    reply = client.get("/readyz", headers={"authorization": "Bearer not-the-ops-token"})
    assert reply.status_code == 503 and reply.json() == {"ready": False}


def test_readyz_with_the_ops_token_shows_the_checks(client, services):
    reply = client.get("/readyz", headers=OPS)
    assert reply.status_code == 200 and reply.json() == services.health.report
    services.health.report = {"ready": False, "checks": {"database": {"ok": False, "error": "OperationalError"}}}
    reply = client.get("/readyz", headers=OPS)
    assert reply.status_code == 503 and reply.json()["checks"]["database"]["error"] == "OperationalError"


def test_metrics_need_the_ops_token(client):
    for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": f"Basic {OPS_TOKEN}"}):
        reply = client.get("/metrics", headers=headers)
        assert reply.status_code == 401 and reply.json()["error"]["code"] == "OPS_TOKEN_REQUIRED"
    reply = client.get("/metrics", headers=OPS)
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/plain")


def test_no_ops_token_configured_means_no_detailed_readiness(tmp_path):
    from fastapi.testclient import TestClient

    from api.main import create_app
    from tests.support.fake_services import FakeServices, fake_settings

    services = FakeServices(fake_settings(tmp_path, ops_token=""))
    with TestClient(create_app(services.settings, services=services)) as client:
        assert client.get("/readyz", headers={"authorization": "Bearer "}).json() == {"ready": True}
        assert client.get("/metrics", headers={"authorization": "Bearer "}).status_code == 401
    assert services.stopped == 1
