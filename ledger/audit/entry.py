"""Audit entries and their canonical leaf encoding.

Each decision (allow or deny) becomes one :class:`AuditEntry`; its leaf bytes are canonical
JSON: keys sorted, no whitespace, UTF-8 (non-ASCII kept as is), integers as integers, ``null``
for absent values. Every entry has exactly one encoding: :func:`decode_leaf` rejects any
byte string that :func:`encode_leaf` would not have produced, so a leaf cannot be re-spelled
without changing its hash.

Value rules: ``time`` is UTC with millisecond precision (``2025-10-01T08:00:00.123Z``),
``requester`` an EIP-55 checksummed address, ``subject_id`` / ``consent_id`` /
``payload_hash`` 0x + 64 lower-case hex, ``fields`` sorted and unique, ``decision`` ALLOW or
DENY (a DENY releases nothing, so it has no payload hash). ``emergency_id`` (a positive integer)
names the green-channel emergency a request was made under; ``disputed`` (on an ALLOW only) lists
``{"field", "objection_id"}`` for each released field under an objection the data authority has
marked and not decided (异议标注), by field then id. Each optional key is present only when it has a
value, so every entry made without one keeps the encoding it always had.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson
from eth_utils import is_checksum_address, to_checksum_address

from ledger.audit.hasher import hash_leaf
from ledger.exceptions import InvalidAuditEntry

__all__ = [
    "ALLOW",
    "DENY",
    "AuditEntry",
    "canonical_json",
    "decode_leaf",
    "encode_leaf",
    "entry_leaf_hash",
    "format_time",
    "payload_hash",
]

ALLOW = "ALLOW"
DENY = "DENY"
MIN_SALT_SIZE = 16

_UTC = _dt.timezone.utc
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}\Z")
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z\Z")
_REASON = re.compile(r"[A-Z][A-Z0-9_]*\Z")
_KEYS = frozenset(
    {
        "seq", "time", "requester", "subject_id", "resource", "purpose", "consent_id",
        "decision", "reason", "fields", "block_number", "payload_hash",
    }
)
_OPTIONAL_KEYS = frozenset({"emergency_id", "disputed"})


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8 without escaping non-ASCII, no NaN/Infinity.

    orjson writes exactly these bytes (checked against the json module in the tests) ten times
    faster; integers beyond 64 bits, which it refuses, take the json module's path.
    """
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                          allow_nan=False).encode("utf-8")


def format_time(moment: _dt.datetime) -> str:
    """ISO 8601 UTC with milliseconds and a ``Z`` suffix; sub-millisecond digits are dropped."""
    # isoformat (C, truncating to milliseconds) is several times cheaper than strftime.
    if moment.tzinfo is not _UTC:  # an entry's own time is UTC already: no conversion on the hot path
        moment = moment.astimezone(_UTC)
    return moment.isoformat(timespec="milliseconds")[:-6] + "Z"


def _bad(message: str) -> InvalidAuditEntry:
    return InvalidAuditEntry(f"audit entry: {message}")


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _bad(f"{name} must be a non-negative integer, got {value!r}")
    return value


