"""Decoding of signed raw transactions and recovery of their sender.

Only what the permission check needs is decoded. Accepted: legacy with EIP-155 replay
protection, EIP-2930 (type 1) and EIP-1559 (type 2) transactions of this chain. Blob (type 3)
and set-code (type 4, EIP-7702) transactions have no use on this ledger and are refused, so an
authorization list can never put code on an account behind the permissioning's back.
"""

from __future__ import annotations

from dataclasses import dataclass

import rlp
from eth_hash.auto import keccak

from ledger.exceptions import InvalidTransaction

try:  # libsecp256k1: ~0.1 ms per recovery; eth_keys' pure-Python fallback takes ~7 ms
    from coincurve import PublicKey as _CoincurvePublicKey
except ImportError:  # pragma: no cover - depends on the environment
    _CoincurvePublicKey = None

_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@dataclass(frozen=True, slots=True)
class DecodedTransaction:
    hash: str          # 0x-hex keccak of the raw bytes
    sender: str        # 0x-hex lower-case address
    to: str | None     # None for contract creation
    value: int
    gas_price: int     # gasPrice, or maxFeePerGas for type 2
    gas: int
    data: bytes
    nonce: int
    tx_type: int


def decode_transaction(raw: bytes, chain_id: int) -> DecodedTransaction:
    if not raw:
        raise InvalidTransaction("empty transaction")
    try:
        if raw[0] >= 0xC0:
            return _legacy(raw, chain_id)
        if raw[0] == 1:
            fields = _list(rlp.decode(raw[1:]), 11)
            return _typed(raw, 1, fields, chain_id, price_index=2, unsigned_len=8)
        if raw[0] == 2:
            fields = _list(rlp.decode(raw[1:]), 12)
            return _typed(raw, 2, fields, chain_id, price_index=3, unsigned_len=9)
    except rlp.exceptions.DecodingError as exc:
        raise InvalidTransaction(f"malformed RLP: {exc}") from None
    raise InvalidTransaction(f"transaction type {raw[0]} is not accepted on this chain")


def _legacy(raw: bytes, chain_id: int) -> DecodedTransaction:
    fields = _list(rlp.decode(raw), 9)
    nonce, gas_price, gas, to, value, data, v, r, s = fields
    v_int = _int(v)
    if v_int in (27, 28):
        raise InvalidTransaction("legacy transaction without EIP-155 replay protection")
    tx_chain, parity = divmod(v_int - 35, 2)
    if v_int < 35 or tx_chain != chain_id:
        raise InvalidTransaction(f"wrong chain id (expected {chain_id})")
    sighash = keccak(rlp.encode([nonce, gas_price, gas, to, value, data, chain_id, 0, 0]))
    return DecodedTransaction(
        hash="0x" + keccak(raw).hex(), sender=_recover(sighash, parity, r, s), to=_address(to),
        value=_int(value), gas_price=_int(gas_price), gas=_int(gas), data=_bytes(data), nonce=_int(nonce), tx_type=0,
    )


def _typed(raw: bytes, tx_type: int, fields: list, chain_id: int, *, price_index: int,
           unsigned_len: int) -> DecodedTransaction:
    if _int(fields[0]) != chain_id:
        raise InvalidTransaction(f"wrong chain id (expected {chain_id})")
    offset = unsigned_len - 8  # type 2 has one more fee field than type 1
    to, value, data = fields[4 + offset], fields[5 + offset], fields[6 + offset]
    parity, r, s = fields[unsigned_len], fields[unsigned_len + 1], fields[unsigned_len + 2]
    parity_int = _int(parity)
    if parity_int > 1:
        raise InvalidTransaction("invalid signature parity")
    sighash = keccak(bytes([tx_type]) + rlp.encode(fields[:unsigned_len]))
    return DecodedTransaction(
        hash="0x" + keccak(raw).hex(), sender=_recover(sighash, parity_int, r, s), to=_address(to),
        value=_int(value), gas_price=_int(fields[price_index]), gas=_int(fields[3 + offset]),
        data=_bytes(data), nonce=_int(fields[1]), tx_type=tx_type,
    )


def _recover(sighash: bytes, parity: int, r: bytes, s: bytes) -> str:
    r_int, s_int = _int(r), _int(s)
    if not (0 < r_int < _SECP256K1_N and 0 < s_int <= _SECP256K1_N // 2):
        raise InvalidTransaction("invalid signature values")
    if _CoincurvePublicKey is not None:
        signature = r_int.to_bytes(32, "big") + s_int.to_bytes(32, "big") + bytes([parity])
        try:
            public = _CoincurvePublicKey.from_signature_and_message(signature, sighash, hasher=None)
        except Exception as exc:  # coincurve raises plain Exception for unrecoverable signatures
            raise InvalidTransaction("signature does not recover a public key") from exc
        return "0x" + keccak(public.format(compressed=False)[1:])[-20:].hex()
    from eth_keys import keys  # pragma: no cover

    try:  # pragma: no cover
        public = keys.Signature(vrs=(parity, r_int, s_int)).recover_public_key_from_msg_hash(sighash)
    except Exception as exc:  # pragma: no cover
        raise InvalidTransaction("signature does not recover a public key") from exc
    return public.to_address().lower()  # pragma: no cover


def _list(item, length: int) -> list:
    if not isinstance(item, list) or len(item) != length:
        raise InvalidTransaction("unexpected transaction field count")
    return item


def _bytes(item) -> bytes:
    if not isinstance(item, bytes):
        raise InvalidTransaction("unexpected list in a scalar field")
    return item


def _int(item) -> int:
    item = _bytes(item)
    if len(item) > 32 or item[:1] == b"\0":
        raise InvalidTransaction("non-canonical integer")
    return int.from_bytes(item, "big")


def _address(item) -> str | None:
    item = _bytes(item)
    if not item:
        return None
    if len(item) != 20:
        raise InvalidTransaction("invalid recipient address")
    return "0x" + item.hex()
