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
from tests.redteam.conftest import ops_headers
from tests.support.devnet import CHAIN_ID, keystore_template, make_devnet  # noqa: F401  (fixtures)

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


def test_the_supervisor_tops_up_an_authority_key_running_low(make_devnet):
    """The admin moves almost all its ether away; the supervisor (over its private IPC) restores it."""
    devnet = make_devnet("top-up")
    rpc = devnet.up()
    admin = devnet.account("admin")
    full = int(rpc("eth_getBalance", [admin.address, "latest"]), 16)
    rpc.receipt(rpc.send(admin, to=SINK, value=full - 10**18))
    assert int(rpc("eth_getBalance", [admin.address, "latest"]), 16) < 2 * 10**18
    deadline = time.monotonic() + 20
    while int(rpc("eth_getBalance", [admin.address, "latest"]), 16) < full // 2:
        assert time.monotonic() < deadline, "the admin key was not topped up"
        time.sleep(0.2)
    assert f"topped up authority key admin ({admin.address})" in (devnet.devnet_dir / "devnet.log").read_text()
    assert rpc.request("anvil_setBalance", [admin.address, hex(full)])["error"]["code"] == -32601  # not for clients
    rpc.close()


def test_readiness_and_metrics_watch_the_platform_keys(system):
    import httpx

    ready = httpx.get(system.api_url + "/readyz", headers=ops_headers(system), timeout=10).json()
    funds = ready["checks"]["funds"]
    assert funds["ok"] is True and funds["warnings"] == []
    assert set(funds["keys"]) == {"admin", "anchorer", "relayer-0", "relayer-1", "relayer-2", "relayer-3"}
    assert funds["keys"]["anchorer"]["transactions_left"] > 10**9
    metrics = httpx.get(system.api_url + "/metrics", headers=ops_headers(system), timeout=10).text
    for name in ("consent_ledger_key_balance_wei", "consent_ledger_key_transactions_left",
                 "consent_ledger_key_days_left", "consent_ledger_key_low_funds"):
        assert f'{name}{{key="anchorer"}}' in metrics, name
    assert 'consent_ledger_key_low_funds{key="anchorer"} 0.0' in metrics
