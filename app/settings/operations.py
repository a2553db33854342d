"""Read and record the county's settings; every change is an audit event and a new row, never an update."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from app.areas import below, contains, county_code_of
from app.audit.log import record
from app.clock import china_today
from app.errors import InvalidInput
from app.extensions import db
from app.models import Area, CountySetting, MonitoringLine, User


@dataclass(frozen=True)
class SettingRule:
    """A value the county sets: a whole number within the bounds the national and county rules allow, or one of
    a few named choices."""

    key: str
    label: str
    unit: str
    default: int | str
    minimum: int
    maximum: int
    explanation: str
    choices: tuple[tuple[str, str], ...] = ()

    def label_of(self, value: int | str) -> str:
        return dict(self.choices).get(str(value), str(value)) if self.choices else f"{value} {self.unit}"


# Which procedure new monthly screenings (and the risks they find) follow, while both run during a transition.
PROCEDURES = (("county", "石泉县办法：月度排查 → 评估会议 → 镇认定 → 县审批"),
              ("national", "国家防止返贫动态监测：排查发现的风险户作为风险线索 → 入户核实 → 收支测算 → 认定"))

RULES: dict[str, SettingRule] = {r.key: r for r in (
    SettingRule("screening_procedure", "月度排查适用的程序", "", "county", 0, 0,
                "新启动的月度排查按哪个程序办理；已启动的排查和在办案件按原程序办完。两个程序可以并行过渡。",
                PROCEDURES),
    SettingRule("lead_verification_working_days", "风险线索入户核实时限", "个工作日", 3, 1, 10,
                "线索登记后驻村工作队入户核实、收集承诺授权书的期限；国家要求从发现线索到县级审定不超过 15 日。"),
    SettingRule("elimination_income_months", "风险消除：收入稳定高于监测标准的月数", "个月", 6, 1, 24,
                "申请风险消除时，家庭人均纯收入应已稳定高于当年监测标准的月数。"),
    SettingRule("elimination_monitoring_months", "风险消除：纳入监测的最短时间", "个月", 6, 1, 24,
                "从县级审定纳入监测起，至少监测帮扶多少个月才能申请风险消除。"),
)}

MAX_LINE = Decimal("100000")
FIRST_YEAR = 2020  # the monitoring mechanism began with 国开发〔2020〕6号


def _rule(key: str) -> SettingRule:
    try:
        return RULES[key]
    except KeyError:
        raise InvalidInput(f"没有名为 {key} 的设置项") from None


def _county(code: str) -> str:
    """The county whose settings apply to an area's code (a village, a town, the county)."""
    county = county_code_of(code)
    if county is None:
        raise InvalidInput("设置按县记录：请选择一个县")
    return county


def _recorded(key: str, on: date | None, area_code: str) -> str | None:
    """The value in force in the area's county on the day (default today): the last recorded among those
    effective by then."""
    day = on or china_today()
    # The latest decision wins from its day on: a value recorded later replaces an earlier one, even one
    # recorded for a later day (a correction cancels what it corrects).
    return db.session.scalar(
        select(CountySetting.value).where(CountySetting.county_code == _county(area_code), CountySetting.key == key,
                                          CountySetting.effective_from <= day)
        .order_by(CountySetting.id.desc()).limit(1))


def setting_value(key: str, on: date | None = None, *, area_code: str) -> int:
    """A whole-number setting in force on the day in the county of an area (a village's, a town's or the county's
    own code)."""
    rule = _rule(key)
    value = _recorded(key, on, area_code)
    return int(value) if value is not None else int(rule.default)


def setting_choice(key: str, on: date | None = None, *, area_code: str) -> str:
    """A choice setting in force on the day in the county of an area."""
    rule = _rule(key)
    value = _recorded(key, on, area_code)
    return value if value is not None else str(rule.default)


def current_value(rule: SettingRule, on: date | None = None, *, area_code: str) -> int | str:
    return (setting_choice(rule.key, on, area_code=area_code) if rule.choices
            else setting_value(rule.key, on, area_code=area_code))


def setting_history(key: str, *, area_code: str) -> list[CountySetting]:
    _rule(key)
    return list(db.session.scalars(select(CountySetting)
                                   .where(CountySetting.county_code == _county(area_code), CountySetting.key == key)
                                   .order_by(CountySetting.effective_from.desc(), CountySetting.id.desc())))


