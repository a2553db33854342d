"""Warning rules (预警规则): which row of a department's list makes a household a risk lead. A rule tests one field
of the list against a threshold the county sets, and names the risk type a lead will carry (the county's six and the
national code). The county office changes a rule by recording a new version (rows are only added); the version in
force on a day is the last recorded among those effective by then, and a rule no version was recorded for is the
starting rule below."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select

from app.access import can_change_warning_rules
from app.areas import COUNTY_LENGTH
from app.audit.log import record
from app.clock import china_today
from app.departments.catalogue import AMOUNT, DAY, DEPARTMENTS, TEXT
from app.eliminations.criteria import full_months
from app.errors import InvalidInput, PermissionDenied
from app.extensions import db
from app.leads.vocab import NATIONAL_RISK_TYPES
from app.models import User, WarningRule
from app.vocab import RISK_TYPES

# How a rule tests its field, with the kind of field each applies to and what its threshold is.
OPERATORS: dict[str, tuple[str, str, str]] = {
    "year_total_at_least": ("全年累计不低于", AMOUNT, "金额（元），本年度各月名单累计"),
    "share_at_least": ("全年累计占家庭年纯收入不低于", AMOUNT, "百分比（%），按该户最近一次收支测算的年纯收入"),
    "one_of": ("为下列之一", TEXT, "用逗号分隔的取值，表格中含有其中之一即符合"),
    "months_since_at_least": ("距名单所属月末不少于", DAY, "月数"),
    "within_month": ("在名单所属月份内", DAY, "（无需填写）"),
}


@dataclass(frozen=True)
class Rule:
    key: str
    department: str
    label: str
    field: str
    operator: str
    threshold: str
    risk_type: str
    national_risk_type: str
    urgent: bool = False
    active: bool = True
    effective_from: date | None = None  # None: the starting rule, never changed
    source_document: str = ""
    recorded_at: Any = None

    @property
    def is_default(self) -> bool:
        return self.effective_from is None

    def describe(self) -> str:
        department = DEPARTMENTS[self.department]
        field = department.field(self.field)
        name, _kind, _what = OPERATORS[self.operator]
        threshold = f" {self.threshold}" if self.threshold else ""
        unit = {"year_total_at_least": " 元", "share_at_least": "%", "months_since_at_least": " 个月"}.get(
            self.operator, "")
        return f"{field.label if field else self.field}{name}{threshold}{unit}"


DEFAULT_RULES: tuple[Rule, ...] = (
    Rule("yibao_out_of_pocket_year", "yibao", "年度个人自付医疗费用较高", "out_of_pocket", "year_total_at_least",
         "10000", "major_illness", "illness"),
    Rule("yibao_out_of_pocket_share", "yibao", "个人自付医疗费用占家庭收入比重大", "out_of_pocket", "share_at_least",
         "50", "major_illness", "illness"),
    Rule("minzheng_assistance_change", "minzheng", "低保、特困新增、退出或停发", "change", "one_of",
         "新增,退出,停发", "other", "other"),
    Rule("yingji_house_damaged", "yingji", "自然灾害致房屋倒塌或严重损坏", "damage", "one_of", "倒塌,严重损坏",
         "natural_disaster", "disaster", urgent=True),
    Rule("renshe_unemployed", "renshe", "失业 3 个月仍未就业（办法二（五））", "unemployed_since",
         "months_since_at_least", "3", "unstable_employment", "employment"),
    Rule("canlian_newly_disabled", "canlian", "新办残疾人证", "certified_on", "within_month", "", "other",
         "disability"),
    Rule("jiaoyu_dropout", "jiaoyu", "义务教育阶段辍学或休学", "status", "one_of", "辍学,休学", "other", "schooling"),
    Rule("zhujian_unsafe_house", "zhujian", "住房鉴定为 C 级或 D 级危房", "appraisal", "one_of", "C级,D级", "other",
         "other"),
)
_DEFAULTS = {rule.key: rule for rule in DEFAULT_RULES}
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{2,47}$")
ON = ("1", "on", "true")  # a ticked box


def _from_row(row: WarningRule) -> Rule:
    return Rule(row.key, row.department, row.label, row.field, row.operator, row.threshold, row.risk_type,
                row.national_risk_type, row.urgent, row.active, row.effective_from, row.source_document,
                row.recorded_at)


def rules_in_force(county_code: str, department: str | None = None, on: date | None = None,
                   active_only: bool = True) -> list[Rule]:
    """Every rule of the county as it stands on the day (default today): the last version its county office
    recorded among those effective by then, or the starting rule. Of one department, when given."""
    day = on or china_today()
    stmt = (select(WarningRule).where(WarningRule.county_code == county_code, WarningRule.effective_from <= day)
            .order_by(WarningRule.id))
    if department:
        stmt = stmt.where(WarningRule.department == department)
    latest: dict[str, Rule] = {}
    for row in db.session.scalars(stmt):
        latest[row.key] = _from_row(row)  # later rows replace earlier ones
    rules = [latest.get(rule.key, rule) for rule in DEFAULT_RULES if not department or rule.department == department]
    rules += [rule for key, rule in latest.items() if key not in _DEFAULTS]
    return [r for r in rules if r.active or not active_only]


def rule_history(key: str, county_code: str) -> list[WarningRule]:
    return list(db.session.scalars(select(WarningRule).where(WarningRule.county_code == county_code,
                                                             WarningRule.key == key)
                                   .order_by(WarningRule.id.desc())))


def _threshold_problem(operator: str, threshold: str) -> str | None:
    if operator in ("year_total_at_least", "share_at_least", "months_since_at_least"):
        try:
            value = Decimal(threshold)
        except InvalidOperation:
            return "请填写数字"
        if not value.is_finite() or value <= 0:
            return "应为大于 0 的数"
        if operator == "share_at_least" and value > 100:
            return "百分比不能超过 100"
        if operator == "months_since_at_least" and (value != value.to_integral() or value > 120):
            return "应为 1 到 120 之间的整数（月）"
        if value > Decimal("10000000"):
            return "数额过大"
    elif operator == "one_of":
        values = [v for v in re.split(r"[,，、;；\s]+", threshold) if v]
        if not values or any(len(v) > 32 for v in values):
            return "请填写一个或多个取值，用逗号分隔（每个不超过 32 字）"
    return None


def record_rule(actor: User, key: str, form: dict[str, str]) -> WarningRule:
    """A new version of rule `key` (a new rule when no rule has that key), from the county office, effective from
    the day given (not in the past). Refused input records nothing."""
    if not can_change_warning_rules(actor):
        raise PermissionDenied("预警规则由县办设定")
    county_code = actor.area_code[:COUNTY_LENGTH]  # the county office's own county
    current = next((r for r in rules_in_force(county_code, active_only=False) if r.key == key), None)
    errors: dict[str, list[str]] = {}
    if current is None and not KEY_RE.match(key):
        errors["key"] = ["规则编号应为 3–48 位小写字母、数字或下划线，以字母开头"]
    department = current.department if current else form.get("department", "")
    if department not in DEPARTMENTS:
        errors["department"] = ["请选择部门"]
    field_key = current.field if current else form.get("field", "")
    operator = current.operator if current else form.get("operator", "")
    field = DEPARTMENTS[department].field(field_key) if department in DEPARTMENTS else None
    if field is None:
        errors["field"] = ["请选择该部门名单中的一项"]
    if operator not in OPERATORS:
        errors["operator"] = ["请选择判断方式"]
    elif field is not None and OPERATORS[operator][1] != field.kind:
        errors["operator"] = [f"“{field.label}”不能用“{OPERATORS[operator][0]}”判断"]
    threshold = " ".join((form.get("threshold") or "").split())
    if operator in OPERATORS and (problem := _threshold_problem(operator, threshold)):
        errors["threshold"] = [problem]
    label = " ".join((form.get("label") or (current.label if current else "")).split())
    if not 2 <= len(label) <= 128:
        errors["label"] = ["请填写规则名称（2 到 128 个字）"]
    risk_type, national = form.get("risk_type", ""), form.get("national_risk_type", "")
    if risk_type not in RISK_TYPES:
        errors["risk_type"] = ["请选择风险类型（石泉县六类）"]
    if national not in NATIONAL_RISK_TYPES:
        errors["national_risk_type"] = ["请选择风险类型（全国系统）"]
    try:
        effective_from = date.fromisoformat(form.get("effective_from") or china_today().isoformat())
    except ValueError:
        errors["effective_from"] = ["请填写生效日期（YYYY-MM-DD）"]
        effective_from = china_today()
    if effective_from < china_today():
        errors["effective_from"] = ["生效日期不能早于今天"]
    source = " ".join((form.get("source_document") or "").split())
    if not source or len(source) > 255:
        errors["source_document"] = ["请填写依据（文件名称或会议纪要，不超过 255 字）"]
    if errors:
        raise InvalidInput("预警规则未保存，请按提示修改", errors)
    row = WarningRule(county_code=county_code, key=key, department=department, label=label, field=field_key,
                      operator=operator,
                      threshold=threshold, risk_type=risk_type, national_risk_type=national,
                      urgent=form.get("urgent") in ON, active=form.get("active") in ON,
                      effective_from=effective_from, source_document=source, note=(form.get("note") or "").strip(),
                      recorded_by_id=actor.id)
    db.session.add(row)
    db.session.flush()
    state = "启用" if row.active else "停用"
    record("warning_rule_changed", actor, f"预警规则“{label}”（{state}），{effective_from} 起：{threshold}",
           {"county_code": county_code, "key": key, "rule_id": row.id, "department": department,
            "operator": operator, "threshold": threshold,
            "active": row.active, "effective_from": effective_from.isoformat()})
    return row


# ---- testing a row ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RowFacts:
    """What a rule may weigh beyond the row: the list's month, the person's total of the field over the year (this
    row included) and the household's yearly net income as last assessed (None when never assessed)."""

    month_first: date
    month_last: date
    year_total: Decimal | None = None
    household_income: Decimal | None = None


