"""Short paths to a case at a given step, through the same operations the web uses."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Flask
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from app.extensions import db
from app.models import Case, Household, ReadyTask, User
from app.screenings.operations import register_household, start_monthly_screening
from app.workflow.runtime import complete_user_task
from tests.conftest import today


def user(username: str) -> User:
    found = db.session.scalar(select(User).where(User.username == username))
    assert found is not None, username
    return found


def complete(username: str, bpmn_id: str, data: dict[str, Any], case_id: int | None = None,
             screening_id: int | None = None) -> None:
    actor = user(username)
    stmt = select(ReadyTask).where(ReadyTask.bpmn_id == bpmn_id)
    if case_id is not None:
        stmt = stmt.where(ReadyTask.about("case", case_id))
    if screening_id is not None:
        stmt = stmt.where(ReadyTask.about("screening", screening_id))
    task = db.session.scalars(stmt).first()
    assert task is not None, f"no ready {bpmn_id}"
    complete_user_task(task.id, MultiDict([(k, str(v)) for k, v in data.items()]), actor, None)
    db.session.commit()


def check_households(screening_id: int, username: str, checked: int | None = None) -> None:
    """The team's checks of the month, through the same operation as the phone page: the first `checked`
    households without a check (all by default) visited today with no risk found, the rest not checked
    (长期不在家). Households registered at risk already have their check from the registration."""
    from app.models import Screening
    from app.screenings.checks import get_check, record_check

    screening = db.session.get(Screening, screening_id)
    assert screening is not None
    actor = user(username)
    households = db.session.scalars(select(Household).where(Household.village_code == screening.village_code)
                                    .order_by(Household.id)).all()
    for index, household in enumerate(households):
        if get_check(screening, household.id) is not None:
            continue
        if checked is None or index < checked:
            data: dict[str, Any] = {"outcome": "checked", "visited_on": today().isoformat(),
                                    "visitors": actor.full_name, "risks": [], "guarantee_gaps": []}
        else:
            data = {"outcome": "not_checked", "not_checked_reason": "long_absent", "not_checked_note": ""}
        record_check(screening, household.id, data, actor)
    db.session.commit()


def open_case(app: Flask, village: str = "610922100001", household_index: int = 0) -> int:
    """Screen `village` this month and report one household for key assistance; returns the case id."""
    with app.app_context():
        start_monthly_screening(today().strftime("%Y-%m"), user("county_office"))
        db.session.commit()
        team = f"{_slug(village)}_team"
        household = db.session.scalars(select(Household).where(Household.village_code == village)
                                       .order_by(Household.id)).all()[household_index]
        task = db.session.scalar(select(ReadyTask).where(ReadyTask.village_code == village,
                                                         ReadyTask.bpmn_id == "Task_ScreenHouseholds"))
        from app.models import Screening

        screening = db.session.get(Screening, task.subject_id)
        registration = register_household(screening, household.id, "accident", "车祸致主要劳动力伤残",
                                          user(team))
        db.session.commit()
        check_households(screening.id, team)
        complete(team, "Task_ScreenHouseholds", {}, screening_id=screening.id)
        complete(team, "Task_AssessmentMeeting", {"meeting_date": today().isoformat(), "attendees": "全体",
                                                  "minutes": "研判", "key_assistance": registration.id},
                 screening_id=screening.id)
        case_id = db.session.scalar(select(Case.id).where(Case.household_id == household.id))
        assert case_id is not None
        return case_id


def open_cases(app: Flask, village: str, count: int) -> list[int]:
    """Screen `village` this month and report its first `count` households for key assistance at one meeting;
    returns the case ids in the households' order."""
    with app.app_context():
        start_monthly_screening(today().strftime("%Y-%m"), user("county_office"))
        db.session.commit()
        team = f"{_slug(village)}_team"
        households = db.session.scalars(select(Household).where(Household.village_code == village)
                                        .order_by(Household.id)).all()[:count]
        task = db.session.scalar(select(ReadyTask).where(ReadyTask.village_code == village,
                                                         ReadyTask.bpmn_id == "Task_ScreenHouseholds"))
        assert task is not None, f"{village} has no screening waiting"
        from app.models import Screening

        screening = db.session.get(Screening, task.subject_id)
        registrations = [register_household(screening, h.id, "major_illness", "住院自付费用高", user(team))
                         for h in households]
        db.session.commit()
        check_households(screening.id, team)
        complete(team, "Task_ScreenHouseholds", {}, screening_id=screening.id)
        actor = user(team)
        meeting = db.session.scalar(select(ReadyTask).where(ReadyTask.bpmn_id == "Task_AssessmentMeeting",
                                                            ReadyTask.about("screening", screening.id)))
        assert meeting is not None
        complete_user_task(meeting.id, MultiDict([("meeting_date", today().isoformat()), ("attendees", "全体"),
                                                  ("minutes", "研判"),
                                                  *(("key_assistance", str(r.id)) for r in registrations)]),
                           actor, None)
        db.session.commit()
        ids = [db.session.scalar(select(Case.id).where(Case.household_id == h.id)) for h in households]
        assert all(ids)
        return [int(i) for i in ids if i]


