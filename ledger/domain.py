"""The ledger's domain facts, each defined here once: every other module imports them from here.

The contracts keep their own enums and constants (``ICatalog.SharingClass``, ``ISubjects.SubjectKind``,
``Roles``); the Python side follows them by position and by hash, and ``tests/unit`` compares this
module with the compiler's output so the two cannot drift apart.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from functools import lru_cache

import orjson
from eth_hash.auto import keccak

__all__ = [
    "DEFAULT_ADMIN_ROLE",
    "ROLES",
    "ROLE_BY_HASH",
    "ROLE_NAMES",
    "ConsentStatus",
    "SharingClass",
    "SubjectKind",
    "department_code",
    "purpose_hash",
    "resource_key",
    "resource_key_hex",
    "role_name",
    "schema_hash",
    "schema_hash_hex",
]


class SharingClass(str, enum.Enum):
    """共享类型: unconditional, conditional (needs an approved agreement), not shared.

    Declared in the order of ``ICatalog.SharingClass``: a member's position is its on-chain value."""

    UNCONDITIONAL = "UNCONDITIONAL"
    CONDITIONAL = "CONDITIONAL"
    NOT_SHARED = "NOT_SHARED"

    @property
    def index(self) -> int:
        """The on-chain (uint8) value."""
        return _SHARING_CLASS_ORDER.index(self)

    @classmethod
    def from_index(cls, value: int) -> SharingClass:
        return _SHARING_CLASS_ORDER[value]


_SHARING_CLASS_ORDER = tuple(SharingClass)


class ConsentStatus(str, enum.Enum):
    ACTIVE = "ACTIVE"
    REVOKED = "REVOKED"


class SubjectKind(enum.IntEnum):
    """``ISubjects.SubjectKind``: NONE marks an unregistered id; a resident is a PERSON, a USCC an ENTERPRISE."""

    NONE = 0
    PERSON = 1
    ENTERPRISE = 2

    @classmethod
    def for_id_type(cls, id_type: str) -> SubjectKind:
        """The kind of subject an identifier type (``ledger.identity.IdType`` value) names."""
        return {"resident_id": cls.PERSON, "uscc": cls.ENTERPRISE}[str(id_type)]


# --- roles (contracts/src/libraries/Roles.sol) ------------------------------------------------------

#: The Participants roles other than the admin's, by their Solidity constant names.
ROLE_NAMES = ("DEPARTMENT_ROLE", "REGULATOR_ROLE", "IDENTITY_ATTESTER_ROLE", "RELAYER_ROLE",
              "ANCHORER_ROLE", "EMERGENCY_ROLE")
DEFAULT_ADMIN_ROLE = b"\0" * 32
#: Role hash (bytes32) by name, the admin's included.
ROLES = {"DEFAULT_ADMIN_ROLE": DEFAULT_ADMIN_ROLE} | {name: keccak(name.encode()) for name in ROLE_NAMES}
#: Role name by hash (bytes32).
ROLE_BY_HASH = {value: name for name, value in ROLES.items()}


def role_name(role: bytes) -> str | None:
    """The short name of a role hash as the projection keeps it (``DEPARTMENT``, ``ADMIN``), None if unknown."""
    name = ROLE_BY_HASH.get(role)
    if name is None:
        return None
    return "ADMIN" if role == DEFAULT_ADMIN_ROLE else name.removesuffix("_ROLE")


# --- keys and hashes ----------------------------------------------------------------------------------


def resource_key(resource_id: str) -> bytes:
    """On-chain key of a resource slug: keccak256(utf-8 slug)."""
    return keccak(resource_id.encode("utf-8"))


@lru_cache(maxsize=4096)
def resource_key_hex(resource_id: str) -> str:
    """The projection's key of a resource slug: 0x + keccak256(slug)."""
    return "0x" + resource_key(resource_id).hex()


@lru_cache(maxsize=4096)
def purpose_hash(purpose: str) -> bytes:
    """On-chain form of a purpose string: keccak256(utf-8 purpose), as the Consents contract keeps it."""
    return keccak(purpose.encode("utf-8"))


def schema_hash(fields: Iterable[str]) -> bytes:
    """On-chain schema hash of a resource's ordered field list: keccak256 of its compact JSON array.

    Field masks name fields by position, so this hash is what binds a mask to field names."""
    return keccak(orjson.dumps(list(fields)))


@lru_cache(maxsize=1024)
def schema_hash_hex(fields: tuple[str, ...]) -> str:
    """0x + the schema hash of a field list, as the Catalog contract keeps it."""
    return "0x" + schema_hash(fields).hex()


def department_code(code: str) -> bytes:
    """A department code (``Participants.registerDepartment``'s bytes32): its UTF-8 bytes, zero-padded."""
    raw = code.encode()
    return raw + b"\0" * (32 - len(raw))
