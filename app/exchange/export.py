"""The monitoring roster and the month's changes in the national system's columns: one row per person (head first),
the household's values on every row as the national system's own export has them, the county's risk types as the
national codes (因病 … 其他). The file is a plain data sheet (header on the first row, ID numbers as text) that the
national system's import and this app's registry import both read back."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import IO, Any

from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import aliased

from app.clock import china_moment
from app.excel.cells import new_workbook
from app.excel.rows import StyledRows
from app.excel.tables import DATE, TEXT, styled_cell
from app.exchange.state import ENDED_STATUSES, eliminated_on, national_category
from app.extensions import db
from app.households.importer import HEAD
from app.leads.income import MONITORING_CATEGORIES
from app.leads.vocab import COUNTY_TO_NATIONAL_RISK, NATIONAL_RISK_TYPES
from app.models import Area, Case, EliminationReversal, Household, Member, RiskLead
from app.reports.annexes import area_filter
from app.reports.scope import ReportMonth, ReportScope

CHUNK = 500
# Which households the roster holds, by their latest identification.
ROSTER_STATES = {"monitored": "风险未消除", "eliminated": "风险已消除", "all": "全部监测对象"}
HOUSEHOLD_TYPES = {"lifted": "脱贫户", "non_poor": "一般农户"}
CHANGE_KINDS = {"identified": "新识别纳入监测", "eliminated": "风险消除", "reverted": "回退（恢复监测）"}


@dataclass(frozen=True)
class NationalColumn:
    header: str
    width: float
    number_format: str | None = None


COLUMNS: tuple[NationalColumn, ...] = (
    NationalColumn("县", 8), NationalColumn("乡(镇)", 10), NationalColumn("行政村", 12),
    NationalColumn("户编号", 20, TEXT), NationalColumn("人编号", 22, TEXT), NationalColumn("姓名", 10),
    NationalColumn("证件号码", 21, TEXT), NationalColumn("与户主关系", 10), NationalColumn("人数", 6),
    NationalColumn("脱贫年度", 8, TEXT), NationalColumn("户类型", 10), NationalColumn("联系电话", 14, TEXT),
    NationalColumn("易返贫致贫户(监测对象)类型", 16), NationalColumn("致贫原因", 16),
    NationalColumn("风险是否消除", 8), NationalColumn("风险识别时间", 12, DATE),
    NationalColumn("风险消除时间", 12, DATE),
)
CHANGE_COLUMNS: tuple[NationalColumn, ...] = (NationalColumn("变动类型", 14), NationalColumn("变动日期", 12, DATE),
                                              *COLUMNS)


@dataclass(frozen=True, slots=True)
class _Household:
    """One household's values in the national columns (its members are read beside it)."""

    household_id: int
    town: str
    village: str
    household_no: str
    size: int
    lifted_year: str
    household_type: str
    phone: str
    category: str
    risk: str
    eliminated: str
    identified_on: date | None
    eliminated_on: date | None


def _risk_words(procedure: str, county_risk: str, national_risks: list[str] | None) -> str:
    if procedure == "national" and national_risks:
        return "、".join(NATIONAL_RISK_TYPES.get(r, r) for r in national_risks)
    national = COUNTY_TO_NATIONAL_RISK.get(county_risk, "other")
    return NATIONAL_RISK_TYPES[national]


def _households(case_ids: Sequence[int]) -> dict[int, _Household]:
    """The households of these cases, each in the national columns as its case has it."""
    village, town = aliased(Area), aliased(Area)
    stmt = (select(Case.id, Case.procedure, Case.category, Case.risk_type, Case.status, Case.identified_on,
                   Case.eliminated_on, Case.closed_at, RiskLead.risk_types, Household.id, town.name, village.name,
                   Household.household_no, Household.size, Household.kind, Household.lifted_year, Household.phone)
            .join(Household, Household.id == Case.household_id)
            .join(village, village.code == Household.village_code)
            .join(town, town.code == Household.town_code)
            .outerjoin(RiskLead, RiskLead.case_id == Case.id)
            .where(Case.id.in_(case_ids)))
    found = {}
    for (case_id, procedure, category, risk_type, status, identified, eliminated, closed_at, risks, household_id,
         town_name, village_name, household_no, size, kind, lifted_year, phone) in db.session.execute(stmt):
        ended = status in ENDED_STATUSES
        found[case_id] = _Household(
            household_id=household_id, town=town_name, village=village_name, household_no=household_no, size=size,
            lifted_year=str(lifted_year) if kind == "lifted" and lifted_year else "",
            household_type=HOUSEHOLD_TYPES.get(kind, kind or ""), phone=phone,
            category=MONITORING_CATEGORIES.get(national_category(procedure, category, kind) or "", ""),
            risk=_risk_words(procedure, risk_type, risks), eliminated="是" if ended else "否",
            identified_on=identified,
            eliminated_on=eliminated_on(procedure, eliminated, closed_at) if ended else None)
    return found


