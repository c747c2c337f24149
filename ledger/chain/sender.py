"""Signs and submits transactions from a pool of local accounts, safely under concurrency.

Each account keeps its own nonce counter behind a lock, so many threads can submit at once;
spreading the load over several relayer accounts avoids per-sender pool limits (Besu) and keeps
one stuck nonce from blocking everything. Other processes may send from the same accounts (two API
instances share one keystore): a nonce one of them took comes back from the node as a nonce error,
and the send reads the account's pending count again and retries, up to ``_NONCE_ATTEMPTS`` times.
Fees come from :mod:`ledger.chain.fees` (EIP-1559, from the latest base fee, capped). Receipts
are polled with a timeout, and a reverted transaction is replayed as an ``eth_call`` at its block to recover the custom error.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount

from ledger.chain.errors import ErrorDecoder, revert_data
from ledger.chain.fees import FeePolicy, Fees, base_fee_of
from ledger.chain.rpc import RpcClient
from ledger.exceptions import FeeCapExceeded, RpcError, TransactionFailed
from ledger.settings import Settings

#: Seconds a base-fee reading is reused; the max fee's 2x headroom covers the blocks in between.
_FEE_TTL = 1.0
#: Tries per send against nonces taken meanwhile by another sender of the same account.
_NONCE_ATTEMPTS = 8
_NONCE_ERRORS = ("nonce too low", "nonce too high", "already known", "replacement transaction underpriced",
                 "invalid nonce", "nonce is too low")


@dataclass(frozen=True, slots=True)
class Receipt:
    tx_hash: str
    block_number: int
    gas_used: int
    logs: list[dict]
    sender: str
    contract_address: str | None = None


class _Account:
    def __init__(self, account: LocalAccount):
        self.account = account
        self.lock = threading.Lock()
        self.next_nonce: int | None = None


class TransactionSender:
    def __init__(self, rpc: RpcClient, chain_id: int, accounts: list[LocalAccount], errors: ErrorDecoder,
                 *, pool: list[str] | None = None, receipt_timeout: float = 30.0, fee_policy: FeePolicy | None = None):
        """``pool``: addresses that share relayed work round-robin (default: every account)."""
        if not accounts:
            raise ValueError("a transaction sender needs at least one account")
        self._rpc = rpc
        self._chain_id = chain_id
        self._accounts = [_Account(a) for a in accounts]
        pooled = {p.lower() for p in pool} if pool else None
        self._pool = [a for a in self._accounts if pooled is None or a.account.address.lower() in pooled]
        self._round_robin = itertools.cycle(range(len(self._pool)))
        self._rr_lock = threading.Lock()
        self._errors = errors
        self._receipt_timeout = receipt_timeout
        self.fee_policy = fee_policy or Settings.from_env().fee_policy
        self._fees: tuple[float, Fees] | None = None

    @property
    def addresses(self) -> list[str]:
        return [a.account.address for a in self._accounts]

    def _pick(self, sender: str | None) -> _Account:
        if sender is not None:
            for acc in self._accounts:
                if acc.account.address.lower() == sender.lower():
                    return acc
            raise ValueError(f"no signing key for {sender}")
        with self._rr_lock:
            return self._pool[next(self._round_robin)]

    def current_fees(self) -> Fees:
        """EIP-1559 fees for a transaction sent now (the one fee source of every platform transaction)."""
        cached = self._fees
        now = time.monotonic()
        if cached is None or now - cached[0] > _FEE_TTL:
            base_fee = base_fee_of(self._rpc.call("eth_getBlockByNumber", ["latest", False]))
            cached = (now, self.fee_policy.fees(base_fee))
            self._fees = cached
        return cached[1]

    def estimate_gas(self, sender: str, to: str | None, data: str, value: int = 0, *, action: str) -> int:
        tx = {"from": sender, "data": data, "value": hex(value)}
        if to:
            tx["to"] = to
        try:
            estimate = int(self._rpc.call("eth_estimateGas", [tx]), 16)
        except RpcError as exc:
            raise self._errors.failure(action, revert_data(exc)) from exc
        return estimate + estimate // 5 + 10_000

    def send(self, to: str | None, data: str, *, gas: int | None = None, value: int = 0,
             sender: str | None = None, action: str = "transaction") -> tuple[str, str]:
        """Sign and submit; returns (tx_hash, sender address). Reverts found by estimation raise."""
        acc = self._pick(sender)
        address = acc.account.address
        if gas is None:
            gas = self.estimate_gas(address, to, data, value, action=action)
        try:
            fees = self.current_fees().fields()
        except FeeCapExceeded as exc:
            raise FeeCapExceeded(f"{action} not sent: {exc}", base_fee=exc.base_fee, max_fee=exc.max_fee,
                                 cap=exc.cap) from None
        for attempt in range(_NONCE_ATTEMPTS):
            with acc.lock:
                if acc.next_nonce is None:
                    acc.next_nonce = int(self._rpc.call("eth_getTransactionCount", [address, "pending"]), 16)
                tx = {"chainId": self._chain_id, "nonce": acc.next_nonce, "gas": gas, **fees,
                      "value": value, "data": data}
                if to:
                    tx["to"] = to
                signed = acc.account.sign_transaction(tx)
                try:
                    tx_hash = self._rpc.call("eth_sendRawTransaction", ["0x" + signed.raw_transaction.hex()])
                except RpcError as exc:
                    acc.next_nonce = None  # resynchronise from the node next time
                    if attempt + 1 < _NONCE_ATTEMPTS and any(s in exc.rpc_message.lower() for s in _NONCE_ERRORS):
                        continue
                    raise TransactionFailed(f"{action} refused by the node: {exc.rpc_message}") from exc
                acc.next_nonce += 1
                return tx_hash, address
        raise TransactionFailed(f"{action}: could not find a usable nonce for {address}")

    def wait(self, tx_hash: str, *, action: str = "transaction", timeout: float | None = None) -> Receipt:
        deadline = time.monotonic() + (timeout or self._receipt_timeout)
        delay = 0.005
        while True:
            receipt = self._rpc.call("eth_getTransactionReceipt", [tx_hash])
            if receipt is not None:
                break
            if time.monotonic() > deadline:
                raise TransactionFailed(f"{action}: no receipt for {tx_hash} in time", tx_hash=tx_hash)
            time.sleep(delay)
            delay = min(delay * 2, 0.2)
        if int(receipt["status"], 16) != 1:
            raise self._replay_failure(tx_hash, receipt, action)
        return Receipt(tx_hash, int(receipt["blockNumber"], 16), int(receipt["gasUsed"], 16),
                       receipt["logs"], receipt["from"], receipt.get("contractAddress"))

    def transact(self, to: str | None, data: str, *, action: str, **kwargs) -> Receipt:
        tx_hash, _ = self.send(to, data, action=action, **kwargs)
        return self.wait(tx_hash, action=action)

    def _replay_failure(self, tx_hash: str, receipt: dict, action: str) -> TransactionFailed:
        tx = self._rpc.call("eth_getTransactionByHash", [tx_hash])
        call = {"from": tx["from"], "to": tx.get("to"), "data": tx["input"], "gas": tx["gas"], "value": tx["value"]}
        block = hex(int(receipt["blockNumber"], 16) - 1)
        try:
            self._rpc.call("eth_call", [call, block])
        except RpcError as exc:
            return self._errors.failure(action, revert_data(exc), tx_hash=tx_hash)
        return TransactionFailed(f"{action} reverted (out of gas or state changed)", tx_hash=tx_hash)
