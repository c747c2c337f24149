"""The keystore: encrypted key files with private modes, round trips, the authority keys."""

from __future__ import annotations

import json
import stat

import pytest

from ledger.exceptions import KeystoreError
from tests.support.keys import PASSWORD, data_home, keystore_template  # noqa: F401  (keystore_template: a fixture)

pytestmark = pytest.mark.unit


def test_keystore_files_and_round_trip(tmp_path):
    from ledger import keystore

    with data_home(tmp_path):
        account = keystore.new_key("dept-7")
        path = tmp_path / "keystore" / "dept-7.json"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        keyfile = json.loads(path.read_text())
        assert keyfile["crypto"]["kdf"] == "pbkdf2" and keyfile["version"] == 3
        assert keystore.load_key("dept-7").key == account.key
        assert keystore.address_of("dept-7") == account.address
        assert keystore.list_keys() == {"dept-7": account.address}
        with pytest.raises(KeystoreError, match="already exists"):
            keystore.new_key("dept-7")
        with pytest.raises(KeystoreError, match="wrong"):
            keystore.load_key("dept-7", password=PASSWORD + "x")
        with pytest.raises(KeystoreError, match="invalid key name"):
            keystore.new_key("../escape")
        with pytest.raises(KeystoreError, match="no key"):
            keystore.load_key("nobody")


def test_authority_keys_are_created_once(keystore_template, tmp_path):
    import shutil

    from ledger import keystore

    shutil.copytree(keystore_template, tmp_path / "keystore")
    with data_home(tmp_path):
        first = keystore.ensure_authority_keys()
        assert list(first) == list(keystore.AUTHORITY_KEYS)
        assert keystore.ensure_authority_keys() == first
        (tmp_path / "keystore" / "relayer-3.json").unlink()
        again = keystore.ensure_authority_keys()
        assert again["admin"] == first["admin"] and again["relayer-3"] != first["relayer-3"]
