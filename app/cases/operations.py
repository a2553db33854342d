from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app, url_for
from sqlalchemy import select

from app.access import case_clause
from app.clock import china_today, to_china, utcnow
from app.departments.catalogue import department_for_unit
from app.engine import ReadyTaskInfo, WorkflowSnapshot
from app.errors import NotFound
from app.extensions import db
from app.leads.income import MONITORING_CATEGORIES
from app.models import Case, Event, Measure, ReadyTask, RiskRegistration, User, WorkflowInstance
from app.models.workflow import task_title
from app.processes import fields_read_by_conditions
from app.processes.ties import PHASE_PROPERTY, outcome_of
from app.roles import role_label
from app.vocab import CASE_OUTCOMES, DECISION_LABELS, DECISION_PHASES, NOTICE_PHASES, PHASE_ORDER, RISK_LEVELS
from app.workflow import runtime
from app.workflow.write import write_columns
from forms import FormContext


def open_case(registration: RiskRegistration, actor: User | None) -> Case:
    """A household marked for key assistance at the assessment meeting gets its own case."""
    household = registration.household
    instance, snapshot = runtime.start_instance("case", "household_case", {
        "household_id": household.id, "risk_type": registration.risk_type,
    })
    case = Case(household_id=household.id, household_kind=household.kind, screening_id=registration.screening_id,
                village_code=household.village_code, town_code=household.town_code, instance_id=instance.id,
                risk_type=registration.risk_type, reason=registration.reason)
    db.session.add(case)
    db.session.flush()
    registration.case_id = case.id
    runtime.record_event(case, "case_opened", actor, instance_id=instance.id,
                         task_name="评估会议确定为重点帮扶户，报镇认定", opinion=registration.reason)
    runtime.attach_subject(instance, case, snapshot, actor)
    return case


def get_case(case_id: int) -> Case:
    case = db.session.get(Case, case_id)
    if case is None:
        raise NotFound("案件不存在")
    return case


def case_history(case: Case) -> list[Event]:
    return list(db.session.scalars(select(Event).where(Event.about("case", case.id)).order_by(Event.at, Event.id)))


@dataclass(frozen=True)
class EarlierDecision:
    """A step already taken on the case, as the one who decides next needs it: when, which step, who, what they
    decided and why, and what the step recorded (the meeting's day, the risk level, the closure's income …)."""

    at: datetime
    step: str
    who: str
    decision: str
    opinion: str
    details: list[tuple[str, str]]


def _measure_line(measure: dict[str, Any]) -> str:
    unit, deadline = measure.get("responsible_unit") or "", measure.get("deadline") or ""
    said = "，".join(part for part in (unit, f"{deadline}前" if deadline else "") if part)
    return f"{measure.get('content', '')}（{said}）" if said else str(measure.get("content", ""))


# What a step's form recorded that a later decision weighs, by field, with how it reads.
DECISION_DETAILS: dict[str, tuple[str, Callable[[Any], str]]] = {
    "risk_level": ("认定类别", lambda v: RISK_LEVELS.get(v, str(v))),
    "category": ("监测类别", lambda v: MONITORING_CATEGORIES.get(v, str(v))),
    "meeting_date": ("会议日期", str),
    "posted_on": ("张贴日期", str),
    "period_days": ("公示天数", lambda v: f"{v} 天"),
    "location": ("张贴地点", str),
    "applied_on": ("申请日期", str),
    "income_per_capita": ("家庭人均纯收入", lambda v: f"{v} 元"),
    "summary": ("帮扶成效", str),
    "objection_content": ("异议内容", str),
    "measures": ("帮扶措施", lambda v: "；".join(_measure_line(m) for m in v) if isinstance(v, list) else str(v)),
}


def earlier_decisions(case: Case) -> list[EarlierDecision]:
    """The case's completed steps in order, with their decisions, opinions and what their forms recorded."""
    return earlier_decisions_of([case.id]).get(case.id, [])


