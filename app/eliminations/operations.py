"""What the elimination forms record, what they need to know, and the reversal of an elimination."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update

from app.access import can_revert_elimination, in_area
from app.clock import china_today
from app.eliminations.criteria import (
    Criterion,
    guarantee_criterion,
    income_criteria,
    labour_criterion,
    measure_criterion,
    monitoring_criterion,
    new_risk_criterion,
    of_working_age,
    original_risk_criterion,
)
from app.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from app.extensions import db
from app.identification.operations import meeting_from, open_case_of
from app.leads.income import INCOME_TYPES, assess
from app.models import Case, EliminationCheck, EliminationReversal, ReadyTask, User
from app.processes.ties import NATIONAL_CASE
from app.settings import line_for, setting_value
from app.workflow import runtime
from app.workflow.write import write_columns

MAX_REASON = 2000


def last_reversal(case: Case) -> date | None:
    return db.session.scalar(select(func.max(EliminationReversal.reverted_on))
                             .where(EliminationReversal.case_id == case.id))


def record_criteria(case: Case, today: date) -> list[Criterion]:
    """The criteria the case's own records decide: how long it has been monitored and whether a measure was carried
    out — since the last reversal of an elimination, if there was one: the household is put forward again only for
    what has happened since."""
    reverted_on = last_reversal(case)
    done = sum(1 for m in case.measures
               if m.status == "done" and (reverted_on is None or (m.completed_on and m.completed_on >= reverted_on)))
    months = setting_value("elimination_monitoring_months", today, area_code=case.village_code)
    return [monitoring_criterion(case.identified_on, today, months, reverted_on),
            measure_criterion(done, len(case.measures), reverted_on)]


def check_context(case: Case, task: ReadyTask) -> dict[str, Any]:
    today = china_today()
    line = line_for(today.year, case.village_code)
    members = case.household.members
    return {
        "members": [(m.id, f"{m.name}（{m.relation}）") for m in members],
        "monitoring_line": line.amount if line else None,
        "working_age_members": [m.id for m in members if of_working_age(m.id_number, today)],
        "elimination_refusals": [(c.key, c.message) for c in record_criteria(case, today) if not c.met],
        "income_months_required": setting_value("elimination_income_months", today, area_code=case.village_code),
    }


def _money(value: Any) -> Decimal:
    return (Decimal(str(value)) if value not in (None, "") else Decimal(0)).quantize(Decimal("0.01"))


def record_check(case: Case, task: ReadyTask, data: dict[str, Any], actor: User | None) -> None:
    """The check with every criterion as it stood that day: the form refused an application that fails one."""
    today = china_today()
    line = line_for(today.year, case.village_code)
    members = case.household.members
    names = {str(m.id): m.name for m in members}
    amounts = [{kind: _money(entry.get(kind)) for kind in INCOME_TYPES} for entry in data["members"]]
    spending = _money(data.get("medical_spending")) + _money(data.get("schooling_spending"))
    result = assess(amounts, _money(data.get("business_costs")), spending, int(data["persons"]),
                    line.amount if line else None, case.household.kind)
    unable = [int(v) for v in data.get("unable_to_work") or []]
    gaps = list(data.get("guarantee_gaps") or [])
    criteria = [
        *income_criteria(result.per_capita_after_spending, line.amount if line else None, today.year,
                         int(data["months_above_line"]),
                         setting_value("elimination_income_months", today, area_code=case.village_code)),
        *record_criteria(case, today),
        original_risk_criterion(data["risk_resolved"] == "yes"),
        guarantee_criterion(gaps),
        new_risk_criterion(data["new_risk"] == "yes"),
        labour_criterion([m.id for m in members if of_working_age(m.id_number, today)], unable),
    ]
    db.session.add(EliminationCheck(
        case_id=case.id, checked_on=date.fromisoformat(data["checked_on"]), verifiers=data["verifiers"].strip(),
        decision=data["decision"], findings=data["findings"].strip(), guarantee_gaps=gaps,
        risk_resolved=data["risk_resolved"] == "yes", new_risk=data["new_risk"] == "yes",
        months_above_line=int(data["months_above_line"]), unable_to_work=unable,
        member_incomes=[{"member_id": int(entry["member_id"]), "name": names.get(str(entry["member_id"]), ""),
                         **{kind: str(value) for kind, value in amount.items()}}
                        for entry, amount in zip(data["members"], amounts, strict=True)],
        persons=result.persons, total_income=result.total_income, business_costs=result.business_costs,
        eligible_spending=result.eligible_spending, per_capita_net=result.per_capita_net,
        per_capita_after_spending=result.per_capita_after_spending, monitoring_line_id=line.id if line else None,
        line_amount=line.amount if line else None, criteria=[c.as_json() for c in criteria],
        recorded_by_id=actor.id if actor else None))


def record_review(case: Case, task: ReadyTask, data: dict[str, Any], actor: User | None) -> None:
    meeting_from(case, "elimination", data, actor)


def checks_of(case: Case) -> list[EliminationCheck]:
    return list(db.session.scalars(select(EliminationCheck).where(EliminationCheck.case_id == case.id)
                                   .order_by(EliminationCheck.checked_on, EliminationCheck.id)))


def reversals_of(case: Case) -> list[EliminationReversal]:
    return list(db.session.scalars(select(EliminationReversal).where(EliminationReversal.case_id == case.id)
                                   .order_by(EliminationReversal.id)))


def mark_eliminated(case: Case, outcome: str, actor: User | None) -> None:
    """The case reached 标注风险消除: the day is its 风险消除时间. The household and its history stay."""
    if outcome == "eliminated":
        write_columns(case, eliminated_on=china_today())


def revert_elimination(case_id: int, reason: str, actor: User) -> Case:
    """回退: the county office withdraws a risk elimination, with its reason. The household goes back under
    monitoring in the same case, at the village team's elimination check (where it may also redraw measures);
    the withdrawn elimination stays on record."""
    if not can_revert_elimination(actor):
        raise PermissionDenied("只有县级审定部门可以回退风险消除")
    case = db.session.get(Case, case_id)
    if case is None:
        raise NotFound("案件不存在")
    if not in_area(actor, case.village_code):
        raise PermissionDenied("只能回退本辖区农户的风险消除")
    reason = (reason or "").strip()
    if not 4 <= len(reason) <= MAX_REASON:
        message = f"回退未保存：请写明回退的理由（4 到 {MAX_REASON} 个字）"
        raise InvalidInput(message, {"reason": [message]})
    # 一户一案: the household row first (as a new report takes it), then the case's own status, changed by one
    # conditional UPDATE, so of two reversals at once exactly one goes through (on SQLite too).
    in_hand = open_case_of(case.household_id)
    if in_hand is not None:
        raise Conflict(f"该户已有在办案件 #{in_hand.id}，不能回退本案件的风险消除；请在该案件中继续监测帮扶")
    eliminated_on = case.eliminated_on
    reopened = db.session.execute(
        update(Case).where(Case.id == case.id, Case.status == "eliminated", Case.eliminated_on.is_not(None))
        .values(status="assistance", closed_at=None, eliminated_on=None)
        .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
    if reopened != 1 or eliminated_on is None:
        db.session.rollback()
        raise Conflict("该户未标注风险消除（或已回退），不能回退")
    db.session.refresh(case)
    today = china_today()
    db.session.add(EliminationReversal(case_id=case.id, eliminated_on=eliminated_on, reverted_on=today,
                                       reason=reason, reverted_by_id=actor.id))
    instance, snapshot = runtime.start_instance("case", NATIONAL_CASE, {
        "household_id": case.household_id, "fast_path": False, "resume_monitoring": True,
    })
    write_columns(case, instance_id=instance.id)
    runtime.record_event(case, "elimination_reverted", actor, instance_id=instance.id,
                         task_name="回退风险消除，继续监测帮扶", opinion=reason)
    runtime.attach_subject(instance, case, snapshot, actor)
    db.session.flush()
    return case


def register() -> None:
    """Called by the app factory: the elimination forms' records, and the day a case's risk is eliminated."""
    from app.cases.operations import ON_CASE_ENDED, CaseForm, CasePanel, register_case_form, register_case_panel

    register_case_form("elimination_check", CaseForm(context=check_context, effect=record_check))
    register_case_form("elimination_review", CaseForm(effect=record_review))
    if mark_eliminated not in ON_CASE_ENDED:
        ON_CASE_ENDED.append(mark_eliminated)
    register_case_panel(CasePanel("eliminations/_case_panel.html", case_panel))


def case_panel(case: Case, user: User | None) -> dict[str, Any] | None:
    """The case page's risk-elimination section: the checks with their criteria, reversals, and the county
    office's reversal form while the risk stands eliminated. Nothing before the household is monitored."""
    if case.procedure != "national" or case.identified_on is None and not case.eliminated_on:
        return None
    return {"checks": checks_of(case), "reversals": reversals_of(case),
            "may_revert": user is not None and case.status == "eliminated" and can_revert_elimination(user)
            and in_area(user, case.village_code)}
