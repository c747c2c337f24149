"""Finding 3: the verifier trusted the operator's ``block_number`` and ``time``.

The operator appends releases to the log before they are anchored: one citing the block before a
revocation although written after it, one backdated to before a consent's expiry, one dated after
the anchor that covers it. Each must be named (DESIGN §1.5).
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from tests.redteam import forgery
from tests.redteam.conftest import verify_export
from tests.support.flows import ZHANG, grant, query, revoke


def test_stale_block_backdated_and_postdated_entries_are_named(fresh_system, fresh_clients, tmp_path):
    running = fresh_system()
    login = fresh_clients(running)
    zhang, hrss = login("citizen-zhang"), login("dept-hrss")

    revocable = grant(zhang, hrss, ZHANG, "hrss.social_insurance", ["name"], purpose="finding03_revoke")
    released = query(hrss, ZHANG, "hrss.social_insurance", ["name"], purpose="finding03_revoke")
    assert released.status_code == 200
    revocation = revoke(zhang, revocable)["block_number"]

    expiring = grant(zhang, hrss, ZHANG, "hrss.social_insurance", ["employer"], purpose="finding03_expiry",
                     start=timedelta(seconds=-60), length=timedelta(seconds=68))
    expires_at = zhang.get("/v1/consents")
    valid_until = next(c["valid_until"] for c in expires_at["consents"] if c["consent_id"] == expiring)
    expiry = datetime.fromisoformat(valid_until.replace("Z", "+00:00"))
    assert query(hrss, ZHANG, "hrss.social_insurance", ["employer"], purpose="finding03_expiry").status_code == 200
    time.sleep(max(0.0, (expiry - forgery.now()).total_seconds()) + 3)
    expired = query(hrss, ZHANG, "hrss.social_insurance", ["employer"], purpose="finding03_expiry")
    assert expired.json()["error"]["code"] == "EXPIRED"
    log = forgery.entries(running)
    forgery.wait_anchored(running, len(log))
    head, head_time = forgery.head(running)
    assert head_time >= expiry + timedelta(seconds=3)

    genuine = log[released.json()["audit"]["seq"]]
    denied = log[expired.json()["audit"]["seq"]]
    stale, backdated, postdated = forgery.append_forged(
        running,
        # written now, citing the block before the revocation: the policy there allows it
        forgery.forge(genuine, time=forgery.now(), block_number=revocation - 1),
        # a release under the expired consent, dated a second before its expiry, at today's block
        forgery.forge(denied, decision="ALLOW", reason="OK", consent_id=expiring, time=expiry - timedelta(seconds=1),
                      block_number=head),
        # an unconditional release dated two minutes ahead, after the anchor that will cover it
        forgery.forge(genuine, resource="mzj.registered_orgs", fields=("org_name",), consent_id=None,
                      time=forgery.later(120), block_number=head))

    report = verify_export(running, tmp_path)
    named = {(p["kind"], p["seq"]) for p in report["problems"]}
    assert ("ENTRY_BLOCK_STALE", stale) in named, report["problems"]
    assert ("ENTRY_BEFORE_BLOCK", backdated) in named, report["problems"]
    assert ("TIME_NOT_MONOTONIC", backdated) in named, report["problems"]
    assert ("ENTRY_AFTER_ANCHOR", postdated) in named, report["problems"]
    # the honest entries before them, stamped by the live path, pass every time check
    assert all(p["seq"] is not None and p["seq"] >= stale for p in report["problems"]), report["problems"]