def earlier_decisions_of(case_ids: list[int]) -> dict[int, list[EarlierDecision]]:
    """earlier_decisions() of several cases in one query (the batch approval page shows each case's)."""
    if not case_ids:
        return {}
    events = db.session.scalars(select(Event).where(Event.about_any("case", case_ids),
                                                    Event.kind == "task_completed")
                                .order_by(Event.at, Event.id)).all()
    found: dict[int, list[EarlierDecision]] = {}
    for event in events:
        data = event.data if isinstance(event.data, dict) else {}
        details = [(label, show(data[key])) for key, (label, show) in DECISION_DETAILS.items()
                   if data.get(key) not in (None, "", [])]
        who = f"{event.actor.full_name}（{role_label(event.actor.role)}）" if event.actor else "系统"
        found.setdefault(event.subject_id or 0, []).append(
            EarlierDecision(event.at, event.task_name or "", who,
                            DECISION_LABELS.get(event.decision or "", event.decision or ""),
                            event.opinion or "", details))
    return found


def case_ready_tasks(case: Case) -> list[ReadyTask]:
    return list(db.session.scalars(select(ReadyTask).where(ReadyTask.about("case", case.id)).order_by(ReadyTask.id)))


def holder_label(task: ReadyTask, case: Case) -> str:
    """Who holds the task: a person for cadre tasks, else the role and its unit."""
    if task.assignee_id is not None:
        user = db.session.get(User, task.assignee_id)
        return f"{role_label(task.role)} {user.full_name}" if user else role_label(task.role)
    area = case.village.name if task.role == "village_team" else None
    if task.role in ("town_certifier", "town_leadership"):
        from app.models import Area

        town = db.session.get(Area, case.town_code)
        area = town.name if town else None
    return f"{area} · {role_label(task.role)}" if area else role_label(task.role)


# ---- what a case's forms do beyond the workflow ---------------------------------------------------------

@dataclass(frozen=True)
class CaseForm:
    """A case form's own part: what its page needs to know beyond the common context (FormContext fields, by
    name) and the records its submission writes. The county's forms are registered below; the national
    mechanism's package registers its own (app/identification, app/eliminations), so a new procedure's forms need
    no branch here."""

    context: Callable[[Case, ReadyTask], dict[str, Any]] | None = None
    effect: Callable[[Case, ReadyTask, dict[str, Any], User | None], None] | None = None


CASE_FORMS: dict[str, CaseForm] = {}
# Called once a case has ended, with its outcome (closed | rejected | eliminated), in the step's transaction.
ON_CASE_ENDED: list[Callable[[Case, str, User | None], None]] = []


def register_case_form(form_key: str, form: CaseForm) -> None:
    CASE_FORMS[form_key] = form


@dataclass(frozen=True)
class CasePanel:
    """A section of the case page that a procedure's package adds: its template, and what it shows of a case to a
    user (None: nothing, e.g. for a case of another procedure)."""

    template: str
    # None for the user: the section as a task page shows it, without its actions.
    context: Callable[[Case, User | None], dict[str, Any] | None]


CASE_PANELS: list[CasePanel] = []


def register_case_panel(panel: CasePanel) -> None:
    if all(p.template != panel.template for p in CASE_PANELS):
        CASE_PANELS.append(panel)


def case_panels(case: Case, user: User | None) -> list[tuple[str, dict[str, Any]]]:
    shown = []
    for panel in CASE_PANELS:
        context = panel.context(case, user)
        if context is not None:
            shown.append((panel.template, context))
    return shown


def _record_certification(case: Case, task: ReadyTask, data: dict[str, Any], actor: User | None) -> None:
    if data.get("decision") == "certify":
        write_columns(case, risk_level=data.get("risk_level"))


def _record_approval(case: Case, task: ReadyTask, data: dict[str, Any], actor: User | None) -> None:
    """The county office's approval is the day the household is identified for monitoring (风险识别时间 in the
    national columns); approved again after an objection, the later day."""
    if data.get("decision") == "approve":
        write_columns(case, identified_on=china_today())
        if case.approved_at is None:
            write_columns(case, approved_at=utcnow())


