"""The town and village scoreboard: how each unit of the user's area is doing this month.

Every figure is a GROUP BY over the relational rows (cases, ready tasks, screenings, households, measures,
events), one query per figure for all units at once; only the approvals of the chosen month are read row by
row, to take their median in Python the same way on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from statistics import median
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select, true

from app.access import in_area, scope_of, works_an_area
from app.areas import CODE_LENGTHS, LEVEL_NAMES, below, child_level, county_code_of, in_towns_below, level_of
from app.clock import CHINA_TZ, to_china
from app.errors import InvalidInput, PermissionDenied
from app.extensions import db
from app.models import Area, Case, Measure, ReadyTask, RiskLead, Screening, User
from app.reports.scope import ReportMonth
from app.vocab import OPEN_CASE_STATUSES

TREND_MONTHS = 12
SCREENED = ("assessing", "completed")  # the village has checked its households (排查 done)


# ---- whose area a page covers ------------------------------------------------------------------------------

@dataclass(frozen=True)
class SupervisionScope:
    """The part of the deployment a supervision page covers: a province, a city, a county, one town or one
    village. Its rows are the units one level down (a city's counties side by side, a county's towns, a town's
    villages), each a link one level further down."""

    area: Area
    towns: tuple[Area, ...] = ()  # the towns of the county a county-level user may narrow to
    home_code: str = ""  # the user's own area: the page they land on

    @property
    def code(self) -> str:
        return self.area.code

    @property
    def level(self) -> str:
        return self.area.level

    @property
    def row_level(self) -> str:
        """Rows are a level down: counties for a city, towns for a county, villages for a town; the village itself
        for a village."""
        return child_level(self.level) or "village"

    @property
    def row_label(self) -> str:
        return LEVEL_NAMES[self.row_level]

    @property
    def drills_down(self) -> bool:
        """Whether each row links to its own page (every level above the village's rows)."""
        return self.row_level != "village"

    @property
    def town_code(self) -> str:
        """The chosen town, for the filter ('' above the town)."""
        return self.code[:9] if self.level in ("town", "village") else ""

    @property
    def county_choice(self) -> str:
        """What "the whole county" means in the town filter: the user's own area for a county's user, the county
        itself for a city's or province's supervisor looking at one."""
        county = county_code_of(self.code)
        return "" if county is None or county == self.home_code else county

    @property
    def link_code(self) -> str:
        """The area to carry in links to the other tabs ('' for the user's own area)."""
        return "" if self.code == self.home_code else self.code

    def where(self, village_col: Any, town_col: Any) -> ColumnElement[bool]:
        if self.area.parent_code is None:  # the whole deployment: no condition, so each figure uses its own index
            return true()
        if self.level == "village":
            return village_col == self.code  # type: ignore[no-any-return]
        if self.level == "town":
            return town_col == self.code  # type: ignore[no-any-return]
        return in_towns_below(town_col, self.code)

    def unit_of(self, village_col: Any, town_col: Any) -> Any:
        """The column (or the leading part of one) that names a row's unit."""
        if self.row_level == "village":
            return village_col
        if self.row_level == "town":
            return town_col
        return func.substr(town_col, 1, CODE_LENGTHS[self.row_level])

    def units(self) -> list[Area]:
        if self.level == "village":
            return [self.area]
        return list(db.session.scalars(select(Area).where(Area.parent_code == self.code, Area.level == self.row_level)
                                       .order_by(Area.code)))


def resolve_supervision_scope(user: User, code: str | None) -> SupervisionScope:
    """The user's own area, or an area below it: a county of a city's or province's supervisor, a town of a
    county. Anything else is refused."""
    if not works_an_area(user):
        raise PermissionDenied("包抓干部不能查看督查考核页面")
    code = (code or "").strip()
    level = level_of(code)
    if code and level not in ("city", "county", "town"):
        raise InvalidInput(f"区划代码 {code} 无效：应为辖区内的市、县或 9 位镇代码")
    area = db.session.get(Area, code or user.area_code)
    if area is None:
        raise InvalidInput(f"没有代码为 {code or user.area_code} 的{LEVEL_NAMES.get(level or '', '地区')}")
    if code and not in_area(user, code):
        raise PermissionDenied("只能查看本辖区的督查考核数据")
    towns: tuple[Area, ...] = ()
    county_code = county_code_of(area.code)
    if scope_of(user) == "county" and county_code is not None:
        towns = tuple(db.session.scalars(select(Area).where(Area.parent_code == county_code, Area.level == "town")
                                         .order_by(Area.code)))
    return SupervisionScope(area, towns, user.area_code)


# ---- time boundaries ---------------------------------------------------------------------------------------

def utc_midnight(day: date) -> datetime:
    """Midnight of a China date, as the naive UTC the tables store."""
    return datetime.combine(day, time(), CHINA_TZ).astimezone(UTC).replace(tzinfo=None)


def china_date(moment: datetime) -> date:
    return to_china(moment).date()


def months_back(month: ReportMonth, count: int) -> list[ReportMonth]:
    """`count` months ending with `month`, oldest first."""
    index = month.year * 12 + month.month - 1 - (count - 1)
    return [ReportMonth((index + i) // 12, (index + i) % 12 + 1) for i in range(count)]


# ---- approvals: discovery to county approval ---------------------------------------------------------------

def first_approvals(start: datetime, end: datetime, area: ColumnElement[bool] | None = None) -> Any:
    """(case id, approved at) of cases whose first county approval (县办审批) falls in [start, end), in `area` (a
    condition on the case). The day is kept on the case when the county approves (app.cases.operations), so a
    county's period is read off its towns' entries of the town-and-approval index: the cost follows the county's
    approvals of the period, not the history nor the other counties'."""
    return (select(Case.id.label("case_id"), Case.approved_at.label("approved_at"))
            .where(approved_between(start, end), true() if area is None else area)
            .subquery())


def approved_between(start: datetime, end: datetime) -> ColumnElement[bool]:
    """The case's first county approval falls in [start, end)."""
    return and_(Case.approved_at >= start, Case.approved_at < end)


# ---- the scoreboard ----------------------------------------------------------------------------------------

@dataclass
class ScoreRow:
    code: str
    name: str
    open_cases: int = 0
    overdue_tasks: int = 0
    villages_total: int = 0
    villages_screened: int = 0
    villages_assessed: int = 0
    households_registered: int = 0
    households_checked: int = 0
    households_with_reason: int = 0  # not checked this month, with the reason recorded
    approval_days: list[int] = field(default_factory=list)
    measures_due: int = 0
    measures_on_time: int = 0
    limit_days: int = 15
    # The national mechanism: the month's leads by channel, the households identified in the month (days from the
    # risk's discovery to the county's decision), those under monitoring now by category, the month's eliminations.
    leads_by_channel: dict[str, int] = field(default_factory=dict)
    identification_days: list[int] = field(default_factory=list)
    monitored_by_category: dict[str, int] = field(default_factory=dict)
    eliminated: int = 0

    @property
    def identified(self) -> int:
        return len(self.identification_days)

    @property
    def identified_within_limit(self) -> int:
        return sum(1 for d in self.identification_days if d <= self.limit_days)

    @property
    def identified_within_limit_pct(self) -> float | None:
        return _pct(self.identified_within_limit, self.identified)

    @property
    def monitored(self) -> int:
        return sum(self.monitored_by_category.values())

    @property
    def approvals(self) -> int:
        return len(self.approval_days)

    @property
    def median_days(self) -> float | None:
        return median(self.approval_days) if self.approval_days else None

    @property
    def within_limit(self) -> int:
        return sum(1 for d in self.approval_days if d <= self.limit_days)

    @property
    def within_limit_pct(self) -> float | None:
        return _pct(self.within_limit, self.approvals)

    @property
    def village_coverage_pct(self) -> float | None:
        return _pct(self.villages_screened, self.villages_total)

    @property
    def household_coverage_pct(self) -> float | None:
        return _pct(self.households_checked, self.households_registered)

    @property
    def on_time_pct(self) -> float | None:
        return _pct(self.measures_on_time, self.measures_due)


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


@dataclass(frozen=True)
class MonthCount:
    month: ReportMonth
    opened: int
    closed: int


@dataclass(frozen=True)
class Scoreboard:
    scope: SupervisionScope
    month: ReportMonth
    today: date
    rows: list[ScoreRow]
    total: ScoreRow
    trend: list[MonthCount]

    def chart_data(self) -> dict[str, Any]:
        """What charts.js draws; the tables carry the same figures for readers without JavaScript."""
        return {
            "trend": {"months": [m.month.key for m in self.trend], "opened": [m.opened for m in self.trend],
                      "closed": [m.closed for m in self.trend]},
            "compare": {"units": [r.name for r in self.rows],
                        "open_cases": [r.open_cases for r in self.rows],
                        "overdue_tasks": [r.overdue_tasks for r in self.rows],
                        "village_coverage": [r.village_coverage_pct for r in self.rows],
                        "on_time": [r.on_time_pct for r in self.rows]},
        }


def build_scoreboard(scope: SupervisionScope, month: ReportMonth, today: date,
                     certification_days: int = 15) -> Scoreboard:
    rows = {a.code: ScoreRow(a.code, a.name, limit_days=certification_days) for a in scope.units()}

    def add(attribute: str, stmt: Any) -> None:
        for code, value in db.session.execute(stmt):
            if code in rows:
                setattr(rows[code], attribute, getattr(rows[code], attribute) + int(value or 0))

    unit = scope.unit_of(Case.village_code, Case.town_code)
    add("open_cases", select(unit, func.count()).where(Case.status.in_(OPEN_CASE_STATUSES),
                                                        scope.where(Case.village_code, Case.town_code))
        .group_by(unit))

    unit = scope.unit_of(ReadyTask.village_code, ReadyTask.town_code)
    add("overdue_tasks", select(unit, func.count()).where(ReadyTask.due_on < today,
                                                          scope.where(ReadyTask.village_code, ReadyTask.town_code))
        .group_by(unit))

    village_unit = (Area.code if scope.row_level == "village" else Area.parent_code if scope.row_level == "town"
                    else func.substr(Area.code, 1, CODE_LENGTHS[scope.row_level]))
    village_area = (Area.code == scope.code) if scope.level == "village" else below(Area.code, scope.code)
    # The villages' own counts of registered households (app.households.registered), not a count of households:
    # a province's overview would read every household of the deployment.
    for code, villages, households in db.session.execute(
            select(village_unit, func.count(), func.sum(Area.registered_households))
            .where(Area.level == "village", village_area).group_by(village_unit)):
        if code in rows:
            rows[code].villages_total += int(villages)
            rows[code].households_registered += int(households or 0)

    unit = scope.unit_of(Screening.village_code, Screening.town_code)
    screening_stmt = (
        select(unit,
               func.sum(case((Screening.status.in_(SCREENED), 1), else_=0)),
               func.sum(case((Screening.status == "completed", 1), else_=0)),
               func.sum(func.coalesce(Screening.households_checked, 0)),
               func.sum(Screening.households_not_checked))
        .where(Screening.month == month.key, scope.where(Screening.village_code, Screening.town_code))
        .group_by(unit))
    # Households checked are the month's check records (visited within the month) and those not checked with a
    # reason, as each village's screening keeps them counted (app.screenings.checks.refresh_counts).
    for code, screened, assessed, checked, with_reason in db.session.execute(screening_stmt):
        if code in rows:
            rows[code].villages_screened = int(screened or 0)
            rows[code].villages_assessed = int(assessed or 0)
            rows[code].households_checked = int(checked or 0)
            rows[code].households_with_reason = int(with_reason or 0)

    approvals = first_approvals(utc_midnight(month.first_day), utc_midnight(month.next_first_day),
                                scope.where(Case.village_code, Case.town_code))
    unit = scope.unit_of(Case.village_code, Case.town_code)
    for code, opened_at, approved_at in db.session.execute(
            select(unit, Case.opened_at, approvals.c.approved_at).join(approvals, approvals.c.case_id == Case.id)
            .where(scope.where(Case.village_code, Case.town_code))):
        if code in rows:
            rows[code].approval_days.append((china_date(approved_at) - china_date(opened_at)).days)

    # Measures belong to the month of their deadline; they count once the deadline has passed or they are done.
    last_due = min(today, month.next_first_day)
    measures_stmt = (
        select(unit,
               func.count(),
               func.sum(case((and_(Measure.status == "done", Measure.completed_on <= Measure.deadline), 1),
                             else_=0)))
        .join(Case, Case.id == Measure.case_id)
        .where(Measure.deadline >= month.first_day, Measure.deadline < month.next_first_day,
               (Measure.deadline < last_due) | (Measure.status == "done"), Case.status != "rejected",
               ~Measure.first_aid,  # given at once on the fast path: no deadline to keep
               scope.where(Case.village_code, Case.town_code))
        .group_by(unit))
    for code, due, on_time in db.session.execute(measures_stmt):
        if code in rows:
            rows[code].measures_due = int(due or 0)
            rows[code].measures_on_time = int(on_time or 0)

    _national_figures(rows, scope, month)

    ordered = list(rows.values())
    total = ScoreRow(scope.code, "合计", limit_days=certification_days)
    for row in ordered:
        for attribute in ("open_cases", "overdue_tasks", "villages_total", "villages_screened", "villages_assessed",
                          "households_registered", "households_checked", "households_with_reason", "measures_due",
                          "measures_on_time"):
            setattr(total, attribute, getattr(total, attribute) + getattr(row, attribute))
        total.approval_days.extend(row.approval_days)
        total.identification_days.extend(row.identification_days)
        total.eliminated += row.eliminated
        for totals, counts in ((total.leads_by_channel, row.leads_by_channel),
                               (total.monitored_by_category, row.monitored_by_category)):
            for key, value in counts.items():
                totals[key] = totals.get(key, 0) + value
    return Scoreboard(scope, month, today, ordered, total, case_trend(scope, month))


def _national_figures(rows: dict[str, ScoreRow], scope: SupervisionScope, month: ReportMonth) -> None:
    """The national mechanism's figures per unit: GROUP BYs over the leads and the national cases."""
    first, after = month.first_day, month.next_first_day
    unit = scope.unit_of(RiskLead.village_code, RiskLead.town_code)
    for code, channel, count in db.session.execute(
            select(unit, RiskLead.channel, func.count())
            .where(RiskLead.discovered_on >= first, RiskLead.discovered_on < after, RiskLead.status != "merged",
                   scope.where(RiskLead.village_code, RiskLead.town_code))
            .group_by(unit, RiskLead.channel)):
        if code in rows:
            rows[code].leads_by_channel[channel] = int(count)
    unit = scope.unit_of(Case.village_code, Case.town_code)
    national = and_(Case.procedure == "national", scope.where(Case.village_code, Case.town_code))
    for code, discovered_on, identified_on in db.session.execute(
            select(unit, Case.discovered_on, Case.identified_on)
            .where(national, Case.identified_on >= first, Case.identified_on < after, Case.status != "rejected")):
        if code in rows and discovered_on is not None:
            rows[code].identification_days.append((identified_on - discovered_on).days)
    for code, category, count in db.session.execute(
            select(unit, Case.category, func.count())
            .where(national, Case.identified_on.is_not(None), Case.status.in_(OPEN_CASE_STATUSES))
            .group_by(unit, Case.category)):
        if code in rows and category:
            rows[code].monitored_by_category[category] = int(count)
    for code, count in db.session.execute(
            select(unit, func.count())
            .where(national, Case.status == "eliminated", Case.eliminated_on >= first, Case.eliminated_on < after)
            .group_by(unit)):
        if code in rows:
            rows[code].eliminated = int(count)


def case_trend(scope: SupervisionScope, month: ReportMonth) -> list[MonthCount]:
    """New and closed (销号) cases in each of the last months, with China-time boundaries: one statement of a
    count per month and kind, each a range of the opened-at or the closed-at-and-status index (so no row is read
    and no per-row arithmetic is done), which reads the same on SQLite and PostgreSQL."""
    months = months_back(month, TREND_MONTHS)
    bounds = [(utc_midnight(m.first_day), utc_midnight(m.next_first_day)) for m in months]
    area = scope.where(Case.village_code, Case.town_code)

    def count(*where: Any) -> Any:
        return select(func.count()).select_from(Case).where(*where, area).scalar_subquery()

    opened = [count(Case.opened_at >= start, Case.opened_at < end) for start, end in bounds]
    closed = [count(Case.closed_at >= start, Case.closed_at < end, Case.status == "closed") for start, end in bounds]
    values = db.session.execute(select(*opened, *closed)).one()
    size = len(months)
    return [MonthCount(m, int(values[i] or 0), int(values[size + i] or 0)) for i, m in enumerate(months)]
