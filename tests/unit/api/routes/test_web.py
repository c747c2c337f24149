"""The web pages at /app/: a strict CSP on every response, the app's index for its pages, 404 for a missing
file, nothing outside the build, a clear error when the pages are not built, and the page's config."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.main import create_app

pytestmark = pytest.mark.unit


@pytest.fixture
def built(tmp_path):
    root = tmp_path / "webapp"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><div id=app></div>")
    (root / "assets" / "index-abc123.js").write_text("console.log(1)")
    (tmp_path / "secret.txt").write_text("outside the build")
    return root


@pytest.fixture
def pages(services, built):
    with TestClient(create_app(services.settings, services=services, web_root=built)) as client:
        yield client


def test_every_response_carries_a_strict_csp(pages):
    for path in ("/app/", "/app/me/consents", "/app/assets/index-abc123.js", "/app/assets/gone.js"):
        csp = pages.get(path).headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp


def test_a_page_of_the_app_gets_the_index_revalidated_each_time(pages):
    reply = pages.get("/app/me/access")
    assert reply.status_code == 200 and reply.text.startswith("<!doctype html>")
    assert reply.headers["cache-control"] == "no-cache"
    assert pages.get("/app", follow_redirects=False).headers["location"] == "/app/"


def test_a_hashed_asset_is_cached_for_a_year_and_a_missing_one_is_404(pages):
    asset = pages.get("/app/assets/index-abc123.js")
    assert asset.status_code == 200 and "immutable" in asset.headers["cache-control"]
    missing = pages.get("/app/assets/gone.js")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize("path", ["/app/../secret.txt", "/app/%2e%2e/secret.txt", "/app/assets/%2e%2e/%2e%2e/secret.txt"])
def test_nothing_outside_the_build_is_served(pages, path):
    reply = pages.get(path)
    assert "outside the build" not in reply.text and reply.status_code in (200, 404)


def test_the_pages_not_built_is_a_clear_404(services, tmp_path):
    with TestClient(create_app(services.settings, services=services, web_root=tmp_path / "nothing")) as client:
        reply = client.get("/app/")
    assert reply.status_code == 404 and reply.json()["error"]["code"] == "WEB_APP_NOT_BUILT"


def test_the_config_names_the_chain_and_the_log_key(pages):
    config = pages.get("/app/config.json").json()
    assert config["chain_id"] == 16211 and config["devnet"] is True and config["log_key"].startswith(config["log_origin"])
