"""The funds monitor: warnings long before a platform key runs dry, reads at most every refresh."""

from __future__ import annotations

import pytest

from ledger.chain.fees import Fees
from ledger.chain.funds import FundsMonitor, FundsThresholds
from tests.support.fake_rpc import FakeRpc

pytestmark = pytest.mark.unit


def test_funds_monitor_warns_long_before_a_key_runs_dry(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr("ledger.chain.funds.time.monotonic", lambda: clock[0])
    rpc = FakeRpc()
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
    rpc = FakeRpc()
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
