"""The one Settings: defaults, derived values, refusals that name the variable, the API's secrets,
and the guards that keep it the only reader of the environment and in step with the README."""

from __future__ import annotations

import re
import stat
import subprocess
from pathlib import Path

import pytest

from ledger.config import DEVNET_KEY_PASSWORD
from ledger.exceptions import ConfigurationError
from ledger.keystore import Keystore
from ledger.settings import DEFAULT_MAX_ANCHOR_LAG_SECONDS, Settings

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]
#: Files that may touch ``os.environ``: the one reader, and the code that builds a child process's
#: environment (or points this process at a system it started, for tests).
ENVIRON_ALLOWED = {
    "ledger/settings.py",
    "ledger/devnet/_control.py",  # the detached devnet inherits the environment, with its data dir
}
_NAME = re.compile(r"CONSENT_LEDGER_[A-Z0-9_]*[A-Z0-9]")


def _shipped_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "ledger", "api"],
                            cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    return [p for p in listed if p.endswith(".py") and (ROOT / p).exists()]


def test_defaults(tmp_path):
    settings = Settings.from_env({"CONSENT_LEDGER_HOME": str(tmp_path / "home")})
    assert settings.data_dir == tmp_path / "home"
    assert not settings.data_dir.exists()  # reading settings creates nothing
    assert settings.rpc_url == "http://127.0.0.1:8545"
    assert settings.database_url == f"sqlite:///{tmp_path / 'home' / 'ledger.db'}"
    assert settings.public_url == "http://127.0.0.1:8000" and settings.siwe_domain == "127.0.0.1:8000"
    assert settings.api_url == "http://127.0.0.1:8000"
    assert settings.key_password is None and not settings.allow_default_key_password
    assert settings.jwt_secret is None and settings.ops_token is None and settings.pepper is None
    assert settings.max_anchor_lag_seconds == DEFAULT_MAX_ANCHOR_LAG_SECONDS
    assert (settings.rate_limit_per_second, settings.rate_limit_burst) == (5000.0, 10000.0)
    assert (settings.auth_rate_per_second, settings.auth_burst) == (20.0, 100.0)
    assert (settings.challenge_rate_per_second, settings.challenge_burst) == (1.0, 10.0)
    assert settings.fee_policy.priority_fee == 1


def test_derived_values_follow_what_they_derive_from(tmp_path):
    settings = Settings.from_env({"CONSENT_LEDGER_HOME": str(tmp_path), "CONSENT_LEDGER_GATEWAY_PORT": "9545",
                                  "CONSENT_LEDGER_API_HOST": "0.0.0.0", "CONSENT_LEDGER_API_PORT": "9000",
                                  "CONSENT_LEDGER_RATE_LIMIT": "10", "CONSENT_LEDGER_AUTH_RATE_LIMIT": "0",
                                  "CONSENT_LEDGER_PEPPER": "0x" + "ab" * 32, "CONSENT_LEDGER_TRUSTED_PROXIES": " 10.0.0.1 "})
    assert settings.rpc_url == "http://127.0.0.1:9545"
    assert settings.public_url == "http://0.0.0.0:9000"
    assert (settings.rate_limit_per_second, settings.rate_limit_burst) == (10.0, 20.0)
    assert (settings.auth_rate_per_second, settings.auth_burst) == (0.0, 0.0)
    assert settings.pepper == b"\xab" * 32
    assert settings.trusted_proxies == "10.0.0.1"
    served = settings.listening_on("127.0.0.1", 8123)
    assert served.public_url == "http://127.0.0.1:8123" and served.api_port == 8123
    explicit = Settings.from_env({"CONSENT_LEDGER_HOME": str(tmp_path), "CONSENT_LEDGER_PUBLIC_URL": "https://x.gov"})
    assert explicit.listening_on("127.0.0.1", 8123).public_url == "https://x.gov"


