"""The fee policy of every transaction the platform prepares: EIP-1559 fees from the latest base fee.

A node's ``eth_gasPrice`` / ``eth_maxPriorityFeePerGas`` suggestion follows the prices recently
paid, so paying a multiple of it feeds on itself (seen: the price doubled at every refresh until
the anchorer's balance ran dry). Neither is ever read here. The base fee moves only with block
fullness (at most 12.5 % a block, whatever anyone pays), so ``max fee = 2 x base fee + tip``
stays valid through several full blocks and cannot climb on its own. Above the configured cap
nothing is sent: :class:`~ledger.exceptions.FeeCapExceeded`.

On the embedded devnet and the Besu network the base fee is zero (anvil ``--base-fee 0``, Besu
``zeroBaseFee``), so a transaction costs ``tip x gas``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.exceptions import ConfigurationError, FeeCapExceeded
from ledger.settings import DEFAULT_MAX_FEE_CAP, DEFAULT_PRIORITY_FEE


@dataclass(frozen=True, slots=True)
class Fees:
    max_fee_per_gas: int
    max_priority_fee_per_gas: int

    def fields(self) -> dict[str, int]:
        """The fee fields of an EIP-1559 (type 2) transaction, as eth_account signs them."""
        return {"maxFeePerGas": self.max_fee_per_gas, "maxPriorityFeePerGas": self.max_priority_fee_per_gas}


@dataclass(frozen=True, slots=True)
class FeePolicy:
    """Wei per gas: the tip of every transaction, and the max fee above which nothing is sent
    (configured by ``Settings.priority_fee_wei`` and ``Settings.max_fee_cap_wei``)."""

    priority_fee: int = DEFAULT_PRIORITY_FEE
    max_fee_cap: int = DEFAULT_MAX_FEE_CAP

    def __post_init__(self) -> None:
        if self.priority_fee < 0 or self.max_fee_cap < self.priority_fee:
            raise ConfigurationError(f"fee policy needs 0 <= priority fee ({self.priority_fee}) "
                                     f"<= max fee cap ({self.max_fee_cap})")

    def fees(self, base_fee: int) -> Fees:
        """Fees for the next block given the latest block's base fee; refuses above the cap."""
        max_fee = 2 * base_fee + self.priority_fee
        if max_fee > self.max_fee_cap:
            raise FeeCapExceeded(f"max fee {max_fee} wei/gas (2 x base fee {base_fee} + tip {self.priority_fee}) "
                                 f"is above the cap of {self.max_fee_cap} wei/gas: not sending; raise "
                                 f"CONSENT_LEDGER_MAX_FEE_CAP_WEI only if the chain's base fee is expected this high",
                                 base_fee=base_fee, max_fee=max_fee, cap=self.max_fee_cap)
        return Fees(max_fee, self.priority_fee)


def base_fee_of(block: dict) -> int:
    """``baseFeePerGas`` of a block; a chain without one cannot take EIP-1559 transactions."""
    base_fee = block.get("baseFeePerGas")
    if base_fee is None:
        raise ConfigurationError(f"block {block.get('number')} has no base fee: the chain predates EIP-1559 (London)")
    return int(base_fee, 16)
