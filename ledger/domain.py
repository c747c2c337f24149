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
    "Role",
    "ConsentStatus",
    "SharingClass",
    "SubjectKind",
    "department_code",
    "department_code_text",
    "purpose_hash",
    "resource_key",
    "resource_key_hex",
    "role_name",
    "schema_hash",
    "schema_hash_hex",
]


# Declared in the order of ICatalog.SharingClass: a member's position is its on-chain value.
class SharingClass(str, enum.Enum):
    """共享类型: unconditional, conditional (needs an approved agreement), not shared."""

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
    ENDED_BY_REGULATOR = "ENDED_BY_REGULATOR"


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


class Role(enum.StrEnum):
    """A Participants role by the short name the projection, the API and its tokens use."""

    ADMIN = "ADMIN"
    DEPARTMENT = "DEPARTMENT"
    REGULATOR = "REGULATOR"
    IDENTITY_ATTESTER = "IDENTITY_ATTESTER"
    RELAYER = "RELAYER"
    ANCHORER = "ANCHORER"
    EMERGENCY = "EMERGENCY"

    @property
    def constant(self) -> str:
        """The contract's name of the role: ``DEFAULT_ADMIN_ROLE``, ``DEPARTMENT_ROLE``, ..."""
        return "DEFAULT_ADMIN_ROLE" if self is Role.ADMIN else self.value + "_ROLE"

    @property
    def hash(self) -> bytes:
        """The role's bytes32: 0 for the admin, keccak256 of the constant's name for the others."""
        return DEFAULT_ADMIN_ROLE if self is Role.ADMIN else keccak(self.constant.encode())


DEFAULT_ADMIN_ROLE = b"\0" * 32
#: The Participants roles other than the admin's, by their Solidity constant names.
ROLE_NAMES = tuple(role.constant for role in Role if role is not Role.ADMIN)
#: Role hash (bytes32) by constant name, the admin's included.
ROLES = {role.constant: role.hash for role in Role}
#: Constant name by role hash (bytes32).
ROLE_BY_HASH = {value: name for name, value in ROLES.items()}
_ROLE_BY_HASH = {role.hash: role for role in Role}


def role_name(role: bytes) -> str | None:
    """The short name of a role hash (``DEPARTMENT``, ``ADMIN``), None if the ledger does not know the role."""
    found = _ROLE_BY_HASH.get(role)
    return None if found is None else found.value


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


def department_code_text(code: str) -> str:
    """The text of a department code as the chain holds it (0x + 32 bytes); the hex when it is not text."""
    try:
        return bytes.fromhex(code.removeprefix("0x")).rstrip(b"\0").decode()
    except (ValueError, UnicodeDecodeError):
        return code
