"""Working days follow the State Council's holiday notice, adjusted working weekends included."""

from datetime import date

import pytest

from app.deadlines.calendar import add_working_days, is_workday, uncovered_years, working_days_between


def test_national_day_2026_is_skipped_and_the_adjusted_saturday_counts():
    # 2026: 10月1日至7日放假; Sunday 9月20日 and Saturday 10月10日 are working days.
    assert not is_workday(date(2026, 10, 5))
    assert is_workday(date(2026, 10, 10)) and date(2026, 10, 10).weekday() == 5
    # Ready on Wednesday 30 September: the 1st working day after is 8 October, the 3rd the adjusted Saturday.
    assert add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert add_working_days(date(2026, 9, 30), 3) == date(2026, 10, 10)
    assert add_working_days(date(2026, 9, 30), 4) == date(2026, 10, 12)


def test_an_ordinary_week_skips_the_weekend():
    assert add_working_days(date(2026, 11, 27), 1) == date(2026, 11, 30)  # Friday → Monday
    assert add_working_days(date(2026, 11, 27), 0) == date(2026, 11, 27)
    assert working_days_between(date(2026, 11, 27), date(2026, 12, 4)) == 5
    assert working_days_between(date(2026, 12, 4), date(2026, 11, 27)) == -5


def test_a_year_without_a_holiday_notice_falls_back_to_monday_to_friday_and_says_so():
    assert uncovered_years(date(2026, 12, 31), date(2027, 1, 4)) == [2027]
    assert uncovered_years(date(2026, 1, 1)) == []
    assert add_working_days(date(2027, 1, 1), 1) == date(2027, 1, 4)  # Friday → Monday, no holiday data


def test_absurd_limits_are_refused():
    with pytest.raises(ValueError):
        add_working_days(date(2026, 1, 1), -1)


def test_every_covered_day_is_a_working_day_exactly_when_the_state_councils_notices_say_so():
    """The calendar reads the package's holiday and adjusted-workday tables directly (its own is_workday is slow):
    the two agree on every day of every year the package covers."""
    import chinese_calendar

    from app.deadlines.calendar import COVERED_YEARS

    day, disagree = date(min(COVERED_YEARS), 1, 1), []
    while day.year <= max(COVERED_YEARS):
        if is_workday(day) != chinese_calendar.is_workday(day):
            disagree.append(day)
        day = date.fromordinal(day.toordinal() + 1)
    assert disagree == []
