"""The verifier's time checks (DESIGN §1.5) and the unanchored tail, without a chain."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from ledger.audit.entry import AuditEntry
from ledger.audit.trail import (TIME_TOLERANCE_MS, Anchor, Report, check_times, check_unanchored_tail)

pytestmark = pytest.mark.unit

T0 = 1_790_000_000  # block 100's timestamp; block n is stamped T0 + 10 * (n - 100)
TOLERANCE = dt.timedelta(milliseconds=TIME_TOLERANCE_MS)


def stamp(block: int) -> int:
    return T0 + 10 * (block - 100)


def at(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc)


def entry(seq: int, block: int, time: dt.datetime) -> AuditEntry:
    return AuditEntry(seq=seq, time=time, requester="0x" + "ab" * 20, subject_id="0x" + "01" * 32,
                      resource="mzj.registered_orgs", purpose="check", consent_id=None, decision="ALLOW",
                      reason="OK", fields=["org_name"], block_number=block, payload_hash="0x" + "ef" * 32)


def honest_log() -> list[AuditEntry]:
    """Entry i cites block 100 + i, stamped 4 s after that block (the next comes 10 s after it)."""
    return [entry(i, 100 + i, at(stamp(100 + i) + 4)) for i in range(5)]


HEAD = 106
TIMESTAMPS = {n: stamp(n) for n in range(100, HEAD + 1)}
ANCHORS = [Anchor(1, 3, b"r" * 32, b"\0" * 32, b"a" * 32, 103, "0x1"),  # covers seqs 0..2
           Anchor(2, 5, b"s" * 32, b"a" * 32, b"b" * 32, 106, "0x2")]   # covers 3..4


def problems(entries, anchors=ANCHORS, head=HEAD) -> set[tuple[str, int | None]]:
    report = Report()
    check_times(entries, anchors, TIMESTAMPS, head, report)
    return {(p.kind, p.seq) for p in report.problems}


def test_honest_log_passes():
    assert problems(honest_log()) == set()


def test_entry_within_tolerance_of_its_block_bounds_passes():
    log = honest_log()
    log[1] = replace(log[1], time=at(stamp(101)) - TOLERANCE)  # just before its block, within slack
    log[2] = replace(log[2], time=at(stamp(103)) + TOLERANCE - dt.timedelta(milliseconds=1))
    log[2] = replace(log[2], time=min(log[2].time, at(stamp(103))))  # and no later than its anchor's block
    assert problems(log[:3]) == set()


def test_stale_block_is_named():
    log = honest_log()
    log[2] = replace(log[2], block_number=101)  # written at 102's time + 4 s, but citing 101
    assert problems(log) == {("ENTRY_BLOCK_STALE", 2)}


def test_time_before_the_cited_block_is_named():
    log = honest_log()
    log[2] = replace(log[2], block_number=103, time=at(stamp(102) + 7))  # 103 was mined 3 s later
    assert problems(log) == {("ENTRY_BEFORE_BLOCK", 2)}


def test_time_going_back_is_named():
    log = honest_log()
    log[3] = replace(log[3], block_number=101, time=at(stamp(101) + 5))
    assert ("TIME_NOT_MONOTONIC", 3) in problems(log)


def test_entry_later_than_its_anchor_is_named():
    log = honest_log()
    log[2] = replace(log[2], block_number=103, time=at(stamp(103) + 3))  # anchor 1 was mined at 103
    assert problems(log) == {("ENTRY_AFTER_ANCHOR", 2)}


def test_unanchored_entries_are_not_bounded_by_an_anchor():
    log = honest_log()
    log[4] = replace(log[4], block_number=106, time=at(stamp(106) + 300))  # the head's block; no anchor beyond
    assert problems(log, ANCHORS[:1]) == set()


def test_block_beyond_the_head_is_named():
    log = honest_log()
    log[4] = replace(log[4], block_number=HEAD + 5)
    assert problems(log) == {("BLOCK_IN_FUTURE", 4)}


def tail(now: float, anchored: int, max_lag: float = 10.0) -> set[tuple[str, int | None]]:
    report = Report()
    check_unanchored_tail(honest_log(), anchored, now, max_lag, report)
    return {(p.kind, p.seq) for p in report.problems}


def test_unanchored_tail_older_than_the_bound_is_named():
    oldest_unanchored = stamp(103) + 4  # seq 3
    assert tail(oldest_unanchored + 9.9, anchored=3) == set()
    assert tail(oldest_unanchored + 10.1, anchored=3) == {("UNANCHORED_TAIL", 3)}
    assert tail(oldest_unanchored + 5, anchored=3, max_lag=4) == {("UNANCHORED_TAIL", 3)}
    assert tail(oldest_unanchored + 1000, anchored=5) == set()  # everything anchored
