"""`consent-ledger consent sign`: a citizen signs typed data with their own key (no chain, no API)."""

from __future__ import annotations

import json
import os
import time

import pytest
from click.testing import CliRunner
from eth_account import Account
from eth_utils import keccak, to_checksum_address

from ledger.cli import main
from ledger.eip712 import (ConsentMessage, Domain, RevokeMessage, consent_typed_data, hash_typed_data, recover_signer,
                           revoke_typed_data)

pytestmark = pytest.mark.unit

DOMAIN = Domain("ConsentLedger", "1", 16211, to_checksum_address("0x" + "c0" * 20))
VALID_FROM = 1_790_000_000  # 2026-09-21
VALID_UNTIL = VALID_FROM + 90 * 86_400


def consent_message(**changes) -> ConsentMessage:
    values = dict(subject=keccak(text="subject"), grantee="0x" + "9a" * 20,
                  resources=(keccak(text="hrss.social_insurance"), keccak(text="mps.household")),
                  field_masks=(0b101, 0b1), purpose="住房公积金贷款审核", valid_from=VALID_FROM,
                  valid_until=VALID_UNTIL, max_uses=3, nonce=2**200 + 7, deadline=int(time.time()) + 3600)
    values.update(changes)
    return ConsentMessage(**values)


@pytest.fixture
def account():
    return Account.create()


@pytest.fixture
def hex_key_file(tmp_path, account):
    path = tmp_path / "citizen.key"
    path.write_text("0x" + account.key.hex().removeprefix("0x") + "\n")
    path.chmod(0o600)
    return path


@pytest.fixture
def typed():
    return consent_typed_data(DOMAIN, consent_message())


def write_json(tmp_path, value, name="typed.json"):
    path = tmp_path / name
    path.write_text(json.dumps(value, ensure_ascii=False))
    return path


def run(*args, input=None, env=None):
    return CliRunner().invoke(main, ["consent", "sign", *args], input=input, env=env, catch_exceptions=False)


def test_sign_with_hex_key_file(tmp_path, account, hex_key_file, typed):
    result = run("--key-file", str(hex_key_file), "--typed-data", str(write_json(tmp_path, typed)))
    assert result.exit_code == 0, result.stderr
    signature = result.stdout.strip()
    assert signature.startswith("0x") and len(signature) == 132
    assert recover_signer(hash_typed_data(typed), signature) == account.address


def test_summary_shows_what_is_signed(tmp_path, account, hex_key_file, typed):
    result = run("--key-file", str(hex_key_file), "--typed-data", str(write_json(tmp_path, typed)))
    summary = result.stderr
    assert "CONSENT" in summary
    assert '"ConsentLedger"' in summary and "chain 16211" in summary and DOMAIN.verifying_contract in summary
    assert "0x" + keccak(text="subject").hex() in summary
    assert "Grantee      " + to_checksum_address("0x" + "9a" * 20) in summary
    assert "住房公积金贷款审核" in summary
    assert "2026-09-21T" in summary and "Z" in summary
    assert "Max uses     3" in summary
    assert "Resources    2" in summary
    assert account.address in summary
    assert result.stdout.count("\n") == 1  # only the signature on stdout


def test_json_output_and_draft_response_from_stdin(account, hex_key_file, typed):
    draft = {"consent_id": "0x" + hash_typed_data(typed).hex(), "typed_data": typed}
    result = run("--key-file", str(hex_key_file), "--typed-data", "-", "--json", input=json.dumps(draft))
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert set(out) == {"signature", "signer", "digest"}
    assert out["signer"] == account.address
    assert out["digest"] == draft["consent_id"]
    assert recover_signer(bytes.fromhex(out["digest"][2:]), out["signature"]) == account.address


