"""Field-level encryption of records at rest (AES-256-GCM).

Each field value is sealed on its own, with the resource, subject and field name as associated
data, so a ciphertext moved to another row or field fails to open. The key is a secret created
on first use under the data dir (``secrets/records.key``) or given as hex in
``CONSENT_LEDGER_RECORDS_KEY`` (``Settings.records_key``); it is never stored in the database.
"""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ledger.exceptions import ConfigurationError, LedgerError

_NONCE_BYTES = 12


class SealError(LedgerError):
    """A sealed field failed authentication: wrong key, moved or altered ciphertext."""


def check_secret_file(path: Path) -> None:
    """Refuse a secret file that other users may read or write: it may already have leaked, and
    quietly tightening it would hide that."""
    mode = path.stat().st_mode
    if mode & 0o077:
        raise ConfigurationError(f"secret file {path} is accessible to other users (mode "
                                 f"{stat.S_IMODE(mode):o}); check who may have read it, then run: chmod 600 {path}")


def read_secret_file(path: Path) -> bytes:
    check_secret_file(path)
    return path.read_bytes()


def _create_once(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path`` (0600) unless it exists; concurrent first calls agree on one."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.exists():
        return
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)  # fails if another process created it first: keep theirs
        except FileExistsError:
            pass
    finally:
        tmp.unlink(missing_ok=True)


def load_or_create_secret(path: Path, size: int = 32) -> bytes:
    """A random secret kept in one owner-only file, created atomically on first use."""
    _create_once(path, os.urandom(size))
    secret = read_secret_file(path)
    if len(secret) != size:
        raise ConfigurationError(f"{path} must hold exactly {size} bytes")
    return secret


def load_or_create_token(path: Path) -> str:
    """A random bearer token (64 hex characters) kept as text in one owner-only file, so an operator's
    tools can read it as it is (e.g. Prometheus ``authorization.credentials_file``)."""
    _create_once(path, os.urandom(32).hex().encode())
    token = read_secret_file(path).decode("ascii", "replace").strip()
    if len(token) < 32:
        raise ConfigurationError(f"{path} must hold a token of 32+ characters")
    return token


class RecordSealer:
    def __init__(self, key: bytes):
        if len(key) != 32:
            raise ConfigurationError("the records key must be 32 bytes")
        self._aead = AESGCM(key)

    @classmethod
    def from_data_dir(cls, data_dir: Path, *, explicit: bytes | None = None) -> "RecordSealer":
        """``explicit`` (``Settings.records_key``) wins; else the data dir's key, created on first use."""
        if explicit is not None:
            return cls(explicit)
        return cls(load_or_create_secret(data_dir / "secrets" / "records.key"))

    @staticmethod
    def _aad(resource_id: str, subject_id: str, field: str) -> bytes:
        return f"{resource_id}\x1f{subject_id}\x1f{field}".encode()

    def seal(self, resource_id: str, subject_id: str, data: dict[str, Any]) -> dict[str, str]:
        sealed = {}
        for field, value in data.items():
            nonce = os.urandom(_NONCE_BYTES)
            ciphertext = self._aead.encrypt(nonce, orjson.dumps(value), self._aad(resource_id, subject_id, field))
            sealed[field] = base64.b64encode(nonce + ciphertext).decode()
        return sealed

    def open(self, resource_id: str, subject_id: str, sealed: dict[str, str], fields) -> dict[str, Any]:
        """Decrypt only the requested fields (the others stay sealed, even in memory)."""
        opened = {}
        for field in fields:
            blob = sealed.get(field)
            if blob is None:
                continue
            raw = base64.b64decode(blob)
            try:
                plain = self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:],
                                           self._aad(resource_id, subject_id, field))
            except InvalidTag as exc:
                raise SealError(f"sealed field {field} of {resource_id} failed authentication") from exc
            opened[field] = orjson.loads(plain)
        return opened