def to_county_approval(case_id: int, risk_level: str = "at_risk") -> None:
    """Town certifies and its leadership passes: the case waits for the county office's 县办审批."""
    town = TOWN_SLUGS[db.session.get(Case, case_id).town_code]
    complete(f"{town}_certifier", "Task_TownCertify", {"decision": "certify", "risk_level": risk_level,
                                                       "opinion": "符合"}, case_id)
    complete(f"{town}_leader", "Task_TownLeadershipReview", {"decision": "pass", "opinion": "镇会议通过",
                                                               "meeting_date": today().isoformat()}, case_id)


TOWN_SLUGS = {"610922100": "chengguan", "610922101": "raofeng"}


def _slug(village: str) -> str:
    return f"{TOWN_SLUGS[village[:9]]}{int(village[-3:]):02d}"


def approve_case(case_id: int, risk_level: str = "at_risk") -> None:
    """Town certifies, town leadership passes, county approves: the case waits for its 公示."""
    to_county_approval(case_id, risk_level)
    complete("county_office", "Task_CountyApprove", {"decision": "approve", "opinion": "同意"}, case_id)


def uphold_publicity_objection(case_id: int, posted_on: date, decided_on: date,
                               team: str = "chengguan01_team") -> None:
    """After the county's approval: the 公示 posted on `posted_on`; on `decided_on`, once its period has passed, an
    objection recorded and upheld by the town: the case goes back to the town's certification."""
    from app.clock import china_moment, travel_to
    from app.workflow.runtime import run_due_timers

    town = TOWN_SLUGS[db.session.get(Case, case_id).town_code]
    with travel_to(china_moment(posted_on)):
        complete(team, "Task_PostNotice", {"posted_on": posted_on.isoformat(), "period_days": 5,
                                           "location": "村委会"}, case_id)
    with travel_to(china_moment(decided_on)):
        run_due_timers()
        db.session.commit()
        complete(team, "Task_RecordObjections", {"decision": "objection", "objection_content": "家中有经营性收入"},
                 case_id)
        complete(f"{town}_certifier", "Task_ReviewObjection", {"decision": "uphold", "opinion": "重新认定"}, case_id)


def plan_measures(case_id: int, measures: list[dict[str, str]], cadre: str = "chengguan01_cadre1",
                  team: str = "chengguan01_team") -> None:
    """From county approval through 公示 (no objection) to a measure plan filed with the county office."""
    from app.workflow.runtime import run_due_timers

    complete(team, "Task_PostNotice", {"posted_on": "2020-01-01", "period_days": 5, "location": "村委会"}, case_id)
    run_due_timers()
    db.session.commit()
    complete(team, "Task_RecordObjections", {"decision": "no_objection"}, case_id)
    data: dict[str, Any] = {"cadre_id": user(cadre).id}
    for index, measure in enumerate(measures):
        data.update({f"measures-{index}-{key}": value for key, value in measure.items()})
    complete(team, "Task_DraftMeasures", data, case_id)
    complete("county_office", "Task_CountyFiling", {"decision": "file", "opinion": "予以备案"}, case_id)


def close_case(case_id: int, cadre: str = "chengguan01_cadre1", team: str = "chengguan01_team") -> None:
    """From a filed measure plan to 销号: measures carried out, closure applied for, accepted, re-checked and
    announced with no objection."""
    from app.models import Measure
    from app.workflow.runtime import run_due_timers

    town = TOWN_SLUGS[db.session.get(Case, case_id).town_code]
    measures = db.session.scalars(select(Measure.id).where(Measure.case_id == case_id).order_by(Measure.position))
    results: dict[str, Any] = {}
    for index, measure_id in enumerate(measures):
        results.update({f"results-{index}-measure_id": measure_id, f"results-{index}-result": "已落实",
                        f"results-{index}-completed_on": today().isoformat()})
    complete(cadre, "Task_CarryOutMeasures", results, case_id)
    complete(team, "Task_ApplyClosure", {"applied_on": today().isoformat(), "income_per_capita": "8600",
                                         "summary": "两不愁三保障均已达标"}, case_id)
    complete(f"{town}_certifier", "Task_TownAcceptance", {"decision": "accept", "opinion": "验收合格"}, case_id)
    complete("county_office", "Task_CountyRecheck", {"decision": "confirm", "opinion": "复核达标"}, case_id)
    complete(team, "Task_PostNotice", {"posted_on": "2020-01-01", "period_days": 5, "location": "村委会"}, case_id)
    run_due_timers()
    db.session.commit()
    complete(team, "Task_RecordObjections", {"decision": "no_objection"}, case_id)


def without_earlier_steps(page: str) -> str:
    """A task page without its 此前各环节的意见 panel (what earlier steps recorded): the task's own form and lists."""
    if '<section class="card earlier" id="earlier">' not in page:
        return page
    before, earlier = page.split('<section class="card earlier" id="earlier">', 1)
    return before + earlier.split("</section>", 1)[1]
