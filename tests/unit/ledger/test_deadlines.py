"""The regulations' clocks: due times in working days, and no guess where the calendar is not published."""

from __future__ import annotations

import datetime as dt

import pytest

from ledger.deadlines import (SHARING_ANSWER_WORKING_DAYS, VERIFICATION_MAX_WORKING_DAYS, VERIFICATION_WORKING_DAYS,
                              Deadline, verification_due, working_days_after)
from ledger.workdays import CHINA_TZ, LAST_OFFICIAL_YEAR

pytestmark = pytest.mark.unit
UTC = dt.timezone.utc


def _ts(*args) -> int:
    return int(dt.datetime(*args, tzinfo=UTC).timestamp())


def test_the_articles_numbers():
    assert (SHARING_ANSWER_WORKING_DAYS, VERIFICATION_WORKING_DAYS, VERIFICATION_MAX_WORKING_DAYS) == (10, 5, 15)


def test_verification_is_due_five_working_days_later_across_a_holiday():
    # Filed Tuesday 30 September 2025 (before the National Day week, Oct 1-8 off, Saturday Oct 11 worked).
    due = verification_due(_ts(2025, 9, 30, 2), None)
    assert due.at.astimezone(CHINA_TZ).date() == dt.date(2025, 10, 14)  # Oct 9, 10, 11 (worked Saturday), 13, 14
    assert due.pending is None


def test_an_extension_replaces_the_due_time():
    until = _ts(2025, 10, 20, 9)
    assert verification_due(_ts(2025, 9, 30, 2), until).at.timestamp() == until


def test_a_deadline_in_an_unpublished_year_is_pending_not_guessed():
    late = dt.datetime(LAST_OFFICIAL_YEAR, 12, 29, 2, tzinfo=UTC)
    due = working_days_after(late, VERIFICATION_MAX_WORKING_DAYS)
    assert due.at is None and str(LAST_OFFICIAL_YEAR + 1) in due.pending
    assert not due.missed(None, late.timestamp() + 10**8)  # never reported overdue on a guess


def test_missed_compares_the_answer_or_now():
    due = Deadline(dt.datetime(2025, 10, 13, 15, 59, 59, tzinfo=UTC))
    limit = due.at.timestamp()
    assert not due.missed(int(limit), limit + 100)  # answered in time
    assert due.missed(int(limit) + 1, limit)  # answered late
    assert due.missed(None, limit + 1) and not due.missed(None, limit)  # not answered


def test_an_objection_is_marked_in_1_forwarded_in_2_and_decided_in_5_working_days():
    from ledger.deadlines import objection_due

    filed = _ts(2025, 9, 30, 2)  # Tuesday, before the National Day week (Oct 1-8 off, Saturday Oct 11 worked)
    kept = objection_due(filed, None)
    assert [d.at.astimezone(CHINA_TZ).date() for d in kept] == [dt.date(2025, 10, 9), dt.date(2025, 10, 10),
                                                                 dt.date(2025, 10, 14)]
    # The provider's 5 days run from the forwarding: Friday Oct 10, then Oct 11 (worked Saturday), 13, 14, 15, 16.
    forwarded = objection_due(filed, _ts(2025, 10, 10, 2))
    assert forwarded.decide.at.astimezone(CHINA_TZ).date() == dt.date(2025, 10, 16)
