"""Real devnets for the tests: `python -m ledger.devnet up --detach` in a private data dir, gateway on a free port."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.keys import PASSWORD, data_home, keystore_template  # noqa: F401  (keystore_template: a fixture)

ROOT = Path(__file__).resolve().parents[2]
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


@dataclass
class Devnet:
    home: Path
    env: dict

    @property
    def devnet_dir(self) -> Path:
        return self.home / "devnet"

    def info(self) -> dict:
        return json.loads((self.devnet_dir / "devnet.json").read_text())

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "ledger.devnet", *args], env=self.env, cwd=ROOT,
                              capture_output=True, text=True, check=check, timeout=120)

    def up(self, *args: str) -> Rpc:
        result = self.cli("up", "--detach", "--port", "0", *args, check=False)
        assert result.returncode == 0, result.stdout + result.stderr
        return Rpc(self.info()["gateway_url"])

    def down(self) -> None:
        self.cli("down")

    def kill_everything(self) -> None:
        """SIGKILL the supervisor's process group (supervisor + gateway) and anvil's (own session)."""
        info = self.info()
        for pid in (info["pid"], info["anvil_pid"]):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(os.getpgid(pid), signal.SIGKILL)
        for pid in (info["pid"], info["anvil_pid"]):
            deadline = time.monotonic() + 10
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.02)

    def account(self, name: str):
        from ledger import keystore

        with data_home(self.home):
            return keystore.load_key(name)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return False


@pytest.fixture(scope="session")
def make_devnet(tmp_path_factory, keystore_template):
    created: list[Devnet] = []

    def make(name: str = "devnet") -> Devnet:
        home = tmp_path_factory.mktemp(name)
        home.chmod(0o700)
        shutil.copytree(keystore_template, home / "keystore")
        env = dict(os.environ, CONSENT_LEDGER_HOME=str(home), CONSENT_LEDGER_KEY_PASSWORD=PASSWORD,
                   PYTHONPATH=str(ROOT))
        env.pop("CONSENT_LEDGER_GATEWAY_PORT", None)
        devnet = Devnet(home, env)
        created.append(devnet)
        return devnet

    yield make
    for devnet in created:
        devnet.cli("down", check=False)


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
