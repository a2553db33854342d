"""Due dates of tasks: the time limit a diagram gives a user task (working days), capped by the rulebook's
own deadlines (screening within the month, discovery to county approval within 15 days, each measure by its
完成时限). Stored on the ready-task row when the task becomes ready, so lists filter and sort in SQL."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

from app.deadlines.calendar import add_working_days

TIME_LIMIT_PROPERTY = "time_limit_days"


def time_limit_days(properties: Mapping[str, str]) -> int | None:
    """The diagram's time limit; None when absent. Diagram checks refuse values that are not 1–365."""
    value = (properties.get(TIME_LIMIT_PROPERTY) or "").strip()
    if not value:
        return None
    try:
        days = int(value)
    except ValueError:
        return None
    return days if 0 < days <= 365 else None


def time_limit_problem(value: str) -> str | None:
    """For diagram validation: the Chinese reason a time limit is unusable, or None."""
    try:
        days = int(value.strip())
    except ValueError:
        return f"办理时限“{value}”应为工作日天数（整数）"
    if not 0 < days <= 365:
        return f"办理时限 {days} 应在 1 到 365 个工作日之间"
    return None


def due_on(ready_on: date, properties: Mapping[str, str], cap: date | None = None) -> date | None:
    """The day by which the task is due: `limit` working days after it became ready, never later than `cap`."""
    limit = time_limit_days(properties)
    candidates = [d for d in (add_working_days(ready_on, limit) if limit else None, cap) if d is not None]
    return min(candidates) if candidates else None


def month_end(month_key: str) -> date:
    """The last day of a YYYY-MM month: monthly screening and assessment are due by then."""
    year, month = (int(part) for part in month_key.split("-"))
    first_of_next = date(year + month // 12, month % 12 + 1, 1)
    return first_of_next - timedelta(days=1)


def days_overdue(due: date | None, today: date) -> int:
    return max((today - due).days, 0) if due else 0