def met(rule: Rule, values: dict[str, Any], facts: RowFacts) -> str | None:
    """Why the row meets the rule (a short Chinese phrase), or None."""
    value = values.get(rule.field)
    if value is None or value == "":
        return None
    if rule.operator == "year_total_at_least":
        total = facts.year_total if facts.year_total is not None else value
        return f"本年累计 {total} 元" if total >= Decimal(rule.threshold) else None
    if rule.operator == "share_at_least":
        total = facts.year_total if facts.year_total is not None else value
        income = facts.household_income
        if income is None or income <= 0:
            return None
        share = total * 100 / income
        return f"本年累计 {total} 元，占家庭年纯收入 {share:.0f}%" if share >= Decimal(rule.threshold) else None
    if rule.operator == "one_of":
        text = str(value).upper()
        hit = next((v for v in re.split(r"[,，、;；\s]+", rule.threshold) if v and v.upper() in text), None)
        return f"{value}" if hit else None
    if rule.operator == "months_since_at_least" and isinstance(value, date):
        months = full_months(value, facts.month_last)
        return f"{value.isoformat()} 起已 {months} 个月" if months >= int(Decimal(rule.threshold)) else None
    if rule.operator == "within_month" and isinstance(value, date):
        return value.isoformat() if facts.month_first <= value <= facts.month_last else None
    return None


def kinds_needed(rules: list[Rule]) -> set[str]:
    """What the rules need to know beyond the rows: year totals, household incomes."""
    needs = set()
    for rule in rules:
        if rule.operator in ("year_total_at_least", "share_at_least"):
            needs.add("year_total")
        if rule.operator == "share_at_least":
            needs.add("household_income")
    return needs


__all__ = ["DAY", "DEFAULT_RULES", "OPERATORS", "Rule", "RowFacts", "kinds_needed", "met", "record_rule",
           "rule_history", "rules_in_force"]
