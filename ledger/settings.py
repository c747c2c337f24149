"""The deployment's settings: every ``CONSENT_LEDGER_*`` variable, read once from the environment.

:meth:`Settings.from_env` is the only place that reads ``os.environ``. The command line reads it
once into the click context, the API once at start-up; both pass the one object down, and the
library takes explicit arguments. A library function called without them (from a script or a
test) takes them from :meth:`Settings.from_env`.

Each variable is defined once below, with its default, meaning and unit; the README's
configuration table lists the same names (a unit test keeps the two in step). A value that
cannot be used is refused with one :class:`~ledger.exceptions.ConfigurationError` naming it.

Secrets that live in the data dir (the JWT key, the ops token) are created by the API's start-up
(:meth:`Settings.with_service_secrets`), not here: a command that never serves must not create them.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger.config import API_HOST, API_PORT, GATEWAY_HOST, GATEWAY_PORT, SIGNER_CHANGE_NOTICE_SECONDS
from ledger.exceptions import ConfigurationError

if TYPE_CHECKING:
    from ledger.chain.fees import FeePolicy

#: Seconds an audit entry may wait for its on-chain anchor before releases stop (503 ANCHOR_LAG, DESIGN §1.4).
DEFAULT_MAX_ANCHOR_LAG_SECONDS = 10.0
#: Entries a verification checks at a time (each run ends at an anchored tree head): what it holds decoded.
DEFAULT_VERIFY_RUN_ENTRIES = 1 << 18
#: wei per gas for the validator; any positive constant works on a permissioned chain.
DEFAULT_PRIORITY_FEE = 1
#: A max fee above this is refused: 100 gwei x 100k gas = 0.01 ether for one transaction.
DEFAULT_MAX_FEE_CAP = 100 * 10**9
#: Size of the pepper and the records key given in the environment (hex).
SECRET_KEY_BYTES = 32

_KNOWN_WEAK_SECRETS = {"changethis", "secret", "password", "consent-ledger", "dev"}
_FIELD_DEFAULT = object()  # "the field's own default", for _Reader


def _env(name: str, doc: str, **kwargs: Any) -> Any:
    """A field read from ``name``; ``doc`` is its line in the configuration table."""
    return field(metadata={"env": name, "doc": doc}, **kwargs)


@dataclass(frozen=True, slots=True)
class Settings:
    # -- storage ---------------------------------------------------------------------------------
    data_dir: Path = _env("CONSENT_LEDGER_HOME",
                          "`./.data`: keys, chain state, database, secrets (pepper, records key, JWT key); "
                          "created owner-only (0700)")
    rpc_url: str = _env("CONSENT_LEDGER_RPC_URL", "`http://127.0.0.1:<gateway port>` (the devnet gateway): the "
                                                  "JSON-RPC endpoint every client uses")
    database_url: str = _env("CONSENT_LEDGER_DATABASE_URL",
                             "SQLite under the data dir; any SQLAlchemy URL (PostgreSQL)")
    public_url: str = _env("CONSENT_LEDGER_PUBLIC_URL", "`http://<API host>:<API port>`: the API's public base "
                                                        "URL, whose host is the SIWE domain")
    #: HMAC key of the access tokens; None until :meth:`with_service_secrets` reads the data dir's.
    jwt_secret: bytes | None = _env("CONSENT_LEDGER_JWT_SECRET",
                                    "generated as `<data dir>/secrets/jwt.key` on first start; else 32+ random "
                                    "characters")
    # -- keys ------------------------------------------------------------------------------------
    #: None: the public devnet default (:data:`ledger.config.DEVNET_KEY_PASSWORD`) protects the keystore.
    key_password: str | None = _env("CONSENT_LEDGER_KEY_PASSWORD",
                                    "`consent-ledger-devnet` (development only: with an RPC that is not on this "
                                    "machine the API refuses it, and loading a key warns)", default=None)
    allow_default_key_password: bool = _env(
        "CONSENT_LEDGER_ALLOW_DEFAULT_KEY_PASSWORD",
        "unset: the API refuses to start when the default key password protects the keys and the RPC is not on "
        "this machine; `1` only warns", default=False)
    pepper: bytes | None = _env("CONSENT_LEDGER_PEPPER", "generated as `<data dir>/secrets/pepper` on first use; "
                                                         "else 32 bytes as hex. Changing it changes every subject id",
                                default=None)
    records_key: bytes | None = _env("CONSENT_LEDGER_RECORDS_KEY", "generated as `<data dir>/secrets/records.key` "
                                                                   "on first start; else 32 bytes as hex",
                                     default=None)
    # -- chain -----------------------------------------------------------------------------------
    gateway_port: int = _env("CONSENT_LEDGER_GATEWAY_PORT", "`8545`: the devnet gateway's port on 127.0.0.1",
                             default=GATEWAY_PORT)
    signer_change_notice_seconds: int = _env(
        "CONSENT_LEDGER_SIGNER_CHANGE_NOTICE",
        "`259200` seconds (72 h): notice period of an unapproved signer change, fixed at deploy",
        default=SIGNER_CHANGE_NOTICE_SECONDS)
    required_attestations: int = _env("CONSENT_LEDGER_REQUIRED_ATTESTATIONS",
                                      "`1`: distinct identity attesters that must attest a registration, fixed at "
                                      "deploy", default=1)
    priority_fee_wei: int = _env("CONSENT_LEDGER_PRIORITY_FEE_WEI", "`1` wei per gas: the tip of every transaction",
                                 default=DEFAULT_PRIORITY_FEE)
    max_fee_cap_wei: int = _env("CONSENT_LEDGER_MAX_FEE_CAP_WEI",
                                "`100000000000` wei per gas (100 gwei): above it nothing is sent (FeeCapExceeded)",
                                default=DEFAULT_MAX_FEE_CAP)
    solc: Path | None = _env("CONSENT_LEDGER_SOLC", "a native `solc` on PATH, else the bundled solcjs shim",
                             default=None)
    anvil: Path | None = _env("CONSENT_LEDGER_ANVIL", "unset: the devnet runs the checkout's `node_modules` anvil "
                                                      "when started from the checkout's root, else `anvil` on PATH; "
                                                      "set it to the path of an anvil binary to choose one",
                              default=None)
    # -- API -------------------------------------------------------------------------------------
    api_host: str = _env("CONSENT_LEDGER_API_HOST", "`127.0.0.1`: the address `serve` listens on",
                         default=API_HOST)
    api_port: int = _env("CONSENT_LEDGER_API_PORT", "`8000`: the port `serve` listens on", default=API_PORT)
    api_url: str = _env("CONSENT_LEDGER_API_URL", "`http://127.0.0.1:8000`: the API the client commands "
                                                  "(`auth`, `attest`, `records`) talk to",
                        default=f"http://{API_HOST}:{API_PORT}")
    trusted_proxies: str = _env("CONSENT_LEDGER_TRUSTED_PROXIES",
                                "unset: the client address is the TCP peer. Set to the reverse proxies' addresses "
                                "(comma-separated) to take it from `X-Forwarded-For`", default="")
    jwt_ttl_seconds: int = _env("CONSENT_LEDGER_JWT_TTL", "`900` seconds an access token is valid", default=900)
    siwe_ttl_seconds: int = 300
    max_body_bytes: int = 64 * 1024
    anchor_interval_seconds: float = _env("CONSENT_LEDGER_ANCHOR_INTERVAL",
                                          "`1` second between anchors of the audit tree head", default=1.0)
    max_anchor_lag_seconds: float = _env(
        "CONSENT_LEDGER_MAX_ANCHOR_LAG",
        "`10` seconds an entry may wait for its on-chain anchor before releases stop (503 `ANCHOR_LAG`)",
        default=DEFAULT_MAX_ANCHOR_LAG_SECONDS)
    audit_commit_timeout_seconds: float = _env("CONSENT_LEDGER_AUDIT_TIMEOUT",
                                               "`5` seconds a release waits for its audit entry to commit",
                                               default=5.0)
    #: Requests per second per signed-in principal (per client address when not signed in); 0 = off.
    rate_limit_per_second: float = _env("CONSENT_LEDGER_RATE_LIMIT",
                                        "`5000` requests/s per signed-in principal (per client address when not "
                                        "signed in); `0` turns it off", default=5000.0)
    rate_limit_burst: float = _env("CONSENT_LEDGER_RATE_BURST", "twice the rate limit: requests allowed at once",
                                   default=10000.0)
    #: Sign-in requests (challenge + login) per second per client address, and challenges per address.
    auth_rate_per_second: float = _env("CONSENT_LEDGER_AUTH_RATE_LIMIT",
                                       "`20` sign-in requests/s (challenge + login) per client address",
                                       default=20.0)
    auth_burst: float = _env("CONSENT_LEDGER_AUTH_RATE_BURST", "five times the sign-in rate (`100`)", default=100.0)
    challenge_rate_per_second: float = _env("CONSENT_LEDGER_CHALLENGE_RATE_LIMIT",
                                            "`1` challenge/s per wallet address, burst ten times that", default=1.0)
    challenge_burst: float = 10.0
    #: Rate-limiter table size per limit: the least recently seen keys are evicted beyond it.
    rate_limit_max_keys: int = 100_000
    #: Bearer token for /metrics and the detailed /readyz; None until :meth:`with_service_secrets`.
    ops_token: str | None = _env("CONSENT_LEDGER_OPS_TOKEN",
                                 "generated as `<data dir>/secrets/ops.token` on first start: `Authorization: "
                                 "Bearer <token>` for `/metrics` and the detailed `/readyz`", default=None)

    @property
    def siwe_domain(self) -> str:
        return self.public_url.split("://", 1)[-1].rstrip("/")

    @property
    def public_scheme(self) -> str:
        return self.public_url.split("://", 1)[0] if "://" in self.public_url else "https"

    @property
    def fee_policy(self) -> "FeePolicy":
        from ledger.chain.fees import FeePolicy

        return FeePolicy(self.priority_fee_wei, self.max_fee_cap_wei)

    @classmethod
    def variables(cls) -> Iterator[tuple[str, str]]:
        """(variable name, documentation) of every setting read from the environment."""
        for f in dataclasses.fields(cls):
            if "env" in f.metadata:
                yield f.metadata["env"], f.metadata["doc"]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        """Read and check every variable (``environ`` defaults to the process environment). Creates
        nothing: the data dir is made owner-only (0700) by the first code that writes into it."""
        read = _Reader(cls, os.environ if environ is None else environ)
        data_dir = Path(read.text("data_dir", ".data")).resolve()
        gateway_port = read.integer("gateway_port", minimum=0)
        api_host, api_port = read.text("api_host"), read.integer("api_port", minimum=0)
        rate = read.number("rate_limit_per_second")
        auth_rate = read.number("auth_rate_per_second")
        challenge_rate = read.number("challenge_rate_per_second")
        jwt_secret = read.secret_text("jwt_secret")
        solc = read.text("solc", "")
        anvil = read.text("anvil", "")
        settings = cls(
            data_dir=data_dir,
            rpc_url=read.text("rpc_url", f"http://{GATEWAY_HOST}:{gateway_port}"),
            database_url=read.text("database_url", "") or f"sqlite:///{data_dir / 'ledger.db'}",
            public_url=read.text("public_url", f"http://{api_host}:{api_port}"),
            jwt_secret=jwt_secret.encode() if jwt_secret is not None else None,
            key_password=read.text("key_password"),
            allow_default_key_password=read.text("allow_default_key_password", "") == "1",
            pepper=read.hex_key("pepper"),
            records_key=read.hex_key("records_key"),
            gateway_port=gateway_port,
            signer_change_notice_seconds=read.integer("signer_change_notice_seconds", minimum=0),
            required_attestations=read.integer("required_attestations", minimum=1),
            priority_fee_wei=read.integer("priority_fee_wei", minimum=0),
            max_fee_cap_wei=read.integer("max_fee_cap_wei", minimum=0),
            solc=Path(solc) if solc else None,
            anvil=Path(anvil) if anvil else None,
            api_host=api_host,
            api_port=api_port,
            api_url=read.text("api_url"),
            trusted_proxies=read.text("trusted_proxies").strip(),
            jwt_ttl_seconds=read.integer("jwt_ttl_seconds", minimum=1),
            anchor_interval_seconds=read.number("anchor_interval_seconds"),
            max_anchor_lag_seconds=read.number("max_anchor_lag_seconds"),
            audit_commit_timeout_seconds=read.number("audit_commit_timeout_seconds"),
            rate_limit_per_second=rate,
            rate_limit_burst=read.number("rate_limit_burst", 2 * rate, minimum=1.0) if rate else 0.0,
            auth_rate_per_second=auth_rate,
            auth_burst=read.number("auth_burst", 5 * auth_rate, minimum=1.0) if auth_rate else 0.0,
            challenge_rate_per_second=challenge_rate,
            challenge_burst=10 * challenge_rate,
            ops_token=read.secret_text("ops_token"),
        )
        if settings.max_fee_cap_wei < settings.priority_fee_wei:
            raise ConfigurationError(f"CONSENT_LEDGER_MAX_FEE_CAP_WEI ({settings.max_fee_cap_wei}) must not be below "
                                     f"CONSENT_LEDGER_PRIORITY_FEE_WEI ({settings.priority_fee_wei})")
        return settings

    def replace(self, **changes: Any) -> "Settings":
        return dataclasses.replace(self, **changes)

    def listening_on(self, host: str, port: int) -> "Settings":
        """These settings for an API bound to ``host:port``; the public URL follows unless it was set."""
        derived = f"http://{self.api_host}:{self.api_port}"
        public_url = f"http://{host}:{port}" if self.public_url == derived else self.public_url
        return self.replace(api_host=host, api_port=port, public_url=public_url)

    def with_service_secrets(self) -> "Settings":
        """What the API checks and loads before it starts: it refuses the public key password off the local
        devnet, and takes the JWT key and the ops token from the data dir where the environment gave none."""
        from ledger.keystore import Keystore
        from ledger.storage.sealing import load_or_create_secret, load_or_create_token

        Keystore.from_settings(self).check_password()
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        secrets = self.data_dir / "secrets"
        return self.replace(
            jwt_secret=self.jwt_secret if self.jwt_secret is not None else load_or_create_secret(secrets / "jwt.key"),
            ops_token=self.ops_token if self.ops_token is not None else load_or_create_token(secrets / "ops.token"),
        )


def pass_settings(command: Callable[..., Any]) -> Callable[..., Any]:
    """Click decorator: calls ``command(settings, ...)`` with the Settings on the root context,
    read there once per run (the ``consent-ledger`` group reads them up front)."""

    @functools.wraps(command)
    def with_settings(*args: Any, **kwargs: Any) -> Any:
        return command(settings_of(_click().get_current_context()), *args, **kwargs)

    return with_settings


def settings_of(ctx: Any) -> "Settings":
    """The Settings of a click context's run, read from the environment on first use."""
    root = ctx.find_root()
    if not isinstance(root.obj, Settings):
        try:
            root.obj = Settings.from_env()
        except ConfigurationError as exc:
            raise _click().ClickException(str(exc)) from None
    return root.obj


