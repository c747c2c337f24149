"""Unit checks behind the red-team tests of findings 8, 10 and 12: the rate limiter's bounds,
stateless SIWE challenges, the canonical typed-data parser, secret-file and password checks."""

from __future__ import annotations

import copy
import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from sqlalchemy import func, select

from api.core.config import Settings
from api.core.errors import ApiError
from api.core.ratelimit import RateLimiter
from api.core.security import Authenticator
from ledger import keystore
from ledger.eip712 import (Domain, InvalidTypedData, NonCanonicalTypedData, parse_canonical_typed_data)
from ledger.exceptions import ConfigurationError, KeystoreError
from ledger.storage.database import make_engine, make_sessionmaker, migrate
from ledger.storage.models import UsedAuthNonceRow
from ledger.storage.sealing import load_or_create_secret, load_or_create_token

VECTOR = json.loads((Path(__file__).resolve().parents[4] / "contracts/test/vectors/consent_typed_data.json")
                    .read_text())
CHAIN_ID = 16211


# -- rate limiter ------------------------------------------------------------------------------------
def test_limiter_admits_a_burst_then_says_how_long_to_wait():
    limiter = RateLimiter(rate=10, burst=5)
    assert [limiter.take("a") for _ in range(5)] == [0.0] * 5
    wait = limiter.take("a")
    assert 0 < wait <= 0.1
    assert limiter.take("b") == 0.0  # per key
    time.sleep(0.15)
    assert limiter.take("a") == 0.0


def test_limiter_table_is_bounded():
    limiter = RateLimiter(rate=1, burst=1, max_keys=100)
    for i in range(10_000):
        limiter.take(f"k{i}")
    assert len(limiter) == 100
    assert limiter.take("k9999") > 0  # the most recent keys are the ones kept


def test_rate_zero_disables_the_limiter():
    limiter = RateLimiter(rate=0, burst=0)
    assert all(limiter.take("a") == 0.0 for _ in range(1000)) and len(limiter) == 0


# -- stateless SIWE challenges -------------------------------------------------------------------------
@pytest.fixture
def auth(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'auth.db'}")
    migrate(engine)
    settings = Settings(data_dir=tmp_path, rpc_url="http://127.0.0.1:1", database_url="", jwt_secret=b"k" * 32,
                        public_url="http://127.0.0.1:8000")
    yield Authenticator(settings, make_sessionmaker(engine), CHAIN_ID)
    engine.dispose()


def _rows(auth: Authenticator) -> int:
    with auth.sessions() as session:
        return session.scalar(select(func.count()).select_from(UsedAuthNonceRow))


def _signed(account, message: str) -> str:
    return "0x" + Account.sign_message(encode_defunct(text=message), account.key).signature.hex()


def _code(call) -> str:
    with pytest.raises(ApiError) as caught:
        call()
    return caught.value.code


def test_challenges_write_nothing_and_a_login_spends_the_nonce_once(auth):
    account = Account.create()
    for _ in range(100):
        auth.challenge(account.address)
    assert _rows(auth) == 0
    message, nonce = auth.challenge(account.address)
    assert len(nonce) == 64 and nonce.isalnum()
    token, address = auth.login(message, _signed(account, message))
    assert address == account.address and auth.verify_token(token) == account.address
    assert _rows(auth) == 1
    assert _code(lambda: auth.login(message, _signed(account, message))) == "NONCE_INVALID"


def test_forged_foreign_and_expired_nonces_are_refused(auth):
    account, other = Account.create(), Account.create()
    message, nonce = auth.challenge(account.address)
    forged = message.replace(nonce, nonce[:-1] + ("0" if nonce[-1] != "0" else "1"))
    assert _code(lambda: auth.login(forged, _signed(account, forged))) == "NONCE_INVALID"
    # A nonce issued to one address does not sign in another.
    stolen = message.replace(account.address, other.address)
    assert _code(lambda: auth.login(stolen, _signed(other, stolen))) == "NONCE_INVALID"
    expired_nonce = auth._make_nonce(account.address, datetime.now(UTC) - timedelta(seconds=1))
    expired = message.replace(nonce, expired_nonce)
    assert _code(lambda: auth.login(expired, _signed(account, expired))) == "NONCE_INVALID"
    assert _rows(auth) == 0


