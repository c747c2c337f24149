"""Working days on the official Chinese calendar (public holidays off, 调休 weekends worked)."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from ledger.workdays import (
    CHINA_TZ,
    CalendarNotPublished,
    LAST_OFFICIAL_YEAR,
    add_working_days,
    calendar_is_official,
    is_working_day,
    working_days_between,
)

pytestmark = pytest.mark.unit

UTC = dt.timezone.utc
D = dt.date


def days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


# Official arrangements (State Council General Office notices for 2025 and 2026).
OFF = [
    *days(D(2025, 1, 28), D(2025, 2, 4)),  # Spring Festival 2025
    *days(D(2025, 5, 1), D(2025, 5, 5)),  # Labour Day 2025
    *days(D(2025, 10, 1), D(2025, 10, 8)),  # National Day + Mid-Autumn 2025
    *days(D(2026, 1, 1), D(2026, 1, 3)),  # New Year 2026
    *days(D(2026, 2, 15), D(2026, 2, 23)),  # Spring Festival 2026
    *days(D(2026, 10, 1), D(2026, 10, 7)),  # National Day 2026
    D(2025, 4, 4), D(2025, 6, 2), D(2026, 4, 6), D(2026, 6, 19), D(2026, 9, 25),
]
WORKED_WEEKENDS = [
    D(2025, 1, 26), D(2025, 2, 8), D(2025, 4, 27), D(2025, 9, 28), D(2025, 10, 11),
    D(2026, 1, 4), D(2026, 2, 14), D(2026, 2, 28), D(2026, 5, 9), D(2026, 9, 20), D(2026, 10, 10),
]


@pytest.mark.parametrize("day", OFF, ids=str)
def test_official_days_off(day: dt.date) -> None:
    assert not is_working_day(day)


@pytest.mark.parametrize("day", WORKED_WEEKENDS, ids=str)
def test_adjusted_weekends_are_worked(day: dt.date) -> None:
    assert day.weekday() >= 5
    assert is_working_day(day)


def test_golden_week_2025_in_full() -> None:
    assert [is_working_day(d) for d in days(D(2025, 9, 27), D(2025, 10, 12))] == [
        False, True,  # Sat 27 off, Sun 28 worked
        True, True,  # Mon 29, Tue 30
        False, False, False, False, False, False, False, False,  # Oct 1-8
        True, True, True,  # Thu 9, Fri 10, Sat 11 worked
        False,  # Sun 12
    ]


def test_ordinary_weeks() -> None:
    assert all(is_working_day(d) for d in days(D(2025, 3, 3), D(2025, 3, 7)))
    assert not is_working_day(D(2025, 3, 8)) and not is_working_day(D(2025, 3, 9))


def test_yearly_totals_match_published_counts() -> None:
    # 2024: 251 working days; 2025 and 2026: 248 (13 statutory holidays since 2025).
    assert working_days_between(D(2023, 12, 31), D(2024, 12, 31)) == 251
    assert working_days_between(D(2024, 12, 31), D(2025, 12, 31)) == 248
    assert working_days_between(D(2025, 12, 31), D(2026, 12, 31)) == 248


def test_instants_are_taken_in_china_time() -> None:
    # 2025-09-27T17:00Z is already Sunday 28 September 01:00 in Beijing: a worked day.
    assert is_working_day(dt.datetime(2025, 9, 27, 17, tzinfo=UTC))
    assert not is_working_day(dt.datetime(2025, 9, 27, 15, tzinfo=UTC))
    with pytest.raises(ValueError, match="timezone-aware"):
        is_working_day(dt.datetime(2025, 9, 28, 12))
    with pytest.raises(TypeError):
        is_working_day("2025-09-28")  # type: ignore[arg-type]


def end_of_china_day(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(23, 59, 59, 999999), tzinfo=CHINA_TZ).astimezone(UTC)


@pytest.mark.parametrize(
    ("start", "n", "due"),
    [
        (dt.datetime(2025, 9, 30, 2, tzinfo=UTC), 1, D(2025, 10, 9)),  # over Golden Week
        (dt.datetime(2025, 9, 30, 2, tzinfo=UTC), 3, D(2025, 10, 11)),  # Saturday 11th is worked
        (dt.datetime(2025, 9, 30, 2, tzinfo=UTC), 10, D(2025, 10, 21)),
        (dt.datetime(2025, 9, 26, 2, tzinfo=UTC), 1, D(2025, 9, 28)),  # Friday -> worked Sunday
        (dt.datetime(2025, 9, 27, 15, tzinfo=UTC), 1, D(2025, 9, 28)),  # Sat 23:00 Beijing
        (dt.datetime(2025, 9, 27, 17, tzinfo=UTC), 1, D(2025, 9, 29)),  # already Sun 01:00 Beijing
        (dt.datetime(2026, 2, 10, 2, tzinfo=UTC), 10, D(2026, 3, 2)),  # over Spring Festival 2026
        (dt.datetime(2026, 2, 13, 9, tzinfo=UTC), 5, D(2026, 2, 27)),  # 14th worked, 15-23 off
        (dt.datetime(2025, 12, 30, 1, tzinfo=UTC), 5, D(2026, 1, 7)),  # 31st, (1-3 off), Sun 4th worked, 5-7
        (dt.datetime(2025, 3, 3, 1, tzinfo=dt.timezone(dt.timedelta(hours=-5))), 5, D(2025, 3, 10)),
    ],
)
def test_add_working_days(start: dt.datetime, n: int, due: dt.date) -> None:
    deadline = add_working_days(start, n)
    assert deadline == end_of_china_day(due)
    assert deadline.tzinfo == UTC
    assert deadline.astimezone(CHINA_TZ).date() == due


def test_deadline_is_the_last_instant_of_the_day() -> None:
    deadline = add_working_days(dt.datetime(2025, 9, 30, 2, tzinfo=UTC), 10)
    assert deadline.isoformat() == "2025-10-21T15:59:59.999999+00:00"
    assert (deadline + dt.timedelta(microseconds=1)).astimezone(CHINA_TZ).date() == D(2025, 10, 22)


def test_add_working_days_argument_errors() -> None:
    start = dt.datetime(2025, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="at least 1"):
        add_working_days(start, 0)
    with pytest.raises(TypeError):
        add_working_days(start, 2.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        add_working_days(start, True)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timezone-aware"):
        add_working_days(dt.datetime(2025, 1, 1), 1)
    with pytest.raises(TypeError, match="timezone-aware datetime"):
        add_working_days(D(2025, 1, 1), 1)  # type: ignore[arg-type]


def test_between_is_the_inverse_of_add() -> None:
    rng = random.Random(5)
    for _ in range(200):
        start = dt.datetime(2025, 1, 1, tzinfo=UTC) + dt.timedelta(minutes=rng.randrange(640 * 24 * 60))
        n = rng.randint(1, 30)
        deadline = add_working_days(start, n)
        assert working_days_between(start, deadline) == n
        assert working_days_between(deadline, start) == -n
        assert is_working_day(deadline)


def test_between_edges() -> None:
    assert working_days_between(D(2025, 10, 1), D(2025, 10, 1)) == 0
    assert working_days_between(D(2025, 9, 30), D(2025, 10, 8)) == 0
    assert working_days_between(D(2025, 9, 27), D(2025, 10, 11)) == 6  # Sep 28, 29, 30, Oct 9, 10, 11
    assert working_days_between(D(2025, 9, 26), D(2025, 10, 11)) == 6  # Saturday 27th is off
    assert working_days_between(D(2025, 9, 25), D(2025, 10, 11)) == 7


def test_official_coverage() -> None:
    assert LAST_OFFICIAL_YEAR >= 2026
    assert calendar_is_official(2026) and calendar_is_official(2001)
    assert not calendar_is_official(LAST_OFFICIAL_YEAR + 1)


def test_an_unpublished_year_is_refused_not_guessed() -> None:
    later = LAST_OFFICIAL_YEAR + 1
    with pytest.raises(CalendarNotPublished, match=f"{later}"):
        is_working_day(D(later, 3, 2))
    # A deadline that runs into it is refused too, with the same error; one that ends before it is not.
    with pytest.raises(CalendarNotPublished):
        add_working_days(dt.datetime(LAST_OFFICIAL_YEAR, 12, 28, 2, tzinfo=UTC), 10)
    assert add_working_days(dt.datetime(LAST_OFFICIAL_YEAR, 12, 1, 2, tzinfo=UTC), 5).year == LAST_OFFICIAL_YEAR
