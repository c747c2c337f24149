"""Finding 0: the fee the platform paid fed on itself until the anchorer's balance ran dry.

The sender paid 2 x eth_gasPrice, re-read every 5 s; anvil suggests a price from the prices
recently paid, so the price doubled at every refresh (4.26 ETH/gas after ~40 minutes). Ten
thousand transactions through the sender must now keep the price bounded.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from ledger.chain.errors import ErrorDecoder
from ledger.chain.rpc import RpcClient
from ledger.chain.sender import TransactionSender
from tests.devnet.conftest import CHAIN_ID, keystore_template, make_devnet  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.redteam, pytest.mark.integration]

N_TRANSACTIONS = 10_000
WAVE = 500
SINK = "0x" + "56" * 20
KEYS = ("admin", "anchorer", "relayer-0", "relayer-1", "relayer-2", "relayer-3")


def _fee(tx: dict) -> int:
    return int(tx.get("maxFeePerGas") or tx["gasPrice"], 16)


def test_ten_thousand_transactions_keep_the_price_bounded(make_devnet):
    devnet = make_devnet("fees")
    rpc = devnet.up("--block-time", "1")  # a block a second takes a whole wave: one block per transaction is slow
    client = RpcClient(rpc.url)
    sender = TransactionSender(client, CHAIN_ID, [devnet.account(k) for k in KEYS], ErrorDecoder([]))
    started = time.monotonic()
    hashes: list[str] = []
    with ThreadPoolExecutor(max_workers=2 * len(KEYS)) as pool:
        # Waves, each mined before the next: anvil mines a huge pool slowly, and the fee is meant to
        # follow the chain as it goes, not to be fixed once up front.
        for _ in range(N_TRANSACTIONS // WAVE):
            wave = list(pool.map(lambda _i: sender.send(SINK, "0x", gas=21000, value=1), range(WAVE)))
            last_of = {address: tx_hash for tx_hash, address in wave}
            for tx_hash in last_of.values():
                sender.wait(tx_hash, timeout=120)
            hashes += [tx_hash for tx_hash, _ in wave]
    elapsed = time.monotonic() - started
    first, last = (client.call("eth_getTransactionByHash", [h]) for h in (hashes[0], hashes[-1]))
    first_receipt, last_receipt = (client.call("eth_getTransactionReceipt", [h]) for h in (hashes[0], hashes[-1]))
    print(f"{N_TRANSACTIONS} transactions in {elapsed:.1f} s; max fee per gas first {_fee(first)} last {_fee(last)}; "
          f"paid first {int(first_receipt['effectiveGasPrice'], 16)} last {int(last_receipt['effectiveGasPrice'], 16)}")
    assert _fee(last) <= 4 * max(_fee(first), 1), f"the fee ran away: {_fee(first)} -> {_fee(last)} wei/gas"
    cap = sender.fee_policy.max_fee_cap
    assert first["type"] == last["type"] == "0x2"
    assert int(last_receipt["effectiveGasPrice"], 16) <= _fee(last) <= cap
    assert int(client.call("eth_getBlockByNumber", ["latest", False])["baseFeePerGas"], 16) == 0
    client.close()
    rpc.close()
