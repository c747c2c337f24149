"""EIP-712 typed data for consents, revocations and objections, as standard ``eth_signTypedData_v4`` JSON.

The domain is read from the contract that checks the signature (Consents, or Objections) (ERC-5267 ``eip712Domain()``), never hard-coded,
so a wallet, this module and the contract agree on one digest. Encoding and hashing are
eth-account's (``encode_typed_data(full_message=...)``); uint256 values travel as decimal strings
so JavaScript wallets do not lose precision.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_typed_data
from eth_utils import is_address, to_checksum_address

from ledger.exceptions import LedgerError

CONSENT_TYPE = [
    {"name": "subject", "type": "bytes32"},
    {"name": "grantee", "type": "address"},
    {"name": "resources", "type": "bytes32[]"},
    {"name": "fieldMasks", "type": "uint256[]"},
    {"name": "purpose", "type": "string"},
    {"name": "validFrom", "type": "uint64"},
    {"name": "validUntil", "type": "uint64"},
    {"name": "maxUses", "type": "uint32"},
    {"name": "nonce", "type": "uint256"},
    {"name": "deadline", "type": "uint64"},
]
REVOKE_TYPE = [
    {"name": "consentId", "type": "bytes32"},
    {"name": "subject", "type": "bytes32"},
    {"name": "nonce", "type": "uint256"},
    {"name": "deadline", "type": "uint64"},
]
OBJECTION_TYPE = [
    {"name": "subject", "type": "bytes32"},
    {"name": "resourceId", "type": "bytes32"},
    {"name": "fieldMask", "type": "uint256"},
    {"name": "kind", "type": "uint8"},
    {"name": "reasonHash", "type": "bytes32"},
    {"name": "nonce", "type": "uint256"},
    {"name": "deadline", "type": "uint64"},
]
_DOMAIN_FIELDS = (("name", "string"), ("version", "string"), ("chainId", "uint256"),
                  ("verifyingContract", "address"), ("salt", "bytes32"))


class InvalidTypedData(LedgerError):
    """Typed data that is not a well-formed Consent or Revoke of this ledger's domain."""


class NonCanonicalTypedData(InvalidTypedData):
    """Typed data that means a valid Consent or Revoke but is spelt otherwise than this ledger writes
    it (a hex nonce, a number as a string, a lower-case address): refused, so that what is stored is
    exactly what the builders produce and every later reader can trust its form."""


class InvalidSignature(LedgerError):
    """A signature that does not recover, or recovers to an unexpected key."""


@dataclass(frozen=True, slots=True)
class Domain:
    name: str
    version: str
    chain_id: int
    verifying_contract: str

    @classmethod
    def from_eip5267(cls, values: tuple) -> "Domain":
        """From the tuple ``eip712Domain()`` returns: (fields, name, version, chainId, verifyingContract, salt, extensions)."""
        fields, name, version, chain_id, verifying_contract, _salt, _extensions = values
        fields = fields if isinstance(fields, int) else int.from_bytes(fields, "big")
        if fields != 0x0F:  # name, version, chainId, verifyingContract
            raise InvalidTypedData(f"unsupported EIP-712 domain fields bitmap {fields:#x}")
        return cls(name, version, int(chain_id), to_checksum_address(verifying_contract))

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "chainId": self.chain_id,
                "verifyingContract": self.verifying_contract}

    def types(self) -> list[dict]:
        present = {"name", "version", "chainId", "verifyingContract"}
        return [{"name": n, "type": t} for n, t in _DOMAIN_FIELDS if n in present]


