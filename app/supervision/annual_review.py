"""The annual review (年度考核) and the accountability lists (追责清单) of the rulebook's section 五(四).

Towns with households certified in the year as having actually returned to or fallen into poverty
(返贫户/新致贫户) may not be rated excellent (不得评优); units and people whose monitoring or assistance work is
overdue or undone are listed for referral (移交县纪委监委). All of it is SQL over the relational rows, grouped
in the database; the lists are bounded by the area's units and open work, not by the length of history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import IO

from sqlalchemy import and_, case, func, literal, null, select, union_all
from sqlalchemy.orm import aliased

from app.areas import below
from app.deadlines.policy import month_end
from app.errors import InvalidInput
from app.excel.tables import DATE, TEXT, ListWorkbook, TableColumn
from app.extensions import db
from app.models import Area, Case, Household, Measure, MeasureProgress, ReadyTask, Screening, User
from app.roles import role_label
from app.supervision.scoreboard import SupervisionScope, approved_between, china_date, utc_midnight
from app.vocab import OPEN_CASE_STATUSES, SCREENING_STATUSES

TOWN_ROLES = ("town_certifier", "town_leadership")
NOT_EXCELLENT = "不得评优"


def parse_year(value: str | None, today: date) -> int:
    text = (value or "").strip()
    if not text:
        return today.year
    if not text.isdigit() or not 2014 <= int(text) <= 2100:
        raise InvalidInput("年度格式应为四位年份，例如 2026")
    return int(text)


# ---- rows -------------------------------------------------------------------------------------------------

@dataclass
class TownReview:
    code: str
    name: str
    level: str  # town, or village for a village team's own view
    returned: int = 0  # 返贫户: lifted households certified as returned to poverty
    new_poverty: int = 0  # 新致贫户: non-poor households certified as fallen into poverty
    at_risk: int = 0  # certified as at risk only

    @property
    def not_excellent(self) -> bool:
        return self.returned + self.new_poverty > 0

    @property
    def verdict(self) -> str:
        if not self.not_excellent:
            return ""
        return NOT_EXCELLENT if self.level == "town" else f"所在镇{NOT_EXCELLENT}"


@dataclass
class CheckCoverage:
    """A unit's household checks over the year's judged months (逐户逐人): counted from the check records."""

    code: str
    name: str
    due: int = 0  # households in scope, summed over the months screened
    checked: int = 0  # visited within their month
    with_reason: int = 0  # not checked, with the reason recorded

    @property
    def unaccounted(self) -> int:
        return max(self.due - self.checked - self.with_reason, 0)

    @property
    def share(self) -> float | None:
        return round(100 * self.checked / self.due, 1) if self.due else None


@dataclass
class DepartmentReview:
    unit: str
    on_time: int = 0
    late: int = 0  # done after the deadline
    overdue_undone: int = 0  # past the deadline, not done, the case still open
    returned_households: int = 0  # returned/new-poverty households certified in the year it had measures for
    # What the department itself recorded in the app (五(二)): measures it completed, progress notes it made.
    completed_by_department: int = 0
    progress_notes: int = 0

    @property
    def lagging(self) -> bool:
        return self.late + self.overdue_undone > 0


@dataclass
class OverdueTaskGroup:
    unit: str
    role: str
    step: str
    people: str
    tasks: int
    earliest_due: date
    days_overdue: int


@dataclass(frozen=True)
class LateScreening:
    month: str
    town: str
    village: str
    state: str
    team: str


@dataclass(frozen=True)
class OverdueMeasure:
    town: str
    village: str
    head_name: str
    head_id_number: str
    content: str
    responsible_unit: str
    deadline: date
    days_overdue: int
    cadre: str
    cadre_unit: str
    case_id: int


@dataclass(frozen=True)
class AnnualReview:
    year: int
    scope: SupervisionScope
    today: date
    towns: list[TownReview]
    departments: list[DepartmentReview]
    overdue_tasks: list[OverdueTaskGroup]
    late_screenings: list[LateScreening]
    overdue_measures: list[OverdueMeasure]
    judged_months: list[str] = field(default_factory=list)
    check_coverage: list[CheckCoverage] = field(default_factory=list)

    @property
    def not_excellent_towns(self) -> list[TownReview]:
        return [t for t in self.towns if t.not_excellent]


# ---- the review -------------------------------------------------------------------------------------------

def build_annual_review(scope: SupervisionScope, year: int, today: date, county_office_name: str) -> AnnualReview:
    first, last = date(year, 1, 1), date(year, 12, 31)
    names = {code: name for code, name in db.session.execute(
        select(Area.code, Area.name).where(below(Area.code, scope.code[:9])))}
    late_screenings, judged = _late_screenings(scope, year, today, names)
    certified = _certified_in_year(scope, first, last)
    return AnnualReview(
        year=year, scope=scope, today=today,
        towns=_towns(scope, certified),
        departments=_departments(scope, first, last, today, certified),
        overdue_tasks=_overdue_tasks(scope, last, today, names, county_office_name),
        late_screenings=late_screenings, judged_months=judged,
        overdue_measures=_overdue_measures(scope, last, today),
        check_coverage=_check_coverage(scope, judged),
    )


def _check_coverage(scope: SupervisionScope, months: list[str]) -> list[CheckCoverage]:
    """Per unit, over the judged months: households due (each month's scope), checked within the month, and not
    checked with a reason, from the counts each screening keeps of its check records: one statement."""
    rows = {a.code: CheckCoverage(a.code, a.name) for a in _review_units(scope)}
    unit = Screening.village_code if scope.level == "village" else Screening.town_code
    for code, due, checked, with_reason in db.session.execute(
            select(unit, func.sum(Screening.households_total), func.sum(func.coalesce(Screening.households_checked, 0)),
                   func.sum(Screening.households_not_checked))
            .where(Screening.month.in_(months), scope.where(Screening.village_code, Screening.town_code))
            .group_by(unit)):
        if code in rows:
            rows[code].due, rows[code].checked, rows[code].with_reason = int(due or 0), int(checked or 0), \
                int(with_reason or 0)
    return list(rows.values())


def _review_units(scope: SupervisionScope) -> list[Area]:
    if scope.level == "county":
        return scope.units()
    return [scope.area]


@dataclass
class _Certified:
    """The year's certifications, counted in households: by unit, risk level and household kind (the towns'
    verdicts), and by the responsible unit of the measures of households certified as returned (the departments)."""

    by_unit: dict[tuple[str, str | None, str], int] = field(default_factory=dict)
    returned_by_department: dict[str, int] = field(default_factory=dict)


def _certified_in_year(scope: SupervisionScope, first: date, last: date) -> _Certified:
    """Both counts in one statement over the year's certified cases (a CTE read twice), grouped in the database."""
    unit = Case.village_code if scope.level == "village" else Case.town_code
    # The cases' own rows only, off the town-and-approval index: the household's kind is kept on the case.
    certified = (select(Case.id.label("case_id"), unit.label("unit"), Case.risk_level, Case.household_id,
                        Case.household_kind.label("kind"))
                 .where(approved_between(utc_midnight(first), utc_midnight(last + timedelta(days=1))),
                        Case.status != "rejected", scope.where(Case.village_code, Case.town_code))
                 .cte("certified"))
    c = certified.c
    towns = (select(literal("town"), c.unit, c.risk_level, c.kind, func.count(c.household_id.distinct()))
             .group_by(c.unit, c.risk_level, c.kind))
    departments = (select(literal("department"), Measure.responsible_unit, null(), null(),
                          func.count(c.household_id.distinct()))
                   .join(Measure, Measure.case_id == c.case_id)
                   .where(c.risk_level == "returned")
                   .group_by(Measure.responsible_unit))
    result = _Certified()
    for part, key, level, kind, households in db.session.execute(union_all(towns, departments)):
        if part == "town":
            result.by_unit[(key, level, kind)] = int(households)
        else:
            result.returned_by_department[key] = int(households)
    return result


