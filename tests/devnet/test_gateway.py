"""The gateway in front of a real anvil: allow-list, admission, limits, batches."""

from __future__ import annotations

import json
import os
import socket
import time

import httpx
import pytest
from eth_account import Account

pytestmark = pytest.mark.integration

REFUSED_METHODS = ["anvil_setStorageAt", "anvil_setBalance", "anvil_impersonateAccount", "evm_mine",
                   "evm_setAutomine", "hardhat_setBalance", "eth_sendTransaction", "eth_sign", "eth_signTypedData_v4",
                   "personal_sign", "personal_unlockAccount", "debug_traceTransaction", "admin_addPeer",
                   "txpool_content", "anvil_dumpState"]


@pytest.mark.parametrize("method", REFUSED_METHODS)
def test_node_control_and_signing_methods_are_refused(rpc, method):
    reply = rpc.request(method, [])
    assert reply["error"]["code"] == -32601
    assert "not allowed" in reply["error"]["message"]


def test_eth_accounts_is_empty_at_the_gateway_and_at_anvil(rpc, devnet):
    assert rpc("eth_accounts") == []
    # Ask anvil itself over its IPC socket: no unlocked dev accounts exist at all.
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(str(devnet.devnet_dir / "anvil.ipc"))
        sock.sendall(b'{"jsonrpc":"2.0","id":1,"method":"eth_accounts","params":[]}\n')
        assert json.loads(sock.makefile("rb").readline())["result"] == []


def test_reads_are_proxied(rpc, devnet):
    assert int(rpc("eth_chainId"), 16) == 16211
    assert rpc("net_version") == "16211"
    admin = devnet.account("admin")
    assert int(rpc("eth_getBalance", [admin.address, "latest"]), 16) == 10**24  # 1,000,000 ether from genesis
    assert rpc("eth_getBlockByNumber", ["0x0", False])["number"] == "0x0"


def test_devnet_files_are_owner_only(devnet):
    assert devnet.devnet_dir.stat().st_mode & 0o777 == 0o700
    assert (devnet.home / "keystore").stat().st_mode & 0o777 == 0o700
    for name in ("genesis.json", "tx-journal.jsonl", "state.json.gz"):
        assert (devnet.devnet_dir / name).stat().st_mode & 0o077 == 0, name