@pytest.mark.parametrize(("name", "value", "message"), [
    ("CONSENT_LEDGER_API_PORT", "eighty", "must be an integer"),
    ("CONSENT_LEDGER_SIGNER_CHANGE_NOTICE", "-1", ">= 0"),
    ("CONSENT_LEDGER_REQUIRED_ATTESTATIONS", "0", ">= 1"),
    ("CONSENT_LEDGER_RATE_LIMIT", "inf", "finite"),
    ("CONSENT_LEDGER_RATE_BURST", "0.5", ">= 1"),
    ("CONSENT_LEDGER_MAX_ANCHOR_LAG", "soon", "must be a number"),
    ("CONSENT_LEDGER_MAX_FEE_CAP_WEI", "0", "must not be below"),
    ("CONSENT_LEDGER_JWT_SECRET", "changethis", "32+ characters"),
    ("CONSENT_LEDGER_OPS_TOKEN", "short", "32+ characters"),
    ("CONSENT_LEDGER_RECORDS_KEY", "zz", "must be hex"),
    ("CONSENT_LEDGER_PEPPER", "ab" * 31, "must be 32 bytes"),
])
def test_an_unusable_value_is_refused_by_name(tmp_path, name, value, message):
    with pytest.raises(ConfigurationError, match=re.escape(name)) as refused:
        Settings.from_env({"CONSENT_LEDGER_HOME": str(tmp_path), name: value})
    assert message in str(refused.value)


def test_service_secrets_come_from_the_data_dir_unless_given(tmp_path):
    home = tmp_path / "home"
    settings = Settings.from_env({"CONSENT_LEDGER_HOME": str(home)}).with_service_secrets()
    assert len(settings.jwt_secret) == 32 and len(settings.ops_token) == 64
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert (home / "secrets" / "ops.token").read_text() == settings.ops_token
    again = Settings.from_env({"CONSENT_LEDGER_HOME": str(home)}).with_service_secrets()
    assert (again.jwt_secret, again.ops_token) == (settings.jwt_secret, settings.ops_token)
    given = Settings.from_env({"CONSENT_LEDGER_HOME": str(home), "CONSENT_LEDGER_JWT_SECRET": "j" * 40,
                               "CONSENT_LEDGER_OPS_TOKEN": "o" * 40}).with_service_secrets()
    assert (given.jwt_secret, given.ops_token) == (b"j" * 40, "o" * 40)


def test_the_service_refuses_the_default_key_password_off_the_devnet(tmp_path):
    remote = {"CONSENT_LEDGER_HOME": str(tmp_path), "CONSENT_LEDGER_RPC_URL": "https://rpc.example.gov.cn"}
    with pytest.raises(ConfigurationError, match="CONSENT_LEDGER_KEY_PASSWORD"):
        Settings.from_env(remote).with_service_secrets()
    Settings.from_env({**remote, "CONSENT_LEDGER_KEY_PASSWORD": "a-real-secret"}).with_service_secrets()
    keys = Keystore.from_settings(Settings.from_env(remote))
    assert keys.effective_password == DEVNET_KEY_PASSWORD and keys.rpc_url == "https://rpc.example.gov.cn"


def test_settings_reads_the_process_environment_by_default(tmp_path, monkeypatch):
    monkeypatch.setenv("CONSENT_LEDGER_HOME", str(tmp_path))
    monkeypatch.setenv("CONSENT_LEDGER_JWT_TTL", "60")
    assert Settings.from_env().jwt_ttl_seconds == 60


def test_every_variable_in_the_code_and_the_readme_is_a_setting_and_back():
    defined = {name for name, _ in Settings.variables()}
    in_code = {name for path in _shipped_files() for name in _NAME.findall((ROOT / path).read_text())}
    readme = (ROOT / "README.md").read_text()
    in_readme = set(_NAME.findall(readme))
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    in_table = {m for line in section.splitlines() if line.startswith("| `") for m in _NAME.findall(line.split("|")[1])}
    assert in_code - defined == set(), "read or named in the code but not a Settings field"
    assert in_readme - defined == set(), "named in the README but not a Settings field"
    assert defined - in_table == set(), "a setting missing from the README's configuration table"
    assert in_table - defined == set(), "a README configuration row that is not a setting"


def test_only_settings_reads_the_environment():
    readers = {path for path in _shipped_files()
               if re.search(r"\bos\.(environ|getenv)\b|\bgetenv\(|from os import .*\b(environ|getenv)\b",
                            (ROOT / path).read_text())}
    assert readers - ENVIRON_ALLOWED == set()
    assert "ledger/settings.py" in readers