@dataclass(frozen=True, slots=True)
class ConsentMessage:
    subject: bytes
    grantee: str
    resources: tuple[bytes, ...]
    field_masks: tuple[int, ...]
    purpose: str
    valid_from: int
    valid_until: int
    max_uses: int
    nonce: int
    deadline: int

    def as_json(self) -> dict[str, Any]:
        return {
            "subject": "0x" + self.subject.hex(),
            "grantee": to_checksum_address(self.grantee),
            "resources": ["0x" + r.hex() for r in self.resources],
            "fieldMasks": [str(m) for m in self.field_masks],
            "purpose": self.purpose,
            "validFrom": self.valid_from,
            "validUntil": self.valid_until,
            "maxUses": self.max_uses,
            "nonce": str(self.nonce),
            "deadline": self.deadline,
        }

    def as_abi_tuple(self) -> tuple:
        return (self.subject, to_checksum_address(self.grantee), list(self.resources), list(self.field_masks),
                self.purpose, self.valid_from, self.valid_until, self.max_uses, self.nonce, self.deadline)

    @classmethod
    def from_json(cls, message: dict[str, Any]) -> "ConsentMessage":
        field = "message"
        try:
            field = "subject"
            subject = _bytes32(message["subject"])
            field = "grantee"
            grantee = _address(message["grantee"])
            field = "resources"
            resources = tuple(_bytes32(r) for r in _list(message["resources"]))
            field = "fieldMasks"
            field_masks = tuple(_uint(m, 256) for m in _list(message["fieldMasks"]))
            field = "purpose"
            purpose = message["purpose"]
            if not isinstance(purpose, str):
                raise ValueError("expected a string")
            field = "validFrom"
            valid_from = _uint(message["validFrom"], 64)
            field = "validUntil"
            valid_until = _uint(message["validUntil"], 64)
            field = "maxUses"
            max_uses = _uint(message["maxUses"], 32)
            field = "nonce"
            nonce = _uint(message["nonce"], 256)
            field = "deadline"
            deadline = _uint(message["deadline"], 64)
        except KeyError:
            raise InvalidTypedData(f"malformed Consent message: {field} is missing") from None
        except ValueError as exc:
            raise InvalidTypedData(f"malformed Consent message: {field}: {exc}") from None
        return cls(subject, grantee, resources, field_masks, purpose, valid_from, valid_until, max_uses, nonce,
                   deadline)


@dataclass(frozen=True, slots=True)
class RevokeMessage:
    consent_id: bytes
    subject: bytes
    nonce: int
    deadline: int

    def as_json(self) -> dict[str, Any]:
        return {"consentId": "0x" + self.consent_id.hex(), "subject": "0x" + self.subject.hex(),
                "nonce": str(self.nonce), "deadline": self.deadline}

    def as_abi_tuple(self) -> tuple:
        return (self.consent_id, self.subject, self.nonce, self.deadline)

    @classmethod
    def from_json(cls, message: dict[str, Any]) -> "RevokeMessage":
        values = []
        for field, parse in (("consentId", _bytes32), ("subject", _bytes32), ("nonce", lambda v: _uint(v, 256)),
                             ("deadline", lambda v: _uint(v, 64))):
            if field not in message:
                raise InvalidTypedData(f"malformed Revoke message: {field} is missing")
            try:
                values.append(parse(message[field]))
            except ValueError as exc:
                raise InvalidTypedData(f"malformed Revoke message: {field}: {exc}") from None
        return cls(*values)


@dataclass(frozen=True, slots=True)
class ObjectionMessage:
    subject: bytes
    resource_id: bytes
    field_mask: int
    kind: int
    reason_hash: bytes
    nonce: int
    deadline: int

    def as_json(self) -> dict[str, Any]:
        return {"subject": "0x" + self.subject.hex(), "resourceId": "0x" + self.resource_id.hex(),
                "fieldMask": str(self.field_mask), "kind": self.kind, "reasonHash": "0x" + self.reason_hash.hex(),
                "nonce": str(self.nonce), "deadline": self.deadline}

    def as_abi_tuple(self) -> tuple:
        return (self.subject, self.resource_id, self.field_mask, self.kind, self.reason_hash, self.nonce,
                self.deadline)

    @classmethod
    def from_json(cls, message: dict[str, Any]) -> "ObjectionMessage":
        values = []
        for field, parse in (("subject", _bytes32), ("resourceId", _bytes32), ("fieldMask", lambda v: _uint(v, 256)),
                             ("kind", lambda v: _uint(v, 8)), ("reasonHash", _bytes32),
                             ("nonce", lambda v: _uint(v, 256)), ("deadline", lambda v: _uint(v, 64))):
            if field not in message:
                raise InvalidTypedData(f"malformed Objection message: {field} is missing")
            try:
                values.append(parse(message[field]))
            except ValueError as exc:
                raise InvalidTypedData(f"malformed Objection message: {field}: {exc}") from None
        return cls(*values)