def _hex32(value: Any, name: str, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if isinstance(value, (bytes, bytearray)):
        if len(value) != 32:
            raise _bad(f"{name} must be 32 bytes, got {len(value)}")
        return "0x" + bytes(value).hex()
    if not isinstance(value, str) or not _is_hex32(value):
        raise _bad(f"{name} must be 0x followed by 64 lower-case hex digits, got {value!r}")
    return value


def _is_hex32(value: str) -> bool:
    """0x and 64 lower-case hex digits, checked in C at a third of a regular expression's time
    (three times an entry). ``islower`` passes one-case text only; the ``x`` makes it true for
    all-digit ids."""
    if len(value) != 66 or value[:2] != "0x" or not value.islower():
        return False
    try:
        return len(bytes.fromhex(value[2:])) == 32  # 64 characters give 32 bytes only with no whitespace
    except ValueError:
        return False


def _address(value: Any) -> str:
    if not isinstance(value, str):
        raise _bad(f"requester must be an Ethereum address, got {value!r}")
    return _checksummed(value)


@lru_cache(maxsize=4096)
def _checksummed(value: str) -> str:
    """Cached: the same few departments are the requesters of almost every entry."""
    if not _ADDRESS.match(value):
        raise _bad(f"requester must be an Ethereum address, got {value!r}")
    body = value[2:]
    # Mixed case claims an EIP-55 checksum, which must then be right; one-case hex carries none.
    if body != body.lower() and body != body.upper() and not is_checksum_address(value):
        raise _bad(f"requester must be an Ethereum address with a valid EIP-55 checksum, got {value!r}")
    return to_checksum_address(value)


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value or value != value.strip():
        raise _bad(f"{name} must be a non-empty string without surrounding whitespace, got {value!r}")
    return value


def _time(value: Any) -> _dt.datetime:
    if isinstance(value, str):
        if not _TIME.match(value):
            raise _bad(f"time must look like 2025-01-31T08:00:00.000Z, got {value!r}")
        try:
            # The pattern fixed the form; fromisoformat (C) only has to read it, ten times faster than strptime.
            value = _dt.datetime.fromisoformat(value[:-1]).replace(tzinfo=_dt.timezone.utc)
        except ValueError:
            raise _bad(f"time {value!r} is not a real instant") from None
    if not isinstance(value, _dt.datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise _bad(f"time must be a timezone-aware datetime, got {value!r}")
    utc = value if value.tzinfo is _UTC else value.astimezone(_UTC)
    sub_ms = utc.microsecond % 1000
    return utc.replace(microsecond=utc.microsecond - sub_ms) if sub_ms else utc


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audited decision. Constructing it validates and canonicalizes every value."""

    seq: int
    time: _dt.datetime
    requester: str
    subject_id: str
    resource: str
    purpose: str
    consent_id: str | None
    decision: str
    reason: str
    fields: tuple[str, ...]
    block_number: int
    payload_hash: str | None = None
    emergency_id: int | None = None
    disputed: tuple[tuple[str, int], ...] = ()

    def __post_init__(self) -> None:
        put = object.__setattr__
        put(self, "seq", _int(self.seq, "seq"))
        put(self, "time", _time(self.time))
        put(self, "requester", _address(self.requester))
        put(self, "subject_id", _hex32(self.subject_id, "subject_id"))
        put(self, "resource", _text(self.resource, "resource"))
        put(self, "purpose", _text(self.purpose, "purpose"))
        put(self, "consent_id", _hex32(self.consent_id, "consent_id", optional=True))
        decision = getattr(self.decision, "value", self.decision)
        if decision not in (ALLOW, DENY):
            raise _bad(f"decision must be ALLOW or DENY, got {self.decision!r}")
        put(self, "decision", decision)
        reason = getattr(self.reason, "value", self.reason)
        if not isinstance(reason, str) or not _REASON.match(reason):
            raise _bad(f"reason must be an upper-case code like NO_CONSENT, got {self.reason!r}")
        put(self, "reason", reason)
        if isinstance(self.fields, (str, bytes)) or not isinstance(self.fields, Iterable):
            raise _bad(f"fields must be a list of field names, got {self.fields!r}")
        fields = tuple(self.fields)
        for name in fields:
            _text(name, "field name")
        if len(set(fields)) != len(fields):
            raise _bad(f"fields must not repeat, got {list(fields)}")
        put(self, "fields", tuple(sorted(fields)))
        put(self, "block_number", _int(self.block_number, "block_number"))
        put(self, "payload_hash", _hex32(self.payload_hash, "payload_hash", optional=True))
        if decision == DENY and self.payload_hash is not None:
            raise _bad("a DENY entry releases nothing and cannot carry a payload_hash")
        if self.emergency_id is not None and (_int(self.emergency_id, "emergency_id") < 1):
            raise _bad(f"emergency_id must be a positive integer, got {self.emergency_id!r}")
        put(self, "disputed", _disputed(self.disputed, fields, decision))

    @property
    def allowed(self) -> bool:
        return self.decision == ALLOW

    def as_dict(self) -> dict[str, Any]:
        """The JSON object of the leaf (what :func:`encode_leaf` serializes)."""
        return {
            "seq": self.seq,
            "time": format_time(self.time),
            "requester": self.requester,
            "subject_id": self.subject_id,
            "resource": self.resource,
            "purpose": self.purpose,
            "consent_id": self.consent_id,
            "decision": self.decision,
            "reason": self.reason,
            "fields": list(self.fields),
            "block_number": self.block_number,
            "payload_hash": self.payload_hash,
        } | ({"emergency_id": self.emergency_id} if self.emergency_id is not None else {}) \
          | ({"disputed": [{"field": f, "objection_id": i} for f, i in self.disputed]} if self.disputed else {})


def encode_leaf(entry: AuditEntry) -> bytes:
    """The canonical leaf bytes of ``entry``."""
    return canonical_json(entry.as_dict())


def entry_leaf_hash(entry: AuditEntry) -> bytes:
    """The Merkle leaf hash of ``entry``: SHA-256(0x00 || encode_leaf(entry))."""
    return hash_leaf(encode_leaf(entry))


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _bad(f"duplicate key {key!r}")
        out[key] = value
    return out


def decode_leaf(leaf: bytes) -> AuditEntry:
    """Parse leaf bytes back into an :class:`AuditEntry`; reject anything not canonical."""
    try:
        text = bytes(leaf).decode("utf-8")
        obj = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except InvalidAuditEntry:
        raise
    except (UnicodeDecodeError, ValueError, TypeError) as exc:
        raise _bad(f"leaf is not UTF-8 JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise _bad("leaf must be a JSON object")
    keys = set(obj)
    if not _KEYS <= keys <= _KEYS | _OPTIONAL_KEYS:
        missing, extra = sorted(_KEYS - keys), sorted(keys - _KEYS - _OPTIONAL_KEYS)
        raise _bad(f"leaf keys differ from the schema (missing {missing}, unexpected {extra})")
    if not isinstance(obj["fields"], list):
        raise _bad("fields must be a JSON array")
    entry = AuditEntry(**obj)
    if encode_leaf(entry) != bytes(leaf):
        raise _bad("leaf is valid JSON but not in canonical form")
    return entry


def payload_hash(salt: bytes, data: bytes | Mapping[str, Any] | list[Any]) -> str:
    """Salted SHA-256 of a released payload, as 0x hex: SHA-256(salt || payload bytes).

    ``data`` is the released bytes, or a JSON value hashed in :func:`canonical_json` form.
    The salt (at least 16 random bytes, kept with the entry off-chain) stops anyone who sees
    the hash from confirming a guess about low-entropy data such as a birth date.
    """
    if not isinstance(salt, (bytes, bytearray)) or len(salt) < MIN_SALT_SIZE:
        raise _bad(f"payload salt must be at least {MIN_SALT_SIZE} bytes")
    body = bytes(data) if isinstance(data, (bytes, bytearray)) else canonical_json(data)
    return "0x" + hashlib.sha256(bytes(salt) + body).hexdigest()


def _disputed(value: Any, fields: tuple[str, ...], decision: str) -> tuple[tuple[str, int], ...]:
    """``disputed`` as sorted (field, objection id) pairs, from pairs or the leaf's objects."""
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise _bad(f"disputed must be a list of {{field, objection_id}}, got {value!r}")
    pairs = []
    for item in value:
        if isinstance(item, Mapping):
            if set(item) != {"field", "objection_id"}:
                raise _bad(f"a disputed item has exactly the keys field and objection_id, got {item!r}")
            item = (item["field"], item["objection_id"])
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            raise _bad(f"a disputed item is a field and an objection id, got {item!r}")
        name, objection_id = _text(item[0], "disputed field"), _int(item[1], "objection_id")
        if name not in fields or objection_id < 1:
            raise _bad(f"disputed item {item!r} must name a released field and a positive objection id")
        pairs.append((name, objection_id))
    if pairs and decision != ALLOW:
        raise _bad("a DENY entry releases nothing and cannot mark fields disputed")
    if len(set(pairs)) != len(pairs):
        raise _bad("disputed items must not repeat")
    return tuple(sorted(pairs))

