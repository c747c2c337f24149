"""Finding 12: the journal replay on restart forwarded transactions without the permission check.

The journal (``<data>/devnet/tx-journal.jsonl``) is a file the operator can write. A raw
transaction slipped into it, signed by a key the gateway refuses, was sent to anvil on the next
start, as a pending transaction or inside a forged block record. Each replayed transaction now
passes ``Participants.transactionAllowed`` (or the bootstrap allow-list) against the state at
replay time; a refused one is skipped and logged.
"""

from __future__ import annotations

import time

import orjson
import pytest
from eth_account import Account

from ledger.devnet._journal import read_journal
from tests.support.devnet import CHAIN_ID, keystore_template, make_devnet  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.redteam, pytest.mark.integration]

TX_REJECTED = -32003


def _signed_transfer(account, nonce: int = 0) -> tuple[str, str]:
    signed = account.sign_transaction({"chainId": CHAIN_ID, "nonce": nonce, "to": "0x" + "34" * 20, "value": 1,
                                       "gas": 21000, "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 1})
    return "0x" + bytes(signed.raw_transaction).hex(), "0x" + bytes(signed.hash).hex()


def test_replayed_journal_transactions_are_permission_checked(make_devnet):
    devnet = make_devnet("replay")
    rpc = devnet.up()
    admin = devnet.account("admin")
    outsiders = [Account.create(), Account.create()]
    for outsider in outsiders:  # funded, so only the permission check can stop them
        rpc.receipt(rpc.send(admin, to=outsider.address, value=10**18))
    pending_raw, pending_hash = _signed_transfer(outsiders[0])
    forged_raw, forged_hash = _signed_transfer(outsiders[1])
    for raw in (pending_raw, forged_raw):
        reply = rpc.request("eth_sendRawTransaction", [raw])
        assert reply["error"]["code"] == TX_REJECTED, reply
    head = int(rpc("eth_blockNumber"), 16)
    rpc.close()
    devnet.down()

    journal_path = devnet.devnet_dir / "tx-journal.jsonl"
    seq = read_journal(journal_path).next_seq
    now = time.time()
    records = [{"k": "tx", "seq": seq, "h": forged_hash, "raw": forged_raw, "ts": now},
               {"k": "blk", "n": head + 1, "ts": int(now), "bf": "0x0", "txs": [forged_hash]},
               {"k": "tx", "seq": seq + 1, "h": pending_hash, "raw": pending_raw, "ts": now}]
    with journal_path.open("ab") as fh:
        fh.write(b"".join(orjson.dumps(r) + b"\n" for r in records))

    rpc = devnet.up()
    try:
        assert rpc("eth_getTransactionReceipt", [forged_hash]) is None, "a forged block record got an outsider mined"
        assert rpc("eth_getTransactionReceipt", [pending_hash]) is None, "a journaled outsider transaction got mined"
        log = (devnet.devnet_dir / "devnet.log").read_text()
        for tx_hash in (forged_hash, pending_hash):
            assert f"journaled transaction {tx_hash} not replayed: not permitted" in log
    finally:
        rpc.close()


def test_replay_asks_the_participants_contract(make_devnet):
    """After deployment the contract decides at replay too: a relayer may call, but not move ether."""
    devnet = make_devnet("replay-participants")
    rpc = devnet.up()
    deployed = devnet.cli("deploy", "--rpc", rpc.url, check=False, timeout=300)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    relayer = devnet.account("relayer-0")
    nonce = int(rpc("eth_getTransactionCount", [relayer.address, "pending"]), 16)
    raw, tx_hash = _signed_transfer(relayer, nonce)
    reply = rpc.request("eth_sendRawTransaction", [raw])
    assert reply["error"]["code"] == TX_REJECTED and "transactionAllowed" in reply["error"]["message"], reply
    rpc.close()
    devnet.down()

    journal_path = devnet.devnet_dir / "tx-journal.jsonl"
    with journal_path.open("ab") as fh:
        fh.write(orjson.dumps({"k": "tx", "seq": read_journal(journal_path).next_seq, "h": tx_hash, "raw": raw,
                               "ts": time.time()}) + b"\n")
    rpc = devnet.up()
    try:
        assert rpc("eth_getTransactionReceipt", [tx_hash]) is None, "a relayer's ether transfer was replayed"
        log = (devnet.devnet_dir / "devnet.log").read_text()
        assert f"journaled transaction {tx_hash} not replayed: not permitted" in log
        assert "not permitted by Participants.transactionAllowed" in log
    finally:
        rpc.close()