def _record_plan(case: Case, task: ReadyTask, data: dict[str, Any], actor: User | None) -> None:
    """A returned plan is redrawn whole: the filed plan is the last one. Measures already carried out, or given
    first on the fast path, are records of what was done and stay."""
    kept = [m for m in case.measures if m.first_aid or m.status == "done"]
    case.measures[:] = kept
    db.session.flush()
    for position, entry in enumerate(data["measures"], start=len(kept)):
        case.measures.append(Measure(
            position=position, content=entry["content"], measure_type=entry["measure_type"],
            responsible_unit=entry["responsible_unit"], deadline=date.fromisoformat(entry["deadline"]),
            department=department_for_unit(entry["responsible_unit"])))
    if case.cadre_id != data["cadre_id"]:
        cadre = db.session.get(User, data["cadre_id"])
        runtime.record_event(case, "cadre_assigned", actor, task_name="确定包抓干部",
                             opinion=cadre.full_name if cadre else None)
    case.cadre_id = data["cadre_id"]


def _record_results(case: Case, task: ReadyTask, data: dict[str, Any], actor: User | None) -> None:
    """Each measure's result; measures the cadre added go on the plan (the diagram has them filed first)."""
    results = {str(r["measure_id"]): r for r in data["results"]}
    for measure in case.measures:
        result = results.get(str(measure.id))
        if result:
            measure.status = "done"
            measure.completed_on = date.fromisoformat(result["completed_on"])
            measure.result = result["result"]
    added = data.get("new_measures") or []
    for position, entry in enumerate(added, start=max((m.position for m in case.measures), default=-1) + 1):
        case.measures.append(Measure(
            position=position, content=entry["content"], measure_type=entry["measure_type"],
            responsible_unit=entry["responsible_unit"], deadline=date.fromisoformat(entry["deadline"]),
            department=department_for_unit(entry["responsible_unit"])))
    if added:
        runtime.record_event(case, "measures_added", actor, task_name="补充帮扶措施",
                             opinion="；".join(entry["content"] for entry in added)[:2000])


def _execution_context(case: Case, task: ReadyTask) -> dict[str, Any]:
    """New measures are offered where the task's diagram routes them (a gateway reads new_measures)."""
    return {"may_add_measures": "new_measures" in fields_read_by_conditions(task.diagram_version_id)}


def measures_to_carry_out(case: Case) -> list[Measure]:
    """The measures a cadre still reports on: those of the plan not yet carried out."""
    return [m for m in case.measures if m.status != "done"]


register_case_form("town_certification", CaseForm(effect=_record_certification))
register_case_form("county_approval", CaseForm(effect=_record_approval))
register_case_form("measures_plan", CaseForm(effect=_record_plan))
register_case_form("measures_execution", CaseForm(context=_execution_context, effect=_record_results))


# ---- hooks for the runtime ------------------------------------------------------------------

def _label(case: Case) -> str:
    return f"{case.household.head_name}户"


def _assignee_for(case: Case, role: str) -> int | None:
    return case.cadre_id if role == "cadre" else None


def _form_context(case: Case, task: ReadyTask, needs: frozenset[str]) -> FormContext:
    """Only what the form reads: most steps need neither the village's cadres nor the case's measures."""
    from app.config import DEFAULT_NOTICE_DAYS, MIN_NOTICE_DAYS
    from app.models import User as UserModel

    cadres = db.session.scalars(select(UserModel).where(UserModel.role == "cadre", UserModel.active,
                                                         UserModel.area_code == case.village_code)
                                .order_by(UserModel.username)).all() if "cadres" in needs else []
    context = FormContext(
        today=china_today(),
        cadres=[(u.id, f"{u.full_name}（{u.unit}）") for u in cadres],
        measures=[(m.id, m.content) for m in measures_to_carry_out(case)] if "measures" in needs else [],
        # While a call activity runs, the case's status is its phase, which names the notice (公示 or 公告, and of
        # which procedure): CASE_PHASES, NATIONAL_CASE_PHASES_TIE.
        notice_kind=case.status if case.status in NOTICE_PHASES else "publicity",
        min_notice_days=MIN_NOTICE_DAYS,
        default_notice_days=DEFAULT_NOTICE_DAYS,
    )
    form = CASE_FORMS.get(task.form_key)
    if form is not None and form.context is not None:
        context = replace(context, **form.context(case, task))
    return context