def record_setting(key: str, raw_value: str, effective_from: date, source_document: str, note: str,
                   actor: User) -> CountySetting:
    """A new value from a day on, for the actor's county. Refused: a value outside the rule's bounds, a day
    already past (what was done under the old value stays as it was), no document."""
    rule = _rule(key)
    county_code = _county(actor.area_code)
    errors: dict[str, list[str]] = {}
    text = (raw_value or "").strip()
    if rule.choices:
        if text not in dict(rule.choices):
            errors["value"] = [f"请选择{rule.label}"]
    elif not (text.isascii() and text.isdigit()) or not rule.minimum <= int(text) <= rule.maximum:
        errors["value"] = [f"{rule.label}应为 {rule.minimum} 到 {rule.maximum} 之间的整数（{rule.unit}）"]
    if effective_from < china_today():
        errors["effective_from"] = ["生效日期不能早于今天：已办理的事项按当时的设置计算"]
    source_document = (source_document or "").strip()
    if not source_document:
        errors["source_document"] = ["请填写设置依据（文件名称和文号）"]
    if errors:
        raise InvalidInput("设置未保存，请按提示修改", errors)
    value = text if rule.choices else str(int(text))
    row = CountySetting(county_code=county_code, key=key, value=value, effective_from=effective_from,
                        source_document=source_document[:255], note=(note or "").strip(), recorded_by_id=actor.id)
    db.session.add(row)
    record("setting_changed", actor, f"{rule.label}设为“{rule.label_of(value)}”，{effective_from} 起执行",
           {"county_code": county_code, "key": key, "value": value, "effective_from": effective_from.isoformat(),
            "source_document": row.source_document})
    db.session.flush()
    return row


# ---- 监测范围 -----------------------------------------------------------------------------------------------

def line_for(year: int, village_code: str) -> MonitoringLine | None:
    """The year's line for a village: the most specific region that covers it (its town, else the county), the
    row recorded last for that region."""
    regions = [village_code[:9], village_code[:6]]
    rows = db.session.scalars(select(MonitoringLine).where(MonitoringLine.year == year,
                                                           MonitoringLine.region_code.in_(regions))
                              .order_by(MonitoringLine.id.desc())).all()
    for region in regions:
        for row in rows:
            if row.region_code == region:
                return row
    return None


def line_history(*, area_code: str) -> list[MonitoringLine]:
    """The lines recorded for the area's county and its towns."""
    return list(db.session.scalars(select(MonitoringLine)
                                   .where(below(MonitoringLine.region_code, _county(area_code)))
                                   .order_by(MonitoringLine.year.desc(),
                                                                   MonitoringLine.region_code,
                                                                   MonitoringLine.id.desc())))


def record_line(year_text: str, region_code: str, amount_text: str, source_document: str, note: str,
                actor: User) -> MonitoringLine:
    errors: dict[str, list[str]] = {}
    year = int(year_text) if (year_text or "").strip().isdigit() else 0
    if not FIRST_YEAR <= year <= china_today().year + 1:
        errors["year"] = [f"年度应在 {FIRST_YEAR} 到 {china_today().year + 1} 之间"]
    region = db.session.get(Area, (region_code or "").strip())
    if region is None or region.level not in ("county", "town") or not contains(_county(actor.area_code),
                                                                                   region.code):
        errors["region_code"] = ["适用范围应为本县或本县的一个镇"]
    try:
        amount = Decimal((amount_text or "").strip().replace(",", ""))
        if not (amount.is_finite() and Decimal(0) < amount < MAX_LINE) or amount != amount.quantize(Decimal("0.01")):
            raise InvalidOperation
    except InvalidOperation:
        errors["amount"] = ["监测标准应为大于 0、小于 100000 的金额（元/人·年，最多两位小数）"]
    source_document = (source_document or "").strip()
    if not source_document:
        errors["source_document"] = ["请填写确定监测标准的文件（名称和文号）"]
    if errors:
        raise InvalidInput("监测标准未保存，请按提示修改", errors)
    assert region is not None
    row = MonitoringLine(year=year, region_code=region.code, amount=amount, source_document=source_document[:255],
                         note=(note or "").strip(), recorded_by_id=actor.id)
    db.session.add(row)
    record("monitoring_line_set", actor, f"{year} 年监测标准（{region.name}）：{amount} 元/人·年",
           {"year": year, "region_code": region.code, "amount": str(amount), "source_document": row.source_document})
    db.session.flush()
    return row
