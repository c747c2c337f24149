"""Decoding signed raw transactions (legacy and EIP-2718 typed) to check who sends what."""

from __future__ import annotations

from dataclasses import dataclass

import rlp
from eth_account import Account
from eth_account.typed_transactions import TypedTransaction
from eth_utils import to_checksum_address

from ledger.exceptions import LedgerError


class InvalidRawTransaction(LedgerError):
    """Bytes that are not a signed Ethereum transaction."""


@dataclass(frozen=True, slots=True)
class RawTransaction:
    sender: str
    to: str | None
    value: int
    gas: int
    gas_price: int  # maxFeePerGas for EIP-1559 transactions
    data: bytes
    nonce: int
    chain_id: int | None


def decode_raw_transaction(raw: bytes | str) -> RawTransaction:
    if isinstance(raw, str):
        try:
            raw = bytes.fromhex(raw.removeprefix("0x"))
        except ValueError as exc:
            raise InvalidRawTransaction("raw transaction is not hex") from exc
    if not raw:
        raise InvalidRawTransaction("raw transaction is empty")
    try:
        sender = Account.recover_transaction(raw)
        if raw[0] < 0x7F:  # EIP-2718 envelope: one type byte, then the payload
            tx = TypedTransaction.from_bytes(raw).as_dict()
            to = tx.get("to") or None
            return RawTransaction(sender, to_checksum_address(to) if to else None, int(tx["value"]), int(tx["gas"]),
                                  int(tx.get("maxFeePerGas", tx.get("gasPrice", 0))), bytes(tx["data"]),
                                  int(tx["nonce"]), int(tx["chainId"]))
        nonce, gas_price, gas, to, value, data, v, _r, _s = rlp.decode(raw)
        v_int = int.from_bytes(v, "big")
        chain_id = (v_int - 35) // 2 if v_int >= 35 else None
        return RawTransaction(sender, to_checksum_address(to) if to else None, int.from_bytes(value, "big"),
                              int.from_bytes(gas, "big"), int.from_bytes(gas_price, "big"), data,
                              int.from_bytes(nonce, "big"), chain_id)
    except InvalidRawTransaction:
        raise
    except Exception as exc:  # rlp / eth-account raise many kinds for malformed input
        raise InvalidRawTransaction(f"not a signed transaction: {exc}") from exc
