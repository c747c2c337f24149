"""Failures fail closed: with the chain or the database unavailable, no data leaves."""

from __future__ import annotations

import os
import signal
import sqlite3
import time

import pytest

from ledger import keystore
from ledger.client import ApiClient
from tests.support.flows import ZHANG, grant, query
from tests.support.system import running_system

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def faulty(tmp_path_factory):
    """A system of its own: these tests stop and break its parts."""
    home = tmp_path_factory.mktemp("faults-home")
    with running_system(home, extra_env={"CONSENT_LEDGER_AUDIT_TIMEOUT": "2"}) as running:
        zhang = ApiClient(running.api_url, keystore.load_key("citizen-zhang")).login()
        hrss = ApiClient(running.api_url, keystore.load_key("dept-hrss")).login()
        grant(zhang, hrss, ZHANG, "hrss.social_insurance", ["name"])
        yield running, hrss


def _entries(system) -> int:
    with sqlite3.connect(system.home / "ledger.db") as db:
        return db.execute("SELECT count(*) FROM audit_entries").fetchone()[0]


def test_chain_unreachable_releases_nothing_then_recovers(faulty):
    system, hrss = faulty
    assert query(hrss, ZHANG, "hrss.social_insurance", ["name"]).status_code == 200
    before = _entries(system)
    devnet = system.processes["devnet"]
    os.killpg(devnet.pid, signal.SIGSTOP)  # the chain hangs: no answer at all
    try:
        reply = query(hrss, ZHANG, "hrss.social_insurance", ["name"])
    finally:
        os.killpg(devnet.pid, signal.SIGCONT)
    assert reply.status_code == 503
    assert reply.json()["error"]["code"] == "LEDGER_UNAVAILABLE"
    assert "data" not in reply.json()
    assert _entries(system) == before
    # The hang may have kept the last entry unanchored past the bound (503 ANCHOR_LAG): releases
    # resume by themselves once the anchorer catches up.
    deadline = time.monotonic() + 20
    while (reply := query(hrss, ZHANG, "hrss.social_insurance", ["name"])).status_code != 200:
        assert reply.json()["error"]["code"] in ("ANCHOR_LAG", "LEDGER_UNAVAILABLE"), reply.text
        assert time.monotonic() < deadline, reply.text
        time.sleep(0.25)


def test_database_locked_releases_nothing(faulty):
    system, hrss = faulty
    blocker = sqlite3.connect(system.home / "ledger.db", timeout=1, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another process holds the database: no commit can land
    try:
        started = time.monotonic()
        reply = query(hrss, ZHANG, "hrss.social_insurance", ["name"])
    finally:
        blocker.rollback()
        blocker.close()
    assert time.monotonic() - started < 15
    assert reply.status_code == 503
    assert reply.json()["error"]["code"] in ("AUDIT_UNAVAILABLE", "DATABASE_UNAVAILABLE")
    assert "data" not in reply.json()
