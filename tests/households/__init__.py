"""Household file and printable notices. `screen_village` reports several households of one village for key
assistance in one month's screening (tests.helpers.open_case does one household of the current month)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from app.extensions import db
from app.models import Case, Household, ReadyTask, Screening
from app.screenings.operations import register_household, start_monthly_screening
from app.workflow.runtime import complete_user_task
from tests.conftest import today
from tests.helpers import _slug, check_households, user


def households_of(village: str) -> list[Household]:
    return list(db.session.scalars(select(Household).where(Household.village_code == village)
                                   .order_by(Household.id)))


def screen_village(app: Flask, village: str, indexes: list[int], month: str | None = None,
                   reason: str = "车祸致主要劳动力伤残") -> list[int]:
    """Screen `village` in `month` (default this month), register the households at `indexes` and report
    them all for key assistance; returns their new case ids in the same order."""
    month = month or today().strftime("%Y-%m")
    with app.app_context():
        start_monthly_screening(month, user("county_office"))
        db.session.commit()
        team = user(f"{_slug(village)}_team")
        screening = db.session.scalar(select(Screening).where(Screening.village_code == village,
                                                              Screening.month == month))
        assert screening is not None
        households = households_of(village)
        registrations = [register_household(screening, households[i].id, "accident", reason, team)
                         for i in indexes]
        db.session.commit()

        def finish(bpmn_id: str, pairs: list[tuple[str, str]]) -> None:
            task = db.session.scalar(select(ReadyTask).where(ReadyTask.about("screening", screening.id),
                                                             ReadyTask.bpmn_id == bpmn_id))
            assert task is not None, bpmn_id
            complete_user_task(task.id, MultiDict(pairs), team, None)
            db.session.commit()

        check_households(screening.id, team.username)
        finish("Task_ScreenHouseholds", [])
        finish("Task_AssessmentMeeting", [("meeting_date", today().isoformat()), ("attendees", "全体"),
                                          ("minutes", "研判")]
               + [("key_assistance", str(r.id)) for r in registrations])
        ids = []
        for i in indexes:
            case_id = db.session.scalar(select(Case.id).where(Case.household_id == households[i].id)
                                        .order_by(Case.id.desc()))
            assert case_id is not None
            ids.append(case_id)
        return ids
