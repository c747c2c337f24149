"""A private data dir for keystore tests: ``data_home`` points the environment (so ``Settings.from_env``) at it; the authority
keys are generated once per session (``keystore_template``) and copied where a test needs them."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest

PASSWORD = "devnet-test-password"


@contextlib.contextmanager
def data_home(path: Path):
    """Point the environment at ``path`` (keystore, data dir) for the duration of the block."""
    saved = {k: os.environ.get(k) for k in ("CONSENT_LEDGER_HOME", "CONSENT_LEDGER_KEY_PASSWORD")}
    os.environ["CONSENT_LEDGER_HOME"] = str(path)
    os.environ["CONSENT_LEDGER_KEY_PASSWORD"] = PASSWORD
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="session")
def keystore_template(tmp_path_factory) -> Path:
    """Authority keys generated once per session and copied into every devnet's data dir."""
    from ledger import keystore

    home = tmp_path_factory.mktemp("keys-template")
    with data_home(home):
        keystore.ensure_authority_keys()
    return home / "keystore"
