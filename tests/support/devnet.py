"""Detached devnets for the tests of the supervisor and the gateway, started by the one launcher.

:class:`bench.local_system.LocalSystem` runs ``consent-ledger devnet up --detach`` in a private
data dir holding the session's authority keys; the gateway picks a free port.
"""

from __future__ import annotations

import shutil
import time

import httpx
import pytest

from bench.local_system import LocalSystem
from tests.support.keys import PASSWORD, data_home, keystore_template  # noqa: F401  (keystore_template: a fixture)

CHAIN_ID = 16211


class Rpc:
    def __init__(self, url: str):
        self.url = url
        self.http = httpx.Client(timeout=10)

    def request(self, method: str, params: list | None = None, request_id=1) -> dict:
        return self.http.post(self.url, json={"jsonrpc": "2.0", "id": request_id, "method": method,
                                              "params": params or []}).json()

    def __call__(self, method: str, params: list | None = None):
        reply = self.request(method, params)
        assert "error" not in reply, reply
        return reply["result"]

    def send(self, account, **tx) -> str:
        """Sign with ``account`` and submit through the gateway; returns the hash."""
        tx.setdefault("chainId", CHAIN_ID)
        tx.setdefault("gas", 21000)
        tx.setdefault("maxFeePerGas", 10**10)
        tx.setdefault("maxPriorityFeePerGas", 1)
        if "nonce" not in tx:
            tx["nonce"] = int(self("eth_getTransactionCount", [account.address, "pending"]), 16)
        signed = account.sign_transaction(tx)
        return self("eth_sendRawTransaction", ["0x" + bytes(signed.raw_transaction).hex()])

    def receipt(self, tx_hash: str, timeout: float = 10.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            receipt = self("eth_getTransactionReceipt", [tx_hash])
            if receipt is not None:
                return receipt
            time.sleep(0.02)
        raise AssertionError(f"no receipt for {tx_hash}")

    def close(self) -> None:
        self.http.close()


class Devnet(LocalSystem):
    """A local system with only its devnet, detached, in the words of the supervisor's tests."""

    def up(self, *args: str) -> Rpc:
        return Rpc(self.start_devnet_detached(*args)["gateway_url"])

    def down(self) -> None:
        self.stop_devnet_detached()

    def info(self) -> dict:
        return self.devnet_info()

    def kill_everything(self) -> None:
        self.kill_devnet_detached()

    def account(self, name: str):
        from ledger import keystore

        with data_home(self.home):
            return keystore.load_key(name)


@pytest.fixture(scope="session")
def make_devnet(tmp_path_factory, keystore_template):
    created: list[Devnet] = []

    def make(name: str = "devnet") -> Devnet:
        home = tmp_path_factory.mktemp(name)
        home.chmod(0o700)
        shutil.copytree(keystore_template, home / "keystore")
        devnet = Devnet.create(home)
        devnet.env["CONSENT_LEDGER_KEY_PASSWORD"] = PASSWORD
        created.append(devnet)
        return devnet

    yield make
    for devnet in created:
        devnet.down()


@pytest.fixture(scope="module")
def devnet(make_devnet):
    """A running devnet shared by a test module."""
    net = make_devnet()
    rpc = net.up()
    net.rpc = rpc
    yield net
    rpc.close()
    net.down()


@pytest.fixture()
def rpc(devnet) -> Rpc:
    return devnet.rpc
