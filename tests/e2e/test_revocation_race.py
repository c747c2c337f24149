"""A revocation wins: after its receipt, not one more release under that consent."""

from __future__ import annotations

import threading
import time

import pytest

from ledger import keystore
from ledger.client import ApiClient
from tests.support.flows import ZHANG, grant, query, revoke

pytestmark = pytest.mark.e2e
WORKERS = 8


def test_no_release_after_revocation_receipt(clients, system):
    zhang, hrss = clients("citizen-zhang"), clients("dept-hrss")
    consent_id = grant(zhang, hrss, ZHANG, "hrss.social_insurance", ["medical_status"], purpose="race_check")
    stop = threading.Event()
    results: list[tuple[float, int, str]] = []  # (request start, status, reason)
    lock = threading.Lock()

    key = keystore.load_key("dept-hrss")  # once: decrypting a keystore per thread can outlast the race's first second

    def hammer():
        client = ApiClient(system.api_url, key)
        client.token = hrss.token
        while not stop.is_set():
            started = time.monotonic()
            reply = query(client, ZHANG, "hrss.social_insurance", ["medical_status"], purpose="race_check")
            reason = reply.json().get("decision", {}).get("reason", "")
            with lock:
                results.append((started, reply.status_code, reason))
        client.close()

    threads = [threading.Thread(target=hammer) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    # Revoke only once releases are flowing: on a busy machine the first ones can take a while.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any(status == 200 for _, status, _ in list(results)):
        time.sleep(0.05)
    time.sleep(0.5)
    receipt = revoke(zhang, consent_id)
    receipt_seen = time.monotonic()
    time.sleep(1.0)
    stop.set()
    for thread in threads:
        thread.join()

    before = [r for r in results if r[0] < receipt_seen]
    after = [r for r in results if r[0] > receipt_seen]
    assert any(status == 200 for _, status, _ in before), "the race never released anything before revoking"
    assert after, "no request started after the revocation receipt"
    stale = [r for r in after if r[1] == 200]
    assert stale == [], f"{len(stale)} releases after the revocation receipt"
    assert all(reason == "REVOKED" for _, _, reason in after)

    # The audit trail agrees: every ALLOW under this consent was decided before the revocation block.
    regulator = clients("regulator")
    entries, after_seq = [], -1
    while True:
        page = regulator.get(f"/v1/audit/entries?after={after_seq}&limit=500")["entries"]
        if not page:
            break
        entries += page
        after_seq = page[-1]["seq"]
    allows = [e for e in entries if e["consent_id"] == consent_id and e["decision"] == "ALLOW"]
    assert allows and all(e["block_number"] < receipt["block_number"] for e in allows)
