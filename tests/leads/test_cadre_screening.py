"""基层干部排查, the national mechanism's second channel, and the county's choice of procedure: a setting with its
history says which procedure new monthly screenings follow. Under the county's rulebook a screening goes on to its
assessment meeting, as it always has; under the national procedure it ends once the households are checked, and
each household it registered at risk becomes a lead, verified at home like any other. Screenings started before a
change finish under the procedure they began with: both run at once during the transition."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.clock import china_today
from app.extensions import db
from app.models import Household, RiskLead, Screening
from app.screenings.operations import register_household, start_monthly_screening
from tests.helpers import check_households, complete, user

VILLAGE, TEAM = "610922100001", "chengguan01_team"


def choose(login_as, procedure: str, starts=None) -> None:
    saved = login_as("county_office").post("/settings/rules/screening_procedure", {
        "value": procedure, "effective_from": (starts or china_today()).isoformat(),
        "source_document": "县防返贫领导小组关于过渡到国家监测机制的通知"}, page="/settings")
    assert saved.status_code == 303


def screen(app, month: str) -> int:
    """The month's screening of the village: one household registered at risk, every household checked, and
    the screening step submitted. Returns the screening's id."""
    with app.app_context():
        start_monthly_screening(month, user("county_office"))
        db.session.commit()
        screening = db.session.scalar(select(Screening).where(Screening.month == month,
                                                              Screening.village_code == VILLAGE))
        first = db.session.scalars(select(Household).where(Household.village_code == VILLAGE)
                                   .order_by(Household.id)).first()
        register_household(screening, first.id, "major_illness", "户主确诊尿毒症，需长期透析", user(TEAM))
        db.session.commit()
        check_households(screening.id, TEAM)
        complete(TEAM, "Task_ScreenHouseholds", {}, screening_id=screening.id)
        return screening.id


def test_under_the_county_rulebook_a_screening_goes_on_to_its_assessment_and_makes_no_lead(app, login_as):
    month = china_today().strftime("%Y-%m")
    screening_id = screen(app, month)
    with app.app_context():
        screening = db.session.get(Screening, screening_id)
        assert screening.procedure == "county" and screening.status == "assessing"
        assert db.session.scalar(select(RiskLead.id)) is None
    assert [t for t in login_as(TEAM).inbox() if t["bpmn_id"] == "Task_AssessmentMeeting"]


def test_under_the_national_procedure_the_screenings_risk_households_become_verified_leads(app, login_as):
    choose(login_as, "national")
    month = china_today().strftime("%Y-%m")
    screening_id = screen(app, month)
    with app.app_context():
        screening = db.session.get(Screening, screening_id)
        assert screening.procedure == "national" and screening.status == "completed"
        [lead] = db.session.scalars(select(RiskLead)).all()
        assert (lead.channel, lead.source, lead.source_detail) == ("cadre_screening", "screening", f"{month} 月度排查")
        assert lead.risk_types == ["illness"] and lead.description == "户主确诊尿毒症，需长期透析"
        assert lead.household_id == screening.registrations[0].household_id and lead.status == "open"
        lead_id = lead.id
    team = login_as(TEAM)
    tasks = team.inbox()
    assert not [t for t in tasks if t["bpmn_id"] == "Task_AssessmentMeeting"]
    verification = [t for t in tasks if t["bpmn_id"] == "Task_VerifyAtHome"]
    assert len(verification) == 1
    listing = team.get("/leads").get_data(as_text=True)
    assert "基层干部排查" in listing and f"{month} 月度排查" in listing
    assert f"/leads/{lead_id}" in team.get(f"/households/{screening.registrations[0].household_id}")\
        .get_data(as_text=True)


def test_a_screening_started_before_the_change_finishes_under_its_own_procedure(app, login_as):
    month = china_today().strftime("%Y-%m")
    with app.app_context():
        start_monthly_screening(month, user("county_office"))
        db.session.commit()
    choose(login_as, "national")  # from today: this month's screenings have already started
    with app.app_context():
        screening = db.session.scalar(select(Screening).where(Screening.month == month,
                                                              Screening.village_code == VILLAGE))
        assert screening.procedure == "county"
        check_households(screening.id, TEAM)
        complete(TEAM, "Task_ScreenHouseholds", {}, screening_id=screening.id)
        assert db.session.get(Screening, screening.id).status == "assessing"
    next_month = (china_today().replace(day=1) + timedelta(days=32)).strftime("%Y-%m")
    with app.app_context():
        start_monthly_screening(next_month, user("county_office"))
        db.session.commit()
        assert db.session.scalar(select(Screening.procedure).where(Screening.month == next_month).limit(1)) \
            == "national"


def test_the_choice_is_kept_with_its_history_and_an_unknown_procedure_is_refused(app, login_as):
    office = login_as("county_office")
    refused = office.post("/settings/rules/screening_procedure", {
        "value": "provincial", "effective_from": china_today().isoformat(), "source_document": "文"}, page="/settings")
    assert refused.status_code == 422 and "请选择月度排查适用的程序" in refused.get_data(as_text=True)
    choose(login_as, "national", china_today() + timedelta(days=10))
    page = office.get("/settings").get_data(as_text=True)
    assert "月度排查适用的程序：石泉县办法" in page and "国家防止返贫动态监测" in page
