from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from flask import url_for
from sqlalchemy import func, select, true

from app.access import can_start_screening, screening_clause
from app.areas import COUNTY_LENGTH, below
from app.clock import china_today
from app.deadlines.policy import month_end
from app.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from app.extensions import db
from app.models import Area, Case, Household, ReadyTask, RiskRegistration, Screening, User
from app.settings import setting_choice
from app.vocab import OPEN_CASE_STATUSES, RISK_TYPES
from app.workflow import runtime
from forms import FormContext

MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_month(month: str) -> str:
    if not MONTH_RE.match(month or ""):
        raise InvalidInput("月份格式应为 YYYY-MM，例如 2026-11", {"month": ["月份格式应为 YYYY-MM，例如 2026-11"]})
    return month


# The diagram a screening runs under each procedure: the county's ends with the assessment meeting that opens
# cases; the national one ends once the households are checked, its risk households becoming leads.
SCREENING_PROCESSES = {"county": "monthly_screening", "national": "national_screening"}
# Called when a screening's last step is done (the national mechanism turns its registrations into leads).
ON_COMPLETED: list[Callable[[Screening, User | None], object]] = []


def start_monthly_screening(month: str, actor: User | None) -> list[Screening]:
    """One screening per village of the county office's county for the month (every county's, from the command
    line), each county under the procedure it has chosen; villages that already have one are left alone."""
    parse_month(month)
    if actor is not None and not can_start_screening(actor):
        raise PermissionDenied("只有县办可以启动月度排查")
    in_scope = below(Area.code, actor.area_code) if actor is not None else true()
    done = set(db.session.scalars(select(Screening.village_code).where(
        Screening.month == month, below(Screening.village_code, actor.area_code) if actor is not None else true())))
    totals = dict(db.session.execute(
        select(Household.village_code, func.count())
        .where(below(Household.village_code, actor.area_code) if actor is not None else true())
        .group_by(Household.village_code)).all())
    created = []
    villages = db.session.scalars(select(Area).where(Area.level == "village", in_scope).order_by(Area.code)).all()
    procedures: dict[str, str] = {}
    for village in villages:
        if village.code in done:
            continue
        county = village.code[:COUNTY_LENGTH]
        if county not in procedures:
            procedures[county] = setting_choice("screening_procedure", area_code=county)
        procedure = procedures[county]
        instance, snapshot = runtime.start_instance("screening", SCREENING_PROCESSES[procedure],
                                                    {"month": month, "village_code": village.code})
        screening = Screening(month=month, village_code=village.code, town_code=village.code[:9],
                              instance_id=instance.id, households_total=totals.get(village.code, 0),
                              started_by_id=actor.id if actor else None, procedure=procedure)
        db.session.add(screening)
        db.session.flush()
        runtime.record_event(screening, "screening_started", actor, instance_id=instance.id,
                             task_name=f"{month} 月度排查开始")
        runtime.attach_subject(instance, screening, snapshot, actor)
        created.append(screening)
    return created


def get_screening(screening_id: int) -> Screening:
    screening = db.session.get(Screening, screening_id)
    if screening is None:
        raise NotFound("排查记录不存在")
    return screening


def _open_screening_task(screening: Screening, actor: User) -> ReadyTask:
    from app.access import can_act_on

    task = db.session.scalar(select(ReadyTask).where(ReadyTask.about("screening", screening.id),
                                                     ReadyTask.form_key == "screening"))
    if task is None:
        raise Conflict("本月排查登记已结束，不能再修改风险户名单")
    if not can_act_on(actor, task):
        raise PermissionDenied("您无权登记本村的风险户")
    return task


def register_household(screening: Screening, household_id: int, risk_type: str, reason: str,
                       actor: User) -> RiskRegistration:
    _open_screening_task(screening, actor)
    household = db.session.get(Household, household_id)
    if household is None or household.village_code != screening.village_code:
        raise InvalidInput("该户不在本村的监测范围内", {"household_id": ["该户不在本村的监测范围内"]})
    if risk_type not in RISK_TYPES:
        raise InvalidInput("请选择返贫风险类型", {"risk_type": ["请选择返贫风险类型"]})
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("请填写详细原因", {"reason": ["请填写详细原因"]})
    if len(reason) > 1000:
        raise InvalidInput("详细原因不超过 1000 字", {"reason": ["详细原因不超过 1000 字"]})
    exists = db.session.scalar(select(RiskRegistration).where(
        RiskRegistration.screening_id == screening.id, RiskRegistration.household_id == household_id))
    if exists is not None:
        raise Conflict(f"{household.head_name}户本月已登记")
    registration = RiskRegistration(screening_id=screening.id, household_id=household_id, risk_type=risk_type,
                                    reason=reason, registered_by_id=actor.id)
    db.session.add(registration)
    db.session.flush()
    runtime.record_event(screening, "household_registered", actor,
                         task_name=f"登记风险户：{household.head_name}（{RISK_TYPES[risk_type]}）", opinion=reason)
    from app.screenings.checks import check_from_registration

    check_from_registration(screening, registration, actor)
    return registration


