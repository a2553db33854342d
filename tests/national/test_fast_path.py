"""先帮扶后认定: for a disaster or a sudden event the village gives help at once; the identification runs alongside,
and the measures given stay on record whatever its outcome."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.clock import china_today
from app.extensions import db
from app.models import Measure, ReadyTask
from tests.helpers import without_earlier_steps
from tests.national.steps import (
    CADRE,
    COUNTY,
    TEAM,
    case_row,
    confirmed_lead,
    due_dates,
    identify,
    plan_and_carry_out,
    review,
    tasks_of,
)

FIRST_AID = {"measures-0-content": "发放临时救助金 2000 元", "measures-0-measure_type": "temporary_relief",
             "measures-0-responsible_unit": "镇民政办", "measures-1-content": "安置到村集体周转房",
             "measures-1-measure_type": "housing", "measures-1-responsible_unit": "村委会", "note": "山洪当晚转移安置"}


def first_aid(team, case_id: int, given_on: str = "", expect: int = 302):
    given_on = given_on or china_today().isoformat()
    return team.complete("Task_FirstAid", {**FIRST_AID, "measures-0-given_on": given_on,
                                           "measures-1-given_on": given_on}, case_id=case_id, expect=expect)


def _measures(app, case_id: int) -> list[Measure]:
    with app.app_context():
        rows = db.session.scalars(select(Measure).where(Measure.case_id == case_id).order_by(Measure.position)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def test_an_urgent_lead_opens_its_case_on_the_fast_path_with_help_and_review_side_by_side(app, login_as):
    lead = confirmed_lead(app, login_as, urgent=True)
    case = case_row(app, lead.case_id)
    assert case.fast_path and case.status == "certification"
    assert tasks_of(app, case.id) == ["Task_FirstAid", "Task_IdentificationReview"]
    assert due_dates(app, case.id)["Task_FirstAid"] <= case.decision_due_on
    page = login_as(TEAM).get(f"/cases/{case.id}").get_data(as_text=True)
    assert "先帮扶后认定" in page


def test_the_help_given_is_recorded_as_carried_out_and_refused_when_dated_before_the_risk(app, login_as):
    lead = confirmed_lead(app, login_as, urgent=True)
    team = login_as(TEAM)
    early = (lead.discovered_on - timedelta(days=1)).isoformat()
    refused = first_aid(team, lead.case_id, given_on=early, expect=422).get_data(as_text=True)
    assert "落实日期不能早于发现风险的日期" in refused
    empty = team.complete("Task_FirstAid", {"note": "无"}, case_id=lead.case_id, expect=422).get_data(as_text=True)
    assert "请至少填写一项已先行落实的帮扶措施" in empty
    assert _measures(app, lead.case_id) == []
    first_aid(team, lead.case_id)
    measures = _measures(app, lead.case_id)
    assert [(m.first_aid, m.status, m.completed_on) for m in measures] == [(True, "done", china_today())] * 2
    assert tasks_of(app, lead.case_id) == ["Task_IdentificationReview"]


def test_the_help_given_stays_when_the_household_is_not_identified(app, login_as):
    lead = confirmed_lead(app, login_as, urgent=True)
    team = login_as(TEAM)
    first_aid(team, lead.case_id)
    review(team, lead.case_id, decision="not_propose", reason="灾后已由保险全额理赔，家庭收入稳定")
    assert case_row(app, lead.case_id).status == "rejected"
    assert len(_measures(app, lead.case_id)) == 2
    file = team.get(f"/households/{lead.household_id}").get_data(as_text=True)
    assert "先行帮扶措施" in file and "发放临时救助金 2000 元" in file and "未纳入监测" in file


def test_a_household_not_identified_before_the_help_was_recorded_ends_both_branches(app, login_as):
    lead = confirmed_lead(app, login_as, urgent=True)
    review(login_as(TEAM), lead.case_id, decision="not_propose", reason="核实为误报")
    case = case_row(app, lead.case_id)
    assert case.status == "rejected" and tasks_of(app, case.id) == []


def test_once_identified_the_plan_adds_to_the_help_given_and_the_cadre_reports_on_the_new_measures(app, login_as):
    lead = confirmed_lead(app, login_as, urgent=True)
    team = login_as(TEAM)
    first_aid(team, lead.case_id)
    identify(app, login_as, lead.case_id)
    assert case_row(app, lead.case_id).status == "assistance"
    team.complete("Task_DraftMeasures", {
        "measures-0-content": "申请住房安全保障资金重建住房", "measures-0-measure_type": "housing",
        "measures-0-responsible_unit": "县住建局",
        "measures-0-deadline": (china_today() + timedelta(days=90)).isoformat(),
        "cadre_id": str(_cadre_id(app))}, case_id=lead.case_id)
    measures = _measures(app, lead.case_id)
    assert [m.first_aid for m in measures] == [True, True, False]
    cadre = login_as(CADRE)
    task = cadre.task("Task_CarryOutMeasures", lead.case_id)
    form = without_earlier_steps(cadre.get(f"/tasks/{task['id']}").get_data(as_text=True))
    # The page lists the whole plan; the help given first is already carried out: only the new measure is recorded.
    assert "申请住房安全保障资金重建住房" in form and "发放临时救助金" in form
    recordable = [m.id for m in measures if f"/tasks/{task['id']}/measures/{m.id}\"" in form]
    assert recordable == [measures[2].id]
    assert login_as(COUNTY).get(f"/cases/{lead.case_id}").status_code == 200


def _cadre_id(app) -> int:
    from tests.national.steps import user_id

    return user_id(app, CADRE)


def test_plan_and_carry_out_helper_reaches_the_elimination_check(app, login_as):
    lead = confirmed_lead(app, login_as, urgent=True)
    first_aid(login_as(TEAM), lead.case_id)
    identify(app, login_as, lead.case_id)
    plan_and_carry_out(app, login_as, lead.case_id)
    assert tasks_of(app, lead.case_id) == ["Task_EliminationCheck"]
    assert all(m.status == "done" for m in _measures(app, lead.case_id))


def test_the_review_waiting_alongside_keeps_its_task_and_its_draft_when_the_help_is_recorded(app, login_as):
    lead = confirmed_lead(app, login_as, urgent=True)
    with app.app_context():
        waiting = db.session.scalar(select(ReadyTask).where(ReadyTask.about("case", lead.case_id),
                                                            ReadyTask.bpmn_id == "Task_IdentificationReview"))
        review_id, since = waiting.id, waiting.ready_since
    team = login_as(TEAM)
    saved = team.post(f"/tasks/{review_id}/draft", {"attendees": "村两委、驻村工作队、群众代表", "action": "draft"},
                      page=f"/tasks/{review_id}")
    assert saved.status_code == 303
    first_aid(team, lead.case_id)
    with app.app_context():
        after = db.session.get(ReadyTask, review_id)
        assert after is not None and after.ready_since == since
    page = team.get(f"/tasks/{review_id}").get_data(as_text=True)
    assert "已载入您" in page and "村两委、驻村工作队、群众代表" in page
