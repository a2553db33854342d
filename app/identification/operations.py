"""Open a national case from a confirmed lead, and what its identification forms record."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from app.clock import china_today
from app.departments.catalogue import department_for_unit
from app.extensions import db
from app.leads.vocab import NATIONAL_TO_COUNTY_RISK
from app.leads.workflow import decision_due
from app.models import Case, Household, IncomeAssessment, Measure, ReadyTask, ReviewMeeting, RiskLead, User
from app.processes.ties import NATIONAL_CASE
from app.vocab import OPEN_CASE_STATUSES
from app.workflow import runtime
from app.workflow.write import write_columns


def open_national_case(lead: RiskLead, actor: User | None) -> Case:
    """The lead's risk is real and its income assessed: the household's identification starts, as a case of the
    national procedure. An urgent lead (a disaster, an accident) takes the fast path: the village records the
    measures it gives at once while the identification runs. 一户一案: a household that has a case in hand by now
    (one opened while the lead was verified) keeps it, and the lead joins it."""
    household = lead.household
    in_hand = open_case_of(household.id)
    if in_hand is not None:
        lead.status, lead.open_case_id = "merged", in_hand.id
        lead.outcome_reason = f"核实属实；该户已有在办案件 #{in_hand.id}，并入该案件办理"
        runtime.record_event(in_hand, "lead_merged", actor, opinion=lead.description[:2000],
                             task_name=f"风险线索 {lead.receipt_no} 核实属实，并入本案件")
        return in_hand
    fast_path = lead.urgency == "urgent"
    instance, snapshot = runtime.start_instance("case", NATIONAL_CASE, {
        "household_id": household.id, "lead_id": lead.id, "fast_path": fast_path, "resume_monitoring": False,
    })
    primary = lead.risk_types[0] if lead.risk_types else "other"
    case = Case(procedure="national", household_id=household.id, household_kind=household.kind,
                village_code=household.village_code, town_code=household.town_code, instance_id=instance.id,
                risk_type=NATIONAL_TO_COUNTY_RISK.get(primary, "other"), reason=lead.description,
                channel=lead.channel, fast_path=fast_path, discovered_on=lead.discovered_on,
                decision_due_on=decision_due(lead))
    db.session.add(case)
    db.session.flush()
    lead.case_id = case.id
    step = "风险线索核实属实，进入识别认定" + ("（先帮扶后认定）" if fast_path else "")
    runtime.record_event(case, "case_opened", actor, instance_id=instance.id, task_name=step,
                         opinion=f"线索 {lead.receipt_no}：{lead.description}"[:2000])
    runtime.attach_subject(instance, case, snapshot, actor)
    return case


def open_case_of(household_id: int) -> Case | None:
    """The household's case in hand, if any, its row locked on PostgreSQL first (as a new report locks it), so
    that two steps cannot both open one."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(Household.id).where(Household.id == household_id).with_for_update())
    return db.session.scalar(select(Case).where(Case.household_id == household_id,
                                                Case.status.in_(OPEN_CASE_STATUSES)).order_by(Case.id).limit(1))


def open_pending_cases(actor: User | None = None) -> int:
    """Open the case of each lead confirmed before the national procedure could open one (an upgrade from a version
    that left confirmed leads waiting): init-db runs it, so none is stranded."""
    pending = list(db.session.scalars(select(RiskLead).where(RiskLead.status == "confirmed",
                                                             RiskLead.case_id.is_(None)).order_by(RiskLead.id)))
    for lead in pending:
        open_national_case(lead, actor)
    db.session.flush()
    return len(pending)


def lead_of(case: Case) -> RiskLead | None:
    """The lead whose confirmation opened the case (none for a case of the county procedure)."""
    return db.session.scalar(select(RiskLead).where(RiskLead.case_id == case.id).limit(1))


def latest_assessment(lead: RiskLead) -> IncomeAssessment | None:
    return db.session.scalar(select(IncomeAssessment).where(IncomeAssessment.lead_id == lead.id)
                             .order_by(IncomeAssessment.id.desc()).limit(1))


def meetings_of(case: Case) -> list[ReviewMeeting]:
    return list(db.session.scalars(select(ReviewMeeting).where(ReviewMeeting.case_id == case.id)
                                   .order_by(ReviewMeeting.held_on, ReviewMeeting.id)))


def _close_lead(case: Case, status: str, reason: str = "") -> None:
    lead = lead_of(case)
    if lead is not None:
        lead.status = status
        if reason:
            lead.outcome_reason = reason


def meeting_from(case: Case, purpose: str, data: dict[str, Any], actor: User | None) -> ReviewMeeting:
    meeting = ReviewMeeting(
        case_id=case.id, purpose=purpose, held_on=date.fromisoformat(data["held_on"]), place=data["place"].strip(),
        attendees=data["attendees"].strip(), attendance=int(data["attendance"]), minutes=data["minutes"].strip(),
        decision=data["decision"], category=data.get("category") or None,
        reason=(data.get("reason") or "").strip(), recorded_by_id=actor.id if actor else None)
    db.session.add(meeting)
    return meeting


