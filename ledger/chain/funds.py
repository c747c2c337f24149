"""How long the platform's own keys (anchorer, relayers, admin) can keep paying for their transactions.

Anchoring stops the moment the anchorer cannot pay, so its balance is watched, not discovered:
for each key the balance, the transactions it still pays for at the current max fee, and (once
its balance has been seen falling for a while) the days left at the spend rate measured over
the last hour; a shorter span would turn a one-off payment (funding a new department) into a
false alarm.
A key below the warning thresholds is reported early; one below the critical threshold fails
readiness.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from ledger.chain.fees import Fees
from ledger.chain.rpc import RpcClient

WEI_PER_ETH = 10**18


@dataclass(frozen=True, slots=True)
class FundsThresholds:
    gas_per_transaction: int = 200_000      # a generous platform transaction (an anchor uses ~60 k)
    warn_transactions: int = 100_000
    warn_days: float = 7.0
    critical_transactions: int = 1_000
    min_span_seconds: float = 900.0         # of balance samples before a spend rate is believed


@dataclass(frozen=True, slots=True)
class KeyFunds:
    name: str
    address: str
    balance: int
    transactions_left: int
    spend_wei_per_second: float | None  # None until the balance has been seen falling long enough
    days_left: float | None
    warning: str | None
    critical: bool

    def report(self) -> dict:
        return {"address": self.address, "balance_eth": round(self.balance / WEI_PER_ETH, 6),
                "transactions_left": self.transactions_left,
                "days_left": None if self.days_left is None else round(self.days_left, 2),
                "warning": self.warning}


class FundsMonitor:
    """Balances read at most every ``refresh`` seconds; the spend rate from samples over ``window`` seconds."""

    def __init__(self, rpc: RpcClient, keys: dict[str, str], current_fees: Callable[[], Fees], *,
                 thresholds: FundsThresholds = FundsThresholds(), refresh: float = 5.0, window: float = 3600.0):
        self.rpc = rpc
        self.keys = dict(keys)
        self.current_fees = current_fees
        self.thresholds = thresholds
        self.refresh = refresh
        self.window = window
        self._samples: dict[str, deque[tuple[float, int]]] = {name: deque() for name in keys}
        self._last: tuple[float, list[KeyFunds]] | None = None
        self._lock = threading.Lock()

    def check(self) -> list[KeyFunds]:
        with self._lock:
            now = time.monotonic()
            if self._last is not None and now - self._last[0] < self.refresh:
                return self._last[1]
            balances = self.rpc.batch([("eth_getBalance", [address, "latest"]) for address in self.keys.values()])
            cost = self.thresholds.gas_per_transaction * max(self.current_fees().max_fee_per_gas, 1)
            funds = [self._assess(name, address, int(balance, 16), cost, now)
                     for (name, address), balance in zip(self.keys.items(), balances)]
            self._last = (now, funds)
            return funds

    def _assess(self, name: str, address: str, balance: int, cost: int, now: float) -> KeyFunds:
        samples = self._samples[name]
        if samples and balance > samples[-1][1]:
            samples.clear()  # topped up: the old spend no longer says anything
        samples.append((now, balance))
        while len(samples) > 2 and now - samples[0][0] > self.window:
            samples.popleft()
        spend = None
        span = samples[-1][0] - samples[0][0]
        if span >= self.thresholds.min_span_seconds and samples[0][1] > balance:
            spend = (samples[0][1] - balance) / span
        days = balance / spend / 86400 if spend else None
        left = balance // cost
        t = self.thresholds
        warning = None
        if left < t.warn_transactions:
            warning = f"{name} pays for only {left} more transactions at the current max fee: top it up"
        elif days is not None and days < t.warn_days:
            warning = f"{name} runs dry in {days:.1f} days at its current spend: top it up"
        return KeyFunds(name, address, balance, left, spend, days, warning, left < t.critical_transactions)
