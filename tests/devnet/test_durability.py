"""kill -9 of everything, then restart: every transaction that had a receipt is still on chain.

Covers both recovery paths: from the last state dump plus the journal, and (with the dump
deleted) from genesis by replaying the whole journal. A torn journal line (crash mid-append)
is tolerated. The dump policy: a crash long after the last dump loses nothing either, and the
replay budget forces a dump before the interval is up.
"""

from __future__ import annotations

import re
import time

import pytest

pytestmark = pytest.mark.integration

N_TRANSFERS = 40
RECOVERED = re.compile(r"recovered in [\d.]+ s: state dump at block (\d+)")


def snapshot(rpc, hashes: list[str], addresses: list[str]) -> dict:
    receipts = {h: rpc("eth_getTransactionReceipt", [h]) for h in hashes}
    assert all(r is not None for r in receipts.values()), "a transaction lost its receipt"
    return {
        "receipts": {h: (r["blockNumber"], r["transactionIndex"], r["status"], r["gasUsed"], r["effectiveGasPrice"],
                         r.get("contractAddress"))
                     for h, r in receipts.items()},
        "balances": {a: rpc("eth_getBalance", [a, "latest"]) for a in addresses},
        "nonces": {a: rpc("eth_getTransactionCount", [a, "latest"]) for a in addresses},
        "code": {r["contractAddress"]: rpc("eth_getCode", [r["contractAddress"], "latest"])
                 for r in receipts.values() if r.get("contractAddress")},
        "timestamps": {r["blockNumber"]: rpc("eth_getBlockByNumber", [r["blockNumber"], False])["timestamp"]
                       for r in receipts.values()},
    }


def test_kill_minus_nine_loses_no_receipt(make_devnet):
    devnet = make_devnet("durable")
    rpc = devnet.up()
    admin, relayer, anchorer = devnet.account("admin"), devnet.account("relayer-0"), devnet.account("anchorer")
    recipients = [f"0x{i:040d}" for i in range(100001, 100011)]  # digits only: no checksum needed

    hashes = []
    admin_nonce = int(rpc("eth_getTransactionCount", [admin.address, "latest"]), 16)
    for i in range(N_TRANSFERS):  # sent back to back: several land in one block
        hashes.append(rpc.send(admin, to=recipients[i % 10], value=10**15 + i, nonce=admin_nonce + i))
    hashes.append(rpc.send(relayer, to=recipients[0], value=1))
    # A contract creation (init code returning a 1-byte runtime 0x00).
    hashes.append(rpc.send(anchorer, data="0x600160" + "0c60003960016000f3" + "00", gas=100_000))
    for tx_hash in hashes:
        rpc.receipt(tx_hash)
    accounts = recipients + [admin.address, relayer.address, anchorer.address]
    before = snapshot(rpc, hashes, accounts)
    head = int(rpc("eth_blockNumber"), 16)
    assert len({r[0] for r in before["receipts"].values()}) > 1

    # Crash 1: everything at once, right after the receipts (the periodic dump is likely behind).
    devnet.kill_everything()
    with open(devnet.devnet_dir / "tx-journal.jsonl", "ab") as journal:
        journal.write(b'{"k":"tx","seq":99999,"h":"0x')  # torn append
    rpc.close()
    rpc = devnet.up()
    assert snapshot(rpc, hashes, accounts) == before
    assert int(rpc("eth_blockNumber"), 16) == head

    # The chain goes on after recovery.
    later = rpc.send(admin, to=recipients[1], value=7)
    assert rpc.receipt(later)["status"] == "0x1"
    hashes.append(later)
    before = snapshot(rpc, hashes, accounts)
    head = int(rpc("eth_blockNumber"), 16)

    # Crash 2 with the state dump gone: rebuilt from genesis + the whole journal.
    devnet.kill_everything()
    (devnet.devnet_dir / "state.json.gz").unlink()
    rpc.close()
    rpc = devnet.up()
    assert snapshot(rpc, hashes, accounts) == before
    assert int(rpc("eth_blockNumber"), 16) == head
    rpc.close()
    devnet.down()


def _wait_for_dump(state, after_ns: int = 0, timeout: float = 20.0) -> int:
    """Wait until the state dump exists and was written after ``after_ns``; returns its mtime."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if state.exists() and state.stat().st_mtime_ns > after_ns:
            return state.stat().st_mtime_ns
        time.sleep(0.05)
    raise AssertionError(f"no state dump written within {timeout} s")


def _transfers(rpc, sender, count: int) -> list[str]:
    nonce = int(rpc("eth_getTransactionCount", [sender.address, "latest"]), 16)
    hashes = [rpc.send(sender, to=f"0x{200001 + i % 5:040d}", value=10**12 + i, nonce=nonce + i) for i in range(count)]
    for tx_hash in hashes:
        rpc.receipt(tx_hash)
    return hashes


def test_a_crash_between_dumps_replays_the_journal(make_devnet):
    """Dumps far apart: everything since the last one comes back from the journal alone."""
    devnet = make_devnet("between-dumps")
    rpc = devnet.up("--state-interval", "600")
    state = devnet.devnet_dir / "state.json.gz"
    dumped = _wait_for_dump(state)
    admin = devnet.account("admin")
    hashes = _transfers(rpc, admin, N_TRANSFERS)
    accounts = [f"0x{200001 + i:040d}" for i in range(5)] + [admin.address]
    before = snapshot(rpc, hashes, accounts)
    head = int(rpc("eth_blockNumber"), 16)
    time.sleep(1.5)  # what the former one-second dumps would have covered
    assert state.stat().st_mtime_ns == dumped, "a dump was taken inside the 600 s interval"

    devnet.kill_everything()
    rpc.close()
    rpc = devnet.up("--state-interval", "600")
    recovered = RECOVERED.findall((devnet.devnet_dir / "devnet.log").read_text())
    assert recovered and int(recovered[-1][0]) < head - N_TRANSFERS // 2, recovered
    assert snapshot(rpc, hashes, accounts) == before
    assert int(rpc("eth_blockNumber"), 16) == head
    rpc.close()
    devnet.down()


def test_the_replay_budget_forces_a_dump_inside_the_interval(make_devnet):
    """With a replay budget smaller than one transaction, every block with one is dumped soon, 600 s or not."""
    devnet = make_devnet("replay-budget")
    rpc = devnet.up("--state-interval", "600", "--replay-budget", "0.000001")
    state = devnet.devnet_dir / "state.json.gz"
    dumped = _wait_for_dump(state)
    admin = devnet.account("admin")
    hashes = _transfers(rpc, admin, 5)
    _wait_for_dump(state, after_ns=dumped)
    time.sleep(2)  # the dump after the last block, far inside the 600 s
    head = int(rpc("eth_blockNumber"), 16)
    before = snapshot(rpc, hashes, [admin.address])

    devnet.kill_everything()
    rpc.close()
    rpc = devnet.up("--state-interval", "600", "--replay-budget", "0.000001")
    assert snapshot(rpc, hashes, [admin.address]) == before
    assert int(rpc("eth_blockNumber"), 16) == head
    assert not RECOVERED.findall((devnet.devnet_dir / "devnet.log").read_text()), \
        "a forced dump should have covered every block: nothing to replay"
    rpc.close()
    devnet.down()