# ---- the forms' own records (registered with app.cases.operations by register()) ------------------------------

def review_context(case: Case, task: ReadyTask) -> dict[str, Any]:
    lead = lead_of(case)
    assessment = latest_assessment(lead) if lead is not None else None
    return {"proposed_category": case.category or (assessment.proposed_category if assessment else None)}


def record_review(case: Case, task: ReadyTask, data: dict[str, Any], actor: User | None) -> None:
    meeting = meeting_from(case, "identification", data, actor)
    if meeting.decision == "propose":
        write_columns(case, category=meeting.category)
    else:
        _close_lead(case, "not_identified", f"民主评议未通过：{meeting.reason}")


def record_town_review(case: Case, task: ReadyTask, data: dict[str, Any], actor: User | None) -> None:
    if data["decision"] == "reject":
        _close_lead(case, "not_identified", f"乡镇审核不予纳入：{data['opinion'].strip()}")


def record_county_decision(case: Case, task: ReadyTask, data: dict[str, Any], actor: User | None) -> None:
    if data["decision"] == "approve":
        write_columns(case, identified_on=china_today())
        _close_lead(case, "identified")
    elif data["decision"] == "reject":
        _close_lead(case, "not_identified", f"县级审定不予纳入：{data['opinion'].strip()}")


# The notice phase that follows each procedure's identification decision.
IDENTIFICATION_NOTICES = ("result_notice", "publicity")


def record_objection_review(case: Case, task: ReadyTask, data: dict[str, Any], actor: User | None) -> None:
    """An objection upheld against the notice that follows the county's decision (the national 结果公告, the
    county procedure's 公示) sends the household back to the town: it is no longer identified until the county
    decides again."""
    if data["decision"] == "uphold" and case.status in IDENTIFICATION_NOTICES:
        write_columns(case, identified_on=None)
        _close_lead(case, "confirmed")


def forget_identification(case: Case, outcome: str, actor: User | None) -> None:
    """A case that ends not identified was never identified, whatever a decision undone on the way said."""
    if outcome == "rejected" and case.identified_on is not None:
        write_columns(case, identified_on=None)


def first_aid_context(case: Case, task: ReadyTask) -> dict[str, Any]:
    return {"discovered_on": case.discovered_on}


def record_first_aid(case: Case, task: ReadyTask, data: dict[str, Any], actor: User | None) -> None:
    """The measures given at once, as carried out on the day given; they stay whatever the identification says."""
    start = len(case.measures)
    note = (data.get("note") or "").strip()
    for position, entry in enumerate(data["measures"], start=start):
        given = date.fromisoformat(entry["given_on"])
        case.measures.append(Measure(
            position=position, content=entry["content"], measure_type=entry["measure_type"],
            responsible_unit=entry["responsible_unit"], department=department_for_unit(entry["responsible_unit"]),
            deadline=given, status="done", completed_on=given,
            result="先帮扶后认定，已先行落实" + (f"：{note}" if note else ""),
            first_aid=True))


def register() -> None:
    """Called by the app factory: the identification forms' records, and a confirmed lead opening its case."""
    from app.cases.operations import ON_CASE_ENDED, CaseForm, CasePanel, register_case_form, register_case_panel
    from app.leads.workflow import ON_CONFIRMED

    register_case_form("identification_review", CaseForm(context=review_context, effect=record_review))
    register_case_form("town_identification_review", CaseForm(effect=record_town_review))
    register_case_form("county_identification", CaseForm(effect=record_county_decision))
    register_case_form("first_aid_measures", CaseForm(context=first_aid_context, effect=record_first_aid))
    # The publicity sub-process's review of an objection: the county's procedure gives it no effect of its own.
    register_case_form("objection_review", CaseForm(effect=record_objection_review))
    if forget_identification not in ON_CASE_ENDED:
        ON_CASE_ENDED.append(forget_identification)
    if open_national_case not in ON_CONFIRMED:
        ON_CONFIRMED.append(open_national_case)
    register_case_panel(CasePanel("identification/_case_panel.html", case_panel))


# ---- the case page's section ---------------------------------------------------------------------------------

def decision_days(case: Case) -> int | None:
    """Days from the risk's discovery to the county's decision (the national cap is 15)."""
    if case.discovered_on is None or case.identified_on is None:
        return None
    return (case.identified_on - case.discovered_on).days


def case_panel(case: Case, user: User | None) -> dict[str, Any] | None:
    """The national mechanism's part of a case page (and of its task pages): where the lead came from and its
    income assessment, the category, the 15-day clock, the review meetings. Nothing for a county case."""
    if case.procedure != "national":
        return None
    lead = lead_of(case)
    return {"lead": lead, "assessment": latest_assessment(lead) if lead else None, "meetings": meetings_of(case),
            "decision_days": decision_days(case), "today": china_today()}
