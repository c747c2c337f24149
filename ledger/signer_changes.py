"""EIP-712 typed data of the Subjects contract: a signer change, and its cancellation.

A change's id is the EIP-712 digest of its ``SignerChange`` message; the subject's signers
approve a change by signing exactly that message, and a signer cancels a pending one by signing
``CancelSignerChange {changeId}``. The domain is read from the Subjects contract (ERC-5267).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_utils import is_address, to_checksum_address

from ledger.eip712 import Domain, InvalidTypedData

SIGNER_CHANGE_TYPE = [
    {"name": "subject", "type": "bytes32"},
    {"name": "add", "type": "address[]"},
    {"name": "remove", "type": "address[]"},
    {"name": "threshold", "type": "uint8"},
    {"name": "nonce", "type": "uint256"},
]
CANCEL_SIGNER_CHANGE_TYPE = [{"name": "changeId", "type": "bytes32"}]


@dataclass(frozen=True, slots=True)
class SignerChange:
    subject: bytes
    add: tuple[str, ...]
    remove: tuple[str, ...]
    threshold: int
    nonce: int

    def as_json(self) -> dict[str, Any]:
        return {"subject": "0x" + self.subject.hex(), "add": list(self.add), "remove": list(self.remove),
                "threshold": self.threshold, "nonce": str(self.nonce)}

    def as_abi_tuple(self) -> tuple:
        return (self.subject, list(self.add), list(self.remove), self.threshold, self.nonce)

    @classmethod
    def from_json(cls, message: Any) -> "SignerChange":
        if not isinstance(message, dict) or set(message) != {f["name"] for f in SIGNER_CHANGE_TYPE}:
            raise InvalidTypedData("a SignerChange message has exactly: subject, add, remove, threshold, nonce")
        try:
            subject = message["subject"]
            if not isinstance(subject, str) or len(subject) != 66 or not subject.startswith("0x"):
                raise ValueError("subject must be 0x-prefixed 32-byte hex")
            lists = []
            for name in ("add", "remove"):
                values = message[name]
                if not isinstance(values, list) or not all(isinstance(v, str) and is_address(v) for v in values):
                    raise ValueError(f"{name} must be a list of addresses")
                lists.append(tuple(to_checksum_address(v) for v in values))
            threshold, nonce = int(message["threshold"]), int(message["nonce"])
            if not 0 <= threshold < 256 or not 0 <= nonce < 2**256:
                raise ValueError("threshold or nonce out of range")
            return cls(bytes.fromhex(subject[2:]), lists[0], lists[1], threshold, nonce)
        except (TypeError, ValueError) as exc:
            raise InvalidTypedData(f"malformed SignerChange message: {exc}") from exc


def signer_change_typed_data(domain: Domain, change: SignerChange) -> dict[str, Any]:
    return {"types": {"EIP712Domain": domain.types(), "SignerChange": SIGNER_CHANGE_TYPE},
            "primaryType": "SignerChange", "domain": domain.as_json(), "message": change.as_json()}


def cancel_typed_data(domain: Domain, change_id: str) -> dict[str, Any]:
    return {"types": {"EIP712Domain": domain.types(), "CancelSignerChange": CANCEL_SIGNER_CHANGE_TYPE},
            "primaryType": "CancelSignerChange", "domain": domain.as_json(), "message": {"changeId": change_id}}


def parse_signer_change(full_message: Any, domain: Domain) -> SignerChange:
    """Check that typed data is exactly a SignerChange of this Subjects contract; return the change."""
    if not isinstance(full_message, dict):
        raise InvalidTypedData("typed_data must be a JSON object")
    expected = signer_change_typed_data(domain, SignerChange(b"\0" * 32, (), (), 0, 0))
    if full_message.get("primaryType") != "SignerChange" or full_message.get("types") != expected["types"]:
        raise InvalidTypedData("typed_data must be this ledger's SignerChange type")
    if not _same_domain(full_message.get("domain"), expected["domain"]):
        raise InvalidTypedData("domain does not match the Subjects contract (name, version, chainId, "
                               "verifyingContract)")
    return SignerChange.from_json(full_message.get("message"))


def _same_domain(given: Any, expected: dict) -> bool:
    if not isinstance(given, dict) or set(given) != set(expected):
        return False
    try:
        return (given["name"], given["version"], int(given["chainId"]),
                to_checksum_address(given["verifyingContract"])) == tuple(expected.values())
    except (TypeError, ValueError):
        return False