def _towns(scope: SupervisionScope, certified: _Certified) -> list[TownReview]:
    rows = {a.code: TownReview(a.code, a.name, a.level) for a in _review_units(scope)}
    for (code, level, kind), households in certified.by_unit.items():
        row = rows.get(code)
        if row is None:
            continue
        if level == "returned" and kind == "lifted":
            row.returned += households
        elif level == "returned":
            row.new_poverty += households
        else:
            row.at_risk += households
    return list(rows.values())


def _departments(scope: SupervisionScope, first: date, last: date, today: date,
                 certified: _Certified) -> list[DepartmentReview]:
    done = Measure.status == "done"
    stmt = (select(Measure.responsible_unit,
                   func.sum(case((and_(done, Measure.completed_on <= Measure.deadline), 1), else_=0)),
                   func.sum(case((and_(done, Measure.completed_on > Measure.deadline), 1), else_=0)),
                   func.sum(case((and_(~done, Measure.deadline < today, Case.status.in_(OPEN_CASE_STATUSES)), 1),
                                 else_=0)))
            .join(Case, Case.id == Measure.case_id)
            .where(Measure.deadline >= first, Measure.deadline <= last, Case.status != "rejected", ~Measure.first_aid,
                   scope.where(Case.village_code, Case.town_code))
            .group_by(Measure.responsible_unit))
    rows = {unit: DepartmentReview(unit, int(a or 0), int(b or 0), int(c or 0))
            for unit, a, b, c in db.session.execute(stmt)}
    for unit, households in certified.returned_by_department.items():
        rows.setdefault(unit, DepartmentReview(unit)).returned_households = households
    recorded = (select(Measure.responsible_unit,
                       func.sum(case((MeasureProgress.completed, 1), else_=0)), func.count(MeasureProgress.id))
                .join(Measure, Measure.id == MeasureProgress.measure_id)
                .join(Case, Case.id == Measure.case_id)
                .where(Measure.deadline >= first, Measure.deadline <= last,
                       scope.where(Case.village_code, Case.town_code))
                .group_by(Measure.responsible_unit))
    for unit, completed, notes in db.session.execute(recorded):
        row = rows.setdefault(unit, DepartmentReview(unit))
        row.completed_by_department, row.progress_notes = int(completed or 0), int(notes or 0)
    return sorted(rows.values(), key=lambda d: (-(d.overdue_undone + d.late), -d.returned_households, d.unit))


