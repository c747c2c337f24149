"""One real system per test session: devnet + gateway, deployed contracts, API server, demo world,
on SQLite, or with ``--database=postgresql`` on the session's private PostgreSQL cluster."""

from __future__ import annotations

import pytest

from tests.support.system import running_system, signed_in


@pytest.fixture(scope="session")
def system(request, tmp_path_factory):
    extra_env = {}
    if request.config.getoption("--database") == "postgresql":
        cluster = request.getfixturevalue("postgres_cluster")
        cluster.reset()
        extra_env["CONSENT_LEDGER_DATABASE_URL"] = cluster.url
    with running_system(tmp_path_factory.mktemp("e2e-home"), extra_env=extra_env) as running:
        yield running


@pytest.fixture(scope="session")
def clients(system):
    """Logged-in API clients by demo key name (admin, regulator, dept-*, citizen-*, enterprise-*)."""
    with signed_in(system) as get:
        yield get
