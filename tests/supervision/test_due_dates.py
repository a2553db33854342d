"""Due dates are set when a task becomes ready: the diagram's working-day limit, capped by the rulebook."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.clock import china_moment, travel_to
from app.extensions import db
from app.models import Case, ElementVisit, ReadyTask, WorkflowInstance
from tests.helpers import approve_case, complete, open_case, plan_measures


def ready(bpmn_id: str, case_id: int | None = None) -> ReadyTask:
    stmt = select(ReadyTask).where(ReadyTask.bpmn_id == bpmn_id)
    if case_id is not None:
        stmt = stmt.where(ReadyTask.about("case", case_id))
    task = db.session.scalar(stmt)
    assert task is not None, bpmn_id
    return task


def test_screening_and_assessment_are_due_by_the_end_of_the_month(app):
    from app.screenings.operations import start_monthly_screening
    from tests.helpers import user

    with app.app_context(), travel_to(china_moment(date(2026, 2, 10))):
        start_monthly_screening("2026-02", user("county_office"))
        db.session.commit()
        assert ready("Task_ScreenHouseholds").due_on == date(2026, 2, 28)


def test_town_certification_over_national_day_counts_the_adjusted_saturday(app):
    # Ready on 30 September 2026: 5 working days are 8, 9, 10 (Saturday, a working day), 12 and 13 October.
    with travel_to(china_moment(date(2026, 9, 30))):
        case_id = open_case(app)
        with app.app_context():
            assert ready("Task_TownCertify", case_id).due_on == date(2026, 10, 13)


def test_the_fifteen_day_limit_from_discovery_caps_later_certification_steps(app):
    with travel_to(china_moment(date(2026, 9, 30))):
        case_id = open_case(app)
    with app.app_context():
        with travel_to(china_moment(date(2026, 10, 13))):
            complete("chengguan_certifier", "Task_TownCertify", {"decision": "certify", "risk_level": "at_risk",
                                                                 "opinion": "符合"}, case_id)
            # 5 working days from 13 October would be 20 October; discovery + 15 days is 15 October.
            assert ready("Task_TownLeadershipReview", case_id).due_on == date(2026, 10, 15)


def test_carrying_out_measures_is_due_when_the_last_measure_is(app):
    case_id = open_case(app)
    with app.app_context():
        approve_case(case_id)
        plan_measures(case_id, [
            {"content": "协助办理慢病卡", "measure_type": "health", "responsible_unit": "县医保局",
             "deadline": "2027-01-31"},
            {"content": "安排公益性岗位", "measure_type": "public_welfare_job", "responsible_unit": "镇人社站",
             "deadline": "2027-03-15"},
        ])
        assert ready("Task_CarryOutMeasures", case_id).due_on == date(2027, 3, 15)


def test_tasks_without_a_limit_have_no_due_date(app):
    case_id = open_case(app)
    with app.app_context():
        approve_case(case_id)
        plan_measures(case_id, [{"content": "申请临时救助", "measure_type": "temporary_relief",
                                 "responsible_unit": "县民政局", "deadline": "2027-01-31"}])
        [measure] = db.session.get(Case, case_id).measures
        complete("chengguan01_cadre1", "Task_CarryOutMeasures", {
            "results-0-measure_id": measure.id, "results-0-completed_on": "2026-11-20",
            "results-0-result": "已发放临时救助金"}, case_id)
        assert ready("Task_ApplyClosure", case_id).due_on is None


def test_every_finished_element_is_recorded_with_the_flow_it_came_by(app):
    case_id = open_case(app)
    with app.app_context():
        complete("chengguan_certifier", "Task_TownCertify", {"decision": "return", "opinion": "补充收入证明"},
                 case_id)
        complete("chengguan01_team", "Task_SupplementInformation", {"supplement": "已补充"}, case_id)
        complete("chengguan_certifier", "Task_TownCertify", {"decision": "certify", "risk_level": "at_risk",
                                                             "opinion": "符合"}, case_id)
        case = db.session.get(Case, case_id)
        instance = db.session.get(WorkflowInstance, case.instance_id)
        visits = db.session.scalars(select(ElementVisit).where(ElementVisit.about("case", case_id))
                                    .order_by(ElementVisit.id)).all()
        certify = [v for v in visits if v.bpmn_id == "Task_TownCertify"]
        assert len(certify) == 2  # the loop shows: the task was done twice
        assert certify[0].from_bpmn_id == "Start_CaseReported"
        assert all(v.ready_at is not None and v.actor_id is not None for v in certify)
        supplement = next(v for v in visits if v.bpmn_id == "Task_SupplementInformation")
        assert supplement.from_bpmn_id == "Gateway_TownCertifyDecision"
        assert certify[1].from_bpmn_id == "Task_SupplementInformation"
        assert {v.diagram_version_id for v in visits} == {instance.process_version_id}
