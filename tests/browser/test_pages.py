"""The web pages in headless Chromium (Debian's, driven by playwright-core) against the real system:
devnet, contracts, API server, database, demo world. The specs are in ``web/tests/``; their screenshots land
in ``build/screenshots/`` and their figures (time to first render) in ``build/browser-report.json``."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from ledger.audit.entry import decode_leaf
from tests.support.system import running_system

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
RUNNER = ROOT / "web" / "tests" / "run.js"
REPORT = ROOT / "build" / "browser-report.json"

if not Path("/usr/bin/chromium").exists() or not (ROOT / "web" / "node_modules").is_dir() or \
        not (ROOT / "api" / "webapp" / "index.html").is_file():
    pytest.skip("Chromium, the web packages or the built pages are missing: run scripts/setup", allow_module_level=True)


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    with running_system(tmp_path_factory.mktemp("browser-home")) as running:
        yield running


def _run(system, *specs: str, report: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    done = subprocess.run(["node", str(RUNNER), "--base", system.api_url, "--home", str(system.home),
                           "--report", str(report), *specs], cwd=ROOT / "web", capture_output=True, text=True,
                          timeout=1800, env={**os.environ, **(env or {})})
    print(done.stdout[-20000:], done.stderr[-5000:])
    return done


def test_every_screen_works_in_the_browser(system):
    done = _run(system, report=REPORT)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    results = json.loads(REPORT.read_text())["results"]
    assert results and all(r["ok"] for r in results)


def test_the_regulator_sees_a_changed_row_reported(system, tmp_path):
    """After the other screens ran: one ALLOW leaf is altered in the database, and the regulator's
    verification in the page names it."""
    connection = sqlite3.connect(system.home / "ledger.db")
    try:
        rows = connection.execute("SELECT seq, leaf FROM audit_entries WHERE decision = 'ALLOW' ORDER BY seq").fetchall()
        assert rows, "the screens made releases"
        seq, leaf = rows[-1]
        entry = decode_leaf(leaf)
        altered = leaf.replace(entry.purpose.encode(), (entry.purpose[:-1] + "X").encode(), 1)
        assert altered != leaf
        connection.execute("UPDATE audit_entries SET leaf = ? WHERE seq = ?", (altered, seq))
        connection.commit()
    finally:
        connection.close()
    done = _run(system, str(ROOT / "web" / "tests" / "after-tampering" / "regulator.spec.js"),
                report=tmp_path / "tampered.json", env={"CONSENT_LEDGER_TAMPERED_SEQ": str(seq)})
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
