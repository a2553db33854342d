"""预警统计: how risk is found and what comes of it, for the county office and the supervisors — the year's leads by
channel and month, by department, how many were verified, not confirmed, identified or not, and the days from
finding a risk to the decision on it against the national cap of 15 days.

A read path over the leads and their cases (a county finds thousands of leads a year, not millions): rows of the
year read once, counted in Python the same way on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from statistics import median
from typing import Any

from sqlalchemy import select

from app.areas import below
from app.clock import to_china
from app.departments.catalogue import DEPARTMENTS
from app.extensions import db
from app.leads.vocab import LEAD_CHANNELS
from app.models import Case, DepartmentUpload, RiskLead, User

# What became of a lead, by its status: the columns of the page.
OUTCOMES: dict[str, str] = {
    "checking": "核实中", "not_confirmed": "核实不属实", "identifying": "认定中", "identified": "已纳入监测",
    "not_identified": "评议审核未纳入", "merged": "并入在办事项",
}
OUTCOME_OF_STATUS = {"open": "checking", "verified": "checking", "confirmed": "identifying",
                     "identified": "identified", "not_identified": "not_identified",
                     "not_confirmed": "not_confirmed", "merged": "merged"}


@dataclass
class Counts:
    found: int = 0  # reports that started work of their own (merged ones not counted)
    outcomes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))

    def add(self, status: str) -> None:
        outcome = OUTCOME_OF_STATUS.get(status, "checking")
        self.outcomes[outcome] += 1
        if outcome != "merged":
            self.found += 1

    @property
    def verified(self) -> int:
        """Found real at the home visit (whatever the identification then said)."""
        return self.outcomes["identifying"] + self.outcomes["identified"] + self.outcomes["not_identified"]


@dataclass
class ChannelYear:
    channel: str
    label: str
    months: list[Counts]
    total: Counts
    decision_days: list[int] = field(default_factory=list)
    cap: int = 15

    @property
    def median_days(self) -> float | None:
        return median(self.decision_days) if self.decision_days else None

    @property
    def within_cap(self) -> int:
        return sum(1 for d in self.decision_days if d <= self.cap)

    @property
    def within_cap_pct(self) -> float | None:
        return round(100 * self.within_cap / len(self.decision_days), 1) if self.decision_days else None


@dataclass
class DepartmentYear:
    code: str
    name: str
    uploads: int = 0
    rows: int = 0
    matched: int = 0
    warned: int = 0
    noted: int = 0
    leads: Counts = field(default_factory=Counts)


@dataclass(frozen=True)
class WarningsOverview:
    year: int
    channels: list[ChannelYear]
    departments: list[DepartmentYear]
    cap: int

    def chart_data(self) -> dict[str, Any]:
        return {"channels": [{"key": c.channel, "label": c.label,
                              "months": [f"{m}月" for m in range(1, 13)],
                              "found": [m.found for m in c.months],
                              "verified": [m.verified for m in c.months],
                              "identified": [m.outcomes["identified"] for m in c.months]} for c in self.channels]}


def _decision_day(lead: Any) -> date | None:
    """When the risk was decided on: not confirmed at the visit, identified (county decision) or not identified."""
    if lead.status == "not_confirmed" and lead.closed_at is not None:
        return to_china(lead.closed_at).date()
    if lead.identified_on is not None:
        return lead.identified_on
    if lead.status == "not_identified" and lead.case_closed_at is not None:
        return to_china(lead.case_closed_at).date()
    return None


def warnings_overview(year: int, area_code: str, cap: int = 15) -> WarningsOverview:
    """The year's leads and departments' lists of an area (a county, or a city's or province's counties)."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    channels = {code: ChannelYear(code, label, [Counts() for _ in range(12)], Counts(), cap=cap)
                for code, label in LEAD_CHANNELS.items()}
    departments = {code: DepartmentYear(code, d.name) for code, d in DEPARTMENTS.items()}
    stmt = (select(RiskLead.channel, RiskLead.source, RiskLead.status, RiskLead.discovered_on, RiskLead.closed_at,
                   Case.identified_on, Case.closed_at.label("case_closed_at"))
            .outerjoin(Case, Case.id == RiskLead.case_id)
            .where(RiskLead.discovered_on >= first, RiskLead.discovered_on <= last,
                   below(RiskLead.town_code, area_code)))
    for lead in db.session.execute(stmt):
        channel = channels.get(lead.channel)
        if channel is None:
            continue
        channel.months[lead.discovered_on.month - 1].add(lead.status)
        channel.total.add(lead.status)
        decided = _decision_day(lead)
        if decided is not None:
            channel.decision_days.append((decided - lead.discovered_on).days)
        if lead.channel == "department_warning" and lead.source in departments:
            departments[lead.source].leads.add(lead.status)
    uploaders = select(User.id).where(below(User.area_code, area_code))
    for upload in db.session.scalars(select(DepartmentUpload).where(DepartmentUpload.month.like(f"{year}-%"),
                                                                    DepartmentUpload.uploaded_by_id.in_(uploaders))):
        department = departments.get(upload.department)
        if department is not None:
            department.uploads += 1
            department.rows += upload.rows_total
            department.matched += upload.rows_matched
            department.warned += upload.rows_warned
            department.noted += upload.cases_noted
    return WarningsOverview(year, list(channels.values()), list(departments.values()), cap)