def _overdue_tasks(scope: SupervisionScope, last: date, today: date, names: dict[str, str],
                   county_office_name: str) -> list[OverdueTaskGroup]:
    """Tasks still waiting past their due date (due by the end of the year), grouped by the unit that holds
    them, the step and the assigned person if any."""
    stmt = (select(ReadyTask.role, ReadyTask.town_code, ReadyTask.village_code, ReadyTask.assignee_id,
                   ReadyTask.name, func.count(), func.min(ReadyTask.due_on))
            .where(ReadyTask.due_on < today, ReadyTask.due_on <= last,
                   scope.where(ReadyTask.village_code, ReadyTask.town_code))
            .group_by(ReadyTask.role, ReadyTask.town_code, ReadyTask.village_code, ReadyTask.assignee_id,
                      ReadyTask.name))
    raw = db.session.execute(stmt).all()
    # Plain columns, not User objects: the holders are every village and town team member of the area.
    assignees = {row.id: row for row in db.session.execute(
        select(User.id, User.full_name, User.unit).where(User.id.in_({r[3] for r in raw if r[3] is not None})))
    } if raw else {}
    holders: dict[tuple[str, str], list[str]] = {}
    for role, area_code, full_name in db.session.execute(
            select(User.role, User.area_code, User.full_name).where(
                User.active, User.role.in_(("village_team", *TOWN_ROLES)), User.area_code.startswith(scope.code[:9]))
            .order_by(User.username)):
        holders.setdefault((role, area_code), []).append(full_name)

    groups: dict[tuple[str, str, int | None, str], OverdueTaskGroup] = {}
    for role, town_code, village_code, assignee_id, step, count, earliest in raw:
        if earliest is None:  # excluded by the filter; keeps the type checker informed
            continue
        assignee = assignees.get(assignee_id) if assignee_id is not None else None
        if assignee is not None:
            unit_code = village_code
            unit = assignee.unit or role_label(role)
            people = assignee.full_name
        elif role == "village_team":
            unit_code = village_code
            unit = f"{names.get(town_code, '')}{names.get(village_code, village_code)}驻村工作队"
            people = "、".join(holders.get((role, village_code), []))
        elif role in TOWN_ROLES:
            unit_code = town_code
            unit = f"{names.get(town_code, town_code)}{role_label(role)}"
            people = "、".join(holders.get((role, town_code), []))
        else:
            unit_code = ""
            unit = county_office_name if role == "county_office" else role_label(role)
            people = ""
        key = (role, unit_code, assignee_id, step)
        group = groups.get(key)
        if group is None:
            groups[key] = OverdueTaskGroup(unit, role_label(role), step, people, int(count), earliest,
                                           (today - earliest).days)
        else:
            group.tasks += int(count)
            if earliest < group.earliest_due:
                group.earliest_due, group.days_overdue = earliest, (today - earliest).days
    return sorted(groups.values(), key=lambda g: (-g.days_overdue, g.unit, g.step))


