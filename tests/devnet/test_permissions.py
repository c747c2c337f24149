"""Transaction admission: bootstrap allow-list before deployment, the contract's transactionAllowed after.

The real Participants contract is exercised by the post-deploy tests; here a tiny hand-assembled
contract stands in for it, so the gateway's contract path (deployment.json watching, eth_call
of transactionAllowed, decision cache, fail-closed on revert) is tested on its own.
"""

from __future__ import annotations

import json
import time

import pytest
from eth_account import Account

from ledger.devnet._permissions import encode_transaction_allowed
from ledger.participants import TRANSACTION_ALLOWED as SELECTOR
from ledger.chain.rawtx import decode_transaction

pytestmark = pytest.mark.integration

RELOAD_WAIT = 0.35  # the gateway looks at deployment.json at most every 0.25 s


def allow_only(address: str) -> str:
    """Init code of a contract whose every call returns (calldata[4:36] == address)."""
    runtime = bytes.fromhex("600435" + "73" + address[2:].lower() + "14" + "600052" + "60206000f3")
    init = bytes.fromhex(f"60{len(runtime):02x}600c60003960{len(runtime):02x}6000f3")
    return "0x" + (init + runtime).hex()


ALWAYS_REVERT = "0x" + bytes.fromhex("6004600c60003960046000f3" + "600080fd").hex()


def deploy(rpc, admin, init_code: str) -> str:
    receipt = rpc.receipt(rpc.send(admin, data=init_code, gas=200_000))
    assert receipt["status"] == "0x1"
    return receipt["contractAddress"]


def write_deployment(devnet, participants: str) -> None:
    path = devnet.home / "deployment.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"chain_id": 16211, "deploy_block": 1, "code_hash": "test",
                               "contracts": {"Participants": participants}}))
    tmp.replace(path)
    time.sleep(RELOAD_WAIT)


def refused(rpc, account, **tx) -> dict:
    tx.setdefault("chainId", 16211)
    tx.setdefault("gas", 21000)
    tx.setdefault("maxFeePerGas", 10**10)
    tx.setdefault("maxPriorityFeePerGas", 1)
    tx.setdefault("nonce", int(rpc("eth_getTransactionCount", [account.address, "pending"]), 16))
    signed = account.sign_transaction(tx)
    reply = rpc.request("eth_sendRawTransaction", ["0x" + bytes(signed.raw_transaction).hex()])
    assert "error" in reply, reply
    return reply["error"]


def test_encoding_matches_the_abi():
    from eth_abi import encode
    from eth_utils import to_checksum_address

    account = Account.create()
    signed = account.sign_transaction({"to": to_checksum_address("0x" + "ab" * 20), "value": 7, "gas": 50_000, "maxFeePerGas": 3 * 10**9,
                                       "maxPriorityFeePerGas": 1, "nonce": 0, "chainId": 16211,
                                       "data": b"\x01\x02\x03" * 20})
    tx = decode_transaction(bytes(signed.raw_transaction), 16211)
    expected = SELECTOR + encode(["address", "address", "uint256", "uint256", "uint256", "bytes"],
                                 [account.address, "0x" + "ab" * 20, 7, 3 * 10**9, 50_000, b"\x01\x02\x03" * 20])
    assert encode_transaction_allowed(tx) == "0x" + expected.hex()


def test_bootstrap_list_then_contract_decides(rpc, devnet):
    admin, relayer = devnet.account("admin"), devnet.account("relayer-0")
    stranger = Account.create()

    # Before deployment: every authority key may transact, nobody else.
    assert rpc.receipt(rpc.send(relayer, to="0x" + "21" * 20, value=0))["status"] == "0x1"
    assert refused(rpc, stranger, to="0x" + "21" * 20)["code"] == -32003

    # "Deploy" a Participants that admits relayer-0 only.
    participants = deploy(rpc, admin, allow_only(relayer.address))
    write_deployment(devnet, participants)
    try:
        assert rpc.receipt(rpc.send(relayer, to="0x" + "22" * 20, value=0))["status"] == "0x1"
        error = refused(rpc, admin, to="0x" + "22" * 20)
        assert error["code"] == -32003 and "transactionAllowed" in error["message"]
        assert refused(rpc, stranger, to="0x" + "22" * 20)["code"] == -32003

        # A contract that reverts admits nobody (fail closed).
        write_deployment(devnet, participants)  # keep relayer-0 able to deploy the next one
        reverting = deploy(rpc, relayer, ALWAYS_REVERT)
        write_deployment(devnet, reverting)
        assert refused(rpc, relayer, to="0x" + "22" * 20)["code"] == -32003

        # An address without code (chain reset under an old deployment.json): bootstrap list again.
        write_deployment(devnet, "0x" + "00" * 19 + "99")
        assert rpc.receipt(rpc.send(admin, to="0x" + "23" * 20, value=0))["status"] == "0x1"
        assert refused(rpc, stranger, to="0x" + "23" * 20)["code"] == -32003
    finally:
        (devnet.home / "deployment.json").unlink(missing_ok=True)
        time.sleep(RELOAD_WAIT)
    assert rpc.receipt(rpc.send(admin, to="0x" + "24" * 20, value=0))["status"] == "0x1"