def _person_rows(entries: Sequence[tuple[int, list[Any]]], county: str) -> Iterator[list[Any]]:
    """For each (case id, leading values), one row per member of the case's household, head first."""
    for start in range(0, len(entries), CHUNK):
        chunk = entries[start:start + CHUNK]
        households = _households([case_id for case_id, _lead in chunk])
        ids = list({h.household_id for h in households.values()})
        members: dict[int, list[Any]] = {i: [] for i in ids}
        for member in db.session.execute(
                select(Member.household_id, Member.person_no, Member.name, Member.id_number, Member.relation)
                .where(Member.household_id.in_(ids))
                .order_by(Member.household_id, case((Member.relation == HEAD, 0), else_=1), Member.id)):
            members[member.household_id].append(member)
        for case_id, lead in chunk:
            household = households[case_id]
            for index, member in enumerate(members[household.household_id]):
                yield [*lead, county, household.town, household.village, household.household_no,
                       member.person_no or "", member.name, member.id_number, member.relation, household.size,
                       household.lifted_year, household.household_type, household.phone if index == 0 else "",
                       household.category, household.risk, household.eliminated, household.identified_on,
                       household.eliminated_on]


def roster_rows(scope: ReportScope, state: str, county: str) -> Iterator[list[Any]]:
    """监测对象名单: each household by its latest identification (either procedure), in the scope."""
    latest = (select(Case.id.label("case_id"), Case.status,
                     func.row_number().over(partition_by=Case.household_id,
                                            order_by=(Case.identified_on.desc(), Case.id.desc())).label("rank"))
              .where(Case.identified_on.is_not(None), Case.status != "rejected",
                     area_filter(scope, Case.village_code, Case.town_code))
              .subquery())
    stmt = (select(latest.c.case_id).join(Case, Case.id == latest.c.case_id)
            .join(Household, Household.id == Case.household_id).where(latest.c.rank == 1)
            .order_by(Household.town_code, Household.village_code, Household.household_no))
    if state == "monitored":
        stmt = stmt.where(latest.c.status.not_in(ENDED_STATUSES))
    elif state == "eliminated":
        stmt = stmt.where(latest.c.status.in_(ENDED_STATUSES))
    case_ids = list(db.session.scalars(stmt))
    return _person_rows([(case_id, []) for case_id in case_ids], county)


def month_changes(scope: ReportScope, month: ReportMonth) -> list[tuple[int, str, date]]:
    """The month's changes as (case id, kind, day), by day: households identified for monitoring, risks eliminated
    (the county procedure's 销号 included) and eliminations reverted."""
    first, after = month.first_day, month.next_first_day
    in_scope = area_filter(scope, Case.village_code, Case.town_code)
    changes: list[tuple[int, str, date]] = []
    for case_id, day in db.session.execute(select(Case.id, Case.identified_on).where(
            Case.identified_on >= first, Case.identified_on < after, Case.status != "rejected", in_scope)):
        if day is not None:  # the range above excludes NULL; this tells the type checker
            changes.append((case_id, "identified", day))
    # 销号 is stored as a moment (UTC); the month is China's.
    start, end = china_moment(first, 0), china_moment(after, 0)
    for case_id, procedure, eliminated, closed_at in db.session.execute(
            select(Case.id, Case.procedure, Case.eliminated_on, Case.closed_at).where(
                in_scope, Case.status.in_(ENDED_STATUSES),
                or_(and_(Case.procedure == "national", Case.eliminated_on >= first, Case.eliminated_on < after),
                    and_(Case.procedure == "county", Case.closed_at >= start, Case.closed_at < end)))):
        day = eliminated_on(procedure, eliminated, closed_at)
        assert day is not None
        changes.append((case_id, "eliminated", day))
    # A reversal withdrew an elimination: both happened, the elimination (no longer the case's) included.
    reversal = EliminationReversal
    for case_id, eliminated, reverted in db.session.execute(
            select(reversal.case_id, reversal.eliminated_on, reversal.reverted_on)
            .join(Case, Case.id == reversal.case_id)
            .where(in_scope, or_(and_(reversal.reverted_on >= first, reversal.reverted_on < after),
                                 and_(reversal.eliminated_on >= first, reversal.eliminated_on < after)))):
        if first <= eliminated < after:
            changes.append((case_id, "eliminated", eliminated))
        if first <= reverted < after:
            changes.append((case_id, "reverted", reverted))
    changes.sort(key=lambda change: (change[2], change[1], change[0]))
    return changes


def change_rows(scope: ReportScope, month: ReportMonth, county: str) -> Iterator[list[Any]]:
    changes = month_changes(scope, month)
    return _person_rows([(case_id, [CHANGE_KINDS[kind], day]) for case_id, kind, day in changes], county)


def write_national_sheet(rows: Iterator[list[Any]], out: IO[bytes], sheet_name: str,
                         columns: Sequence[NationalColumn] = COLUMNS) -> int:
    """A data sheet: the header on row 1 (frozen), one person per row; returns the number of rows."""
    book = new_workbook()
    sheet = book.create_sheet(sheet_name)
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = "A2"
    bold, body = Font(bold=True), Font()
    sheet.append([styled_cell(sheet, c.header, bold, Alignment(horizontal="center")) for c in columns])
    rows_out = StyledRows(sheet, [styled_cell(sheet, None, body, number_format=c.number_format)._style
                                  for c in columns])
    count = 0
    for row in rows:
        rows_out.append(row)
        count += 1
    book.save(out)
    return count
