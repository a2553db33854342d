"""收支测算: a household's income over the 12 months ending with the month before the assessment, its business
costs and eligible out-of-pocket spending (合规自付支出: medical, schooling), per-capita net income, and where that
stands against the year's monitoring line; the monitoring category it suggests (chosen at identification)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

INCOME_TYPES: dict[str, str] = {
    "wage": "工资性收入",
    "business": "经营性收入",
    "property": "财产性收入",
    "transfer": "转移性收入",
}

MONITORING_CATEGORIES: dict[str, str] = {
    "unstable_lifted": "脱贫不稳定户",
    "marginal": "边缘易致贫户",
    "sudden_hardship": "突发严重困难户",
}

CENT = Decimal("0.01")


def income_window(day: date) -> tuple[date, date]:
    """The 12 months ending with the month before `day`'s: identified in June 2021 → 2020-06-01 to 2021-05-31."""
    return date(day.year - 1, day.month, 1), day.replace(day=1) - timedelta(days=1)


@dataclass(frozen=True)
class IncomeResult:
    total_income: Decimal
    business_costs: Decimal
    eligible_spending: Decimal
    persons: int
    per_capita_net: Decimal  # (income − business costs) / persons
    per_capita_after_spending: Decimal  # the same, less eligible out-of-pocket spending
    line: Decimal | None
    within_line: bool | None  # per-capita net income at or below the line
    proposed_category: str | None


def assess(incomes: list[dict[str, Decimal]], business_costs: Decimal, eligible_spending: Decimal, persons: int,
           line: Decimal | None, household_kind: str) -> IncomeResult:
    total = sum((sum(member.values(), Decimal(0)) for member in incomes), Decimal(0))
    net = total - business_costs
    per_capita = (net / persons).quantize(CENT, ROUND_HALF_UP)
    after = ((net - eligible_spending) / persons).quantize(CENT, ROUND_HALF_UP)
    within = None if line is None else per_capita <= line
    return IncomeResult(total, business_costs, eligible_spending, persons, per_capita, after, line, within,
                        proposed_category(within, household_kind))


def proposed_category(within_line: bool | None, household_kind: str) -> str | None:
    """Within the line: 脱贫不稳定户 for a lifted-out household, 边缘易致贫户 otherwise; above it (the risk being real,
    a shock of spending or income): 突发严重困难户."""
    if within_line is None:
        return None
    if within_line:
        return "unstable_lifted" if household_kind == "lifted" else "marginal"
    return "sudden_hardship"
