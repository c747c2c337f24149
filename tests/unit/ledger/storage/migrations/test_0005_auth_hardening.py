"""Migration 0005 (auth hardening): upgrading keeps good consent drafts and drops poisoned ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger.storage.database import make_engine, migrate

pytestmark = pytest.mark.unit


def test_migration_keeps_good_drafts_and_drops_poisoned_ones(tmp_path):
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).resolve().parents[5] / "ledger/storage/migrations"))
    config.attributes["engine"] = engine
    command.upgrade(config, "0001")
    good = {"message": {"nonce": "7", "deadline": 1_900_000_000}}
    bad = {"message": {"nonce": "0x5", "deadline": 1_900_000_000}}
    with engine.begin() as db:
        for consent_id, typed in (("0xgood", good), ("0xbad", bad), ("0xhuge", {"message": {"nonce": "1",
                                                                                              "deadline": 2**63}})):
            db.execute(text("INSERT INTO consent_drafts (consent_id, subject_id, typed_data, signatures, status, "
                            "created_by, created_at) VALUES (:id, 's', :typed, '{}', 'pending_signatures', 'x', "
                            "'2026-01-01')"), {"id": consent_id, "typed": json.dumps(typed)})
        db.execute(text("INSERT INTO auth_nonces VALUES ('n', 'a', '2026-01-01', '2026-01-01', NULL)"))
    migrate(engine)
    with engine.connect() as db:
        rows = db.execute(text("SELECT consent_id, nonce, deadline FROM consent_drafts")).all()
        assert rows == [("0xgood", "7", 1_900_000_000)]
        assert db.execute(text("SELECT COUNT(*) FROM auth_used_nonces")).scalar() == 0
    engine.dispose()
