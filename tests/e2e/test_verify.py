"""The regulator's verification, in the service and from an export on the regulator's own machine,
after releases, denials and a revocation: both find nothing wrong (on SQLite and on PostgreSQL)."""

from __future__ import annotations

import json
import time

import pytest

from tests.support.flows import ZHANG, grant, query, revoke

pytestmark = pytest.mark.e2e


def test_the_service_and_an_export_both_verify_after_releases_and_a_revocation(system, clients, tmp_path):
    zhang, hrss = clients("citizen-zhang"), clients("dept-hrss")
    consent_id = grant(zhang, hrss, ZHANG, "hrss.social_insurance", ["name"], purpose="verify_check", max_uses=3)
    statuses = [query(hrss, ZHANG, "hrss.social_insurance", ["name"], purpose="verify_check").status_code
                for _ in range(4)]
    assert statuses == [200, 200, 200, 403]  # the fourth use is over max_uses
    revoke(zhang, consent_id)
    assert query(hrss, ZHANG, "hrss.social_insurance", ["name"], purpose="verify_check").status_code == 403

    regulator = clients("regulator")
    deadline = time.monotonic() + 30
    while (report := regulator.post("/v1/audit/verify"))["unanchored_entries"] and time.monotonic() < deadline:
        time.sleep(0.5)
    assert report["ok"], report["problems"]
    assert report["allows_reevaluated"] >= 3

    export = tmp_path / "audit.jsonl"
    system.cli("audit", "export", "--out", str(export))
    done = system.cli("audit", "verify", "--export", str(export), "--deployment",
                      str(system.home / "deployment.json"), "--json", check=False)
    verdict = json.loads(done.stdout)
    assert done.returncode == 0 and verdict["ok"], verdict
