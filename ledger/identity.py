"""Subject identifiers: validation, normalization, keyed subject ids and the platform pepper.

A natural person is identified by the resident identity number (居民身份证号, GB 11643-1999),
an enterprise or other organization by its unified social credit code (统一社会信用代码,
GB 32100-2015). On chain a subject is known only by ``subject_id`` = HMAC-SHA256(pepper,
"<id_type>:<normalized id>"): a plain hash of an ID number is brute-forceable in minutes, a
keyed hash is not without the pepper, which never leaves the platform.

Normalization (so that every spelling of the same ID maps to the same subject id): Unicode
NFKC (full-width digits and letters become ASCII), all whitespace removed, upper case.
"""

from __future__ import annotations

import datetime as _dt
import enum
import hashlib
import hmac
import os
import unicodedata
from pathlib import Path

from ledger._idcheck import check_resident_id, check_uscc
from ledger.exceptions import ConfigurationError, InvalidIdentifier
from ledger.settings import SECRET_KEY_BYTES, Settings
from ledger.storage.sealing import read_secret_file

__all__ = [
    "IdType",
    "InvalidIdentifier",
    "PEPPER_SIZE",
    "load_or_create_pepper",
    "normalize_id",
    "subject_id",
]

PEPPER_SIZE = SECRET_KEY_BYTES

try:
    from zoneinfo import ZoneInfo

    _CHINA_TZ: _dt.tzinfo = ZoneInfo("Asia/Shanghai")
except Exception:  # no tz database installed; China has kept UTC+8 without DST since 1991
    _CHINA_TZ = _dt.timezone(_dt.timedelta(hours=8), "CST")


class IdType(str, enum.Enum):
    """Kind of identifier; the value is the spelling used in the API and in the HMAC input."""

    RESIDENT_ID = "resident_id"
    USCC = "uscc"

    def __str__(self) -> str:
        return self.value


def _parse_id_type(id_type: IdType | str) -> IdType:
    try:
        return IdType(id_type)
    except ValueError:
        raise InvalidIdentifier(
            f"unknown id_type {id_type!r}; expected one of: {', '.join(t.value for t in IdType)}"
        ) from None


def _canonical_text(id_number: str) -> str:
    if not isinstance(id_number, str):
        raise InvalidIdentifier(f"id_number must be a string, got {type(id_number).__name__}")
    text = unicodedata.normalize("NFKC", id_number)
    return "".join(text.split()).upper()


def normalize_id(id_type: IdType | str, id_number: str, *, today: _dt.date | None = None) -> str:
    """Validate ``id_number`` as ``id_type`` and return its canonical form.

    ``today`` (default: the current date in China) bounds resident birth dates; pass it only
    to re-check an ID as of another day. Raises :class:`InvalidIdentifier` with a message
    that names the failed rule (length, characters, region, birth date, check character).
    """
    kind = _parse_id_type(id_type)
    value = _canonical_text(id_number)
    if not value:
        raise InvalidIdentifier(f"{kind.value}: empty identifier")
    if kind is IdType.RESIDENT_ID:
        check_resident_id(value, today or _dt.datetime.now(_CHINA_TZ).date())
    else:
        check_uscc(value)
    return value


def subject_id(pepper: bytes, id_type: IdType | str, id_number: str) -> bytes:
    """The 32-byte on-chain subject id: HMAC-SHA256(pepper, f"{id_type}:{normalized}").

    Validates ``id_number`` first (raising :class:`InvalidIdentifier`), so a malformed ID
    can never become a subject.
    """
    if not isinstance(pepper, (bytes, bytearray)) or len(pepper) < 16:
        raise ConfigurationError("pepper must be at least 16 bytes")
    kind = _parse_id_type(id_type)
    normalized = normalize_id(kind, id_number)
    message = f"{kind.value}:{normalized}".encode("utf-8")
    return hmac.new(bytes(pepper), message, hashlib.sha256).digest()


def _read_pepper_file(path: Path) -> bytes:
    value = read_secret_file(path)
    if len(value) != PEPPER_SIZE:
        raise ConfigurationError(f"pepper file {path} holds {len(value)} bytes, expected {PEPPER_SIZE}")
    return value


def load_or_create_pepper(data_dir: Path | str | None = None, *, explicit: bytes | None = None) -> bytes:
    """Return the platform pepper (32 bytes).

    ``explicit`` (``Settings.pepper``, from ``$CONSENT_LEDGER_PEPPER``) wins when given. Otherwise
    the pepper lives in ``<data_dir>/secrets/pepper`` (directory mode 0700, file mode 0600) and is
    created from the OS random source on first use. Creation is atomic, so concurrent first calls
    from several processes agree on one pepper. Without ``data_dir``, both come from
    ``Settings.from_env()``.

    Losing or changing the pepper changes every subject id: back the file up with the
    chain's key material, never commit it.
    """
    if data_dir is None:
        settings = Settings.from_env()
        data_dir, explicit = settings.data_dir, settings.pepper
    if explicit is not None:
        if len(explicit) != PEPPER_SIZE:
            raise ConfigurationError(f"the pepper must be {PEPPER_SIZE} bytes, got {len(explicit)}")
        return explicit
    Path(data_dir).mkdir(mode=0o700, parents=True, exist_ok=True)
    secrets_dir = Path(data_dir) / "secrets"
    secrets_dir.mkdir(mode=0o700, exist_ok=True)
    os.chmod(secrets_dir, 0o700)
    path = secrets_dir / "pepper"
    if path.exists():
        return _read_pepper_file(path)
    # Write a complete temp file, then hard-link it into place: link fails if another process
    # won the race, and nobody ever reads a half-written pepper.
    tmp = secrets_dir / f".pepper.{os.getpid()}.{os.urandom(4).hex()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(os.urandom(PEPPER_SIZE))
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
    finally:
        tmp.unlink(missing_ok=True)
    return _read_pepper_file(path)
