"""One place for "now", so that timers and due dates can be tested by moving time instead of waiting."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta, timezone

CHINA_TZ = timezone(timedelta(hours=8), "CST")

# Set only by `travel_to` (tests and drills): the moment every caller of utcnow() sees.
_frozen_at: datetime | None = None


def utcnow() -> datetime:
    """Naive UTC, as stored in the database (SQLite keeps no time zone)."""
    if _frozen_at is not None:
        return _frozen_at
    return datetime.now(UTC).replace(tzinfo=None)


def to_china(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC).astimezone(CHINA_TZ)


def china_today() -> date:
    return to_china(utcnow()).date()


def china_moment(day: date, hour: int = 10) -> datetime:
    """A China-time hour of `day`, as the naive UTC the tables store."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=CHINA_TZ).astimezone(UTC).replace(tzinfo=None)


@contextmanager
def travel_to(moment: datetime) -> Iterator[None]:
    """Make utcnow() return `moment` (naive UTC) inside the block."""
    global _frozen_at
    previous, _frozen_at = _frozen_at, moment
    try:
        yield
    finally:
        _frozen_at = previous
