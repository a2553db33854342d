"""Working days as the State Council's holiday notices define them, adjusted working weekends included.

The notices come from the maintained `chinese-calendar` package. A year it does not cover yet (the notice for
next year is published each November) falls back to Monday–Friday, and `uncovered_years` says so, so that pages
can warn that due dates in that year ignore holidays."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar

MAX_WORKING_DAYS = 366


# The years the installed package has State Council notices for (its holiday table is per year).
COVERED_YEARS = frozenset(day.year for day in chinese_calendar.holidays)


def is_covered(year: int) -> bool:
    return year in COVERED_YEARS


# The package's own tables, looked up directly: its is_workday() validates each date against the min and max of
# every holiday it knows (two scans), so a worker's first heatmap spent 250 ms counting 27 years of working days.
_HOLIDAYS = frozenset(chinese_calendar.holidays)
_ADJUSTED_WORKDAYS = frozenset(chinese_calendar.workdays)


@lru_cache(maxsize=4096)
def is_workday(day: date) -> bool:
    if not is_covered(day.year):
        return day.weekday() < 5
    # As chinese_calendar.is_workday: an adjusted working weekend works; a weekday works unless it is a holiday.
    return day in _ADJUSTED_WORKDAYS or (day.weekday() < 5 and day not in _HOLIDAYS)


def add_working_days(start: date, days: int) -> date:
    """The date `days` working days after `start` (the start day itself is not counted)."""
    if not 0 <= days <= MAX_WORKING_DAYS:
        raise ValueError(f"working days must be between 0 and {MAX_WORKING_DAYS}")
    day = start
    while days:
        day += timedelta(days=1)
        if is_workday(day):
            days -= 1
    return day


@lru_cache(maxsize=64)
def _workdays_through(year: int) -> tuple[int, ...]:
    """For each day of `year` (index 0: 1 January), the working days from 1 January up to and including it."""
    counts, total, day = [], 0, date(year, 1, 1)
    while day.year == year:
        total += is_workday(day)
        counts.append(total)
        day += timedelta(days=1)
    return tuple(counts)


@lru_cache(maxsize=8192)
def workday_ordinal(day: date) -> int:
    """Working days from 1 January 2000 up to and including `day`: two ordinals' difference is the working days
    between two days, in constant time (for the medians over thousands of visited tasks)."""
    before = sum(_workdays_through(year)[-1] for year in range(2000, day.year))
    return before + _workdays_through(day.year)[day.timetuple().tm_yday - 1]


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (negative when `end` is earlier)."""
    if end < start:
        return -working_days_between(end, start)
    return sum(1 for offset in range(1, (end - start).days + 1) if is_workday(start + timedelta(days=offset)))


def uncovered_years(*days: date) -> list[int]:
    """Years among `days` for which the holiday calendar has no data (Monday–Friday is assumed)."""
    return sorted({d.year for d in days if not is_covered(d.year)})
