"""Stateless SIWE challenges behind findings 10 and 12: nonces spent once, messages for this server
only, signatures that do not recover, crafted messages refused in linear time, purging."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from sqlalchemy import func, select

from ledger.domain_errors import NotAuthenticated
from api.core.security import Authenticator, eip4361_message
from ledger.settings import Settings
from ledger.storage.database import make_engine, make_sessionmaker, migrate
from ledger.storage.models import UsedAuthNonceRow

pytestmark = pytest.mark.unit

CHAIN_ID = 16211


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
    with pytest.raises(NotAuthenticated) as caught:
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


@pytest.mark.parametrize("scheme,domain,uri", [("http", "127.0.0.1:8000", "http://127.0.0.1:8000"),
                                               ("https", "ledger.jinan.gov.cn", "https://ledger.jinan.gov.cn/")])
def test_the_issued_message_is_what_the_siwe_library_writes_and_parses(scheme, domain, uri):
    """Wallets and SIWE libraries parse the challenge: it must be EIP-4361 to the letter."""
    from siwe import SiweMessage

    fields = {"scheme": scheme, "domain": domain, "address": Account.create().address,
              "statement": "Sign in to Consent Ledger.", "uri": uri, "chain_id": 16211, "nonce": "a1B2c3D4e5F6g7H8",
              "issued_at": "2026-12-01T10:00:00.000Z", "expiration_time": "2026-12-01T10:05:00.000Z"}
    message = eip4361_message(**fields)
    assert message == SiweMessage(version="1", **fields).prepare_message()
    parsed = SiweMessage.from_message(message)
    assert (parsed.address, parsed.nonce, parsed.chain_id, parsed.uri) == \
        (fields["address"], fields["nonce"], 16211, uri)


def test_spent_nonces_are_purged_once_expired(auth):
    account = Account.create()
    message, _ = auth.challenge(account.address)
    auth.login(message, _signed(account, message))
    assert auth.purge_expired() == 0
    with auth.sessions.begin() as session:
        for row in session.scalars(select(UsedAuthNonceRow)):
            row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    assert auth.purge_expired() == 1 and _rows(auth) == 0
