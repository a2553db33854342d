"""The rows of the two official annexes, read from the relational tables (never from workflow state).

附件1 花名册: the households registered at risk in a month's screenings.
附件2 台账: the households whose measure plan was running during the month, one row each.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.orm import QueryableAttribute, aliased

from app.clock import CHINA_TZ
from app.extensions import db
from app.models import Area, Case, Household, Measure, RiskRegistration, Screening, User
from app.reports.scope import ReportMonth, ReportScope
from app.vocab import MEASURE_TYPES, RISK_TYPES

BATCH = 1000


@dataclass(frozen=True)
class RosterRow:
    town: str
    village: str
    head_name: str
    head_id_number: str
    size: int
    lifted_year: str
    risk_type: str
    reason: str
    cadre: str


@dataclass(frozen=True)
class LedgerMeasure:
    content: str
    measure_type: str
    responsible_unit: str
    deadline: date
    done: bool
    completed_on: date | None = None  # the day the measure was recorded done (by the cadre or the department)

    def line(self, number: int) -> str:
        state = ""
        if self.done:
            state = f"，已于 {self.completed_on.isoformat()} 完成" if self.completed_on else "，已完成"
        return (f"{number}. {self.content}（{self.measure_type}；责任单位：{self.responsible_unit}；"
                f"时限：{self.deadline.isoformat()}{state}）")


@dataclass(frozen=True)
class LedgerRow:
    town: str
    village: str
    head_name: str
    head_id_number: str
    size: int
    lifted_year: str
    risk_type: str
    measures: tuple[LedgerMeasure, ...]
    cadre: str

    @property
    def measures_text(self) -> str:
        return "\n".join(m.line(i) for i, m in enumerate(self.measures, start=1))

    @property
    def deadline(self) -> date | None:
        """The plan's 完成时限: the day by which every measure is due."""
        return max((m.deadline for m in self.measures), default=None)


def lifted_year_label(kind: str, lifted_year: int | None) -> str:
    return str(lifted_year) if kind == "lifted" and lifted_year else "非贫困户"


def area_filter(scope: ReportScope, village_col: QueryableAttribute[str], town_col: QueryableAttribute[str]
                 ) -> ColumnElement[bool]:
    if scope.level == "village":
        return village_col == scope.code
    if scope.level == "town":
        return town_col == scope.code
    return village_col.like(scope.code + "%")


def _utc(day: date) -> datetime:
    """Midnight of a China date, as the naive UTC the tables store."""
    return datetime.combine(day, time(), CHINA_TZ).astimezone(UTC).replace(tzinfo=None)


def roster_rows(month: ReportMonth, scope: ReportScope) -> Iterator[RosterRow]:
    village, town = aliased(Area), aliased(Area)
    registration_cadre, latest_cadre = aliased(User), aliased(User)
    registration_case = aliased(Case)
    # The cadre of the case this registration opened, else of the household's latest case that has one.
    latest_cadre_id = (select(Case.cadre_id).where(Case.household_id == Household.id, Case.cadre_id.is_not(None))
                       .order_by(Case.id.desc()).limit(1).correlate(Household).scalar_subquery())
    stmt = (
        select(town.name, village.name, Household.head_name, Household.head_id_number, Household.size,
               Household.kind, Household.lifted_year, RiskRegistration.risk_type, RiskRegistration.reason,
               func.coalesce(registration_cadre.full_name, latest_cadre.full_name, ""))
        .join(Screening, RiskRegistration.screening_id == Screening.id)
        .join(Household, RiskRegistration.household_id == Household.id)
        .join(village, village.code == Screening.village_code)
        .join(town, town.code == Screening.town_code)
        .outerjoin(registration_case, registration_case.id == RiskRegistration.case_id)
        .outerjoin(registration_cadre, registration_cadre.id == registration_case.cadre_id)
        .outerjoin(latest_cadre, latest_cadre.id == latest_cadre_id)
        .where(Screening.month == month.key, area_filter(scope, Screening.village_code, Screening.town_code))
        .order_by(Screening.town_code, Screening.village_code, RiskRegistration.id)
    )
    # On the connection: plain rows, without the ORM's per-row loading work (a county-wide file has thousands). The
    # statement picks the connection (the replica's, in a view that reads from one: app/replica.py).
    for row in db.session.connection(bind_arguments={"clause": stmt}).execute(stmt).yield_per(BATCH):
        yield RosterRow(town=row[0], village=row[1], head_name=row[2], head_id_number=row[3], size=row[4],
                        lifted_year=lifted_year_label(row[5], row[6]),
                        risk_type=RISK_TYPES.get(row[7], row[7]), reason=row[8], cadre=row[9])


def _ledger_cases(month: ReportMonth, scope: ReportScope) -> Select[Any]:
    """Cases whose measure plan existed by the month's end and that were not closed before it began."""
    has_measures = exists().where(Measure.case_id == Case.id)
    return (
        select(Case.id)
        .where(has_measures, Case.status != "rejected",
               Case.opened_at < _utc(month.next_first_day),
               or_(Case.closed_at.is_(None), Case.closed_at >= _utc(month.first_day)),
               area_filter(scope, Case.village_code, Case.town_code))
    )


def ledger_rows(month: ReportMonth, scope: ReportScope) -> Iterator[LedgerRow]:
    case_ids = _ledger_cases(month, scope).subquery()
    measures: dict[int, list[LedgerMeasure]] = {}
    measure_stmt = (select(Measure.case_id, Measure.content, Measure.measure_type, Measure.responsible_unit,
                           Measure.deadline, Measure.status, Measure.completed_on)
                    .where(Measure.case_id.in_(select(case_ids.c.id)))
                    .order_by(Measure.case_id, Measure.position, Measure.id))
    for m in db.session.execute(measure_stmt).yield_per(BATCH):
        measures.setdefault(m[0], []).append(LedgerMeasure(
            content=m[1], measure_type=MEASURE_TYPES.get(m[2], m[2]), responsible_unit=m[3], deadline=m[4],
            done=m[5] == "done", completed_on=m[6]))
    village, town, cadre = aliased(Area), aliased(Area), aliased(User)
    stmt = (
        select(Case.id, town.name, village.name, Household.head_name, Household.head_id_number, Household.size,
               Household.kind, Household.lifted_year, Case.risk_type, func.coalesce(cadre.full_name, ""))
        .join(Household, Case.household_id == Household.id)
        .join(village, village.code == Case.village_code)
        .join(town, town.code == Case.town_code)
        .outerjoin(cadre, and_(cadre.id == Case.cadre_id))
        .where(Case.id.in_(select(case_ids.c.id)))
        .order_by(Case.town_code, Case.village_code, Household.household_no, Case.id)
    )
    for row in db.session.execute(stmt).yield_per(BATCH):
        yield LedgerRow(town=row[1], village=row[2], head_name=row[3], head_id_number=row[4], size=row[5],
                        lifted_year=lifted_year_label(row[6], row[7]),
                        risk_type=RISK_TYPES.get(row[8], row[8]), measures=tuple(measures.get(row[0], ())),
                        cadre=row[9])
