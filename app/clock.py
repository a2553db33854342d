"""One place for "now", so that timers and due dates can be tested by moving time instead of waiting."""

from datetime import UTC, date, datetime, timedelta, timezone

CHINA_TZ = timezone(timedelta(hours=8), "CST")


def utcnow() -> datetime:
    """Naive UTC, as stored in the database (SQLite keeps no time zone)."""
    return datetime.now(UTC).replace(tzinfo=None)


def to_china(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC).astimezone(CHINA_TZ)


def china_today() -> date:
    return to_china(utcnow()).date()