_MESSAGES = {"Consent": (CONSENT_TYPE, ConsentMessage), "Revoke": (REVOKE_TYPE, RevokeMessage),
             "Objection": (OBJECTION_TYPE, ObjectionMessage)}


def typed_data(domain: Domain, primary_type: str, message: dict[str, Any]) -> dict[str, Any]:
    """Standard eth_signTypedData_v4 JSON: types (with EIP712Domain), primaryType, domain, message."""
    fields = _MESSAGES[primary_type][0]
    return {"types": {"EIP712Domain": domain.types(), primary_type: fields}, "primaryType": primary_type,
            "domain": domain.as_json(), "message": message}


def consent_typed_data(domain: Domain, consent: ConsentMessage) -> dict[str, Any]:
    return typed_data(domain, "Consent", consent.as_json())


def revoke_typed_data(domain: Domain, revoke: RevokeMessage) -> dict[str, Any]:
    return typed_data(domain, "Revoke", revoke.as_json())


def objection_typed_data(domain: Domain, objection: ObjectionMessage) -> dict[str, Any]:
    return typed_data(domain, "Objection", objection.as_json())


def hash_typed_data(full_message: dict[str, Any]) -> bytes:
    """The EIP-712 digest (what the contract computes with _hashTypedDataV4)."""
    try:
        return _hash_eip191_message(encode_typed_data(full_message=full_message))
    except Exception as exc:  # eth-account raises assorted errors for malformed input
        raise InvalidTypedData(f"typed data cannot be encoded: {exc}") from exc


def parse_typed_data(full_message: Any, domain: Domain) -> ConsentMessage | RevokeMessage | ObjectionMessage:
    """Check that typed data is exactly our Consent, Revoke or Objection in ``domain`` and parse its message."""
    if not isinstance(full_message, dict):
        raise InvalidTypedData("typed_data must be a JSON object")
    primary = full_message.get("primaryType")
    if primary not in _MESSAGES:
        raise InvalidTypedData("primaryType must be Consent, Revoke or Objection")
    expected = typed_data(domain, primary, {})
    if full_message.get("types") != expected["types"]:
        raise InvalidTypedData(f"types do not match this ledger's {primary} type")
    if _domain_key(full_message.get("domain")) != _domain_key(expected["domain"]):
        raise InvalidTypedData("domain does not match this ledger (name, version, chainId, verifyingContract)")
    message = full_message.get("message")
    if not isinstance(message, dict):
        raise InvalidTypedData("message must be a JSON object")
    names = {field["name"] for field in expected["types"][primary]}
    if set(message) != names:
        raise InvalidTypedData(f"{primary} message fields must be exactly: {', '.join(sorted(names))}")
    return _MESSAGES[primary][1].from_json(message)


def parse_canonical_typed_data(full_message: Any, domain: Domain) \
        -> tuple[ConsentMessage | RevokeMessage | ObjectionMessage, dict]:
    """The strict parser for typed data that crosses the API boundary: the parsed message and the
    canonical typed data, which is the only form to store or hash.

    Anything :func:`parse_typed_data` refuses raises :class:`InvalidTypedData`; a valid message
    spelt otherwise than :func:`typed_data` writes it raises :class:`NonCanonicalTypedData`
    naming the first field that differs.
    """
    parsed = parse_typed_data(full_message, domain)
    canonical = typed_data(domain, full_message["primaryType"], parsed.as_json())
    if _exact(full_message) != _exact(canonical):
        raise NonCanonicalTypedData(_first_difference(full_message, canonical))
    return parsed, canonical


