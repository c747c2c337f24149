"""The transaction sender's use of the fee policy: type-2 transactions from the latest base fee,
nothing sent above the cap."""

from __future__ import annotations

import pytest
from eth_account import Account

from ledger.chain.errors import ErrorDecoder
from ledger.chain.fees import FeePolicy
from ledger.chain.rawtx import decode_transaction
from ledger.chain.sender import TransactionSender
from ledger.exceptions import FeeCapExceeded
from tests.support.fake_rpc import FakeRpc

pytestmark = pytest.mark.unit

CHAIN_ID = 16211


def test_the_sender_signs_type_2_transactions_from_the_policy():
    rpc = FakeRpc(base_fee=8)
    account = Account.create()
    sender = TransactionSender(rpc, CHAIN_ID, [account], ErrorDecoder([]), fee_policy=FeePolicy(1, 10**11))
    for _ in range(50):
        sender.send("0x" + "11" * 20, "0x", gas=21000)
    sender._fees = None  # as after the cache's second
    rpc.base_fee = 9
    sender.send("0x" + "11" * 20, "0x", gas=21000)
    decoded = [decode_transaction(raw, CHAIN_ID) for raw in rpc.sent]
    assert {tx.tx_type for tx in decoded} == {2}
    assert [tx.gas_price for tx in decoded] == [17] * 50 + [19]  # maxFeePerGas = 2 x base fee + 1
    assert "eth_gasPrice" not in rpc.calls and "eth_maxPriorityFeePerGas" not in rpc.calls


def test_the_sender_refuses_above_the_cap():
    rpc = FakeRpc(base_fee=10**12)
    sender = TransactionSender(rpc, CHAIN_ID, [Account.create()], ErrorDecoder([]), fee_policy=FeePolicy(1, 10**11))
    with pytest.raises(FeeCapExceeded, match="^AuditAnchor.anchor not sent: max fee"):
        sender.send("0x" + "11" * 20, "0x", gas=21000, action="AuditAnchor.anchor")
    assert rpc.sent == []
