"""The national procedure's steps as its people take them, through the real pages: a resident declares, the village
team verifies and assesses, the village reviews, posts the notice, the town and the county decide; later the cadre
carries out the measures and the village applies for risk elimination."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from app.clock import china_today
from app.extensions import db
from app.models import Case, Measure, ReadyTask, RiskLead, User
from tests.collab.conftest import JPEG
from tests.leads.test_declarations import Resident, declaration, leads, member_of
from tests.leads.test_income import income_form, set_line
from tests.leads.test_verification import VERIFIED, upload, verification_task

TEAM, CERTIFIER, COUNTY, CADRE = "chengguan01_team", "chengguan_certifier", "county_office", "chengguan01_cadre1"

MEETING = {"place": "村委会会议室", "attendees": "第一书记张三、村民代表李四、王五、赵六，驻村工作队全体",
           "attendance": "12", "minutes": "逐户评议，表决通过"}


def confirmed_lead(app, login_as, index: int = 0, urgent: bool = False, wages: tuple[str, ...] = ("3000",),
                   line: str = "8700", day: date | None = None, **declared: str) -> RiskLead:
    """A resident's declaration, verified at home and its income assessed: the lead is confirmed and its case open,
    waiting for 民主评议 (and, on the fast path, the measures given at once)."""
    day = day or china_today()
    set_line(login_as, line, year=day.year)
    _, name, number = member_of(app, index=index)
    flood = "山洪冲毁住房，全家暂住亲戚家"
    more = {"urgency": "urgent", "risk_types": "disaster", "description": flood} if urgent else {}
    assert Resident(app).declare(**declaration(name, number, **{**more, **declared})).status_code == 201
    lead = leads(app)[-1]
    team = login_as(TEAM)
    task = verification_task(app, lead.id)
    assert upload(team, lead.id, task.id, JPEG).status_code == 303
    team.complete("Task_VerifyAtHome", dict(VERIFIED, visited_on=day.isoformat()))
    task = verification_task(app, lead.id)
    team.complete("Task_AssessIncome", income_form(team, task.id, list(wages), persons="4"))
    with app.app_context():
        lead = db.session.get(RiskLead, lead.id)
        db.session.expunge(lead)
    assert lead.status == "confirmed" and lead.case_id is not None
    return lead


def case_row(app, case_id: int) -> Case:
    with app.app_context():
        case = db.session.get(Case, case_id)
        db.session.expunge(case)
        return case


def tasks_of(app, case_id: int) -> list[str]:
    with app.app_context():
        return sorted(db.session.scalars(select(ReadyTask.bpmn_id).where(ReadyTask.about("case", case_id))))


def due_dates(app, case_id: int) -> dict[str, date | None]:
    with app.app_context():
        return dict(db.session.execute(select(ReadyTask.bpmn_id, ReadyTask.due_on)
                                       .where(ReadyTask.about("case", case_id))).all())


def review(team, case_id: int, decision: str = "propose", category: str | None = None, expect: int = 302,
           **more: str) -> Any:
    """民主评议; without a category the page's own (proposed from the income assessment) is sent."""
    data = {**MEETING, "held_on": china_today().isoformat(), "decision": decision, "reason": "", **more}
    if category is not None:
        data["category"] = category
    return team.complete("Task_IdentificationReview", data, case_id=case_id, expect=expect)


def post_notice(team, case_id: int, objection: str = "") -> None:
    """Post the notice (five days, begun a week ago, so its period is over), let the timer fire, record objections."""
    posted = (china_today() - timedelta(days=7)).isoformat()
    team.complete("Task_PostNotice", {"posted_on": posted, "period_days": "5", "location": "村委会公示栏"},
                  case_id=case_id)
    fire_timers(team.app)
    if objection:
        team.complete("Task_RecordObjections", {"decision": "objection", "objection_content": objection},
                      case_id=case_id)
    else:
        team.complete("Task_RecordObjections", {"decision": "no_objection"}, case_id=case_id)


def fire_timers(app) -> None:
    from app.workflow.runtime import run_due_timers

    with app.app_context():
        run_due_timers()
        db.session.commit()


def town_review(certifier, case_id: int, decision: str = "pass", expect: int = 302, **more: str) -> Any:
    data = {"decision": decision, "meeting_date": china_today().isoformat(), "opinion": "经镇党委会审核", **more}
    return certifier.complete("Task_TownIdentificationReview", data, case_id=case_id, expect=expect)


def county_decision(county, case_id: int, decision: str = "approve", **more: str) -> Any:
    data = {"decision": decision, "document_no": "石农发〔2026〕12号", "opinion": "审定", **more}
    return county.complete("Task_CountyIdentification", data, case_id=case_id)


