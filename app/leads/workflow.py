"""A risk lead as a subject of the workflow runtime: its verification (lead_verification.bpmn) starts when the
lead is recorded, the village team's 入户核实 task is due within the county's setting and the national 15 days,
and the end the verification reaches closes the lead as confirmed or not."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flask import current_app, url_for
from sqlalchemy import select

from app.access import lead_clause
from app.clock import china_today, to_china, utcnow
from app.deadlines.calendar import add_working_days
from app.engine import ReadyTaskInfo, WorkflowSnapshot
from app.extensions import db
from app.leads.income import INCOME_TYPES, assess, income_window
from app.leads.operations import documents_of
from app.models import IncomeAssessment, LeadDocument, LeadVerification, ReadyTask, RiskLead, User
from app.processes.ties import INCOME_ASSESSMENT, LEAD_VERIFICATION, outcome_of
from app.settings import line_for, setting_value
from app.workflow import runtime
from forms import FormContext

PROCESS_KEY = "lead_verification"


def start_verification(lead: RiskLead, actor: User | None) -> None:
    """The lead's verification instance and its first task (the village team's 入户核实)."""
    instance, snapshot = runtime.start_instance("lead", PROCESS_KEY, {"lead_id": lead.id})
    lead.instance_id = instance.id
    db.session.flush()
    runtime.attach_subject(instance, lead, snapshot, actor)


def has_authorisation(lead: RiskLead) -> bool:
    return db.session.scalar(select(LeadDocument.id).where(LeadDocument.lead_id == lead.id,
                                                           LeadDocument.kind == "authorisation").limit(1)) is not None


def _label(lead: RiskLead) -> str:
    return f"{lead.household.head_name}户（线索 {lead.receipt_no}）"


def _form_context(lead: RiskLead, task: ReadyTask, needs: frozenset[str]) -> FormContext:
    today = china_today()
    line = line_for(today.year, lead.village_code) if "monitoring_line" in needs else None
    return FormContext(
        today=today,
        authorisation_uploaded=has_authorisation(lead) if "authorisation_uploaded" in needs else False,
        members=[(m.id, f"{m.name}（{m.relation}）") for m in lead.household.members] if "members" in needs else [],
        monitoring_line=line.amount if line else None,
    )


def _after_task(lead: RiskLead, task: ReadyTask, data: dict[str, Any], actor: User | None) -> None:
    if task.form_key == LEAD_VERIFICATION.form_key:
        confirmed = data["decision"] == "confirmed"
        reason = "" if confirmed else (data.get("reason") or "").strip()
        db.session.add(LeadVerification(
            lead_id=lead.id, visited_on=date.fromisoformat(data["visited_on"]), verifiers=data["verifiers"],
            guarantee_gaps=list(data.get("guarantee_gaps") or []), findings=data["findings"], confirmed=confirmed,
            reason=reason, recorded_by_id=actor.id if actor else None))
        if confirmed:
            lead.status = "verified"
        else:
            lead.outcome_reason = reason
    elif task.form_key == INCOME_ASSESSMENT.form_key:
        db.session.add(_income_assessment(lead, data, actor))


def _money(value: Any) -> Decimal:
    """A form amount in yuan and fen (the form refused more than two decimals), "1E+3" written out."""
    return (Decimal(str(value)) if value not in (None, "") else Decimal(0)).quantize(Decimal("0.01"))


def _income_assessment(lead: RiskLead, data: dict[str, Any], actor: User | None) -> IncomeAssessment:
    """The form's figures, weighed against the line in force now (the form refused a year without one)."""
    today = china_today()
    line = line_for(today.year, lead.village_code)
    assert line is not None  # IncomeAssessmentForm.validate_members
    names = {str(m.id): m.name for m in lead.household.members}
    amounts = [{kind: _money(entry.get(kind)) for kind in INCOME_TYPES} for entry in data["members"]]
    incomes = [{"member_id": int(entry["member_id"]), "name": names.get(str(entry["member_id"]), ""),
                **{kind: str(value) for kind, value in member.items()}}
               for entry, member in zip(data["members"], amounts, strict=True)]
    spending = _money(data.get("medical_spending")) + _money(data.get("schooling_spending"))
    result = assess(amounts,
                    _money(data.get("business_costs")), spending, int(data["persons"]), line.amount,
                    lead.household.kind)
    first, last = income_window(today)
    return IncomeAssessment(
        lead_id=lead.id, household_id=lead.household_id, period_from=first, period_to=last, member_incomes=incomes,
        persons=result.persons, total_income=result.total_income, business_costs=result.business_costs,
        eligible_spending=result.eligible_spending, per_capita_net=result.per_capita_net,
        per_capita_after_spending=result.per_capita_after_spending, monitoring_line_id=line.id,
        line_amount=line.amount, within_line=bool(result.within_line),
        proposed_category=result.proposed_category or "", note=(data.get("note") or "").strip(),
        recorded_by_id=actor.id if actor else None)


# Called in the step that confirms a lead (the risk is real and its income assessed): the national mechanism's
# identification starts from there (app/identification, registered by the app factory).
ON_CONFIRMED: list[Callable[[RiskLead, User | None], object]] = []


def _after_step(lead: RiskLead, snapshot: WorkflowSnapshot, actor: User | None) -> None:
    if snapshot.completed:
        lead.status = outcome_of(PROCESS_KEY, snapshot.end_event) or "confirmed"
        lead.closed_at = utcnow()
        if lead.status == "confirmed":
            for react in ON_CONFIRMED:
                react(lead, actor)


def decision_due(lead: RiskLead) -> date:
    """The national cap: from the day the risk was found to the county's decision within 15 days."""
    return lead.discovered_on + timedelta(days=int(current_app.config.get("CERTIFICATION_DAYS", 15)))


def _deadline_cap(lead: RiskLead, info: ReadyTaskInfo) -> date | None:
    """入户核实 within the county's working days of the lead's recording, and everything within the national
    15 days from the day the risk was found."""
    national = decision_due(lead)
    if info.form_key == LEAD_VERIFICATION.form_key:
        recorded = to_china(lead.created_at).date()
        working_days = setting_value("lead_verification_working_days", recorded, area_code=lead.village_code)
        verify_by = add_working_days(recorded, working_days)
        return min(verify_by, national)
    return national


def _page_context(lead: RiskLead) -> dict[str, Any]:
    today = china_today()
    return {"lead_documents": documents_of(lead), "income_window": income_window(today),
            "monitoring_line": line_for(today.year, lead.village_code)}


# Registered by the app factory (app/__init__.py).
LEAD_SUBJECT = runtime.SubjectHooks(
    kind="lead",
    model=RiskLead,
    noun="风险线索",
    label=_label,
    assignee_for=lambda _lead, _role: None,
    form_context=_form_context,
    after_task=_after_task,
    after_step=_after_step,
    deadline_cap=_deadline_cap,
    visible_to=lead_clause,
    summary_template="leads/_task_summary.html",
    show_url=lambda lead: url_for("leads.show", lead_id=lead.id),
    page_context=lambda lead, _task, _args: _page_context(lead),
)
