"""Two API instances, one log: two ``consent-ledger serve`` on one PostgreSQL database and one data dir,
driven at once, and the leader killed with ``kill -9`` mid-load.

The system is this module's own (its own database in the session's cluster, its own devnet), so
the kill leaves the other end-to-end tests' system alone.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import text

from ledger import keystore
from ledger.client import ApiClient
from ledger.storage.database import make_engine
from tests.support.flows import ZHANG, grant, query
from tests.support.system import running_system, signed_in
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e

INSTANCES = ("api", "api2")
TAKEOVER_BOUND = 10.0  # seconds: the leader's successor integrates and anchors, and releases go on


@pytest.fixture(scope="module")
def pair(postgres_cluster, tmp_path_factory):
    url = postgres_cluster.fresh_database("two_instances")
    with running_system(tmp_path_factory.mktemp("two-instances"),
                        extra_env={"CONSENT_LEDGER_DATABASE_URL": url}) as system:
        system.start_api("api2")
        yield system


@pytest.fixture(scope="module")
def on_both(pair):
    """Signed-in clients of either instance by demo key name; a token is made on the first instance
    only and used on both (they share the data dir's JWT key)."""
    others: list[ApiClient] = []
    with signed_in(pair) as first:
        def get(name: str, instance: str) -> ApiClient:
            client = first(name)
            if instance == "api":
                return client
            other = ApiClient(pair.api_urls[instance], keystore.load_key(name))
            other.token = client.token
            others.append(other)
            return other

        yield get
        for client in others:
            client.close()


def _readiness(pair, instance: str) -> dict:
    token = (pair.home / "secrets" / "ops.token").read_text().strip()
    reply = httpx.get(pair.api_urls[instance] + "/readyz", headers={"authorization": f"Bearer {token}"}, timeout=5)
    return reply.json()["checks"]["anchoring"]


def _log_seqs(pair) -> list[int]:
    engine = make_engine(pair.env["CONSENT_LEDGER_DATABASE_URL"])
    try:
        with engine.connect() as connection:
            return [seq for (seq,) in connection.execute(text("SELECT seq FROM audit_entries ORDER BY seq"))]
    finally:
        engine.dispose()


def _verify(pair, tmp_path) -> dict:
    export = tmp_path / "audit.jsonl"
    pair.cli("audit", "export", "--out", str(export))
    done = pair.cli("audit", "verify", "--export", str(export), "--deployment", str(pair.home / "deployment.json"),
                    "--json", check=False)
    verdict = json.loads(done.stdout)
    assert done.returncode == 0 and verdict["ok"], verdict
    return verdict


def test_max_uses_holds_exactly_across_two_instances(pair, on_both, tmp_path):
    # Granted through the second instance: it relays the citizen's transaction with the shared relayer keys.
    zhang = on_both("citizen-zhang", "api2")
    grant(zhang, on_both("dept-hrss", "api"), ZHANG, "hrss.social_insurance", ["name"], purpose="two_instances",
          max_uses=5)
    departments = [on_both("dept-hrss", instance) for instance in INSTANCES]
    with ThreadPoolExecutor(32) as pool:
        replies = list(pool.map(lambda i: query(departments[i % 2], ZHANG, "hrss.social_insurance", ["name"],
                                                purpose="two_instances"), range(32)))
    statuses = [r.status_code for r in replies]
    assert statuses.count(200) == 5, [r.text for r in replies if r.status_code not in (200, 403)]
    assert {r.json()["error"]["code"] for r in replies if r.status_code == 403} == {"USES_EXHAUSTED"}
    served_by = {i % 2 for i, r in enumerate(replies) if r.status_code in (200, 403)}
    assert served_by == {0, 1}  # both instances decided

    seqs = _log_seqs(pair)
    assert seqs == list(range(len(seqs)))  # no gap, no duplicate
    assert {r.json()["audit"]["seq"] for r in replies} <= set(seqs)
    wait_until(lambda: all(_readiness(pair, i)["anchored_size"] >= len(seqs) for i in INSTANCES), 15, "anchored")
    _verify(pair, tmp_path)


def test_kill_9_of_the_leader_mid_load_loses_nothing_and_releases_resume(pair, on_both, tmp_path):
    zhang = on_both("citizen-zhang", "api")
    grant(zhang, on_both("dept-hrss", "api"), ZHANG, "hrss.social_insurance", ["name"], purpose="two_instances_load")
    leaders = [i for i in INSTANCES if _readiness(pair, i)["integrator"]]
    assert len(leaders) == 1, leaders
    leader, survivor = leaders[0], next(i for i in INSTANCES if i != leaders[0])
    token = on_both("dept-hrss", "api").token

    answered: list[tuple[float, str, int, int]] = []  # (when, instance, status, seq) of each decided query
    refused: list[tuple[float, str, int]] = []  # answers without a decision (503 while failing closed)
    stop = threading.Event()
    lock = threading.Lock()

    def drive(instance: str) -> None:
        body = {**ZHANG, "resource_id": "hrss.social_insurance", "fields": ["name"], "purpose": "two_instances_load"}
        with httpx.Client(base_url=pair.api_urls[instance], headers={"authorization": f"Bearer {token}"},
                          timeout=10) as http:
            while not stop.is_set():
                try:
                    reply = http.post("/v1/records/query", json=body)
                except httpx.HTTPError:  # the killed instance: nothing answered, nothing promised
                    time.sleep(0.05)
                    continue
                with lock:
                    if reply.status_code in (200, 403):
                        answered.append((time.monotonic(), instance, reply.status_code, reply.json()["audit"]["seq"]))
                    else:
                        refused.append((time.monotonic(), instance, reply.status_code))

    threads = [threading.Thread(target=drive, args=(i,), daemon=True) for i in INSTANCES for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(3)
        killed_at = time.monotonic()
        pair.stop(leader, signal.SIGKILL)
        took_over = wait_until(lambda: _readiness(pair, survivor)["integrator"], TAKEOVER_BOUND, "takeover")
        time.sleep(max(0.0, killed_at + TAKEOVER_BOUND + 2 - time.monotonic()))
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=15)

    assert {instance for _, instance, _, _ in answered} == {leader, survivor}
    before = [a for a in answered if a[0] < killed_at]
    assert {instance for _, instance, _, _ in before} == {leader, survivor}  # both were serving when it died
    released = sorted(when for when, instance, status, _ in answered if instance == survivor and status == 200)
    times = [t for t in released if t >= killed_at - 1]
    gaps = [b - a for a, b in zip([killed_at, *times], times)]
    assert times and max(gaps) < TAKEOVER_BOUND, (max(gaps, default=None), refused[-5:])
    assert released[-1] > killed_at + TAKEOVER_BOUND  # still releasing at the end

    seqs = _log_seqs(pair)
    assert seqs == list(range(len(seqs)))  # no gap, no duplicate
    assert {seq for *_, seq in answered} <= set(seqs)  # nothing acknowledged is lost
    wait_until(lambda: _readiness(pair, survivor)["anchored_size"] >= len(seqs), 15, "the survivor anchors the rest")
    verdict = _verify(pair, tmp_path)
    print(f"takeover {took_over:.1f} s after kill -9; largest gap between releases {max(gaps):.2f} s; "
          f"{len(answered)} decided, {len(refused)} refused; {verdict['entries_checked']} entries verified")
