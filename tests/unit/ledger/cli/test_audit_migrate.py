"""`consent-ledger audit migrate`: a log from before tlog-tiles (schema 0005, entries only) gets its
sequence row, use counts, tiles and a signed checkpoint, and the service's tree is the old tree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from click.testing import CliRunner
from sqlalchemy import text

from ledger.audit import MerkleTree, hash_leaf
from ledger.audit.integrate import latest_checkpoint, log_origin
from ledger.audit.note import Checkpoint, NoteSigner, open_note
from ledger.cli import main
from ledger.storage import database
from ledger.storage.database import make_engine

pytestmark = pytest.mark.unit

ANCHOR = "0x" + "Ab" * 20
CONSENT = "0x" + "02" * 32


def _old_log(home: Path, entries: int) -> str:
    """A database at revision 0005 holding ``entries`` committed entries, as an older release wrote it."""
    url = f"sqlite:///{home / 'ledger.db'}"
    engine = make_engine(url)
    config = Config()
    config.set_main_option("script_location", str(Path(database.__file__).parent / "migrations"))
    config.attributes["engine"] = engine
    command.upgrade(config, "0005_api")
    with engine.begin() as connection:
        for seq in range(entries):
            leaf = f'{{"seq":{seq}}}'.encode()
            connection.execute(text(
                "INSERT INTO audit_entries (seq, leaf, leaf_hash, requester, subject_id, consent_id, decision) "
                "VALUES (:seq, :leaf, :hash, :r, :s, :c, :d)"),
                {"seq": seq, "leaf": leaf, "hash": hash_leaf(leaf), "r": "0x" + "ab" * 20, "s": "0x" + "01" * 32,
                 "c": CONSENT if seq % 2 else None, "d": "ALLOW" if seq % 2 else "DENY"})
    engine.dispose()
    (home / "deployment.json").write_text(json.dumps({"chain_id": 16211, "deploy_block": 1, "code_hash": "0x00",
                                                       "contracts": {"AuditAnchor": ANCHOR}}))
    return url


def test_audit_migrate_builds_tiles_and_a_checkpoint_of_the_old_log(tmp_path):
    url = _old_log(tmp_path, 700)
    env = {"CONSENT_LEDGER_HOME": str(tmp_path)}
    result = CliRunner().invoke(main, ["audit", "migrate"], env=env)
    assert result.exit_code == 0, result.output
    assert "cover 700" in result.output

    engine = make_engine(url)
    with engine.connect() as connection:
        size, root, note = latest_checkpoint(connection)
        assert connection.execute(text("SELECT next_seq FROM audit_sequence")).scalar_one() == 700
        assert connection.execute(text("SELECT used FROM consent_uses WHERE consent_id = :c"),
                                  {"c": CONSENT}).scalar_one() == 350
        hashes = [bytes(h) for (h,) in connection.execute(text("SELECT leaf_hash FROM audit_entries ORDER BY seq"))]
    engine.dispose()
    assert (size, root) == (700, MerkleTree(hashes).root())
    origin = log_origin(16211, ANCHOR)
    seed = (tmp_path / "secrets" / "log-ed25519.key").read_bytes()
    checkpoint = Checkpoint.parse(open_note(note, [NoteSigner.from_seed(origin, seed).verifier]), origin)
    assert checkpoint == Checkpoint(origin, 700, root)

    again = CliRunner().invoke(main, ["audit", "migrate"], env=env)  # nothing left to do: same head
    assert again.exit_code == 0 and "cover 700" in again.output


def test_audit_migrate_stops_while_a_service_integrates(tmp_path):
    url = _old_log(tmp_path, 3)
    from ledger.audit.lease import Lease
    from ledger.storage.database import migrate

    engine = make_engine(url)
    migrate(engine)
    assert Lease(engine, "integrator", "running-service").hold()
    engine.dispose()
    result = CliRunner().invoke(main, ["audit", "migrate"], env={"CONSENT_LEDGER_HOME": str(tmp_path)})
    assert result.exit_code != 0 and "stop it first" in result.output