def _late_screenings(scope: SupervisionScope, year: int, today: date,
                     names: dict[str, str]) -> tuple[list[LateScreening], list[str]]:
    """Villages that had not completed a month's screening (排查 and 评估) by the month's end. Months are judged
    once they have ended, and only if the county started the screening that month."""
    months = [f"{year:04d}-{m:02d}" for m in range(1, 13) if month_end(f"{year:04d}-{m:02d}") < today]
    if not months:
        return [], []
    started = set(db.session.scalars(select(Screening.month).where(
        Screening.month.in_(months), scope.where(Screening.village_code, Screening.town_code)).distinct()))
    judged = [m for m in months if m in started]
    if not judged:
        return [], []
    records = {(month, village): (status, completed_at) for month, village, status, completed_at in
               db.session.execute(select(Screening.month, Screening.village_code, Screening.status,
                                         Screening.completed_at)
                                  .where(Screening.month.in_(judged),
                                         scope.where(Screening.village_code, Screening.town_code)))}
    in_scope = Area.code == scope.code if scope.level == "village" else below(Area.code, scope.code)
    villages = db.session.scalars(select(Area.code).where(Area.level == "village", in_scope)
                                  .order_by(Area.code)).all()
    teams: dict[str, list[str]] = {}
    for name, area_code in db.session.execute(select(User.full_name, User.area_code).where(
            User.active, User.role == "village_team", User.area_code.in_(villages)).order_by(User.username)):
        teams.setdefault(area_code, []).append(name)
    late = []
    for month in judged:
        deadline = month_end(month)
        for village in villages:
            status, completed_at = records.get((month, village), (None, None))
            if status == "completed" and completed_at is not None and china_date(completed_at) <= deadline:
                continue
            if status is None:
                state = "未开展"
            elif status == "completed" and completed_at is not None:
                state = f"逾期完成（{china_date(completed_at).isoformat()}）"
            else:
                state = f"月底未完成（{SCREENING_STATUSES.get(status, status)}）"
            late.append(LateScreening(month, names.get(village[:9], village[:9]), names.get(village, village),
                                      state, "、".join(teams.get(village, []))))
    return late, judged


def _overdue_measures(scope: SupervisionScope, last: date, today: date) -> list[OverdueMeasure]:
    """Measures past their 完成时限 and not done, of cases still open (a closed case passed its acceptance)."""
    village, town, cadre = aliased(Area), aliased(Area), aliased(User)
    stmt = (select(town.name, village.name, Household.head_name, Household.head_id_number, Measure.content,
                   Measure.responsible_unit, Measure.deadline, func.coalesce(cadre.full_name, ""),
                   func.coalesce(cadre.unit, ""), Case.id)
            .join(Case, Case.id == Measure.case_id)
            .join(Household, Household.id == Case.household_id)
            .join(village, village.code == Case.village_code)
            .join(town, town.code == Case.town_code)
            .outerjoin(cadre, cadre.id == Case.cadre_id)
            .where(Measure.status != "done", Measure.deadline < today, Measure.deadline <= last,
                   Case.status.in_(OPEN_CASE_STATUSES), scope.where(Case.village_code, Case.town_code))
            .order_by(Case.town_code, Case.village_code, Measure.deadline, Measure.id))
    return [OverdueMeasure(r[0], r[1], r[2], r[3], r[4], r[5], r[6], (today - r[6]).days, r[7], r[8], r[9])
            for r in db.session.execute(stmt)]


# ---- the Excel workbook for referral ----------------------------------------------------------------------

Column = TableColumn
DATE_FORMAT = DATE


def workbook_filename(county_name: str, review: AnnualReview, unit_label: str) -> str:
    return f"{county_name}{review.year}年度返贫监测帮扶考核及追责清单_{unit_label}.xlsx"