def _after_task(case: Case, task: ReadyTask, data: dict[str, Any], actor: User | None) -> None:
    form = CASE_FORMS.get(task.form_key)
    if form is not None and form.effect is not None:
        form.effect(case, task, data, actor)


def process_key_of(case: Case) -> str:
    instance = db.session.get(WorkflowInstance, case.instance_id)
    assert instance is not None  # the foreign key
    return instance.process_version.process_key


def _after_step(case: Case, snapshot: WorkflowSnapshot, actor: User | None) -> None:
    now = utcnow()
    if snapshot.completed:
        # The diagrams' checks refuse an end the procedure does not declare (app/processes/ties.py); a version
        # deployed before the check keeps the old reading of any other end as closed.
        status = outcome_of(process_key_of(case), snapshot.end_event) or "closed"
        step = CASE_OUTCOMES.get(status, status)
        write_columns(case, status=status, closed_at=now, current_step=step, updated_at=now)
        runtime.record_event(case, f"case_{status}", actor, task_name=step)
        for react in ON_CASE_ENDED:
            react(case, status, actor)
        return
    changes: dict[str, Any] = {"updated_at": now}
    if snapshot.ready_tasks:
        phases = [t.context_properties.get(PHASE_PROPERTY) or t.properties.get(PHASE_PROPERTY)
                  for t in snapshot.ready_tasks]
        known = [p for p in phases if p]
        changes["status"] = max(known, key=_phase_rank) if known else case.status
        changes["current_step"] = "、".join(task_title(t.context_name, t.name) for t in snapshot.ready_tasks)[:255]
    elif snapshot.next_timer_at is not None:
        ends = to_china(snapshot.next_timer_at).strftime("%Y-%m-%d %H:%M")
        # The notice waiting is the phase the case is in: a 公示 (publicity, before a decision) or a 公告 (the result).
        period = "公告期" if case.status in ANNOUNCEMENT_PHASES else "公示期"
        changes["current_step"] = f"{period}，{ends} 期满"[:255]
    write_columns(case, **changes)


ANNOUNCEMENT_PHASES = ("announcement", "result_notice", "elim_notice")


def _phase_rank(phase: str) -> int:
    return PHASE_ORDER.index(phase) if phase in PHASE_ORDER else -1


def _deadline_cap(case: Case, info: ReadyTaskInfo) -> date | None:
    """Discovery to the county's decision within 15 days (every task of those phases, the notices' included);
    carrying out measures by their 完成时限."""
    phase = info.context_properties.get(PHASE_PROPERTY) or info.properties.get(PHASE_PROPERTY)
    if phase in DECISION_PHASES:
        if case.decision_due_on is not None:
            return case.decision_due_on
        days = int(current_app.config.get("CERTIFICATION_DAYS", 15))
        return to_china(case.opened_at).date() + timedelta(days=days)
    if info.form_key == "measures_execution":
        pending = measures_to_carry_out(case)
        return max(m.deadline for m in pending) if pending else None
    return None


# Registered by the app factory (app/__init__.py).
CASE_SUBJECT = runtime.SubjectHooks(
    kind="case",
    model=Case,
    noun="案件",
    label=_label,
    assignee_for=_assignee_for,
    form_context=_form_context,
    after_task=_after_task,
    after_step=_after_step,
    deadline_cap=_deadline_cap,
    visible_to=case_clause,
    summary_template="cases/_task_summary.html",
    show_url=lambda case: url_for("cases.show", case_id=case.id),
    panel_template="collab/_task_panel.html",
    page_context=lambda case, _task, _args: {"panels": case_panels(case, None), "earlier": earlier_decisions(case)},
)
