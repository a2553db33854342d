"""The household file (户档案): one household with its members, every case it has had, all their measures,
the screenings that registered it and the history across all processes, newest first.

Read path only: SQL over the query rows (cases, measures, registrations, events), never a workflow's state."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from app.access import can_reveal_id_numbers, household_clause
from app.audit.log import record
from app.errors import NotFound, PermissionDenied
from app.extensions import db
from app.households.idnumber import masked_id
from app.identification.timeline import MonitoringRecord, monitoring_records
from app.models import (
    Area,
    Attachment,
    Case,
    Event,
    Household,
    Measure,
    RiskLead,
    RiskRegistration,
    Screening,
    User,
)

# Screening events that concern one household; they name it by its head (see app/screenings/operations.py).
SCREENING_EVENT_KINDS = ("household_registered", "registration_removed")


@dataclass(frozen=True)
class MemberRow:
    name: str
    relation: str
    masked_id_number: str
    id_number: str  # shown only after a logged reveal (reveal_id_numbers)


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    kind: str
    title: str
    actor: User | None
    decision: str | None
    opinion: str | None
    case_id: int | None
    screening_id: int | None
    screening_month: str | None
    event_id: int
    lead_id: int | None = None


@dataclass(frozen=True)
class HouseholdFile:
    household: Household
    town: Area | None
    members: list[MemberRow]
    cases: list[Case]  # newest first, open and closed
    measures: list[Measure]  # of all cases, newest case first, in plan order
    registrations: list[RiskRegistration]  # newest screening first
    history: list[HistoryEntry]  # newest first
    attachments: list[Attachment] = field(default_factory=list)  # of all its cases, newest first
    leads: list[RiskLead] = field(default_factory=list)  # the national mechanism's risk leads, newest first
    # Under the national mechanism: leads, verifications, assessments, identification, elimination, in order.
    monitoring: list[MonitoringRecord] = field(default_factory=list)

    @property
    def open_cases(self) -> list[Case]:
        return [c for c in self.cases if c.closed_at is None]


def visible_household(user: User, household_id: int) -> Household:
    """The household, if the user may see it (app.access.household_clause); NotFound or PermissionDenied."""
    household = db.session.get(Household, household_id)
    if household is None:
        raise NotFound("该户不存在")
    allowed = db.session.scalar(select(Household.id).where(Household.id == household_id, household_clause(user)))
    if allowed is None:
        raise PermissionDenied("您无权查看该户的档案")
    return household


def reveal_id_numbers(user: User, household: Household) -> None:
    """A full ID number is shown only on request, to the roles that register, certify and approve, and each
    time it is written to the audit log (who, when, from where, which household); the caller commits."""
    if not can_reveal_id_numbers(user):
        raise PermissionDenied("您的角色无权查看完整证件号码")
    record("id_number_revealed", user, f"查看完整证件号码：{household.head_name}户（{household.household_no}）",
           {"household_id": household.id, "household_no": household.household_no,
            "persons": len(household.members)})


def household_file(household: Household) -> HouseholdFile:
    cases = list(db.session.scalars(select(Case).where(Case.household_id == household.id)
                                    .order_by(Case.opened_at.desc(), Case.id.desc())))
    case_ids = [c.id for c in cases]
    measures: list[Measure] = []
    if case_ids:
        order = {cid: index for index, cid in enumerate(case_ids)}
        found = db.session.scalars(select(Measure).where(Measure.case_id.in_(case_ids)))
        measures = sorted(found, key=lambda m: (order[m.case_id], m.position, m.id))
    registrations = list(db.session.scalars(
        select(RiskRegistration).join(Screening, RiskRegistration.screening_id == Screening.id)
        .where(RiskRegistration.household_id == household.id)
        .order_by(Screening.month.desc(), RiskRegistration.id.desc())))
    leads = list(db.session.scalars(select(RiskLead).where(RiskLead.household_id == household.id)
                                    .order_by(RiskLead.created_at.desc(), RiskLead.id.desc())))
    return HouseholdFile(
        household=household, leads=leads, monitoring=monitoring_records(household.id),
        town=db.session.get(Area, household.town_code),
        members=[MemberRow(m.name, m.relation, masked_id(m.id_number), m.id_number or "") for m in household.members],
        cases=cases, measures=measures, registrations=registrations,
        history=_history(household, case_ids, [lead.id for lead in leads]),
        attachments=list(db.session.scalars(select(Attachment).where(Attachment.case_id.in_(case_ids))
                                            .order_by(Attachment.uploaded_at.desc(), Attachment.id.desc())))
        if case_ids else [],
    )


def _history(household: Household, case_ids: list[int], lead_ids: list[int]) -> list[HistoryEntry]:
    """Events of the household's cases and risk leads, and the screening events that name it: its registration
    (or the withdrawal of one) in its own village's monthly screenings."""
    entries: list[HistoryEntry] = []
    if case_ids:
        for e in db.session.scalars(select(Event).where(Event.about_any("case", case_ids))):
            entries.append(_entry(e, None))
    if lead_ids:
        for e in db.session.scalars(select(Event).where(Event.about_any("lead", lead_ids))):
            entries.append(_entry(e, None))
    months = dict(db.session.execute(select(Screening.id, Screening.month)
                                     .where(Screening.village_code == household.village_code)).all())
    if months:
        name = household.head_name
        for e in db.session.scalars(select(Event).where(Event.about_any("screening", list(months)),
                                                        Event.kind.in_(SCREENING_EVENT_KINDS))):
            title = e.task_name or ""
            # "登记风险户：{name}（…）" / "撤销登记：{name}"
            if title.endswith(f"：{name}") or f"：{name}（" in title:
                entries.append(_entry(e, months.get(e.subject_id or 0)))
    entries.sort(key=lambda h: (h.at, h.event_id), reverse=True)
    return entries


def _entry(e: Event, month: str | None) -> HistoryEntry:
    return HistoryEntry(at=e.at, kind=e.kind, title=e.task_name or e.kind, actor=e.actor, decision=e.decision,
                        opinion=e.opinion, case_id=e.subject_id if e.is_about("case") else None,
                        screening_id=e.subject_id if e.is_about("screening") else None, screening_month=month,
                        event_id=e.id, lead_id=e.subject_id if e.is_about("lead") else None)
