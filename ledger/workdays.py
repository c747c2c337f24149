"""Working days on the official calendar of mainland China (工作日), for statutory deadlines.

Every statutory clock of the platform counts here: sharing requests are answered within 10
working days, verification requests within 5 (at most 15 when extended), objections are marked
within 1 and decided within 5. All count on the State Council's yearly holiday arrangement:
public holidays are off, and the adjusted weekend days (调休上班) are worked. The data comes from the PyPI ``holidays``
package (``holidays.China``: days off in the mapping, worked weekend days in
``weekend_workdays``).

Dates are local dates in Asia/Shanghai; instants must be timezone-aware. The State Council
publishes each year's arrangement around November of the year before. A day after
:data:`LAST_OFFICIAL_YEAR` (the last year the installed ``holidays`` knows in full) raises
:class:`~ledger.domain_errors.CalendarNotPublished` rather than guess: a deadline counted on an
estimated calendar could be a day early, and a department told it is late when it is not.
"""

from __future__ import annotations

import datetime as _dt
from functools import lru_cache

import holidays
from holidays.constants import PUBLIC

from ledger.domain_errors import CalendarNotPublished

__all__ = [
    "CHINA_TZ",
    "CalendarNotPublished",
    "LAST_OFFICIAL_YEAR",
    "add_working_days",
    "calendar_is_official",
    "is_working_day",
    "working_days_between",
]

try:
    from zoneinfo import ZoneInfo

    CHINA_TZ: _dt.tzinfo = ZoneInfo("Asia/Shanghai")
except Exception:  # no tz database installed; China has kept UTC+8 without DST since 1991
    CHINA_TZ = _dt.timezone(_dt.timedelta(hours=8), "CST")


def _last_official_year() -> int:
    try:
        from holidays.countries.china import ChinaStaticHolidays

        return max(ChinaStaticHolidays.special_public_holidays)
    except Exception:  # layout of the package changed; fall back to the version we test with
        return 2026


#: Last year whose official arrangement (including 调休) the installed ``holidays`` knows.
LAST_OFFICIAL_YEAR = _last_official_year()

_DAY = _dt.timedelta(days=1)
_END_OF_DAY = _dt.time(23, 59, 59, 999999)


@lru_cache(maxsize=256)
def _year(year: int) -> tuple[frozenset[_dt.date], frozenset[_dt.date]]:
    """(days off, worked weekend days) of one year; refused for a year not published in full.

    Neighbouring years are loaded too: an arrangement can move work onto a weekend of the
    previous year (e.g. New Year 2002 was paid for with 29-30 December 2001).
    """
    if not calendar_is_official(year):
        raise CalendarNotPublished(
            f"working days in {year} cannot be counted yet: the State Council's holiday arrangement for {year} "
            f"(国务院办公厅关于{year}年部分节假日安排的通知) is not in this installation's calendar, which ends with "
            f"{LAST_OFFICIAL_YEAR}; update the 'holidays' package once it is published")
    cal = holidays.China(years=range(year - 1, year + 2), categories=(PUBLIC,))
    off = frozenset(d for d in cal if d.year == year)
    worked = frozenset(d for d in cal.weekend_workdays if d.year == year)
    return off, worked


def _local_date(value: _dt.date | _dt.datetime, name: str) -> _dt.date:
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{name} must be timezone-aware (UTC), got naive {value.isoformat()}")
        return value.astimezone(CHINA_TZ).date()
    if isinstance(value, _dt.date):
        return value
    raise TypeError(f"{name} must be a date or datetime, got {type(value).__name__}")


def calendar_is_official(year: int) -> bool:
    """Whether the year's holiday arrangement, adjusted weekends included, is the published one."""
    return year <= LAST_OFFICIAL_YEAR


def is_working_day(day: _dt.date | _dt.datetime) -> bool:
    """Whether ``day`` (a date, or an aware instant taken in China time) is a working day."""
    d = _local_date(day, "day")
    off, worked = _year(d.year)
    if d.weekday() >= 5:
        return d in worked
    return d not in off


def add_working_days(start: _dt.datetime, n: int) -> _dt.datetime:
    """Deadline ``n`` working days after ``start``: the last instant of the nth working day.

    Counting starts the day after ``start``'s local date in China (the day of submission
    does not count). Returns 23:59:59.999999 China time of that day, as a UTC datetime; a
    reply is late iff it comes after the returned instant.
    """
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"n must be an int, got {type(n).__name__}")
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if not isinstance(start, _dt.datetime):
        raise TypeError(f"start must be a timezone-aware datetime, got {type(start).__name__}")
    day = _local_date(start, "start")
    left = n
    while left:
        day += _DAY
        if is_working_day(day):
            left -= 1
    return _dt.datetime.combine(day, _END_OF_DAY, tzinfo=CHINA_TZ).astimezone(_dt.timezone.utc)


def working_days_between(a: _dt.date | _dt.datetime, b: _dt.date | _dt.datetime) -> int:
    """Working days ``d`` with ``a < d <= b`` (local dates in China); negative if ``b < a``.

    So ``working_days_between(start, add_working_days(start, n)) == n``.
    """
    first, last = _local_date(a, "a"), _local_date(b, "b")
    if last < first:
        return -working_days_between(last, first)
    count = 0
    day = first + _DAY
    while day <= last:
        if is_working_day(day):
            count += 1
        day += _DAY
    return count
