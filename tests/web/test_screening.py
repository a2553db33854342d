"""一月一精准排查: starting the month, registering households, and the checks on what the team reports."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import RiskRegistration, Screening, WorkflowInstance
from tests.conftest import today


def test_starting_the_same_month_twice_creates_nothing_new(app, runner):
    month = today().strftime("%Y-%m")
    assert "started 4 screening(s)" in runner.invoke(args=["screenings", "start", "--month", month]).output
    assert "started 0 screening(s)" in runner.invoke(args=["screenings", "start", "--month", month]).output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Screening)) == 4
        assert db.session.scalar(select(func.count()).select_from(WorkflowInstance)) == 4
    result = runner.invoke(args=["screenings", "start", "--month", "11/2026"])
    assert result.exit_code != 0 and "YYYY-MM" in result.output


def test_only_the_county_office_may_start_screening(app, login_as):
    team = login_as("chengguan01_team")
    assert team.post("/screenings/start", {"month": "2030-01"}, page="/screenings/").status_code == 403


def _screen(app, login_as):
    login_as("county_office").post("/screenings/start", {"month": today().strftime("%Y-%m")}, page="/screenings/")
    team = login_as("chengguan01_team")
    return team, team.task("Task_ScreenHouseholds")


def test_registration_refuses_bad_input_and_households_of_other_villages(app, login_as):
    team, task = _screen(app, login_as)
    sid = task["screening_id"]
    with app.app_context():
        from app.models import Household

        own = db.session.scalar(select(Household.id).where(Household.village_code == "610922100001"))
        foreign = db.session.scalar(select(Household.id).where(Household.village_code == "610922101001"))
    for data, message in [
        ({"household_id": foreign, "risk_type": "other", "reason": "x"}, "不在本村"),
        ({"household_id": own, "risk_type": "bogus", "reason": "x"}, "请选择返贫风险类型"),
        ({"household_id": own, "risk_type": "other", "reason": "  "}, "请填写详细原因"),
    ]:
        response = team.post(f"/screenings/{sid}/registrations", data)
        assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert team.post(f"/screenings/{sid}/registrations",
                     {"household_id": own, "risk_type": "other", "reason": "收入骤降"}).status_code == 302
    twice = team.post(f"/screenings/{sid}/registrations", {"household_id": own, "risk_type": "other", "reason": "y"})
    assert twice.status_code == 409 and "本月已登记" in twice.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RiskRegistration)) == 1


def test_households_checked_must_fit_the_village(app, login_as):
    team, task = _screen(app, login_as)
    response = team.complete("Task_ScreenHouseholds", {"households_checked": 999}, expect=422)
    assert "不能超过本村监测范围内的户数（6 户）" in response.get_data(as_text=True)
    team.complete("Task_ScreenHouseholds", {"households_checked": 6})
    with app.app_context():
        screening = db.session.get(Screening, task["screening_id"])
        assert screening.households_checked == 6 and screening.status == "assessing"
    # The roster is closed once screening is done.
    response = team.post(f"/screenings/{task['screening_id']}/registrations",
                         {"household_id": 1, "risk_type": "other", "reason": "x"})
    assert response.status_code == 409


def test_an_assessment_without_key_households_opens_no_case(app, login_as):
    team, _task = _screen(app, login_as)
    team.complete("Task_ScreenHouseholds", {"households_checked": 6})
    team.complete("Task_AssessmentMeeting", {"meeting_date": today().isoformat(), "attendees": "全体",
                                             "minutes": "本月无重点帮扶户"})
    with app.app_context():
        from app.models import Case

        assert db.session.scalar(select(func.count()).select_from(Case)) == 0
    assert "已完成" in team.get("/screenings/").get_data(as_text=True)


def test_notice_period_shorter_than_five_days_is_refused(app, login_as):
    from tests.helpers import approve_case, open_case

    case_id = open_case(app)
    with app.app_context():
        approve_case(case_id)
    team = login_as("chengguan01_team")
    response = team.complete("Task_PostNotice", {"posted_on": today().isoformat(), "period_days": 3,
                                                 "location": "村委会"}, case_id=case_id, expect=422)
    assert "公示期不得少于 5 天" in response.get_data(as_text=True)
