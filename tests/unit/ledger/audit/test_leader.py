"""The leader: of several instances on one database exactly one integrates and anchors; when it dies
(kill -9 of its process, or its database connections cut) another takes over within 10 s; and a
deposed leader can neither write the tree nor confirm itself for an anchor."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from ledger.audit.integrate import IntegrationLoop, Integrator, LeaseLost
from ledger.audit.lease import Lease
from ledger.audit.note import NoteSigner
from ledger.storage.database import make_engine, migrate
from tests.unit.ledger.audit.test_log import ORIGIN, _decide, _started, db_url, engine  # noqa: F401 (fixtures)
from tests.support.waiting import wait_until

pytestmark = pytest.mark.unit

CHECKOUT = Path(__file__).resolve().parents[4]
TAKEOVER_BOUND = 10.0

#: A whole instance's leader machinery in a process of its own, so that it can be killed for real.
INSTANCE = textwrap.dedent("""
    import sys, time
    from ledger.audit.integrate import IntegrationLoop, Integrator
    from ledger.audit.lease import Lease
    from ledger.audit.note import NoteSigner
    from ledger.storage.database import make_engine
    url, origin = sys.argv[1:3]
    engine = make_engine(url)
    loop = IntegrationLoop(Integrator(engine, Lease(engine, "integrator", "other-process"),
                                      NoteSigner.from_seed(origin, bytes(32)), origin))
    loop.start()
    while not loop.leader:
        time.sleep(0.05)
    print("leading", flush=True)
    time.sleep(600)
""")


def _loop(engine, holder: str) -> IntegrationLoop:
    integrator = Integrator(engine, Lease(engine, "integrator", holder), NoteSigner.from_seed(ORIGIN, bytes(32)),
                            ORIGIN)
    loop = IntegrationLoop(integrator)
    loop.start()
    return loop


def _head(engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(text("SELECT coalesce(max(tree_size), 0) FROM audit_checkpoint"))


def test_exactly_one_of_two_instances_leads(engine):
    loops = [_loop(engine, "a"), _loop(engine, "b")]
    try:
        wait_until(lambda: any(loop.leader for loop in loops), 5)
        for _ in range(30):  # over three renewals each: never both, never neither
            assert [loop.leader for loop in loops].count(True) == 1
            time.sleep(0.1)
    finally:
        for loop in loops:
            loop.stop()


def test_another_instance_takes_over_within_10_s_of_the_leaders_kill_9(engine, db_url):
    log = _started(engine)
    other = subprocess.Popen([sys.executable, "-c", INSTANCE, db_url, ORIGIN], cwd=CHECKOUT,
                             stdout=subprocess.PIPE, text=True, start_new_session=True)
    loop = None
    try:
        assert other.stdout.readline().strip() == "leading"
        loop = _loop(engine, "this-process")
        log.append(_decide())
        wait_until(lambda: _head(engine) == 1, 5)  # the other process integrates
        assert not loop.leader
        os.killpg(other.pid, signal.SIGKILL)
        other.wait()
        log.append(_decide())
        took = wait_until(lambda: loop.leader, TAKEOVER_BOUND)
        wait_until(lambda: _head(engine) == 2, 2)  # and integrates from the tiles the dead one left
        assert took > 1  # it waited for the lease to lapse: not a lucky race
    finally:
        if other.poll() is None:
            os.killpg(other.pid, signal.SIGKILL)
            other.wait()
        if loop is not None:
            loop.stop()
        log.stop()


def test_a_leader_whose_connections_are_cut_is_still_the_only_one(postgres_url):
    engine = make_engine(postgres_url)
    migrate(engine)
    log = _started(engine)
    loops = [_loop(make_engine(postgres_url), "a"), _loop(make_engine(postgres_url), "b")]
    try:
        wait_until(lambda: any(loop.leader for loop in loops), 5)
        with engine.connect() as connection:  # every session but this one: both instances' pools
            connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
        log.append(_decide())
        wait_until(lambda: _head(engine) == 1, TAKEOVER_BOUND)
        assert [loop.leader for loop in loops].count(True) == 1
    finally:
        for loop in loops:
            loop.stop()
            loop.integrator.engine.dispose()
        log.stop()
        engine.dispose()


def test_a_deposed_leader_can_neither_write_nor_confirm_itself(engine):
    log = _started(engine)
    log.append(_decide())
    first = Lease(engine, "integrator", "a", ttl=0.2)
    second = Lease(engine, "integrator", "b", ttl=0.2)
    assert first.hold() and first.confirm()
    stale = Integrator(engine, first, NoteSigner.from_seed(ORIGIN, bytes(32)), ORIGIN)
    time.sleep(0.3)  # "a" stalls past its lease
    assert second.hold()
    first.term = 1  # as "a" still believes on waking
    assert not first.confirm() and first.term is None  # so its anchorer sends nothing
    first.term = 1
    with pytest.raises(LeaseLost):
        stale.integrate_once()
    assert _head(engine) == 0 and first.term is None
    log.stop()
