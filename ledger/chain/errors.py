"""Turns revert data into the contract's custom error name and arguments."""

from __future__ import annotations

from eth_abi import decode as abi_decode
from eth_utils import keccak

from ledger.exceptions import TransactionFailed

_PANIC_CODES = {0x01: "assertion failed", 0x11: "arithmetic overflow", 0x12: "division by zero",
                0x21: "invalid enum value", 0x32: "array index out of bounds", 0x41: "out of memory"}


def _abi_type(item: dict) -> str:
    kind = item["type"]
    if kind.startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in item["components"]) + ")" + kind[len("tuple"):]
    return kind


class ErrorDecoder:
    """Knows every custom error of a set of ABIs by its 4-byte selector."""

    def __init__(self, abis: list[list[dict]]):
        self._errors: dict[bytes, tuple[str, list[str]]] = {}
        for abi in abis:
            for item in abi:
                if item.get("type") == "error":
                    types = [_abi_type(i) for i in item["inputs"]]
                    signature = f"{item['name']}({','.join(types)})"
                    self._errors[keccak(text=signature)[:4]] = (item["name"], types)

    def decode(self, data: str | bytes | None) -> tuple[str, tuple]:
        """(error name, args) for revert data; ("", ()) when there is none."""
        if not data:
            return "", ()
        raw = bytes.fromhex(data[2:] if data.startswith("0x") else data) if isinstance(data, str) else data
        if len(raw) < 4:
            return "", ()
        selector, body = raw[:4], raw[4:]
        if selector == keccak(text="Error(string)")[:4]:
            return "Error", abi_decode(["string"], body)
        if selector == keccak(text="Panic(uint256)")[:4]:
            (code,) = abi_decode(["uint256"], body)
            return "Panic", (_PANIC_CODES.get(code, hex(code)),)
        known = self._errors.get(selector)
        if known is None:
            return "0x" + selector.hex(), ()
        name, types = known
        try:
            return name, tuple(abi_decode(types, body))
        except Exception:  # malformed arguments: the name alone still helps
            return name, ()

    def failure(self, action: str, data, *, tx_hash: str | None = None) -> TransactionFailed:
        name, args = self.decode(data)
        shown = ", ".join(a.hex() if isinstance(a, bytes) else str(a) for a in args)
        reason = f"{name}({shown})" if name else "reverted without a reason"
        return TransactionFailed(f"{action} failed: {reason}", error_name=name or None,
                                 error_args=args, tx_hash=tx_hash)


def revert_data(error) -> str | None:
    """Revert data carried by a JSON-RPC error (nodes put it in `data`, sometimes nested)."""
    data = getattr(error, "data", None)
    if isinstance(data, dict):
        data = data.get("data") or data.get("result")
    if isinstance(data, str) and data.startswith("0x"):
        return data
    return None