@pytest.mark.parametrize("old, new, code", [
    ("URI: http://127.0.0.1:8000", "URI: http://127.0.0.1:8000/elsewhere", "SIWE_URI_MISMATCH"),
    ("http://127.0.0.1:8000 wants", "https://127.0.0.1:8000 wants", "SIWE_SCHEME_MISMATCH"),
    ("http://127.0.0.1:8000 wants", "http://evil.example wants", "SIWE_DOMAIN_MISMATCH"),
    (f"Chain ID: {CHAIN_ID}", "Chain ID: 1", "SIWE_CHAIN_MISMATCH"),
])
def test_siwe_message_must_name_this_server(auth, old, new, code):
    account = Account.create()
    message, _ = auth.challenge(account.address)
    assert old in message
    changed = message.replace(old, new)
    assert _code(lambda: auth.login(changed, _signed(account, changed))) == code


@pytest.mark.parametrize("signature", ["0x" + "00" * 65, "0x" + "ff" * 65, "0x" + "11" * 64 + "05",
                                       "0x" + "11" * 64 + "1b", "0x" + "00" * 64 + "1c"])
def test_signatures_that_do_not_recover_are_refused(auth, signature):
    message, _ = auth.challenge(Account.create().address)
    assert _code(lambda: auth.login(message, signature)) == "INVALID_SIGNATURE"
    assert _rows(auth) == 0


@pytest.mark.parametrize("message", ["0" * 4096, "\n" * 4096, "a wants you to sign in\n" + "0x" * 2000,
                                     "Nonce: " * 585])
def test_crafted_messages_are_refused_in_linear_time(auth, message):
    """The siwe library's ABNF parser takes seconds on 4 KB of zeros; the login never runs it."""
    started = time.perf_counter()
    assert _code(lambda: auth.login(message, "0x" + "11" * 65)) == "INVALID_SIWE_MESSAGE"
    assert time.perf_counter() - started < 0.5


def test_the_issued_message_is_reproducible_from_its_nonce(auth):
    account = Account.create()
    message, nonce = auth.challenge(account.address)
    assert auth._message(account.address, nonce, auth._nonce_expiry(account.address, nonce)) == message


def test_spent_nonces_are_purged_once_expired(auth):
    account = Account.create()
    message, _ = auth.challenge(account.address)
    auth.login(message, _signed(account, message))
    assert auth.purge_expired() == 0
    with auth.sessions.begin() as session:
        for row in session.scalars(select(UsedAuthNonceRow)):
            row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    assert auth.purge_expired() == 1 and _rows(auth) == 0


# -- canonical typed data ----------------------------------------------------------------------------------
def _domain() -> Domain:
    d = VECTOR["domain"]
    return Domain(d["name"], d["version"], d["chainId"], d["verifyingContract"])


def _typed() -> dict:
    return copy.deepcopy({k: VECTOR[k] for k in ("types", "primaryType", "domain", "message")})


def test_canonical_typed_data_parses_to_itself():
    parsed, canonical = parse_canonical_typed_data(_typed(), _domain())
    assert canonical == _typed() and parsed.nonce == int(VECTOR["message"]["nonce"])


@pytest.mark.parametrize("field, value", [
    ("nonce", hex(int(VECTOR["message"]["nonce"]))),   # the finding: "0x5"
    ("nonce", int(VECTOR["message"]["nonce"])),        # a number where a decimal string belongs
    ("validFrom", str(VECTOR["message"]["validFrom"])),
    ("grantee", VECTOR["message"]["grantee"].lower()),
    ("subject", VECTOR["message"]["subject"].upper().replace("0X", "0x")),
    ("nonce", 2**256 - 1),                             # a JSON number beyond 64 bits
    ("fieldMasks", [2**200]),
])
def test_non_canonical_spellings_are_refused(field, value):
    typed = _typed()
    typed["message"][field] = value
    with pytest.raises(NonCanonicalTypedData, match=f"message.{field}"):
        parse_canonical_typed_data(typed, _domain())


