"""PostgreSQL for the tests: one private cluster per test session (bench/postgres.py), a fresh
database per test. The tests that use it do not skip: where the server can be installed,
``scripts/setup`` installs it, and a missing server is a failure to fix, not a pass."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from bench.postgres import LocalPostgres


@pytest.fixture(scope="session")
def postgres_cluster():
    root = Path(tempfile.mkdtemp(prefix="consent-ledger-pg-"))
    root.chmod(0o711)  # the server may run as another user: it must reach its directory
    cluster = LocalPostgres(root / "cluster")
    cluster.start()
    yield cluster
    cluster.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture()
def postgres_url(postgres_cluster: LocalPostgres) -> str:
    """A new, empty database for this test."""
    postgres_cluster.reset()
    return postgres_cluster.url