def test_sign_with_encrypted_key_file(tmp_path, account):
    path = tmp_path / "citizen.json"
    path.write_text(json.dumps(Account.encrypt(account.key, "correct horse", kdf="pbkdf2", iterations=2)))
    path.chmod(0o600)
    revoke = revoke_typed_data(DOMAIN, RevokeMessage(keccak(text="c"), keccak(text="s"), 1, int(time.time()) + 60))
    typed_path = str(write_json(tmp_path, revoke))

    result = run("--key-file", str(path), "--typed-data", typed_path, "--password-env", "CITIZEN_PW",
                 env={"CITIZEN_PW": "correct horse"})
    assert result.exit_code == 0, result.stderr
    assert "REVOCATION" in result.stderr
    assert recover_signer(hash_typed_data(revoke), result.stdout.strip()) == account.address

    wrong = run("--key-file", str(path), "--typed-data", typed_path, "--password-env", "CITIZEN_PW",
                env={"CITIZEN_PW": "wrong"})
    assert wrong.exit_code == 2 and "wrong password" in wrong.stderr

    unset = run("--key-file", str(path), "--typed-data", typed_path, "--password-env", "CITIZEN_PW",
                env={"CITIZEN_PW": None})
    assert unset.exit_code == 2 and "$CITIZEN_PW" in unset.stderr


def test_sign_with_keystore_key(tmp_path, monkeypatch, typed):
    monkeypatch.setenv("CONSENT_LEDGER_HOME", str(tmp_path / "data"))
    from ledger import keystore

    monkeypatch.setattr(keystore, "KDF_ITERATIONS", 2)
    created = keystore.new_key("citizen", password="pw")
    result = run("--key-name", "citizen", "--typed-data", str(write_json(tmp_path, typed)),
                 env={"CONSENT_LEDGER_KEY_PASSWORD": "pw"})
    assert result.exit_code == 0, result.stderr
    assert recover_signer(hash_typed_data(typed), result.stdout.strip()) == created.address


@pytest.mark.parametrize("mangle, message", [
    (lambda t: "not json {", "not JSON"),
    (lambda t: [t], "JSON object"),
    (lambda t: {k: v for k, v in t.items() if k != "domain"}, "missing domain"),
    (lambda t: t | {"primaryType": "Permit"}, "primaryType must be Consent, Revoke or Objection"),
    (lambda t: t | {"domain": {k: v for k, v in t["domain"].items() if k != "verifyingContract"}}, "domain"),
    (lambda t: t | {"domain": t["domain"] | {"verifyingContract": "0x1234"}}, "domain"),
    (lambda t: t | {"message": {k: v for k, v in t["message"].items() if k != "purpose"}}, "message fields"),
    (lambda t: t | {"message": t["message"] | {"grantee": "nobody"}}, "malformed Consent"),
    (lambda t: t | {"message": t["message"] | {"maxUses": 2**40}}, "uint32"),
    (lambda t: t | {"types": t["types"] | {"Consent": t["types"]["Consent"][:-1]}}, "types do not match"),
    (lambda t: {"consent_id": "0x" + "00" * 32, "typed_data": t}, "not the digest"),
])
def test_malformed_typed_data_is_refused(tmp_path, hex_key_file, typed, mangle, message):
    value = mangle(typed)
    path = tmp_path / "bad.json"
    path.write_text(value if isinstance(value, str) else json.dumps(value))
    result = run("--key-file", str(hex_key_file), "--typed-data", str(path))
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert "Error:" in result.stderr and message in result.stderr
    assert result.stdout == ""  # nothing signed


def test_bad_key_files_and_options(tmp_path, hex_key_file, typed):
    typed_path = str(write_json(tmp_path, typed))
    junk = tmp_path / "junk.key"
    junk.write_text("0xnot-a-key")
    result = run("--key-file", str(junk), "--typed-data", typed_path)
    assert result.exit_code == 2 and "neither" in result.stderr and "not-a-key" not in result.stderr

    both = run("--key-file", str(hex_key_file), "--key-name", "x", "--typed-data", typed_path)
    assert both.exit_code == 2 and "exactly one" in both.stderr
    neither = run("--typed-data", typed_path)
    assert neither.exit_code == 2


def test_loose_key_file_permissions_warn(tmp_path, hex_key_file, typed):
    os.chmod(hex_key_file, 0o644)
    result = run("--key-file", str(hex_key_file), "--typed-data", str(write_json(tmp_path, typed)))
    assert result.exit_code == 0
    assert "readable by other users" in result.stderr


def test_expired_deadline_is_flagged(tmp_path, hex_key_file):
    typed = consent_typed_data(DOMAIN, consent_message(deadline=1_000))
    result = run("--key-file", str(hex_key_file), "--typed-data", str(write_json(tmp_path, typed)))
    assert result.exit_code == 0
    assert "WARNING: the signing deadline has passed" in result.stderr
