"""The regulator's verification, as an API job and from an export on the regulator's own machine, after
releases, denials and a revocation (on SQLite and on PostgreSQL); and incrementally, from a state file
that a full run writes and later runs move on, checking only the new entries and failing on tampering."""

from __future__ import annotations

import json
import time

import pytest

from tests.support.flows import ZHANG, grant, query, revoke, verification

pytestmark = pytest.mark.e2e


def _log_size(regulator) -> int:
    """The number of committed entries, paging through the log (a page holds at most 1000)."""
    last = -1
    while page := regulator.get(f"/v1/audit/entries?after={last}&limit=1000")["entries"]:
        last = page[-1]["seq"]
    return last + 1


def _anchored_size(regulator, timeout: float = 30) -> int:
    """Wait until every committed entry is anchored; returns the log's size."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        size = _log_size(regulator)
        if regulator.get(f"/v1/audit/anchors?after={size - 1}&limit=1")["anchors"]:  # one covers them all
            return size
        time.sleep(0.3)
    raise AssertionError("the log was not anchored in time")


def _verify_cli(system, export, state, check=True, *options: str):
    source = ("--export", str(export)) if export is not None else ("--database",)
    done = system.cli("audit", "verify", *source, "--state", str(state), "--deployment",
                      str(system.home / "deployment.json"), "--json", *options, check=False)
    verdict = json.loads(done.stdout)
    if check:
        assert done.returncode == 0 and verdict["ok"], verdict
    return done.returncode, verdict


def test_the_service_and_an_export_both_verify_after_releases_and_a_revocation(system, clients, tmp_path):
    zhang, hrss = clients("citizen-zhang"), clients("dept-hrss")
    consent_id = grant(zhang, hrss, ZHANG, "hrss.social_insurance", ["name"], purpose="verify_check", max_uses=3)
    statuses = [query(hrss, ZHANG, "hrss.social_insurance", ["name"], purpose="verify_check").status_code
                for _ in range(4)]
    assert statuses == [200, 200, 200, 403]  # the fourth use is over max_uses
    revoke(zhang, consent_id)
    assert query(hrss, ZHANG, "hrss.social_insurance", ["name"], purpose="verify_check").status_code == 403

    regulator = clients("regulator")
    _anchored_size(regulator)
    job = verification(regulator, full=True)
    assert job["status"] == "done" and job["entries_checked"] == job["entries_total"], job
    report = job["report"]
    assert report["ok"], report["problems"]
    assert report["allows_reevaluated"] >= 3 and report["from_size"] == 0

    export = tmp_path / "audit.jsonl"
    system.cli("audit", "export", "--out", str(export))
    done = system.cli("audit", "verify", "--export", str(export), "--deployment",
                      str(system.home / "deployment.json"), "--json", check=False)
    verdict = json.loads(done.stdout)
    assert done.returncode == 0 and verdict["ok"], verdict


def test_the_api_job_verifies_incrementally_and_an_unknown_job_is_404(system, clients):
    zhang, hrss, regulator = clients("citizen-zhang"), clients("dept-hrss"), clients("regulator")
    grant(zhang, hrss, ZHANG, "hrss.social_insurance", ["name"], purpose="verify_job")
    _anchored_size(regulator)
    first = verification(regulator)
    assert first["status"] == "done" and first["report"]["ok"], first
    for _ in range(3):
        assert query(hrss, ZHANG, "hrss.social_insurance", ["name"], purpose="verify_job").status_code == 200
    size = _anchored_size(regulator)
    second = verification(regulator)
    report = second["report"]
    assert second["status"] == "done" and report["ok"], second
    assert report["from_size"] == first["report"]["verified_size"] > 0
    assert report["entries_checked"] == size - report["from_size"] and report["verified_size"] == size

    from ledger.client import ApiClientError

    with pytest.raises(ApiClientError) as refused:
        regulator.get("/v1/audit/verify/" + "0" * 32)
    assert refused.value.status == 404 and refused.value.code == "VERIFICATION_JOB_NOT_FOUND"


def test_an_incremental_run_checks_only_the_new_entries_and_finds_tampering(system, clients, tmp_path):
    zhang, hrss, regulator = clients("citizen-zhang"), clients("dept-hrss"), clients("regulator")
    grant(zhang, hrss, ZHANG, "hrss.social_insurance", ["name"], purpose="verify_state")
    assert query(hrss, ZHANG, "hrss.social_insurance", ["name"], purpose="verify_state").status_code == 200
    size = _anchored_size(regulator)
    export, state = tmp_path / "audit.jsonl", tmp_path / "state.json"
    system.cli("audit", "export", "--out", str(export))
    _, full = _verify_cli(system, export, state)  # no state yet: a full run, which writes it
    assert full["from_size"] == 0 and full["entries_checked"] == size and full["state"]["written"]
    assert json.loads(state.read_text())["size"] == size

    for _ in range(3):
        assert query(hrss, ZHANG, "hrss.social_insurance", ["name"], purpose="verify_state").status_code == 200
    grown = _anchored_size(regulator)
    system.cli("audit", "export", "--out", str(export))
    _, increment = _verify_cli(system, export, state)
    assert increment["from_size"] == size and increment["entries_checked"] == grown - size
    assert increment["allows_reevaluated"] >= 3 and json.loads(state.read_text())["size"] == grown

    for _ in range(2):
        assert query(hrss, ZHANG, "hrss.social_insurance", ["name"], purpose="verify_state").status_code == 200
    _anchored_size(regulator)
    system.cli("audit", "export", "--out", str(export))
    lines = export.read_text().splitlines()
    lines[-1] = lines[-1].replace("verify_state", "verify_other")  # a new entry, altered after it was anchored
    export.write_text("\n".join(lines) + "\n")
    before = state.read_text()
    code, tampered = _verify_cli(system, export, state, check=False)
    assert code == 1 and not tampered["ok"] and not tampered["state"]["written"]
    assert {"ANCHOR_ROOT_MISMATCH", "LOG_INCONSISTENT"} <= {p["kind"] for p in tampered["problems"]}
    assert state.read_text() == before  # the state never moves past a problem


def _state_without_time(path) -> dict:
    state = json.loads(path.read_text())
    state.pop("verified_at")
    return state


def test_a_verification_in_short_runs_reaches_the_same_verdict_and_state(system, clients, tmp_path):
    """Runs of two entries, each ending at an anchored head, from an export and from the database (read a
    run at a time): the same report and state as one run; an altered entry stops the run that holds it."""
    zhang, hrss, regulator = clients("citizen-zhang"), clients("dept-hrss"), clients("regulator")
    grant(zhang, hrss, ZHANG, "hrss.social_insurance", ["name"], purpose="verify_runs")
    for _ in range(3):  # an anchor after each, so the runs have heads to end at
        assert query(hrss, ZHANG, "hrss.social_insurance", ["name"], purpose="verify_runs").status_code == 200
        _anchored_size(regulator)
    size = _anchored_size(regulator)
    export = tmp_path / "audit.jsonl"
    system.cli("audit", "export", "--out", str(export))
    _, whole = _verify_cli(system, export, tmp_path / "whole.json")
    for source, name in ((export, "runs.json"), (None, "database-runs.json")):
        _, runs = _verify_cli(system, source, tmp_path / name, True, "--run-entries", "2")
        assert runs["entries_checked"] == whole["entries_checked"] == size
        assert runs["anchors_checked"] == whole["anchors_checked"] >= 3
        assert runs["allows_reevaluated"] == whole["allows_reevaluated"]
        assert _state_without_time(tmp_path / name)["size"] >= size
    assert _state_without_time(tmp_path / "runs.json") == _state_without_time(tmp_path / "whole.json")

    lines = export.read_text().splitlines()
    first = next(i for i, line in enumerate(lines) if "verify_runs" in line and "ALLOW" in line)
    lines[first] = lines[first].replace("verify_runs", "verify_other")  # anchored long before the log's end
    export.write_text("\n".join(lines) + "\n")
    code, tampered = _verify_cli(system, export, tmp_path / "tampered.json", False, "--run-entries", "2")
    assert code == 1 and "ANCHOR_ROOT_MISMATCH" in {p["kind"] for p in tampered["problems"]}
    assert tampered["entries_checked"] < size and not tampered["state"]["written"]