def test_non_canonical_domain_is_refused():
    typed = _typed()
    typed["domain"]["chainId"] = str(typed["domain"]["chainId"])
    with pytest.raises(NonCanonicalTypedData, match="domain"):
        parse_canonical_typed_data(typed, _domain())


@pytest.mark.parametrize("field, value, fragment", [
    ("maxUses", True, "boolean"), ("nonce", "9" * 5000, "unsigned integer"), ("resources", 5, "list"),
    ("purpose", 7, "string"), ("nonce", str(2**256), "uint256"), ("validFrom", 1e999, "unsigned integer"),
])
def test_malformed_values_are_refused_with_our_own_words(field, value, fragment):
    typed = _typed()
    typed["message"][field] = value
    with pytest.raises(InvalidTypedData, match=fragment) as caught:
        parse_canonical_typed_data(typed, _domain())
    assert len(str(caught.value)) < 300


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
    monkeypatch.delenv("CONSENT_LEDGER_KEY_PASSWORD", raising=False)
    monkeypatch.delenv(keystore.ALLOW_DEFAULT_PASSWORD_ENV, raising=False)
    for local in ("http://127.0.0.1:8545", "http://localhost:8545", "http://[::1]:8545"):
        keystore.check_key_password(local)
    with pytest.raises(ConfigurationError, match="CONSENT_LEDGER_KEY_PASSWORD"):
        keystore.check_key_password("https://rpc.example.gov.cn")
    monkeypatch.setenv(keystore.ALLOW_DEFAULT_PASSWORD_ENV, "1")
    monkeypatch.setattr(keystore, "_warned", False)
    keystore.check_key_password("https://rpc.example.gov.cn")
    assert "WARNING" in capsys.readouterr().err
    monkeypatch.setenv("CONSENT_LEDGER_KEY_PASSWORD", "a-real-secret")
    keystore.check_key_password("https://rpc.example.gov.cn")


# -- migration ---------------------------------------------------------------------------------------------
def test_migration_keeps_good_drafts_and_drops_poisoned_ones(tmp_path):
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).resolve().parents[4] / "ledger/storage/migrations"))
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


# -- every integer a client can send is bounded ---------------------------------------------------------------
def _integers(schema: dict, where: str, components: dict, seen: tuple = ()):
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name not in seen:
            yield from _integers(components[name], where, components, seen + (name,))
        return
    if schema.get("type") == "integer":
        yield where, schema.get("minimum", schema.get("exclusiveMinimum")), \
            schema.get("maximum", schema.get("exclusiveMaximum"))
    for name, sub in schema.get("properties", {}).items():
        yield from _integers(sub, f"{where}.{name}", components, seen)
    for key in ("anyOf", "allOf", "oneOf"):
        for sub in schema.get(key, []):
            yield from _integers(sub, where, components, seen)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            yield from _integers(schema[key], f"{where}[]", components, seen)


def test_every_integer_parameter_and_body_field_is_bounded(tmp_path):
    """The database holds 64-bit signed integers: an unbounded one is a 500 waiting for a big number."""
    from api.main import create_app

    app = create_app(Settings(data_dir=tmp_path, rpc_url="", database_url="", jwt_secret=b"k" * 32,
                              public_url="http://127.0.0.1:8000"))
    spec = app.openapi()
    components = spec.get("components", {}).get("schemas", {})
    found = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            sources = [(p["schema"], f"{method.upper()} {path} {p['in']}:{p['name']}")
                       for p in operation.get("parameters", [])]
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            if body:
                sources.append((body, f"{method.upper()} {path} body"))
            for schema, where in sources:
                found += list(_integers(schema, where, components))
    assert found, "no integer inputs found: the walk is broken"
    unbounded = [(where, low, high) for where, low, high in found
                 if low is None or high is None or low < -(2**63) or high > 2**63 - 1]
    assert unbounded == []
