"""After `consent-ledger deploy`, the real Participants contract decides who may transact."""

from __future__ import annotations

import pytest
from eth_account import Account

from bench.local_system import CHECKOUT

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not (CHECKOUT / "contracts" / "src" / "Participants.sol").exists(), reason="no Participants yet"),
]

TO = "0x" + "11" * 20
CREATE = "0x600160" + "0c60003960016000f3" + "00"  # init code of a 1-byte contract


def attempt(rpc, account, **tx):
    """(tx hash, None) when admitted, (None, error) when refused."""
    tx = {"chainId": 16211, "gas": 100_000, "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 1, "value": 0,
          "nonce": int(rpc("eth_getTransactionCount", [account.address, "pending"]), 16), **tx}
    reply = rpc.request("eth_sendRawTransaction", ["0x" + bytes(account.sign_transaction(tx).raw_transaction).hex()])
    return reply.get("result"), reply.get("error")


def test_participants_contract_permissions_transactions(devnet, rpc):
    deployed = devnet.cli("deploy", "--rpc", rpc.url, check=False, timeout=300)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    admin, relayer, anchorer = devnet.account("admin"), devnet.account("relayer-0"), devnet.account("anchorer")

    for account in (relayer, anchorer):  # role holders send calls
        tx_hash, error = attempt(rpc, account, to=TO)
        assert error is None, error
        assert rpc.receipt(tx_hash)["status"] == "0x1"
    for fields in ({"to": TO, "value": 1}, {"data": CREATE}):  # value transfers and creations: admins only
        tx_hash, error = attempt(rpc, relayer, **fields)
        assert error is not None and error["code"] == -32003 and "transactionAllowed" in error["message"]
        tx_hash, error = attempt(rpc, admin, **fields)
        assert error is None, error
        assert rpc.receipt(tx_hash)["status"] == "0x1"
    _, error = attempt(rpc, Account.create(), to=TO)  # no role, not allowed: refused
    assert error["code"] == -32003
