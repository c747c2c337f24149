"""The fee policy: EIP-1559 from the latest base fee, capped; its settings; a block's base fee."""

from __future__ import annotations

import pytest

from ledger.chain.fees import DEFAULT_MAX_FEE_CAP, DEFAULT_PRIORITY_FEE, FeePolicy, Fees, base_fee_of
from ledger.exceptions import ConfigurationError, FeeCapExceeded, TransactionFailed
from ledger.settings import Settings

pytestmark = pytest.mark.unit


def test_max_fee_is_twice_the_base_fee_plus_the_tip():
    policy = FeePolicy(priority_fee=3, max_fee_cap=10**12)
    assert policy.fees(0) == Fees(3, 3)
    assert policy.fees(7) == Fees(17, 3)
    assert policy.fees(10**9).fields() == {"maxFeePerGas": 2 * 10**9 + 3, "maxPriorityFeePerGas": 3}


def test_the_fee_depends_on_the_base_fee_only():
    """Whatever was paid before, the same base fee gives the same fee: nothing can feed on itself."""
    policy = FeePolicy()
    first = policy.fees(8)
    for _ in range(10_000):
        assert policy.fees(8) == first


def test_above_the_cap_nothing_is_sent():
    policy = FeePolicy(priority_fee=1, max_fee_cap=1000)
    assert policy.fees(499).max_fee_per_gas == 999
    with pytest.raises(FeeCapExceeded, match="above the cap of 1000 wei/gas") as raised:
        policy.fees(500)
    assert isinstance(raised.value, TransactionFailed)
    assert (raised.value.base_fee, raised.value.max_fee, raised.value.cap) == (500, 1001, 1000)
    assert raised.value.error_name == "FeeCapExceeded"


def test_settings_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("CONSENT_LEDGER_HOME", str(tmp_path))
    monkeypatch.delenv("CONSENT_LEDGER_PRIORITY_FEE_WEI", raising=False)
    monkeypatch.delenv("CONSENT_LEDGER_MAX_FEE_CAP_WEI", raising=False)
    assert Settings.from_env().fee_policy == FeePolicy(DEFAULT_PRIORITY_FEE, DEFAULT_MAX_FEE_CAP)
    monkeypatch.setenv("CONSENT_LEDGER_PRIORITY_FEE_WEI", "5")
    monkeypatch.setenv("CONSENT_LEDGER_MAX_FEE_CAP_WEI", "50")
    assert Settings.from_env().fee_policy == FeePolicy(5, 50)
    monkeypatch.setenv("CONSENT_LEDGER_MAX_FEE_CAP_WEI", "4")
    with pytest.raises(ConfigurationError, match="CONSENT_LEDGER_MAX_FEE_CAP_WEI"):
        Settings.from_env()
    monkeypatch.setenv("CONSENT_LEDGER_MAX_FEE_CAP_WEI", "lots")
    with pytest.raises(ConfigurationError, match="CONSENT_LEDGER_MAX_FEE_CAP_WEI"):
        Settings.from_env()


def test_base_fee_of_a_block():
    assert base_fee_of({"number": "0x1", "baseFeePerGas": "0x8"}) == 8
    with pytest.raises(ConfigurationError, match="EIP-1559"):
        base_fee_of({"number": "0x1"})
