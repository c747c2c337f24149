"""Audit export (JSON Lines): write from a real SQLite log, read back byte for byte."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest

from ledger.audit.entry import AuditEntry, encode_leaf
from ledger.audit.export import FORMAT, InvalidExport, deployment_from_header, export_audit, read_export
from ledger.audit.hasher import hash_leaf
from ledger.chain.client import Deployment
from ledger.storage.database import make_engine, make_sessionmaker, migrate
from ledger.storage.models import AuditEntryRow, ResourceRow

pytestmark = pytest.mark.unit

T0 = dt.datetime(2025, 10, 1, 8, 0, tzinfo=dt.timezone.utc)
DEPLOYMENT = Deployment(16211, 7, "0x" + "00" * 32, {
    "Participants": "0x" + "11" * 20, "Subjects": "0x" + "22" * 20, "Catalog": "0x" + "33" * 20,
    "Consents": "0x" + "44" * 20, "AuditAnchor": "0x" + "55" * 20})
FIELDS = {"hrss.social_insurance": ["employer", "monthly_base", "status"], "mps.household": ["address", "members"]}


def make_leaf(seq: int) -> bytes:
    allow = seq % 2 == 0
    return encode_leaf(AuditEntry(
        seq=seq, time=T0 + dt.timedelta(milliseconds=seq * 1234), requester="0x" + "ab" * 20,
        subject_id="0x" + f"{seq + 1:064x}", resource="hrss.social_insurance",
        purpose="住房公积金贷款审核 — loan review" if seq % 3 == 0 else "benefit eligibility",
        consent_id="0x" + "cd" * 32 if allow else None, decision="ALLOW" if allow else "DENY",
        reason="OK" if allow else "NO_CONSENT", fields=["monthly_base", "employer"], block_number=100 + seq,
        payload_hash="0x" + "ef" * 32 if allow else None))


@pytest.fixture
def sessions(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    migrate(engine)
    yield make_sessionmaker(engine)
    engine.dispose()


def store(sessions, leaves: list[bytes], *, first_seq: int = 0) -> None:
    with sessions.begin() as session:
        for slug, fields in FIELDS.items():
            session.add(ResourceRow(resource_id=slug, resource_key="0x" + f"{len(slug):064x}", name=slug,
                                    fields=fields, schema_hash="0x" + "00" * 32))
        for offset, leaf in enumerate(leaves):
            session.add(AuditEntryRow(seq=first_seq + offset, leaf=leaf, leaf_hash=hash_leaf(leaf),
                                      requester="0x" + "ab" * 20, subject_id="0x" + "00" * 32, consent_id=None,
                                      decision="DENY"))


def test_round_trip_keeps_leaf_bytes(sessions, tmp_path):
    leaves = [make_leaf(seq) for seq in range(2_500)]  # more than one streaming batch
    store(sessions, leaves)
    out = tmp_path / "audit.jsonl"
    written = export_audit(sessions, DEPLOYMENT, out)

    header, read, resource_fields = read_export(out)
    assert read == leaves
    assert all(type(leaf) is bytes for leaf in read)
    assert resource_fields == FIELDS
    assert header == written
    assert header["format"] == FORMAT
    assert header["tree_size"] == len(leaves)
    assert header["chain_id"] == 16211 and header["deploy_block"] == 7
    assert header["contracts"] == DEPLOYMENT.contracts
    assert header["exported_at"].endswith("Z")

    lines = out.read_bytes().decode("utf-8").splitlines()
    assert len(lines) == 1 + len(leaves)
    assert set(json.loads(lines[0])) == {"format", "chain_id", "contracts", "deploy_block", "exported_at",
                                         "tree_size", "resources"}
    for seq, line in enumerate(lines[1:]):
        assert json.loads(line) == {"seq": seq, "leaf": leaves[seq].decode("utf-8")}
    assert "住房公积金" in lines[1]  # non-ASCII stays readable

    deployment = deployment_from_header(header)
    assert (deployment.chain_id, deployment.deploy_block, deployment.contracts, deployment.code_hash) == \
           (16211, 7, DEPLOYMENT.contracts, "")


def test_empty_log(sessions, tmp_path):
    out = tmp_path / "empty.jsonl"
    export_audit(sessions, DEPLOYMENT, out)
    header, leaves, fields = read_export(out)
    assert header["tree_size"] == 0 and leaves == [] and fields == {}


def test_export_to_a_stream_reports_progress(sessions):
    store(sessions, [make_leaf(seq) for seq in range(5)])
    buffer, seen = io.BytesIO(), []
    export_audit(sessions, DEPLOYMENT, buffer, progress=seen.append)
    assert seen[-1] == 5
    assert len(buffer.getvalue().splitlines()) == 6


def test_gaps_and_damaged_rows_are_exported_as_stored(sessions, tmp_path):
    # The export is evidence: it must carry a gap or a damaged leaf through unchanged, for the verifier to name.
    leaves = [make_leaf(seq) for seq in range(6)]
    damaged = leaves[4][:-5] + b"\xff\xfe" + leaves[4][-5:]  # not UTF-8 any more
    store(sessions, leaves[:2] + leaves[3:4] + [damaged] + leaves[5:], first_seq=0)
    out = tmp_path / "audit.jsonl"
    header = export_audit(sessions, DEPLOYMENT, out)
    _, read, _ = read_export(out)
    assert header["tree_size"] == 5
    assert read == leaves[:2] + leaves[3:4] + [damaged] + leaves[5:]
    out.read_bytes().decode("utf-8")  # the file itself is valid UTF-8


def test_short_file_is_read_for_the_verifier_to_judge(sessions, tmp_path):
    leaves = [make_leaf(seq) for seq in range(4)]
    store(sessions, leaves)
    out = tmp_path / "audit.jsonl"
    export_audit(sessions, DEPLOYMENT, out)
    out.write_bytes(b"".join(out.read_bytes().splitlines(keepends=True)[:-1]))
    header, read, _ = read_export(out)
    assert header["tree_size"] == 4 and read == leaves[:3]


@pytest.mark.parametrize("content, message", [
    (b"", "empty file"),
    (b"not json\n", "not JSON"),
    (b'{"format": "something-else/1"}\n', "not an audit export"),
    (b'{"format": "consent-ledger-audit/1", "chain_id": 1}\n', "lacks"),
    (b'{"format": "consent-ledger-audit/1", "chain_id": "x", "contracts": {}, "deploy_block": 0,'
     b' "exported_at": "", "tree_size": 0, "resources": {}}\n', "chain_id"),
    (b'{"format": "consent-ledger-audit/1", "chain_id": 1, "contracts": {}, "deploy_block": 0,'
     b' "exported_at": "", "tree_size": 1, "resources": {}}\n{"seq": 0}\n', "line 2"),
    (b'{"format": "consent-ledger-audit/1", "chain_id": 1, "contracts": {}, "deploy_block": 0,'
     b' "exported_at": "", "tree_size": 1, "resources": {"a": "b"}}\n', "resources"),
])
def test_malformed_exports_are_refused(tmp_path, content, message):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    with pytest.raises(InvalidExport, match=message):
        read_export(path)


def test_cli_export_then_verify_refuses_what_it_cannot_check(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from ledger.cli import main

    home = tmp_path / "data"
    home.mkdir()
    monkeypatch.setenv("CONSENT_LEDGER_HOME", str(home))
    monkeypatch.delenv("CONSENT_LEDGER_DATABASE_URL", raising=False)
    runner = CliRunner()

    missing_db = runner.invoke(main, ["audit", "export", "--out", str(tmp_path / "x.jsonl")])
    assert missing_db.exit_code == 1 and "deploy" in missing_db.stderr  # no deployment.json yet

    DEPLOYMENT.save(home / "deployment.json")
    engine = make_engine(f"sqlite:///{home / 'ledger.db'}")
    migrate(engine)
    leaves = [make_leaf(seq) for seq in range(3)]
    store(make_sessionmaker(engine), leaves)
    engine.dispose()

    out = tmp_path / "audit.jsonl"
    result = runner.invoke(main, ["audit", "export", "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    assert "exported 3 audit entries" in result.stderr
    assert read_export(out)[1] == leaves

    garbage = tmp_path / "garbage.jsonl"
    garbage.write_text("hello\n")
    bad = runner.invoke(main, ["audit", "verify", "--export", str(garbage), "--rpc", "http://127.0.0.1:9"])
    assert bad.exit_code == 2 and "not JSON" in bad.stderr

    header, *rest = out.read_text().splitlines(keepends=True)
    partial = json.loads(header)
    del partial["contracts"]["AuditAnchor"]
    lacking = tmp_path / "lacking.jsonl"
    lacking.write_text(json.dumps(partial) + "\n" + "".join(rest))
    result = runner.invoke(main, ["audit", "verify", "--export", str(lacking), "--rpc", "http://127.0.0.1:9",
                                  "--trust-export-addresses"])
    assert result.exit_code == 2 and "AuditAnchor" in result.stderr

    untrusted = runner.invoke(main, ["audit", "verify", "--export", str(out), "--rpc", "http://127.0.0.1:9"])
    assert untrusted.exit_code == 2 and "no trusted contract addresses" in untrusted.stderr
    incomplete = runner.invoke(main, ["audit", "verify", "--export", str(out), "--rpc", "http://127.0.0.1:9",
                                      "--contract", "Consents=0x" + "11" * 20])
    assert incomplete.exit_code == 2 and "missing: Participants" in incomplete.stderr

    absent = runner.invoke(main, ["audit", "verify", "--export", str(tmp_path / "none.jsonl")])
    assert absent.exit_code == 2
