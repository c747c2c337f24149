"""When the state dumper's policy says the next dump is due."""

from __future__ import annotations

import pytest

from ledger.devnet._persistence import DumpPolicy
from ledger.devnet._settings import DevnetSettings
from ledger.exceptions import ConfigurationError

POLICY = DumpPolicy(min_interval=1.0, max_interval=120.0, time_fraction=0.05, replay_budget=10.0,
                    replay_gas_per_s=50_000_000.0)


def test_the_interval_keeps_dumping_to_its_share_of_wall_time():
    for duration in (0.1, 0.5, 2.0, 5.0):
        interval = POLICY.interval(duration)
        assert interval == pytest.approx(duration / 0.05)
        assert duration / interval == pytest.approx(0.05)


def test_the_interval_grows_with_the_dump_cost_within_its_bounds():
    durations = [0.0, 0.01, 0.05, 0.2, 1.0, 3.0, 6.0, 30.0, 600.0]
    intervals = [POLICY.interval(d) for d in durations]
    assert intervals == sorted(intervals)
    assert intervals[0] == intervals[1] == 1.0  # the floor
    assert intervals[-1] == intervals[-2] == 120.0  # the ceiling
    assert all(1.0 <= i <= 120.0 for i in intervals)


def test_the_floor_wins_over_the_ceiling():
    assert DumpPolicy(min_interval=600.0, max_interval=120.0).interval(0.01) == 600.0


def test_a_dump_is_due_once_the_journal_would_take_the_replay_budget():
    budget_gas = 10.0 * 50_000_000
    assert not POLICY.replay_due(0)
    assert not POLICY.replay_due(budget_gas - 1)
    assert POLICY.replay_due(budget_gas)


def test_the_settings_make_the_policy_and_refuse_nonsense():
    settings = DevnetSettings.load(state_interval=2.0, replay_budget_s=3.0)
    policy = settings.dump_policy
    assert (policy.min_interval, policy.replay_budget) == (2.0, 3.0)
    assert policy.max_interval == settings.state_interval_max
    for bad in ({"dump_time_fraction": 0.0}, {"dump_time_fraction": 1.5}, {"replay_budget_s": 0.0},
                {"replay_gas_per_s": -1.0}, {"state_interval_max": 0.0}):
        with pytest.raises(ConfigurationError):
            DevnetSettings.load(**bad)


def test_a_forced_dump_still_leaves_half_the_time_to_mining():
    for duration in (0.01, 2.0, 5.0):  # where the ceiling does not bind
        forced = POLICY.forced_interval(duration)
        assert forced < POLICY.interval(duration)
        assert duration / (duration + forced) <= 0.25