def _click():
    import click  # only the command line needs it

    return click


def environment_variable(name: str) -> str | None:
    """A variable the user names at run time (``consent sign --password-env VAR``), not a setting."""
    return os.environ.get(name)


class _Reader:
    """Reads one environment mapping by field name: the variable and the default are the field's
    (unless the default is derived, then given); every refusal names the variable."""

    def __init__(self, settings: type[Settings], environ: Mapping[str, str]):
        self._fields = {f.name: f for f in dataclasses.fields(settings)}
        self._environ = environ

    def _raw(self, field_name: str, default: Any) -> tuple[str, str | None, Any]:
        spec = self._fields[field_name]
        if default is _FIELD_DEFAULT:
            default = spec.default
        return spec.metadata["env"], self._environ.get(spec.metadata["env"]), default

    def text(self, field_name: str, default: Any = _FIELD_DEFAULT) -> Any:
        _, raw, default = self._raw(field_name, default)
        return default if raw is None else raw

    def _parsed(self, field_name: str, default, parse: Callable[[str], Any], kind: str, minimum) -> Any:
        name, raw, default = self._raw(field_name, default)
        if raw is None:
            return default
        try:
            value = parse(raw)
        except ValueError:
            raise ConfigurationError(f"{name} must be {kind}, got {raw!r}") from None
        if not value >= minimum or value == float("inf"):
            raise ConfigurationError(f"{name} must be a finite number >= {minimum:g}, got {raw!r}")
        return value

    def integer(self, field_name: str, default: Any = _FIELD_DEFAULT, *, minimum: int) -> int:
        return self._parsed(field_name, default, int, "an integer", minimum)

    def number(self, field_name: str, default: Any = _FIELD_DEFAULT, *, minimum: float = 0.0) -> float:
        return self._parsed(field_name, default, float, "a number", minimum)

    def secret_text(self, field_name: str) -> str | None:
        name, explicit, _ = self._raw(field_name, None)
        if explicit is not None and (len(explicit) < 32 or explicit.lower() in _KNOWN_WEAK_SECRETS):
            raise ConfigurationError(f"{name} must be a random string of 32+ characters")
        return explicit

    def hex_key(self, field_name: str) -> bytes | None:
        name, raw, _ = self._raw(field_name, None)
        if not raw:
            return None
        text = raw.strip()
        try:
            value = bytes.fromhex(text[2:] if text[:2] in ("0x", "0X") else text)
        except ValueError:
            raise ConfigurationError(f"{name} must be hex") from None
        if len(value) != SECRET_KEY_BYTES:
            raise ConfigurationError(f"{name} must be {SECRET_KEY_BYTES} bytes ({2 * SECRET_KEY_BYTES} hex "
                                     f"characters), got {len(value)} bytes")
        return value
