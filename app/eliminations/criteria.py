"""风险消除 criteria, as national practice words them: income, after eligible out-of-pocket spending (large rigid
costs of illness and schooling), stably above the year's line for the county's number of months; under monitoring
for the county's number of months; at least one measure carried out; the original risk gone; 两不愁三保障 and
drinking water secured; no new risk; and a household with no member able to work of working age is not marked as
eliminated once the safety net holds it, but stays under monitoring. Pure functions: the form and the records call
them alike."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from app.households.idnumber import birth_date
from app.vocab import GUARANTEE_ITEMS

# 劳动年龄人口: 16 to 59 years of age (the statistics' definition, which the monitoring system uses).
WORKING_AGE = (16, 60)

LABELS: dict[str, str] = {
    "income_above_line": "收入稳定高于当年监测标准",
    "income_months": "收入稳定高于监测标准的月数",
    "monitoring_months": "纳入监测的时间",
    "measure_done": "至少落实一项帮扶措施",
    "original_risk": "原有致贫返贫风险已消除",
    "guarantees": "两不愁三保障及饮水安全有保障",
    "no_new_risk": "未出现新的返贫致贫风险",
    "labour": "家中有劳动能力的劳动年龄人口",
}


@dataclass(frozen=True)
class Criterion:
    key: str
    met: bool
    detail: str

    @property
    def label(self) -> str:
        return LABELS[self.key]

    @property
    def message(self) -> str:
        """How a refusal names it: the criterion, then why it is not met."""
        return f"不符合“{self.label}”：{self.detail}"

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "label": self.label}


def age_on(id_number: str, day: date) -> int | None:
    try:
        born = birth_date(id_number)
    except ValueError:
        return None
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def of_working_age(id_number: str, day: date) -> bool:
    age = age_on(id_number, day)
    return age is not None and WORKING_AGE[0] <= age < WORKING_AGE[1]


def full_months(start: date, end: date) -> int:
    """Whole months from `start` to `end` (2026-01-31 → 2026-02-28 is 0, → 2026-03-01 is 1)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    return months - 1 if end.day < start.day else months


def monitoring_criterion(identified_on: date | None, today: date, required: int,
                         reverted_on: date | None = None) -> Criterion:
    """Months under monitoring: since identification, or since the last reversal of an elimination."""
    if identified_on is None:
        return Criterion("monitoring_months", False, "尚未经县级审定纳入监测")
    since, what = (reverted_on, "回退风险消除后继续监测") if reverted_on else (identified_on, "纳入监测")
    months = full_months(since, today)
    return Criterion("monitoring_months", months >= required,
                     f"{since.isoformat()} {what}，至今 {months} 个月（应满 {required} 个月）")


def measure_criterion(done: int, planned: int, reverted_on: date | None = None) -> Criterion:
    """At least one measure carried out (since the last reversal, if the elimination was reverted)."""
    since = f"回退后（{reverted_on.isoformat()} 起）" if reverted_on else ""
    return Criterion("measure_done", done >= 1, f"{since}已落实 {done} 项，共 {planned} 项")


def original_risk_criterion(resolved: bool) -> Criterion:
    return Criterion("original_risk", resolved, "已消除" if resolved else "原有风险尚未消除")


def income_criteria(per_capita_after_spending: Decimal, line: Decimal | None, year: int, months_above: int,
                    months_required: int) -> list[Criterion]:
    """The income that counts is what is left after eligible out-of-pocket spending: a household above the line
    whose medical or schooling costs take it below (突发严重困难户) has not left its risk behind."""
    if line is None:
        above = Criterion("income_above_line", False, f"{year} 年的监测标准尚未登记，无法比较")
    else:
        above = Criterion("income_above_line", per_capita_after_spending > line,
                          f"扣除合规自付支出后人均纯收入 {per_capita_after_spending} 元，{year} 年监测标准 {line} 元")
    months = Criterion("income_months", months_above >= months_required,
                       f"已稳定高于监测标准 {months_above} 个月（应满 {months_required} 个月）")
    return [above, months]


def guarantee_criterion(gaps: list[str]) -> Criterion:
    if not gaps:
        return Criterion("guarantees", True, "均有保障")
    return Criterion("guarantees", False, "、".join(GUARANTEE_ITEMS.get(g, g) for g in gaps) + "存在问题")


def new_risk_criterion(new_risk: bool) -> Criterion:
    return Criterion("no_new_risk", not new_risk, "出现了新的风险" if new_risk else "未出现")


def labour_criterion(working_age: list[int], unable: list[int]) -> Criterion:
    able = [member for member in working_age if member not in set(unable)]
    if able:
        return Criterion("labour", True, f"{len(able)} 人")
    return Criterion("labour", False, "家中没有有劳动能力的劳动年龄人口，落实兜底保障后继续监测，不标注风险消除")
