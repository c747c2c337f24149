"""Devnet settings (``devnet.toml`` beside this module, plus overrides) and the data-dir layout."""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ledger import config
from ledger.devnet._persistence import DumpPolicy
from ledger.exceptions import ConfigurationError
from ledger.settings import Settings

#: Shipped with the package, so an installed devnet needs no checkout.
SETTINGS_FILE = Path(__file__).with_name("devnet.toml")
GENESIS_TEMPLATE = Path(__file__).with_name("genesis.template.json")


@dataclass(frozen=True, slots=True)
class GatewaySettings:
    host: str = config.GATEWAY_HOST
    port: int = config.GATEWAY_PORT
    max_body_bytes: int = 1 << 20
    max_batch: int = 1000
    max_tx_bytes: int = 128 * 1024
    rate_limit: float = 50000.0
    rate_burst: int = 100000
    allow_cache_ttl: float = 1.5
    upstream_connections: int = 4
    call_gas_cap: int = 15_000_000
    max_concurrent_calls: int = 2
    request_time_budget: float = 5.0


@dataclass(frozen=True, slots=True)
class DevnetSettings:
    chain_id: int = config.CHAIN_ID
    hardfork: str = "prague"
    block_time: int = 0
    isolation: str = "auto"
    authority_balance_eth: int = 1_000_000
    top_up_below_eth: int = 100_000
    top_up_interval: float = 5.0
    state_interval: float = 1.0
    state_interval_max: float = 3600.0
    dump_time_fraction: float = 0.05
    replay_budget_s: float = 10.0
    replay_gas_per_s: float = 50_000_000.0
    max_recreated_gap: int = 256
    gateway: GatewaySettings = field(default_factory=GatewaySettings)
    #: The anvil binary ($CONSENT_LEDGER_ANVIL); None: the checkout's, else PATH's.
    anvil: Path | None = None

    @classmethod
    def load(cls, path: Path = SETTINGS_FILE, *, default_port: int | None = None, **overrides) -> "DevnetSettings":
        """Settings from ``path``; ``overrides`` (None values ignored) win, ``port`` goes to the gateway.

        ``default_port`` (``Settings.gateway_port``, read from the environment when not given) is the
        gateway's port unless ``path`` or ``port`` names one."""
        raw: dict = {}
        if path.exists():
            with path.open("rb") as fh:
                raw = tomllib.load(fh)
        flat = {**raw.get("genesis", {}), **raw.get("node", {}), **raw.get("persistence", {}), **raw.get("funds", {})}
        gateway = dict(raw.get("gateway", {}))
        configured = Settings.from_env()
        gateway.setdefault("port", configured.gateway_port if default_port is None else default_port)
        flat.setdefault("anvil", configured.anvil)
        port = overrides.pop("port", None)
        if port is not None:
            gateway["port"] = port
        flat.update({k: v for k, v in overrides.items() if v is not None})
        try:
            settings = cls(**flat, gateway=GatewaySettings(**gateway))
        except TypeError as exc:
            raise ConfigurationError(f"{path}: {exc}") from exc
        settings.validate()
        return settings

    def replace(self, **changes) -> "DevnetSettings":
        return dataclasses.replace(self, **changes)

    @property
    def dump_policy(self) -> DumpPolicy:
        return DumpPolicy(min_interval=self.state_interval, max_interval=self.state_interval_max,
                          time_fraction=self.dump_time_fraction, replay_budget=self.replay_budget_s,
                          replay_gas_per_s=self.replay_gas_per_s)

    def validate(self) -> None:
        if self.block_time < 0:
            raise ConfigurationError("block_time must be >= 0 (0 = instant mining)")
        if not 0 <= self.top_up_below_eth <= self.authority_balance_eth or self.top_up_interval <= 0:
            raise ConfigurationError("top_up_below_eth must be within [0, authority_balance_eth], top_up_interval > 0")
        if self.state_interval <= 0 or self.state_interval_max <= 0:
            raise ConfigurationError("state_interval and state_interval_max must be > 0")
        if not 0 < self.dump_time_fraction <= 1 or self.replay_budget_s <= 0 or self.replay_gas_per_s <= 0:
            raise ConfigurationError("dump_time_fraction must be within (0, 1], replay_budget_s and "
                                     "replay_gas_per_s > 0")
        if self.isolation not in ("auto", "netns", "loopback"):
            raise ConfigurationError("isolation must be auto, netns or loopback")
        if self.gateway.host not in ("127.0.0.1", "::1", "localhost"):
            raise ConfigurationError("the gateway listens on loopback only")
        if not 0 <= self.gateway.port < 65536:
            raise ConfigurationError("gateway port out of range")


@dataclass(frozen=True, slots=True)
class DevnetPaths:
    """Files of one devnet under ``<data>/devnet`` (directory 0700)."""

    data: Path
    #: The configured gateway port: the gateway's URL when no running devnet has recorded its own.
    gateway_port: int = config.GATEWAY_PORT

    @classmethod
    def from_settings(cls, settings: Settings) -> "DevnetPaths":
        return cls(settings.data_dir, settings.gateway_port)

    @classmethod
    def default(cls) -> "DevnetPaths":
        return cls.from_settings(Settings.from_env())

    @property
    def root(self) -> Path:
        return self.data / "devnet"

    def ensure(self) -> "DevnetPaths":
        self.data.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.root.mkdir(mode=0o700, exist_ok=True)
        if self.root.stat().st_mode & 0o077:
            self.root.chmod(0o700)
        return self

    ipc = property(lambda self: self.root / "anvil.ipc")
    genesis = property(lambda self: self.root / "genesis.json")
    state = property(lambda self: self.root / "state.json.gz")
    state_load = property(lambda self: self.root / "state.load.json")
    journal = property(lambda self: self.root / "tx-journal.jsonl")
    pidfile = property(lambda self: self.root / "devnet.pid")
    runtime = property(lambda self: self.root / "devnet.json")
    anvil_pidfile = property(lambda self: self.root / "anvil.pid")
    anvil_log = property(lambda self: self.root / "anvil.log")
    log = property(lambda self: self.root / "devnet.log")
    lock = property(lambda self: self.root / "supervisor.lock")
    anvil_cache = property(lambda self: self.root / "anvil-cache")
    deployment = property(lambda self: self.data / "deployment.json")
    keystore = property(lambda self: self.data / "keystore")