TOWN_COLUMNS = (Column("序号", 6), Column("单位", 16), Column("返贫户（户）", 12), Column("新致贫户（户）", 12),
                Column("认定风险户（户）", 14), Column("考核意见", 14))
DEPARTMENT_COLUMNS = (Column("序号", 6), Column("责任单位", 24, wrap=True), Column("按时完成措施（项）", 14),
                      Column("逾期完成措施（项）", 14), Column("逾期未完成措施（项）", 16),
                      Column("涉及返贫户/新致贫户（户）", 18), Column("部门自行登记完成（项）", 16),
                      Column("部门进展记录（条）", 14))
TASK_COLUMNS = (Column("序号", 6), Column("责任单位", 30, wrap=True), Column("角色", 18, wrap=True),
                Column("逾期环节", 24, wrap=True), Column("责任人", 18, wrap=True), Column("逾期任务数", 10),
                Column("最早到期日", 12, DATE_FORMAT), Column("最长逾期（天）", 12))
CHECK_COLUMNS = (Column("序号", 6), Column("单位", 16), Column("应排查户次", 12), Column("按月入户排查", 12),
                 Column("未能排查（已说明原因）", 14), Column("无排查记录", 12), Column("入户排查率", 12))
SCREENING_COLUMNS = (Column("序号", 6), Column("月份", 10), Column("镇", 12), Column("村", 16, wrap=True),
                     Column("情况", 26, wrap=True), Column("驻村工作队", 24, wrap=True))
MEASURE_COLUMNS = (Column("序号", 6), Column("镇", 10), Column("村", 14, wrap=True), Column("户主姓名", 10),
                   Column("户主证件号码", 21, TEXT), Column("帮扶措施", 34, wrap=True),
                   Column("责任单位", 16, wrap=True), Column("完成时限", 12, DATE_FORMAT),
                   Column("逾期（天）", 9), Column("包抓干部", 10), Column("干部单位", 18, wrap=True))


def write_annual_review(review: AnnualReview, county_name: str, unit_label: str, out: IO[bytes]) -> None:
    """One workbook, a sheet per list, for referral to the county discipline commission."""
    book = ListWorkbook()
    line = f"单位：{unit_label}　　统计截至：{review.today.isoformat()}"
    prefix = f"{county_name}{review.year}年度"
    book.add_sheet("各镇考核", f"{prefix}返贫户和新致贫户认定情况", line, TOWN_COLUMNS,
               [[i, t.name, t.returned, t.new_poverty, t.at_risk, t.verdict] for i, t in enumerate(review.towns, 1)])
    book.add_sheet("行业部门", f"{prefix}行业部门帮扶措施落实情况", line, DEPARTMENT_COLUMNS,
               [[i, d.unit, d.on_time, d.late, d.overdue_undone, d.returned_households, d.completed_by_department,
                 d.progress_notes] for i, d in enumerate(review.departments, 1)])
    book.add_sheet("逾期未办任务", f"{prefix}监测帮扶逾期未办任务清单", line, TASK_COLUMNS,
               [[i, g.unit, g.role, g.step, g.people, g.tasks, g.earliest_due, g.days_overdue]
                for i, g in enumerate(review.overdue_tasks, 1)])
    book.add_sheet("逐户排查", f"{prefix}逐户排查情况（按排查记录统计）", line, CHECK_COLUMNS,
               [[i, c.name, c.due, c.checked, c.with_reason, c.unaccounted,
                 f"{c.share:.1f}%" if c.share is not None else "—"] for i, c in enumerate(review.check_coverage, 1)])
    book.add_sheet("未按时完成排查", f"{prefix}未按时完成月度排查的村", line, SCREENING_COLUMNS,
               [[i, s.month, s.town, s.village, s.state, s.team] for i, s in enumerate(review.late_screenings, 1)])
    book.add_sheet("逾期未完成措施", f"{prefix}逾期未完成帮扶措施清单", line, MEASURE_COLUMNS,
               [[i, m.town, m.village, m.head_name, m.head_id_number, m.content, m.responsible_unit, m.deadline,
                 m.days_overdue, m.cadre, m.cadre_unit] for i, m in enumerate(review.overdue_measures, 1)])
    book.save(out)
