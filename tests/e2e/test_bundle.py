"""A citizen's offline proof of who saw what: the entry's bundle from the API, checked with
`consent-ledger audit verify-bundle` against the devnet and the log's published key alone, and
refused when the entry, the key or the anchoring transaction is not the log's."""

from __future__ import annotations

import json
import os
import time

import pytest

from ledger.audit.hasher import hash_leaf
from ledger.audit.note import NoteSigner
from tests.support.flows import ZHANG, grant, query

pytestmark = pytest.mark.e2e


def _bundle(client, seq: int, timeout: float = 30) -> dict:
    """The entry's bundle, once an anchored tree head covers it."""
    deadline = time.monotonic() + timeout
    while True:
        reply = client.request("GET", f"/v1/audit/entries/{seq}/bundle")
        if reply.status_code == 200:
            return reply.json()
        assert reply.status_code == 404 and "not yet covered" in reply.json()["error"]["message"], reply.text
        assert time.monotonic() < deadline, "the entry was not anchored in time"
        time.sleep(0.3)


def _verify(system, path, log_key: str):
    done = system.cli("audit", "verify-bundle", str(path), "--log-key", log_key, "--deployment",
                      str(system.home / "deployment.json"), "--json", check=False)
    return done.returncode, json.loads(done.stdout)


def test_a_citizen_proves_an_access_offline_and_a_forged_bundle_fails(system, clients, tmp_path):
    zhang, li, hrss = clients("citizen-zhang"), clients("citizen-li"), clients("dept-hrss")
    grant(zhang, hrss, ZHANG, "hrss.social_insurance", ["name"], purpose="bundle_check")
    released = query(hrss, ZHANG, "hrss.social_insurance", ["name"], purpose="bundle_check")
    assert released.status_code == 200
    seq = released.json()["audit"]["seq"]
    bundle = _bundle(zhang, seq)
    assert bundle["format"] == "consent-ledger-audit-bundle/1"
    assert bundle["proof"].startswith(f"c2sp.org/tlog-proof@v1\nindex {seq}\n")
    assert released.json()["audit"]["leaf_hash"] == "0x" + hash_leaf(bundle["leaf"].encode()).hex()  # the receipt
    assert li.request("GET", f"/v1/audit/entries/{seq}/bundle").status_code == 403  # not about Li
    log_key = system.cli("audit", "log-key").stdout.strip()
    path = tmp_path / f"entry-{seq}.json"
    path.write_text(json.dumps(bundle))

    code, verdict = _verify(system, path, log_key)
    assert code == 0 and verdict["ok"], verdict
    assert verdict["entry"]["seq"] == seq and verdict["entry"]["purpose"] == "bundle_check"
    assert verdict["entry"]["decision"] == "ALLOW" and verdict["block_number"] == bundle["anchor"]["block_number"]

    forgeries = {
        "the entry altered": {**bundle, "leaf": bundle["leaf"].replace("bundle_check", "bundle_other")},
        "another transaction": {**bundle, "anchor": {**bundle["anchor"], "tx_hash": "0x" + "ab" * 32}},
        "a path of another entry": {**bundle, "proof": bundle["proof"].replace(f"index {seq}\n",
                                                                               f"index {seq + 1}\n", 1)},
    }
    for what, forged in forgeries.items():
        path.write_text(json.dumps(forged))
        code, verdict = _verify(system, path, log_key)
        assert code == 1 and not verdict["ok"], what
    path.write_text(json.dumps(bundle))
    impostor = NoteSigner.from_seed(log_key.split("+")[0], os.urandom(32)).verifier.encode()  # same name, other key
    code, verdict = _verify(system, path, impostor)
    assert code == 1 and "not the log's" in verdict["problem"]
