"""The one place where the ledger talks to the chain: contracts, calls, logs and transactions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

from ledger import compiler
from ledger.chain.abi import ContractABI
from ledger.chain.errors import ErrorDecoder, revert_data
from ledger.chain.fees import FeePolicy
from ledger.chain.rpc import RpcClient
from ledger.chain.sender import Receipt, TransactionSender
from ledger.exceptions import DeploymentNotFound, LedgerError, RpcError
from ledger.settings import Settings


@dataclass(frozen=True, slots=True)
class Deployment:
    chain_id: int
    deploy_block: int
    code_hash: str
    contracts: dict[str, str]

    @classmethod
    def load(cls, path: Path | None = None) -> "Deployment":
        path = path or deployment_path()
        if not path.exists():
            raise DeploymentNotFound(f"no deployment at {path}: run `consent-ledger deploy` first")
        raw = json.loads(path.read_text())
        return cls(int(raw["chain_id"]), int(raw["deploy_block"]), raw["code_hash"],
                   {k: to_checksum_address(v) for k, v in raw["contracts"].items()})

    def save(self, path: Path | None = None) -> None:
        path = path or deployment_path()
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"chain_id": self.chain_id, "deploy_block": self.deploy_block,
                                   "code_hash": self.code_hash, "contracts": self.contracts}, indent=2) + "\n")
        tmp.replace(path)


def deployment_path(data_dir: Path | None = None) -> Path:
    return (data_dir or Settings.from_env().data_dir) / "deployment.json"


class BoundContract:
    """A deployed contract: encodes calls, reads state at a block, sends transactions."""

    def __init__(self, chain: "Chain", name: str, address: str, abi: ContractABI):
        self.chain = chain
        self.name = name
        self.address = address
        self.abi = abi

    def call(self, function: str, *args: Any, block: int | str = "latest") -> Any:
        fn = self.abi.function(function)
        block_tag = hex(block) if isinstance(block, int) else block
        try:
            raw = self.chain.rpc.call("eth_call", [{"to": self.address, "data": fn.encode(*args)}, block_tag])
        except RpcError as exc:
            data = revert_data(exc)
            if data is None:
                raise
            raise self.chain.errors.failure(f"{self.name}.{function}", data) from exc
        values = fn.decode(raw)
        return values[0] if len(values) == 1 else values

    def encode(self, function: str, *args: Any) -> str:
        return self.abi.function(function).encode(*args)

    def transact(self, function: str, *args: Any, sender: str | None = None, gas: int | None = None) -> Receipt:
        return self.chain.sender.transact(self.address, self.encode(function, *args), sender=sender, gas=gas,
                                          action=f"{self.name}.{function}")

    def send(self, function: str, *args: Any, sender: str | None = None, gas: int | None = None) -> str:
        tx_hash, _ = self.chain.sender.send(self.address, self.encode(function, *args), sender=sender, gas=gas,
                                            action=f"{self.name}.{function}")
        return tx_hash

    def events(self, receipt_or_logs) -> list[tuple[str, dict]]:
        logs = receipt_or_logs.logs if isinstance(receipt_or_logs, Receipt) else receipt_or_logs
        found = []
        for log in logs:
            if log["address"].lower() != self.address.lower():
                continue
            decoded = self.abi.decode_log(log)
            if decoded:
                found.append(decoded)
        return found


class Chain:
    """Chain id cached once; contracts from the deployment; a sender for the given accounts.

    ``url`` and ``fee_policy`` default to ``Settings.from_env()``'s."""

    def __init__(self, url: str | None = None, *, accounts: list[LocalAccount] | None = None,
                 pool: list[str] | None = None, deployment: Deployment | None = None,
                 fee_policy: FeePolicy | None = None):
        self.rpc = RpcClient(url or Settings.from_env().rpc_url)
        self._fee_policy = fee_policy
        self._chain_id: int | None = None
        self.artifacts = compiler.artifacts()
        self.abis = {name: ContractABI(a.abi) for name, a in self.artifacts.items()}
        self.errors = ErrorDecoder([a.abi for a in self.artifacts.values()])
        self._accounts = accounts or []
        self._pool = pool
        self._sender: TransactionSender | None = None
        self.deployment = deployment
        self._contracts: dict[str, BoundContract] = {}

    @property
    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = int(self.rpc.call("eth_chainId"), 16)
        return self._chain_id

    @property
    def sender(self) -> TransactionSender:
        if self._sender is None:
            if not self._accounts:
                raise LedgerError("this chain client has no signing accounts")
            self._sender = TransactionSender(self.rpc, self.chain_id, self._accounts, self.errors, pool=self._pool,
                                             fee_policy=self._fee_policy)
        return self._sender

    def block_number(self) -> int:
        return int(self.rpc.call("eth_blockNumber"), 16)

    def block(self, number: int | str = "latest") -> dict:
        tag = hex(number) if isinstance(number, int) else number
        return self.rpc.call("eth_getBlockByNumber", [tag, False])

    def contract(self, name: str) -> BoundContract:
        bound = self._contracts.get(name)
        if bound is None:
            if self.deployment is None:
                self.deployment = Deployment.load()
            if self.deployment.chain_id != self.chain_id:
                raise DeploymentNotFound(
                    f"deployment is for chain {self.deployment.chain_id}, the RPC serves {self.chain_id}")
            bound = BoundContract(self, name, self.deployment.contracts[name], self.abis[name])
            self._contracts[name] = bound
        return bound

    def at(self, name: str, address: str) -> BoundContract:
        return BoundContract(self, name, to_checksum_address(address), self.abis[name])

    def get_logs(self, addresses: list[str], from_block: int, to_block: int) -> list[dict]:
        return self.rpc.call("eth_getLogs", [{"address": addresses, "fromBlock": hex(from_block),
                                              "toBlock": hex(to_block)}])

    def close(self) -> None:
        self.rpc.close()