def _exact(value: Any) -> str:
    # Compared as JSON text: in Python True == 1 == 1.0, in typed data they are different values.
    # (The standard library, not orjson, which refuses integers beyond 64 bits.)
    return json.dumps(value, sort_keys=True, ensure_ascii=False, allow_nan=True)


def _first_difference(given: dict, canonical: dict) -> str:
    for field, expected in canonical["message"].items():
        if _exact(given["message"][field]) != _exact(expected):
            return (f"message.{field} must be written {json.dumps(expected)} (uint256 values as decimal "
                    f"strings, smaller integers as JSON numbers, addresses checksummed, hex in lower case)")
    for part in ("types", "domain", "primaryType"):
        if _exact(given.get(part)) != _exact(canonical[part]):
            return f"{part} must be exactly as the draft gives it"
    return "typed_data must hold only types, primaryType, domain and message, exactly as the draft gives them"


def recover_signer(digest: bytes, signature: str | bytes) -> str:
    """Address whose key produced ``signature`` over ``digest``; rejects malformed or high-s signatures."""
    try:
        raw = bytes.fromhex(signature[2:] if signature.startswith("0x") else signature) \
            if isinstance(signature, str) else signature
    except ValueError as exc:
        raise InvalidSignature("signature is not hex") from exc
    if len(raw) != 65:
        raise InvalidSignature("signature must be 65 bytes (r, s, v)")
    s = int.from_bytes(raw[32:64], "big")
    if s > _SECP256K1_HALF_N:
        raise InvalidSignature("signature is malleable (high s)")
    v = raw[64]
    if v < 27:
        raw = raw[:64] + bytes([v + 27])
    try:
        return Account._recover_hash(digest, signature=raw)
    except Exception as exc:
        raise InvalidSignature(f"signature does not recover: {exc}") from exc


def sign_typed_data(private_key: str | bytes, full_message: dict[str, Any]) -> str:
    """Sign as a wallet would (eth_signTypedData_v4); returns 0x-hex r||s||v."""
    signed = Account.sign_typed_data(private_key, full_message=full_message)
    return "0x" + signed.signature.hex()


_SECP256K1_HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0


def _domain_key(domain: Any) -> tuple | None:
    if not isinstance(domain, dict):
        return None
    try:
        return (domain.get("name"), domain.get("version"), int(domain.get("chainId")),
                to_checksum_address(domain.get("verifyingContract")), frozenset(domain))
    except (TypeError, ValueError, OverflowError):
        return None


_HEX32 = re.compile(r"^0x[0-9a-fA-F]{64}$")
_DECIMAL = re.compile(r"^[0-9]{1,80}$")
_HEX = re.compile(r"^0x[0-9a-fA-F]{1,66}$")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _bytes32(value: Any) -> bytes:
    if not isinstance(value, str) or not _HEX32.match(value):
        raise ValueError(f"expected 0x-prefixed 32-byte hex, got {_shown(value)}")
    return bytes.fromhex(value[2:])


def _address(value: Any) -> str:
    if not isinstance(value, str) or not is_address(value):
        raise ValueError(f"expected a 20-byte 0x-hex address, got {_shown(value)}")
    return to_checksum_address(value)


def _list(value: Any) -> list:
    if not isinstance(value, list):
        raise ValueError(f"expected a list, got {_shown(value)}")
    return value


def _uint(value: Any, bits: int) -> int:
    if isinstance(value, bool):
        raise ValueError("expected an unsigned integer, got a boolean")
    if isinstance(value, str) and _DECIMAL.match(value):
        number = int(value, 10)
    elif isinstance(value, str) and _HEX.match(value):
        number = int(value, 16)
    elif isinstance(value, int):
        number = value
    else:
        raise ValueError(f"expected an unsigned integer, got {_shown(value)}")
    if not 0 <= number < 2**bits:
        raise ValueError(f"{_shown(number)} does not fit uint{bits}")
    return number