def test_anvil_http_listener_is_not_reachable(devnet):
    info = devnet.info()
    assert info["isolation"] == "netns"  # there is no other mode: without a namespace the devnet does not start
    # The listener exists inside anvil's namespace; the same port on this host's loopback is not it.
    pid = info["anvil_pid"]
    inodes = {os.readlink(f"/proc/{pid}/fd/{fd}")[8:-1] for fd in os.listdir(f"/proc/{pid}/fd")
              if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:[")}
    listening = [int(fields[1].split(":")[1], 16)
                 for fields in (line.split() for line in open(f"/proc/{pid}/net/tcp").read().splitlines()[1:])
                 if fields[3] == "0A" and fields[9] in inodes]
    assert listening, "anvil should have its (isolated) HTTP listener"
    for port in listening:
        try:
            reply = httpx.post(f"http://127.0.0.1:{port}", json={"jsonrpc": "2.0", "id": 1,
                                                                "method": "anvil_nodeInfo"}, timeout=1)
        except httpx.HTTPError:
            continue
        assert "result" not in reply.text, "reached anvil over HTTP from outside its namespace"


def test_raw_transaction_from_unknown_key_is_refused(rpc, devnet):
    stranger = Account.create()
    signed = stranger.sign_transaction({"to": "0x" + "11" * 20, "value": 0, "gas": 21000, "maxFeePerGas": 10**10,
                                        "maxPriorityFeePerGas": 1, "nonce": 0, "chainId": 16211})
    reply = rpc.request("eth_sendRawTransaction", ["0x" + bytes(signed.raw_transaction).hex()])
    assert reply["error"]["code"] == -32003
    assert stranger.address.lower() in reply["error"]["message"]
    assert rpc("eth_getTransactionByHash", ["0x" + bytes(signed.hash).hex()]) is None
    assert bytes(signed.hash).hex() not in (devnet.devnet_dir / "tx-journal.jsonl").read_text()


def test_raw_transaction_from_admin_is_journaled_and_mined(rpc, devnet):
    admin = devnet.account("admin")
    tx_hash = rpc.send(admin, to="0x" + "12" * 20, value=12345)
    receipt = rpc.receipt(tx_hash)
    assert receipt["status"] == "0x1"
    journal = [json.loads(line) for line in (devnet.devnet_dir / "tx-journal.jsonl").read_text().splitlines()]
    assert any(r["k"] == "tx" and r["h"] == tx_hash for r in journal)
    deadline = time.monotonic() + 5
    while not any(r["k"] == "blk" and tx_hash in r["txs"] for r in journal) and time.monotonic() < deadline:
        time.sleep(0.05)
        journal = [json.loads(line) for line in (devnet.devnet_dir / "tx-journal.jsonl").read_text().splitlines()]
    block = next(r for r in journal if r["k"] == "blk" and tx_hash in r["txs"])
    assert block["n"] == int(receipt["blockNumber"], 16)


def test_other_chains_and_unprotected_transactions_are_refused(rpc, devnet):
    admin = devnet.account("admin")
    other_chain = admin.sign_transaction({"to": "0x" + "11" * 20, "value": 0, "gas": 21000, "gasPrice": 10**10,
                                          "nonce": 0, "chainId": 1})
    reply = rpc.request("eth_sendRawTransaction", ["0x" + bytes(other_chain.raw_transaction).hex()])
    assert reply["error"]["code"] == -32602 and "chain id" in reply["error"]["message"]
    no_chain = admin.sign_transaction({"to": "0x" + "11" * 20, "value": 0, "gas": 21000, "gasPrice": 10**10,
                                       "nonce": 0})
    reply = rpc.request("eth_sendRawTransaction", ["0x" + bytes(no_chain.raw_transaction).hex()])
    assert "EIP-155" in reply["error"]["message"]
    reply = rpc.request("eth_sendRawTransaction", ["0xdeadbeef"])
    assert reply["error"]["code"] == -32602


def test_body_size_limit(rpc):
    big = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_call",
                      "params": [{"data": "0x" + "00" * (1 << 20)}, "latest"]})
    response = rpc.http.post(rpc.url, content=big, headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_parse_error(rpc):
    response = rpc.http.post(rpc.url, content=b'{"jsonrpc": "2.0", "id": 1, "method": ',
                             headers={"content-type": "application/json"})
    assert response.json()["error"]["code"] == -32700


def test_batch_requests(rpc):
    batch = [{"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
             {"jsonrpc": "2.0", "id": "two", "method": "evm_mine", "params": []},
             {"jsonrpc": "2.0", "id": 3, "method": "eth_accounts", "params": []},
             {"jsonrpc": "2.0", "id": 4, "method": "eth_blockNumber"}]
    replies = {r["id"]: r for r in rpc.http.post(rpc.url, json=batch).json()}
    assert replies[1]["result"] == "0x3f53"
    assert replies["two"]["error"]["code"] == -32601
    assert replies[3]["result"] == []
    assert replies[4]["result"].startswith("0x")
    too_many = [{"jsonrpc": "2.0", "id": i, "method": "eth_chainId"} for i in range(1001)]
    assert rpc.http.post(rpc.url, json=too_many).json()["error"]["code"] == -32600
    assert rpc.http.post(rpc.url, json=[]).json()["error"]["code"] == -32600


def test_only_post(rpc):
    assert rpc.http.get(rpc.url).status_code == 405


def test_status_command(devnet):
    status = json.loads(devnet.cli("devnet", "status", "--json").stdout)
    assert status["running"] is True
    assert status["chain_id"] == 16211
    assert status["gateway_url"] == devnet.info()["gateway_url"]
    assert status["block_number"] >= 0
