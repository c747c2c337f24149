"""The fee policy (EIP-1559 from the latest base fee, capped), the sender's use of it, and the funds monitor."""

from __future__ import annotations

import pytest
from eth_account import Account

from ledger.chain.errors import ErrorDecoder
from ledger.chain.fees import DEFAULT_MAX_FEE_CAP, DEFAULT_PRIORITY_FEE, FeePolicy, Fees, base_fee_of
from ledger.chain.funds import FundsMonitor, FundsThresholds
from ledger.chain.rawtx import decode_transaction
from ledger.chain.sender import TransactionSender
from ledger.exceptions import ConfigurationError, FeeCapExceeded, TransactionFailed

pytestmark = pytest.mark.unit

CHAIN_ID = 16211


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


def test_settings_from_the_environment(monkeypatch):
    assert FeePolicy.from_env() == FeePolicy(DEFAULT_PRIORITY_FEE, DEFAULT_MAX_FEE_CAP)
    monkeypatch.setenv("CONSENT_LEDGER_PRIORITY_FEE_WEI", "5")
    monkeypatch.setenv("CONSENT_LEDGER_MAX_FEE_CAP_WEI", "50")
    assert FeePolicy.from_env() == FeePolicy(5, 50)
    monkeypatch.setenv("CONSENT_LEDGER_MAX_FEE_CAP_WEI", "4")
    with pytest.raises(ConfigurationError):
        FeePolicy.from_env()
    monkeypatch.setenv("CONSENT_LEDGER_MAX_FEE_CAP_WEI", "lots")
    with pytest.raises(ConfigurationError):
        FeePolicy.from_env()


def test_base_fee_of_a_block():
    assert base_fee_of({"number": "0x1", "baseFeePerGas": "0x8"}) == 8
    with pytest.raises(ConfigurationError, match="EIP-1559"):
        base_fee_of({"number": "0x1"})


class _FakeRpc:
    """Answers what the sender and the funds monitor ask; eth_gasPrice doubles at every call (the runaway)."""

    def __init__(self, base_fee: int = 8):
        self.base_fee = base_fee
        self.gas_price = 10**9
        self.sent: list[bytes] = []
        self.calls: list[str] = []
        self.balances: dict[str, int] = {}

    def call(self, method, params=None):
        self.calls.append(method)
        if method == "eth_gasPrice":
            self.gas_price *= 2
            return hex(self.gas_price)
        if method == "eth_getBlockByNumber":
            return {"number": "0x10", "baseFeePerGas": hex(self.base_fee)}
        if method == "eth_getTransactionCount":
            return "0x0"
        if method == "eth_sendRawTransaction":
            self.sent.append(bytes.fromhex(params[0][2:]))
            return "0x" + "00" * 32
        raise AssertionError(method)

    def batch(self, calls):
        return [hex(self.balances[params[0]]) for _, params in calls]


def test_the_sender_signs_type_2_transactions_from_the_policy():
    rpc = _FakeRpc(base_fee=8)
    account = Account.create()
    sender = TransactionSender(rpc, CHAIN_ID, [account], ErrorDecoder([]), fee_policy=FeePolicy(1, 10**11))
    for _ in range(50):
        sender.send("0x" + "11" * 20, "0x", gas=21000)
    sender._fees = None  # as after the cache's second
    rpc.base_fee = 9
    sender.send("0x" + "11" * 20, "0x", gas=21000)
    decoded = [decode_transaction(raw, CHAIN_ID) for raw in rpc.sent]
    assert {tx.tx_type for tx in decoded} == {2}
    assert [tx.gas_price for tx in decoded] == [17] * 50 + [19]  # maxFeePerGas = 2 x base fee + 1
    assert "eth_gasPrice" not in rpc.calls and "eth_maxPriorityFeePerGas" not in rpc.calls


def test_the_sender_refuses_above_the_cap():
    rpc = _FakeRpc(base_fee=10**12)
    sender = TransactionSender(rpc, CHAIN_ID, [Account.create()], ErrorDecoder([]), fee_policy=FeePolicy(1, 10**11))
    with pytest.raises(FeeCapExceeded, match="^AuditAnchor.anchor not sent: max fee"):
        sender.send("0x" + "11" * 20, "0x", gas=21000, action="AuditAnchor.anchor")
    assert rpc.sent == []


def test_funds_monitor_warns_long_before_a_key_runs_dry(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr("ledger.chain.funds.time.monotonic", lambda: clock[0])
    rpc = _FakeRpc()
    keys = {"anchorer": "0xa", "relayer-0": "0xb"}
    rpc.balances = {"0xa": 10**24, "0xb": 10**24}
    fees = Fees(max_fee_per_gas=10**9, max_priority_fee_per_gas=1)
    monitor = FundsMonitor(rpc, keys, lambda: fees, refresh=5.0,
                           thresholds=FundsThresholds(gas_per_transaction=100_000, warn_transactions=1000,
                                                      warn_days=14, critical_transactions=10, min_span_seconds=600))
    first = {f.name: f for f in monitor.check()}
    assert first["anchorer"].transactions_left == 10**24 // (100_000 * 10**9)
    assert first["anchorer"].days_left is None and first["anchorer"].warning is None

    # A one-off payment is no spend rate yet.
    clock[0] += 60
    rpc.balances["0xa"] = 10**24 - 10**20
    assert monitor.check()[0].days_left is None

    # The anchorer spends 10^21 wei an hour: 10^24 lasts ~41 days, then ~6 days once down to 1.5 x 10^23.
    clock[0] += 3540
    rpc.balances["0xa"] = 10**24 - 10**21
    assert monitor.check()[0].warning is None
    assert 41 < monitor.check()[0].days_left < 42
    rpc.balances["0xa"] = 15 * 10**22
    clock[0] += 3600
    anchorer = monitor.check()[0]
    assert anchorer.days_left < 14 and "runs dry in" in anchorer.warning and not anchorer.critical

    # Nearly dry at the current fee: a warning first, then critical.
    rpc.balances["0xb"] = 500 * 100_000 * 10**9
    clock[0] += 10
    relayer = monitor.check()[1]
    assert relayer.transactions_left == 500 and "only 500 more transactions" in relayer.warning
    assert not relayer.critical
    rpc.balances["0xb"] = 5 * 100_000 * 10**9
    clock[0] += 10
    assert monitor.check()[1].critical

    # A top-up resets the spend rate.
    rpc.balances["0xa"] = 10**24
    clock[0] += 10
    anchorer = monitor.check()[0]
    assert anchorer.days_left is None and anchorer.warning is None


def test_funds_monitor_reads_at_most_every_refresh_seconds(monkeypatch):
    clock = [0.0]
    monkeypatch.setattr("ledger.chain.funds.time.monotonic", lambda: clock[0])
    rpc = _FakeRpc()
    rpc.balances = {"0xa": 1}
    reads = []
    original = rpc.batch
    rpc.batch = lambda calls: reads.append(calls) or original(calls)
    monitor = FundsMonitor(rpc, {"admin": "0xa"}, lambda: Fees(1, 1), refresh=5.0)
    monitor.check()
    clock[0] = 4.0
    monitor.check()
    clock[0] = 5.5
    monitor.check()
    assert len(reads) == 2
