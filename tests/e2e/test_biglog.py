"""The scale benchmarks' bulk log builder makes logs the regulator's verifier accepts: a log grown by
``bench._biglog`` past what the release path wrote verifies from an export, and a clone turned
into a release the policy never allowed is caught."""

from __future__ import annotations

import json
import os

import pytest

from bench._scale_log import BigLog


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    saved = dict(os.environ)  # the builder points this process's ledger settings at its own system
    grown = BigLog(tmp_path_factory.mktemp("biglog"), log=lambda _message: None)
    try:
        grown.grow(3_000)
        yield grown
    finally:
        grown.close()
        os.environ.clear()
        os.environ.update(saved)


def _verify(big, export) -> tuple[int, dict]:
    done = big.system.cli("audit", "verify", "--export", str(export), "--deployment",
                          str(big.system.home / "deployment.json"), "--json", check=False)
    return done.returncode, json.loads(done.stdout)


def test_a_grown_log_verifies(big, tmp_path):
    assert big.size() == 3_000
    export = tmp_path / "audit.jsonl"
    big.system.cli("audit", "export", "--out", str(export))
    code, report = _verify(big, export)
    assert (code, report["problems"]) == (0, [])
    assert report["entries_checked"] == 3_000 and report["allows_reevaluated"] > 1_000


def test_a_clone_that_releases_what_the_policy_denied_is_caught(big, tmp_path):
    export = tmp_path / "audit.jsonl"
    big.system.cli("audit", "export", "--out", str(export))
    lines = export.read_bytes().splitlines(keepends=True)
    target = next(i for i, line in enumerate(lines) if b'\\"reason\\":\\"FIELD_NOT_GRANTED\\"' in line
                  and i > 2_000)
    lines[target] = lines[target].replace(b'\\"decision\\":\\"DENY\\"', b'\\"decision\\":\\"ALLOW\\"')
    export.write_bytes(b"".join(lines))
    code, report = _verify(big, export)
    assert code == 1
    assert "ANCHOR_ROOT_MISMATCH" in {p["kind"] for p in report["problems"]}
