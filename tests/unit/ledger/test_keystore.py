"""The keystore: encrypted key files with private modes, round trips, the authority keys, loose files
and the default password refused."""

from __future__ import annotations

import json
import os
import stat

import pytest

from ledger import keystore
from ledger.exceptions import ConfigurationError, KeystoreError
from ledger.keystore import Keystore
from ledger.settings import Settings
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
        assert Keystore.from_settings(Settings.from_env()).list() == {"dept-7": account.address}
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


def test_loose_keystore_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("CONSENT_LEDGER_HOME", str(tmp_path))
    monkeypatch.setenv("CONSENT_LEDGER_KEY_PASSWORD", "a-test-password")
    account = keystore.new_key("someone")
    path = keystore.key_path("someone")
    assert keystore.load_key("someone").address == account.address
    os.chmod(path, 0o644)
    with pytest.raises(KeystoreError, match="chmod 600"):
        keystore.load_key("someone")
    assert (path.stat().st_mode & 0o777) == 0o644


def test_default_password_is_refused_off_the_local_devnet(monkeypatch, capsys):
    def check_key_password(url: str) -> None:
        Keystore.from_settings(Settings.from_env()).check_password(url)

    monkeypatch.delenv("CONSENT_LEDGER_KEY_PASSWORD", raising=False)
    monkeypatch.delenv(keystore.ALLOW_DEFAULT_PASSWORD_ENV, raising=False)
    for local in ("http://127.0.0.1:8545", "http://localhost:8545", "http://[::1]:8545"):
        check_key_password(local)
    with pytest.raises(ConfigurationError, match="CONSENT_LEDGER_KEY_PASSWORD"):
        check_key_password("https://rpc.example.gov.cn")
    monkeypatch.setenv(keystore.ALLOW_DEFAULT_PASSWORD_ENV, "1")
    monkeypatch.setattr(keystore, "_warned", False)
    check_key_password("https://rpc.example.gov.cn")
    assert "WARNING" in capsys.readouterr().err
    monkeypatch.setenv("CONSENT_LEDGER_KEY_PASSWORD", "a-real-secret")
    check_key_password("https://rpc.example.gov.cn")


def test_load_all_decrypts_each_key_in_order(keystore_template, tmp_path):
    import shutil

    shutil.copytree(keystore_template, tmp_path / "keystore")
    with data_home(tmp_path):
        keys = Keystore.from_settings(Settings.from_env())
        names = ["relayer-2", "admin", "anchorer"]
        assert [a.key for a in keys.load_all(names)] == [keys.load(n).key for n in names]
        with pytest.raises(KeystoreError, match="no key"):
            keys.load_all(["admin", "nobody"])
