"""One real system per test session: devnet + gateway, deployed contracts, API server, demo world."""

from __future__ import annotations

import os

import pytest

from api.client import ApiClient
from tests.support.system import make_system

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def system(tmp_path_factory):
    home = tmp_path_factory.mktemp("e2e-home")
    running = make_system(home)
    saved = {k: os.environ.get(k) for k in running.env if k.startswith("CONSENT_LEDGER_")}
    os.environ.update({k: v for k, v in running.env.items() if k.startswith("CONSENT_LEDGER_")})
    try:
        running.start_devnet()
        running.deploy()
        running.start_api()
        from api.demo import seed

        seed(running.api_url)
        yield running
    finally:
        running.stop_all()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="session")
def clients(system):
    """Logged-in API clients by demo key name (admin, regulator, dept-*, citizen-*, enterprise-*)."""
    from ledger import keystore

    made: dict[str, ApiClient] = {}

    def get(name: str) -> ApiClient:
        if name not in made:
            made[name] = ApiClient(system.api_url, keystore.load_key(name)).login()
        return made[name]

    yield get
    for client in made.values():
        client.close()
