"""While a notice hangs in the village, the case's step says which: 公示期 before the decision it opens to
objection, 公告期 for the result announced (销号公告)."""

from __future__ import annotations

from datetime import timedelta

from app.clock import utcnow
from app.extensions import db
from app.models import Case, Measure
from app.workflow.runtime import run_due_timers
from tests.conftest import today
from tests.helpers import approve_case, complete, open_case, user


def test_a_publicity_reads_as_公示期_and_the_closure_announcement_as_公告期(app):
    case_id = open_case(app)
    with app.app_context():
        approve_case(case_id)
        complete("chengguan01_team", "Task_PostNotice", {"posted_on": today().isoformat(), "period_days": 5,
                                                         "location": "村委会"}, case_id)
        assert db.session.get(Case, case_id).current_step.startswith("公示期，")
    with app.app_context():
        run_due_timers(utcnow() + timedelta(days=10))
        db.session.commit()
        complete("chengguan01_team", "Task_RecordObjections", {"decision": "no_objection"}, case_id)
        complete("chengguan01_team", "Task_DraftMeasures", {
            "measures-0-content": "协助办理慢病卡", "measures-0-measure_type": "health",
            "measures-0-responsible_unit": "县医保局", "measures-0-deadline": "2027-06-30",
            "cadre_id": user("chengguan01_cadre1").id}, case_id)
        complete("county_office", "Task_CountyFiling", {"decision": "file", "opinion": "予以备案"}, case_id)
        measure = db.session.scalar(db.select(Measure.id).where(Measure.case_id == case_id))
        complete("chengguan01_cadre1", "Task_CarryOutMeasures", {
            "results-0-measure_id": measure, "results-0-result": "已办理",
            "results-0-completed_on": today().isoformat()}, case_id)
        complete("chengguan01_team", "Task_ApplyClosure", {"applied_on": today().isoformat(),
                                                           "income_per_capita": "8600", "summary": "达标"}, case_id)
        complete("chengguan_certifier", "Task_TownAcceptance", {"decision": "accept", "opinion": "合格"}, case_id)
        complete("county_office", "Task_CountyRecheck", {"decision": "confirm", "opinion": "达标"}, case_id)
        complete("chengguan01_team", "Task_PostNotice", {"posted_on": today().isoformat(), "period_days": 5,
                                                         "location": "村委会"}, case_id)
        case = db.session.get(Case, case_id)
        assert case.status == "announcement" and case.current_step.startswith("公告期，")
