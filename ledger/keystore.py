"""Local keystore of the devnet authority keys: ``<data>/keystore/<name>.json``.

Each key is a Web3 Secret Storage file (``eth_account.Account.encrypt``) encrypted with
``$CONSENT_LEDGER_KEY_PASSWORD`` (devnet default: :data:`ledger.config.DEVNET_KEY_PASSWORD`).
PBKDF2 with 2**18 rounds keeps a load around 0.1 s; the default 10**6 rounds (or scrypt's
2**18) would make every process that loads the five operator keys wait seconds.

Addresses are read from the files' plaintext ``address`` field, so listing keys and building
the genesis file or the gateway's bootstrap allow-list never needs the password.

The default password is public (it is in the README): it is only fit for keys of the local
devnet. With any other chain RPC, loading a key under it warns loudly, and the API refuses to
start (:func:`check_key_password`).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import re
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ledger.config import DEVNET_KEY_PASSWORD, GATEWAY_HOST, GATEWAY_PORT
from ledger.exceptions import ConfigurationError, KeystoreError
from ledger.settings import Settings

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

#: Keys generated on the devnet's first start and funded in its genesis block. ``attester`` stands
#: for the identity attester (real-name verification); the API process never loads it.
AUTHORITY_KEYS = ("admin", "anchorer", "relayer-0", "relayer-1", "relayer-2", "relayer-3", "attester")

log = logging.getLogger(__name__)

#: Set to 1 to run against a non-local chain with the public default password anyway (a test rig).
ALLOW_DEFAULT_PASSWORD_ENV = "CONSENT_LEDGER_ALLOW_DEFAULT_KEY_PASSWORD"

KDF = "pbkdf2"
KDF_ITERATIONS = 2**18

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


@dataclass(frozen=True, slots=True)
class Keystore:
    """The keystore of one data dir, under one password (None: the public devnet default).

    ``rpc_url`` is the chain the keys are used with: off the local devnet the default password is
    refused by :meth:`check_password` and warned about by :meth:`load`.
    """

    data_dir: Path
    password: str | None = None
    rpc_url: str = f"http://{GATEWAY_HOST}:{GATEWAY_PORT}"
    allow_default_password: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> "Keystore":
        return cls(settings.data_dir, settings.key_password, settings.rpc_url, settings.allow_default_key_password)

    @property
    def effective_password(self) -> str:
        return self.password if self.password is not None else DEVNET_KEY_PASSWORD

    @property
    def directory(self) -> Path:
        """``<data>/keystore``, created owner-only (0700) and kept that way."""
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = self.data_dir / "keystore"
        path.mkdir(mode=0o700, exist_ok=True)
        if path.stat().st_mode & 0o077:
            path.chmod(0o700)
        return path

    def path(self, name: str) -> Path:
        if not _NAME.match(name):
            raise KeystoreError(f"invalid key name {name!r}: use lower-case letters, digits, '.', '_' or '-'")
        return self.directory / f"{name}.json"

    def new(self, name: str, *, password: str | None = None) -> "LocalAccount":
        """Generate a key and store it as ``name``; refuses to replace an existing key."""
        from eth_account import Account

        path = self.path(name)
        if path.exists():
            raise KeystoreError(f"key {name!r} already exists at {path}")
        account = Account.create()
        _write_new(path, Account.encrypt(account.key, password if password is not None else self.effective_password,
                                         kdf=KDF, iterations=KDF_ITERATIONS))
        return account

    def _default_password_problem(self, url: str) -> str | None:
        if self.effective_password != DEVNET_KEY_PASSWORD or is_local_rpc(url):
            return None
        return (f"the keystore is protected by the public default password while the chain RPC is {url}, not the "
                f"local devnet: set CONSENT_LEDGER_KEY_PASSWORD to a strong secret (and re-encrypt the keys with it)")

    def check_password(self, url: str | None = None) -> None:
        """Refuse the default password off the local devnet (unless explicitly allowed, then warn)."""
        problem = self._default_password_problem(url or self.rpc_url)
        if problem is None:
            return
        if self.allow_default_password:
            _warn(problem)
            return
        raise ConfigurationError(f"refusing to start: {problem} (or set {ALLOW_DEFAULT_PASSWORD_ENV}=1 to accept "
                                 f"the risk)")

    def load(self, name: str, *, password: str | None = None) -> "LocalAccount":
        """Decrypt the key ``name``."""
        from eth_account import Account

        if password is None:
            problem = self._default_password_problem(self.rpc_url)
            if problem:
                _warn(problem)
        path = self.path(name)
        keyfile = _read(path, name)
        try:
            private_key = Account.decrypt(keyfile, password if password is not None else self.effective_password)
        except ValueError as exc:  # eth_keyfile reports a wrong password as a MAC mismatch
            raise KeystoreError(f"cannot decrypt key {name!r}: wrong CONSENT_LEDGER_KEY_PASSWORD?") from exc
        return Account.from_key(private_key)

    def load_all(self, names: list[str] | tuple[str, ...]) -> list["LocalAccount"]:
        """Decrypt several keys at once: PBKDF2 releases the GIL, so they share the cores."""
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(len(names), os.cpu_count() or 1) or 1) as pool:
            return list(pool.map(self.load, names))

    def address_of(self, name: str) -> str:
        """Checksummed address of the key ``name``, without decrypting it."""
        from eth_utils import to_checksum_address

        keyfile = _read(self.path(name), name)
        try:
            return to_checksum_address(keyfile["address"])
        except (KeyError, ValueError, TypeError) as exc:
            raise KeystoreError(f"key file for {name!r} has no valid address") from exc

    def list(self) -> dict[str, str]:
        """Every key in the keystore: name -> checksummed address, sorted by name."""
        keys = {}
        for path in sorted(self.directory.glob("*.json")):
            name = path.stem
            if _NAME.match(name):
                keys[name] = self.address_of(name)
        return keys

    def ensure_authority_keys(self, *, password: str | None = None) -> dict[str, str]:
        """Generate the authority keys that are missing; returns name -> address for all of them."""
        addresses = {}
        for name in AUTHORITY_KEYS:
            if not self.path(name).exists():
                try:
                    self.new(name, password=password)
                except KeystoreError:
                    if not self.path(name).exists():  # not a lost race with another process
                        raise
            addresses[name] = self.address_of(name)
        return addresses


def is_local_rpc(url: str) -> bool:
    """Whether ``url`` points at this machine (the embedded devnet's gateway listens on loopback)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_warned = False


def _warn(problem: str) -> None:
    global _warned
    if not _warned:
        _warned = True
        log.warning("WARNING: %s", problem)
        print(f"WARNING: {problem}", file=sys.stderr)


# The keystore the environment configures, for scripts and tests; the CLI and the API build a
# Keystore from the Settings they read once.
def _configured() -> Keystore:
    return Keystore.from_settings(Settings.from_env())


def key_path(name: str) -> Path:
    return _configured().path(name)


def new_key(name: str, *, password: str | None = None) -> "LocalAccount":
    return _configured().new(name, password=password)


def load_key(name: str, *, password: str | None = None) -> "LocalAccount":
    return _configured().load(name, password=password)


def address_of(name: str) -> str:
    return _configured().address_of(name)


def ensure_authority_keys(*, password: str | None = None) -> dict[str, str]:
    return _configured().ensure_authority_keys(password=password)


def _read(path: Path, name: str) -> dict:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise KeystoreError(f"no key {name!r} in {path.parent} (create it with `consent-ledger keys new {name}`)") from None
    if mode & 0o077:  # it may already have been copied: tightening it quietly would hide that
        raise KeystoreError(f"key file {path} is accessible to other users (mode {stat.S_IMODE(mode):o}); check "
                            f"who may have read it, then run: chmod 600 {path}")
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise KeystoreError(f"unreadable key file {path}: {exc}") from exc


def _write_new(path: Path, keyfile: dict) -> None:
    """Write ``keyfile`` durably at ``path`` (0600) unless a file is already there."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(keyfile, fh)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)  # unlike rename, fails instead of replacing a concurrently created key
        except FileExistsError:
            raise KeystoreError(f"key {path.stem!r} already exists at {path}") from None
    finally:
        tmp.unlink(missing_ok=True)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
