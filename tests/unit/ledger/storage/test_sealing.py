"""Secret files (records key, ops token): created owner-only, refused when loose."""

from __future__ import annotations

import os

import pytest

from ledger.exceptions import ConfigurationError
from ledger.storage.sealing import load_or_create_secret, load_or_create_token

pytestmark = pytest.mark.unit


# -- secret files and the default password ---------------------------------------------------------------
@pytest.mark.parametrize("load", [load_or_create_secret, load_or_create_token])
def test_secret_files_are_created_owner_only_and_refused_when_loose(tmp_path, load):
    path = tmp_path / "secrets" / "s.key"
    first = load(path)
    assert (path.stat().st_mode & 0o777) == 0o600 and load(path) == first
    os.chmod(path, 0o640)
    with pytest.raises(ConfigurationError, match=f"chmod 600 {path}"):
        load(path)
    assert (path.stat().st_mode & 0o777) == 0o640  # not quietly "fixed"