def remove_registration(screening: Screening, registration_id: int, actor: User) -> None:
    _open_screening_task(screening, actor)
    registration = db.session.get(RiskRegistration, registration_id)
    if registration is None or registration.screening_id != screening.id:
        raise NotFound("登记记录不存在")
    runtime.record_event(screening, "registration_removed", actor,
                         task_name=f"撤销登记：{registration.household.head_name}")
    from app.screenings.checks import get_check

    check = get_check(screening, registration.household_id)
    if check is not None and check.registration_id == registration.id:
        # The roster entry goes, and with it the risk the check recorded: the team found it was none.
        check.registration_id, check.risks, check.risk_detail = None, [], ""
        check.medical_out_of_pocket = check.months_without_work = None
        db.session.flush()
    db.session.delete(registration)
    db.session.flush()


def search_village_households(village_code: str, query: str, limit: int = 20) -> list[Household]:
    query = (query or "").strip().upper()
    stmt = select(Household).where(Household.village_code == village_code)
    if query:
        stmt = stmt.where((Household.head_name.contains(query)) | (Household.head_id_number.contains(query)))
    return list(db.session.scalars(stmt.order_by(Household.household_no).limit(limit)))


# ---- hooks for the runtime ------------------------------------------------------------------

def _label(screening: Screening) -> str:
    return f"{screening.village.name} {screening.month} 月度排查"


def _page_context(screening: Screening, task: ReadyTask, args: Mapping[str, str]) -> dict[str, object]:
    """The screening step's page: how far the village's checks are, and the households a search found."""
    if task.form_key != "screening":
        return {}
    from app.screenings.checks import coverage

    query = args.get("q", "")
    return {"query": query, "coverage": coverage(screening),
            "found": search_village_households(screening.village_code, query) if query else []}


def _form_context(screening: Screening, task: ReadyTask, needs: frozenset[str]) -> FormContext:
    from app.screenings.checks import coverage

    registrations = screening.registrations
    covered = coverage(screening) if task.form_key == "screening" else None
    return FormContext(
        registrations_refused=_refused_reports(registrations) if "registrations_refused" in needs else {},
        today=china_today(),
        households_total=covered.total if covered else screening.households_total,
        households_unaccounted=covered.unaccounted if covered else 0,
        registered_count=len(registrations),
        registrations=[(r.id, f"{r.household.head_name}（{RISK_TYPES.get(r.risk_type, r.risk_type)}）")
                       for r in registrations],
    )


def _refused_reports(registrations: list[RiskRegistration]) -> dict[int, str]:
    """一户一案: a household with a case in hand may not be reported for another (registration id → why)."""
    households = {r.household_id: r for r in registrations}
    if not households:
        return {}
    open_cases = db.session.execute(select(Case.household_id, Case.id).where(
        Case.household_id.in_(households), Case.status.in_(OPEN_CASE_STATUSES))).all()
    return {households[household_id].id:
            f"{households[household_id].household.head_name}户已有在办案件（#{case_id}），不能重复上报"
            for household_id, case_id in open_cases}


def _after_task(screening: Screening, task: ReadyTask, data: dict[str, Any], actor: User | None) -> None:
    if task.form_key == "screening":
        from app.screenings.checks import refresh_counts

        refresh_counts(screening)  # from the checks, the record behind the number
    elif task.form_key == "assessment":
        from app.cases.operations import open_case

        chosen = set(data.get("key_assistance") or [])
        for registration in screening.registrations:
            if registration.id not in chosen:
                continue  # the form refused any chosen household with a case in hand (_refused_reports)
            registration.key_assistance = True
            open_case(registration, actor)


def _after_step(screening: Screening, snapshot: Any, actor: User | None) -> None:
    if snapshot.completed:
        screening.status = "completed"
        from app.clock import utcnow

        screening.completed_at = utcnow()
        for listener in ON_COMPLETED:
            listener(screening, actor)
    elif any(t.form_key == "assessment" for t in snapshot.ready_tasks):
        screening.status = "assessing"


# Registered by the app factory (app/__init__.py).
SCREENING_SUBJECT = runtime.SubjectHooks(
    kind="screening",
    model=Screening,
    noun="月度排查",
    label=_label,
    assignee_for=lambda _s, _role: None,
    form_context=_form_context,
    after_task=_after_task,
    after_step=_after_step,
    # 一月一精准排查、一月一精准评估: both tasks are due by the end of the screening month.
    deadline_cap=lambda screening, _info: month_end(screening.month),
    visible_to=screening_clause,
    summary_template="screenings/_task_summary.html",
    show_url=lambda screening: url_for("screenings.show", screening_id=screening.id),
    page_context=_page_context,
)
