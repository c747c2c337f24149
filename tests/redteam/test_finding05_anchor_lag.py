"""Finding 5: with the anchorer's ANCHORER_ROLE revoked on-chain, releases went on.

Releases must fail closed once the oldest unanchored entry has waited longer than the bound (10 s
by default): 503 ANCHOR_LAG, no data, /readyz not ready; they resume by themselves once anchoring
does, and the verifier reports the unanchored tail while it lasts.
"""

from __future__ import annotations

import time

import httpx
from eth_utils import keccak

from ledger import keystore
from tests.redteam.conftest import operator_chain, problem_kinds, verify_export
from tests.support.flows import ZHANG, grant, query

ANCHORER_ROLE = keccak(text="ANCHORER_ROLE")
BOUND = 10.0  # CONSENT_LEDGER_MAX_ANCHOR_LAG's default
MARGIN = 3.0


def _ask(hrss):
    return query(hrss, ZHANG, "hrss.social_insurance", ["name"], purpose="finding05")


def test_releases_stop_while_anchoring_is_stopped_and_resume_after(fresh_system, fresh_clients, tmp_path):
    running = fresh_system()
    login = fresh_clients(running)
    zhang, hrss = login("citizen-zhang"), login("dept-hrss")
    grant(zhang, hrss, ZHANG, "hrss.social_insurance", ["name"], purpose="finding05")
    assert _ask(hrss).status_code == 200

    admin = operator_chain(running, "admin")
    participants = admin.contract("Participants")
    admin_address, anchorer = keystore.load_key("admin").address, keystore.load_key("anchorer").address
    participants.transact("revokeRole", ANCHORER_ROLE, anchorer, sender=admin_address)

    first_unanchored = time.monotonic()
    assert _ask(hrss).status_code == 200  # within the bound, releases go on
    refused = None
    while time.monotonic() - first_unanchored < BOUND + MARGIN:
        reply = _ask(hrss)
        if reply.status_code != 200:
            refused = reply
            break
        time.sleep(0.25)
    assert refused is not None, f"still releasing {BOUND + MARGIN:g} s after anchoring stopped"
    assert refused.status_code == 503 and refused.json()["error"]["code"] == "ANCHOR_LAG"
    assert "data" not in refused.json()
    assert time.monotonic() - first_unanchored >= BOUND - 1  # not before the bound either
    assert httpx.get(running.api_url + "/readyz").status_code == 503

    report = verify_export(running, tmp_path)
    assert "UNANCHORED_TAIL" in problem_kinds(report), report["problems"]

    participants.transact("grantRole", ANCHORER_ROLE, anchorer, sender=admin_address)
    deadline = time.monotonic() + 15
    while (reply := _ask(hrss)).status_code != 200:
        assert time.monotonic() < deadline, f"releases did not resume: {reply.text}"
        time.sleep(0.25)
    admin.close()
    assert httpx.get(running.api_url + "/readyz").status_code == 200
    time.sleep(1.5)  # the last release's anchor
    assert verify_export(running, tmp_path)["ok"] is True
