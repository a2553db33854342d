"""Cases driven through the real services (the same path as the web and the API), for benchmark data."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from app.clock import utcnow
from app.extensions import db
from app.models import Case, Household, Measure, ReadyTask, Screening, User
from app.screenings.operations import register_household, start_monthly_screening
from app.workflow.runtime import complete_user_task, run_due_timers

# The household case from county approval on, one step at a time: (task, role, form data).
CERTIFY = [
    ("Task_TownCertify", "town_certifier", {"decision": "certify", "risk_level": "at_risk", "opinion": "符合"}),
    ("Task_TownLeadershipReview", "town_leadership",
     {"decision": "pass", "opinion": "通过", "meeting_date": "{today}"}),
    ("Task_CountyApprove", "county_office", {"decision": "approve", "opinion": "同意"}),
]
PUBLICITY = [("Task_PostNotice", "village_team", {"posted_on": "2020-01-01", "period_days": "5", "location": "村委会"}),
             ("timers", "", {}),
             ("Task_RecordObjections", "village_team", {"decision": "no_objection"})]
PLAN = [
    ("Task_DraftMeasures", "village_team", {
        "measures-0-content": "协助办理慢病卡", "measures-0-measure_type": "health",
        "measures-0-responsible_unit": "县医保局", "measures-0-deadline": "2027-06-30", "cadre_id": "{cadre}"}),
    ("Task_CountyFiling", "county_office", {"decision": "file", "opinion": "予以备案"}),
]
CLOSE = [
    ("Task_CarryOutMeasures", "cadre", {"results-0-measure_id": "{measure}", "results-0-completed_on": "{today}",
                                        "results-0-result": "已办理"}),
    ("Task_ApplyClosure", "village_team", {"applied_on": "{today}", "income_per_capita": "8600", "summary": "达标"}),
    ("Task_TownAcceptance", "town_certifier", {"decision": "accept", "opinion": "验收合格"}),
    ("Task_CountyRecheck", "county_office", {"decision": "confirm", "opinion": "复核达标"}),
    *PUBLICITY,
]
ALL_STEPS = CERTIFY + PUBLICITY + PLAN + CLOSE


def _user(role: str, area: str) -> User:
    user = db.session.scalar(select(User).where(User.role == role, User.area_code == area).order_by(User.id))
    assert user is not None, (role, area)
    return user


def open_cases(month: str, per_village: int) -> list[int]:
    """Start the month's screening everywhere and report `per_village` households of each village."""
    county = _user("county_office", "610922")
    start_monthly_screening(month, county)
    db.session.commit()
    case_ids = []
    for screening in db.session.scalars(select(Screening).where(Screening.month == month)).all():
        team = _user("village_team", screening.village_code)
        households = db.session.scalars(select(Household.id).where(Household.village_code == screening.village_code)
                                        .order_by(Household.id).limit(per_village)).all()
        registrations = [register_household(screening, hid, "major_illness", "患重大疾病，医疗支出大", team)
                         for hid in households]
        _checks_for_the_rest(screening, team)
        _complete(screening_id=screening.id, bpmn_id="Task_ScreenHouseholds", actor=team, data={})
        data = MultiDict([("meeting_date", date.today().isoformat()), ("attendees", "全体"), ("minutes", "研判")]
                         + [("key_assistance", str(r.id)) for r in registrations])
        _complete(screening_id=screening.id, bpmn_id="Task_AssessmentMeeting", actor=team, data=data)
        case_ids += [r.case_id for r in registrations if r.case_id]
    return case_ids


def _checks_for_the_rest(screening: Screening, team: User) -> None:
    """The month's checks of the households not registered (no risk found), written in one statement: the
    benchmark's data, not what it measures (a check through the phone form is app.screenings.checks)."""
    from sqlalchemy import insert

    from app.clock import utcnow
    from app.models import ScreeningCheck

    done = set(db.session.scalars(select(ScreeningCheck.household_id).where(
        ScreeningCheck.screening_id == screening.id)))
    rows = [{"screening_id": screening.id, "household_id": hid, "village_code": screening.village_code,
             "town_code": screening.town_code, "month": screening.month, "outcome": "checked",
             "visited_on": date.today(), "visitors": team.full_name, "risks": [], "risk_detail": "",
             "guarantee_gaps": [], "not_checked_note": "", "note": "", "recorded_by_id": team.id,
             "recorded_at": utcnow()}
            for hid in db.session.scalars(select(Household.id).where(Household.village_code == screening.village_code))
            if hid not in done]
    if rows:
        db.session.execute(insert(ScreeningCheck), rows)
    from app.screenings.checks import refresh_counts

    refresh_counts(screening)


def _complete(bpmn_id: str, actor: User, data: MultiDict[str, str] | dict[str, str], case_id: int | None = None,
              screening_id: int | None = None) -> None:
    stmt = select(ReadyTask).where(ReadyTask.bpmn_id == bpmn_id)
    stmt = stmt.where(ReadyTask.about("case", case_id) if case_id else ReadyTask.about("screening", screening_id))
    task = db.session.scalar(stmt)
    assert task is not None, (bpmn_id, case_id, screening_id)
    complete_user_task(task.id, data if isinstance(data, MultiDict) else MultiDict(data), actor, None)
    db.session.commit()


def advance(case_id: int, steps: int) -> None:
    """Take the case `steps` steps along the happy path from where it starts (town certification)."""
    case = db.session.get(Case, case_id)
    assert case is not None
    for bpmn_id, role, template in ALL_STEPS[:steps]:
        if bpmn_id == "timers":
            run_due_timers(utcnow() + timedelta(days=10))
            db.session.commit()
            continue
        area = {"village_team": case.village_code, "town_certifier": case.town_code,
                "town_leadership": case.town_code}.get(role, "610922")
        actor = db.session.get(User, case.cadre_id) if role == "cadre" else _user(role, area)
        assert actor is not None
        measure = db.session.scalar(select(Measure.id).where(Measure.case_id == case_id))
        values = {key: value.format(today=date.today().isoformat(), cadre=_user("cadre", case.village_code).id,
                                    measure=measure) for key, value in template.items()}
        _complete(bpmn_id, actor, values, case_id=case_id)


def as_dicts(rows: list[Any]) -> list[dict[str, Any]]:
    return [{c.name: getattr(row, c.name) for c in row.__table__.columns} for row in rows]
