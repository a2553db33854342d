"""识别认定 under the national mechanism: a lead verified at home and assessed opens a case of the national
procedure; 民主评议 (attendance, minutes, the monitoring category proposed from the income assessment) → 村内公示
(at least 5 days, objections as today) → 乡镇审核 → 县级审定 → 结果公告; from the risk's discovery to the county's
decision within 15 days, on every task's due date, the case and the scoreboard; a household not identified ends
with its reason, kept in the household's file and told to the declarant."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.clock import china_moment, china_today, travel_to
from app.extensions import db
from app.models import Case, Household, ReviewMeeting, RiskLead
from tests.leads.test_declarations import Resident, declaration, leads, member_of
from tests.national.steps import (
    CERTIFIER,
    COUNTY,
    MEETING,
    TEAM,
    case_row,
    confirmed_lead,
    county_decision,
    due_dates,
    identify,
    post_notice,
    review,
    tasks_of,
    town_review,
)


def _checked(page: str, name: str, value: str) -> bool:
    for tag in re.findall(r"<input[^>]*>", page):
        if f'name="{name}"' in tag and f'value="{value}"' in tag:
            return "checked" in tag
    return False


def _kind(app, household_id: int) -> str:
    with app.app_context():
        return db.session.get(Household, household_id).kind


def test_a_confirmed_lead_opens_a_national_case_waiting_for_the_villages_review(app, login_as):
    lead = confirmed_lead(app, login_as)
    case = case_row(app, lead.case_id)
    assert (case.procedure, case.status, case.channel, case.fast_path) == ("national", "certification",
                                                                            "self_declared", False)
    assert case.discovered_on == lead.discovered_on
    assert case.decision_due_on == lead.discovered_on + timedelta(days=15)
    assert tasks_of(app, case.id) == ["Task_IdentificationReview"]
    team = login_as(TEAM)
    task = team.task("Task_IdentificationReview", case.id)
    page = team.get(f"/tasks/{task['id']}").get_data(as_text=True)
    # 3000 yuan a year for 4 persons lies within the line: the category proposed follows the household's kind.
    proposed = "unstable_lifted" if _kind(app, lead.household_id) == "lifted" else "marginal"
    assert _checked(page, "category", proposed)
    assert "人均纯收入 <strong>750.00 元</strong>" in page and "在监测范围内" in page  # what the meeting weighs
    shown = team.get(f"/leads/{lead.id}").get_data(as_text=True)
    assert f"/cases/{case.id}" in shown and "已转入识别认定" in shown


def test_the_identification_path_runs_from_review_to_the_result_notice(app, login_as):
    lead = confirmed_lead(app, login_as)
    team = login_as(TEAM)
    review(team, lead.case_id, category="sudden_hardship")
    assert tasks_of(app, lead.case_id) == ["Task_PostNotice"]
    assert case_row(app, lead.case_id).status == "review_publicity"
    # The village's notice lists the household with its category, never an ID number.
    notice = team.get(f"/notices/{lead.village_code}?kind=review_publicity").get_data(as_text=True)
    assert "拟纳入防止返贫监测对象" in notice and "突发严重困难户" in notice and "经入户核实、民主评议" in notice
    with app.app_context():
        household = db.session.get(Household, lead.household_id)
        assert household.head_name in notice and household.head_id_number not in notice
    post_notice(team, lead.case_id)
    assert tasks_of(app, lead.case_id) == ["Task_TownIdentificationReview"]
    town_review(login_as(CERTIFIER), lead.case_id)
    county_decision(login_as(COUNTY), lead.case_id)
    assert case_row(app, lead.case_id).status == "result_notice"
    post_notice(team, lead.case_id)
    case = case_row(app, lead.case_id)
    assert case.status == "assistance" and case.identified_on == china_today()
    assert case.category == "sudden_hardship"
    assert tasks_of(app, case.id) == ["Task_DraftMeasures"]
    with app.app_context():
        meeting = db.session.scalar(select(ReviewMeeting).where(ReviewMeeting.case_id == case.id))
        assert (meeting.purpose, meeting.decision, meeting.attendance) == ("identification", "propose", 12)
        assert "村民代表" in meeting.attendees and meeting.minutes == MEETING["minutes"]
        assert db.session.get(RiskLead, lead.id).status == "identified"
    page = login_as(COUNTY).get(f"/cases/{case.id}").get_data(as_text=True)
    assert "突发严重困难户" in page and "审定纳入监测，用时 0 天（15 日内）" in page and lead.receipt_no in page
    listed = login_as(COUNTY).get("/leads").get_data(as_text=True)
    assert "已认定为监测对象" in listed and f"/cases/{case.id}" in listed and "突发严重困难户" in listed


def test_the_review_meeting_refuses_a_proposal_without_its_category_or_quorum(app, login_as):
    lead = confirmed_lead(app, login_as)
    team = login_as(TEAM)
    refused = review(team, lead.case_id, category="", expect=422).get_data(as_text=True)
    # The proposed category is pre-selected; a request that clears it is refused.
    assert "拟纳入监测时请选择监测对象类型" in refused
    refused = review(team, lead.case_id, category="marginal", attendance="2", expect=422).get_data(as_text=True)
    assert "参会人数应为 3 到 500 人" in refused
    refused = review(team, lead.case_id, decision="not_propose", expect=422).get_data(as_text=True)
    assert "不纳入监测的，请写明理由" in refused
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ReviewMeeting)) == 0
    assert tasks_of(app, lead.case_id) == ["Task_IdentificationReview"]


@pytest.mark.parametrize("where", ["review", "town", "county"])
def test_a_household_not_identified_ends_with_its_reason_in_the_file_and_for_the_declarant(app, login_as, where):
    _, _, number = member_of(app)
    lead = confirmed_lead(app, login_as)
    team = login_as(TEAM)
    reason = "家庭有稳定务工收入，自付医疗费用已由大病保险报销"
    if where == "review":
        review(team, lead.case_id, decision="not_propose", reason=reason)
    else:
        review(team, lead.case_id, category="marginal")
        post_notice(team, lead.case_id)
        if where == "town":
            town_review(login_as(CERTIFIER), lead.case_id, decision="reject", opinion=reason)
        else:
            town_review(login_as(CERTIFIER), lead.case_id)
            county_decision(login_as(COUNTY), lead.case_id, decision="reject", opinion=reason)
    case = case_row(app, lead.case_id)
    assert case.status == "rejected" and case.closed_at is not None and case.identified_on is None
    assert tasks_of(app, case.id) == []
    with app.app_context():
        ended = db.session.get(RiskLead, lead.id)
        assert ended.status == "not_identified" and reason in ended.outcome_reason
    file = team.get(f"/households/{lead.household_id}").get_data(as_text=True)
    assert "未纳入监测" in file and reason in file
    status = Resident(app).look_up(lead.receipt_no, number[-4:]).get_data(as_text=True)
    assert "暂不纳入监测对象" in status and reason not in status  # the reason is the team's to explain


def test_an_upheld_objection_during_the_publicity_sends_the_household_back_to_review(app, login_as):
    lead = confirmed_lead(app, login_as)
    team = login_as(TEAM)
    review(team, lead.case_id, category="marginal")
    post_notice(team, lead.case_id, objection="有村民反映该户在县城有商品房")
    login_as(CERTIFIER).complete("Task_ReviewObjection", {"decision": "uphold", "opinion": "经核实属实，重新评议"},
                                 case_id=lead.case_id)
    assert tasks_of(app, lead.case_id) == ["Task_IdentificationReview"]
    assert case_row(app, lead.case_id).status == "certification"


def test_the_town_and_the_county_can_send_the_household_back(app, login_as):
    lead = confirmed_lead(app, login_as)
    team = login_as(TEAM)
    review(team, lead.case_id, category="marginal")
    post_notice(team, lead.case_id)
    town_review(login_as(CERTIFIER), lead.case_id, decision="return", opinion="评议记录不完整")
    assert tasks_of(app, lead.case_id) == ["Task_IdentificationReview"]
    review(team, lead.case_id, category="marginal")
    post_notice(team, lead.case_id)
    missing = town_review(login_as(CERTIFIER), lead.case_id, meeting_date="", expect=422).get_data(as_text=True)
    assert "请填写乡镇党委会（领导小组会议）日期" in missing
    town_review(login_as(CERTIFIER), lead.case_id)
    county_decision(login_as(COUNTY), lead.case_id, decision="return", opinion="请补充收入佐证")
    assert tasks_of(app, lead.case_id) == ["Task_TownIdentificationReview"]


def test_every_identification_task_is_due_within_15_days_of_the_risks_discovery(app, login_as):
    found = date(2026, 6, 1)
    with travel_to(china_moment(found, 9)):
        lead = confirmed_lead(app, login_as, day=found)
    cap = found + timedelta(days=15)
    assert case_row(app, lead.case_id).decision_due_on == cap
    team = login_as(TEAM)
    # Twelve days later the village meets: the notice's posting and the town's review are due by the cap, not by
    # their own time limits.
    with travel_to(china_moment(found + timedelta(days=12), 9)):
        review(team, lead.case_id, category="marginal")
        assert due_dates(app, lead.case_id)["Task_PostNotice"] <= cap
        post_notice(team, lead.case_id)
        assert due_dates(app, lead.case_id)["Task_TownIdentificationReview"] == cap
        page = login_as(CERTIFIER).get(f"/cases/{lead.case_id}").get_data(as_text=True)
        assert "县级审定时限（15 日）" in page and "还剩 3 天" in page
    with travel_to(china_moment(found + timedelta(days=18), 9)):
        page = login_as(CERTIFIER).get(f"/cases/{lead.case_id}").get_data(as_text=True)
        assert "已超期 3 天" in page
        town_review(login_as(CERTIFIER), lead.case_id)
        assert due_dates(app, lead.case_id)["Task_CountyIdentification"] == cap
        county_decision(login_as(COUNTY), lead.case_id)
        # After the decision nothing runs against the clock: the result notice has its own time limit.
        assert due_dates(app, lead.case_id)["Task_PostNotice"] > cap
        page = login_as(COUNTY).get(f"/cases/{lead.case_id}").get_data(as_text=True)
        assert "用时 18 天" in page and "超过 15 日" in page


def test_the_scoreboard_shows_each_towns_share_identified_within_15_days(app, login_as):
    found = date(2026, 6, 1)
    with travel_to(china_moment(found, 9)):
        quick = confirmed_lead(app, login_as, day=found)
        slow = confirmed_lead(app, login_as, index=4, day=found)
    with travel_to(china_moment(found + timedelta(days=10), 9)):
        identify(app, login_as, quick.case_id)
    with travel_to(china_moment(found + timedelta(days=20), 9)):
        identify(app, login_as, slow.case_id)
        board = login_as(COUNTY).get("/supervision/scoreboard?month=2026-06").get_data(as_text=True)
    row = re.search(r'<tr data-national-unit="610922100">(.*?)</tr>', board, re.S).group(1)
    assert re.search(r'class="identified">2<', row)
    assert "1/2（50.0%）" in row
    assert re.search(r'class="leads-self_declared">2<', row)
    monitored = sum(int(n) for n in re.findall(r'class="monitored-\w+">(\d+)<', row))
    assert monitored == 2


def test_the_case_list_shows_and_filters_by_category_and_channel(app, login_as):
    lead = confirmed_lead(app, login_as)
    review(login_as(TEAM), lead.case_id, category="marginal")
    office = login_as(COUNTY)
    listed = office.get("/cases/?category=marginal").get_data(as_text=True)
    assert f"/cases/{lead.case_id}" in listed and "边缘易致贫户" in listed and "农户自主申报" in listed
    assert f"/cases/{lead.case_id}\"" not in office.get("/cases/?category=sudden_hardship").get_data(as_text=True)
    assert f"/cases/{lead.case_id}\"" in office.get("/cases/?channel=self_declared").get_data(as_text=True)
    assert f"/cases/{lead.case_id}\"" not in office.get("/cases/?procedure=county").get_data(as_text=True)
    assert office.get("/cases/?category=poor").status_code == 422
    with app.app_context():
        assert db.session.get(Case, lead.case_id).category == "marginal"


def test_an_upheld_objection_to_the_result_notice_undoes_the_identification_until_the_county_decides_again(
        app, login_as):
    lead = confirmed_lead(app, login_as)
    team = login_as(TEAM)
    review(team, lead.case_id, category="marginal")
    post_notice(team, lead.case_id)
    town_review(login_as(CERTIFIER), lead.case_id)
    county_decision(login_as(COUNTY), lead.case_id)
    assert case_row(app, lead.case_id).identified_on == china_today()
    post_notice(team, lead.case_id, objection="有村民反映该户新购小轿车一辆")
    login_as(CERTIFIER).complete("Task_ReviewObjection", {"decision": "uphold", "opinion": "属实，重新审核"},
                                 case_id=lead.case_id)
    case = case_row(app, lead.case_id)
    assert case.identified_on is None and tasks_of(app, case.id) == ["Task_TownIdentificationReview"]
    with app.app_context():
        assert db.session.get(RiskLead, lead.id).status == "confirmed"
    town_review(login_as(CERTIFIER), lead.case_id, decision="reject", opinion="家庭购置车辆，不符合纳入条件")
    case = case_row(app, lead.case_id)
    assert case.status == "rejected" and case.identified_on is None
    assert f"/cases/{case.id}" not in login_as(COUNTY).get("/monitoring/roster").get_data(as_text=True)


def test_a_lead_confirmed_while_the_household_got_a_case_joins_that_case(app, login_as):
    from tests.helpers import open_case

    _, name, number = member_of(app)
    assert Resident(app).declare(**declaration(name, number)).status_code == 201
    lead = leads(app)[-1]
    county_case = open_case(app, household_index=0)  # the month's screening reports the same household meanwhile
    from tests.collab.conftest import JPEG
    from tests.leads.test_income import income_form, set_line
    from tests.leads.test_verification import VERIFIED, upload, verification_task

    set_line(login_as, "8700", year=china_today().year)
    team = login_as(TEAM)
    assert upload(team, lead.id, verification_task(app, lead.id).id, JPEG).status_code == 303
    team.complete("Task_VerifyAtHome", dict(VERIFIED, visited_on=china_today().isoformat()))
    team.complete("Task_AssessIncome", income_form(team, verification_task(app, lead.id).id, ["3000"], persons="4"))
    with app.app_context():
        joined = db.session.get(RiskLead, lead.id)
        assert (joined.status, joined.open_case_id, joined.case_id) == ("merged", county_case, None)
        assert db.session.scalar(select(func.count()).select_from(Case)
                                 .where(Case.household_id == joined.household_id)) == 1
    history = login_as(COUNTY).get(f"/cases/{county_case}").get_data(as_text=True)
    assert f"风险线索 {lead.receipt_no} 核实属实，并入本案件" in history


def test_init_db_opens_the_case_of_a_lead_confirmed_before_the_national_procedure_could(app, login_as, runner,
                                                                                        monkeypatch):
    from app.leads import workflow

    monkeypatch.setattr(workflow, "ON_CONFIRMED", [])  # the version before: a confirmed lead waited, with no case
    with pytest.raises(AssertionError):
        confirmed_lead(app, login_as)
    monkeypatch.undo()
    [lead] = leads(app)
    assert lead.status == "confirmed" and lead.case_id is None
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "opened the national case of 1 risk lead(s) confirmed before this version" in result.output
    with app.app_context():
        case_id = db.session.get(RiskLead, lead.id).case_id
    assert case_id is not None and tasks_of(app, case_id) == ["Task_IdentificationReview"]
    assert "opened the national case" not in runner.invoke(args=["init-db"]).output  # once