def identify(app, login_as, case_id: int, category: str | None = None) -> None:
    """民主评议 → 村内公示 → 乡镇审核 → 县级审定 → 结果公告: the household is a monitored household."""
    team = login_as(TEAM)
    review(team, case_id, category=category)
    post_notice(team, case_id)
    town_review(login_as(CERTIFIER), case_id)
    county_decision(login_as(COUNTY), case_id)
    post_notice(team, case_id)


def user_id(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.username == username))


def plan_and_carry_out(app, login_as, case_id: int, deadline: date | None = None) -> None:
    """一户一策 with its cadre, then the cadre reports every measure carried out."""
    team = login_as(TEAM)
    deadline = deadline or china_today() + timedelta(days=30)
    team.complete("Task_DraftMeasures", {
        "measures-0-content": "申请临时救助 3000 元", "measures-0-measure_type": "temporary_relief",
        "measures-0-responsible_unit": "县民政局", "measures-0-deadline": deadline.isoformat(),
        "measures-1-content": "安排公益性岗位", "measures-1-measure_type": "public_welfare_job",
        "measures-1-responsible_unit": "县人社局", "measures-1-deadline": deadline.isoformat(),
        "cadre_id": str(user_id(app, CADRE))}, case_id=case_id)
    cadre = login_as(CADRE)
    with app.app_context():
        pending = db.session.scalars(select(Measure.id).where(Measure.case_id == case_id, Measure.status != "done")
                                     .order_by(Measure.position)).all()
    results = {}
    for index, measure_id in enumerate(pending):
        results.update({f"results-{index}-measure_id": str(measure_id), f"results-{index}-result": "已落实",
                        f"results-{index}-completed_on": china_today().isoformat()})
    cadre.complete("Task_CarryOutMeasures", results, case_id=case_id)


def elimination_form(team, case_id: int, wages: tuple[str, ...] = ("40000",), **more: Any) -> list[tuple[str, str]]:
    task = team.task("Task_EliminationCheck", case_id)
    html = team.get(f"/tasks/{task['id']}").get_data(as_text=True)
    member_ids = re.findall(r'name="members-(\d+)-member_id" type="hidden" value="(\d+)"', html)
    assert member_ids, "no member rows on the elimination check"
    pairs = []
    for (index, member_id), wage in zip(member_ids, list(wages) + ["0"] * len(member_ids), strict=False):
        pairs += [(f"members-{index}-member_id", member_id), (f"members-{index}-wage", wage)]
    fields = {"checked_on": china_today().isoformat(), "verifiers": "王队长、李主任", "persons": "4",
              "months_above_line": "8", "risk_resolved": "yes", "new_risk": "no",
              "findings": "务工收入稳定，住房安全，两不愁三保障均有保障", "decision": "apply", **more}
    for key, value in fields.items():
        if isinstance(value, list | tuple):
            pairs += [(key, v) for v in value]
        else:
            pairs.append((key, str(value)))
    return pairs


def monitored_case(app, login_as, days_ago: int = 220, index: int = 0, line: str = "8700") -> int:
    """A household identified `days_ago` days ago, its measures planned and carried out then: its case waits at the
    village team's elimination check (the line of this year recorded too)."""
    from app.clock import china_moment, travel_to

    then = china_today() - timedelta(days=days_ago)
    with travel_to(china_moment(then, 9)):
        lead = confirmed_lead(app, login_as, index=index, day=then, line=line)
        identify(app, login_as, lead.case_id)
        plan_and_carry_out(app, login_as, lead.case_id)
    set_line(login_as, line, year=china_today().year)
    assert tasks_of(app, lead.case_id) == ["Task_EliminationCheck"]
    return lead.case_id


def eliminate(app, login_as, case_id: int) -> None:
    """风险消除: the check applies, the village agrees, the notice passes, the town and the county approve, the
    announcement passes."""
    team = login_as(TEAM)
    team.complete("Task_EliminationCheck", elimination_form(team, case_id), case_id=case_id)
    team.complete("Task_EliminationReview", {**MEETING, "held_on": china_today().isoformat(), "decision": "agree",
                                             "reason": ""}, case_id=case_id)
    post_notice(team, case_id)
    login_as(CERTIFIER).complete("Task_TownEliminationReview", {
        "decision": "pass", "meeting_date": china_today().isoformat(), "opinion": "同意"}, case_id=case_id)
    login_as(COUNTY).complete("Task_CountyElimination", {"decision": "approve", "document_no": "",
                                                        "opinion": "审定风险消除"}, case_id=case_id)
    post_notice(team, case_id)
