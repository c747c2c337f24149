"""Raw transaction decoding: sender recovery and fields of every admitted type, refusals."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_utils import to_checksum_address

from ledger.chain.rawtx import InvalidTransaction, decode_transaction

pytestmark = pytest.mark.unit

TO = to_checksum_address("0x" + "ab" * 20)


# -- raw transactions ----------------------------------------------------------------------------

@pytest.mark.parametrize("fields", [
    {"to": TO, "value": 5, "gas": 21000, "maxFeePerGas": 10**9, "maxPriorityFeePerGas": 1, "data": b"\x01"},
    {"to": TO, "value": 0, "gas": 50000, "gasPrice": 2 * 10**9},
    {"gas": 90000, "gasPrice": 3 * 10**9, "data": b"\x60\x00", "value": 0,
     "accessList": [{"address": TO, "storageKeys": ["0x" + "00" * 32]}]},
    {"gas": 90000, "maxFeePerGas": 4 * 10**9, "maxPriorityFeePerGas": 2, "data": b"\x60\x00", "value": 0},
])
def test_decode_recovers_sender_and_fields(fields):
    account = Account.create()
    signed = account.sign_transaction({"nonce": 3, "chainId": 16211, **fields})
    tx = decode_transaction(bytes(signed.raw_transaction), 16211)
    assert tx.sender == account.address.lower()
    assert tx.hash == "0x" + bytes(signed.hash).hex()
    assert tx.to == (fields["to"].lower() if "to" in fields else None)
    assert tx.value == fields["value"] and tx.gas == fields["gas"] and tx.nonce == 3
    assert tx.gas_price == fields.get("gasPrice", fields.get("maxFeePerGas"))
    assert tx.data == fields.get("data", b"")


def test_decode_refuses_what_cannot_be_admitted():
    account = Account.create()
    base = {"to": TO, "value": 0, "gas": 21000, "gasPrice": 10**9, "nonce": 0}
    with pytest.raises(InvalidTransaction, match="chain id"):
        decode_transaction(bytes(account.sign_transaction({**base, "chainId": 1}).raw_transaction), 16211)
    with pytest.raises(InvalidTransaction, match="EIP-155"):
        decode_transaction(bytes(account.sign_transaction(base).raw_transaction), 16211)
    for raw in (b"", b"\x03\xc0", b"\x04\xc0", b"\x02\xc0", b"\xc3\x01\x02\x03", b"\x02\x85abc"):
        with pytest.raises(InvalidTransaction):
            decode_transaction(raw, 16211)
