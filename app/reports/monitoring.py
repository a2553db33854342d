"""The national mechanism's lists: the monitoring roster (监测对象名单: every household identified for monitoring, with
its category, the day its risk was identified and whether and when it was eliminated) and the elimination list
(风险消除名单) of a period. Read from the case rows, never from workflow state."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased

from app.eliminations.criteria import full_months
from app.extensions import db
from app.leads.income import MONITORING_CATEGORIES
from app.leads.vocab import LEAD_CHANNELS, NATIONAL_RISK_TYPES
from app.models import Area, Case, Household, Measure, RiskLead, User
from app.reports.annexes import BATCH, area_filter, lifted_year_label
from app.reports.scope import ReportScope
from app.vocab import CASE_STATUSES, HOUSEHOLD_KINDS

# Which monitored households a roster lists.
ROSTER_STATES = {"all": "全部监测对象", "monitored": "在监测（风险未消除）", "eliminated": "风险已消除"}


@dataclass(frozen=True)
class MonitoredRow:
    case_id: int
    town: str
    village: str
    head_name: str
    head_id_number: str
    size: int
    household_kind: str
    lifted_year: str
    category: str
    risk_types: str
    channel: str
    identified_on: date
    eliminated: bool
    eliminated_on: date | None
    cadre: str
    status: str


@dataclass(frozen=True)
class EliminatedRow:
    case_id: int
    town: str
    village: str
    head_name: str
    head_id_number: str
    size: int
    category: str
    identified_on: date | None
    eliminated_on: date
    months_monitored: int | None
    measures_done: int
    cadre: str


def _risk_types(types: list[str] | None, fallback: str) -> str:
    return "、".join(NATIONAL_RISK_TYPES.get(t, t) for t in types or []) or fallback


def monitoring_roster_rows(scope: ReportScope, state: str = "all") -> Iterator[MonitoredRow]:
    """Households identified for monitoring under the national mechanism (县级审定 passed), in the scope."""
    village, town, cadre = aliased(Area), aliased(Area), aliased(User)
    stmt = (
        select(Case.id, town.name, village.name, Household.head_name, Household.head_id_number, Household.size,
               Household.kind, Household.lifted_year, Case.category, RiskLead.risk_types, Case.channel,
               Case.identified_on, Case.eliminated_on, func.coalesce(cadre.full_name, ""), Case.status)
        .join(Household, Case.household_id == Household.id)
        .join(village, village.code == Case.village_code)
        .join(town, town.code == Case.town_code)
        .outerjoin(cadre, cadre.id == Case.cadre_id)
        .outerjoin(RiskLead, RiskLead.case_id == Case.id)
        .where(Case.procedure == "national", Case.identified_on.is_not(None), Case.status != "rejected",
               area_filter(scope, Case.village_code, Case.town_code))
        .order_by(Case.town_code, Case.village_code, Household.household_no, Case.id)
    )
    if state == "monitored":
        stmt = stmt.where(Case.status != "eliminated")
    elif state == "eliminated":
        stmt = stmt.where(Case.status == "eliminated")
    for row in db.session.execute(stmt).yield_per(BATCH):
        yield MonitoredRow(
            case_id=row[0], town=row[1], village=row[2], head_name=row[3], head_id_number=row[4], size=row[5],
            household_kind=HOUSEHOLD_KINDS.get(row[6], row[6]), lifted_year=lifted_year_label(row[6], row[7]),
            category=MONITORING_CATEGORIES.get(row[8] or "", ""), risk_types=_risk_types(row[9], ""),
            channel=LEAD_CHANNELS.get(row[10] or "", ""), identified_on=row[11], eliminated=row[14] == "eliminated",
            eliminated_on=row[12], cadre=row[13], status=CASE_STATUSES.get(row[14], str(row[14])))


def elimination_rows(scope: ReportScope, first: date, last: date) -> Iterator[EliminatedRow]:
    """Households whose risk was eliminated between `first` and `last` (inclusive) and stands eliminated."""
    done = (select(Measure.case_id, func.count().label("done")).where(Measure.status == "done")
            .group_by(Measure.case_id).subquery())
    village, town, cadre = aliased(Area), aliased(Area), aliased(User)
    stmt = (
        select(Case.id, town.name, village.name, Household.head_name, Household.head_id_number, Household.size,
               Case.category, Case.identified_on, Case.eliminated_on, func.coalesce(done.c.done, 0),
               func.coalesce(cadre.full_name, ""))
        .join(Household, Case.household_id == Household.id)
        .join(village, village.code == Case.village_code)
        .join(town, town.code == Case.town_code)
        .outerjoin(cadre, cadre.id == Case.cadre_id)
        .outerjoin(done, and_(done.c.case_id == Case.id))
        .where(Case.status == "eliminated", Case.eliminated_on >= first, Case.eliminated_on <= last,
               area_filter(scope, Case.village_code, Case.town_code))
        .order_by(Case.eliminated_on, Case.town_code, Case.village_code, Household.household_no, Case.id)
    )
    for row in db.session.execute(stmt).yield_per(BATCH):
        identified, eliminated = row[7], row[8]
        yield EliminatedRow(
            case_id=row[0], town=row[1], village=row[2], head_name=row[3], head_id_number=row[4], size=row[5],
            category=MONITORING_CATEGORIES.get(row[6] or "", ""), identified_on=identified, eliminated_on=eliminated,
            months_monitored=full_months(identified, eliminated) if identified else None, measures_done=row[9],
            cadre=row[10])
