"""Each diagram driven by the engine adapter alone (no Flask, no database), along every path of the rulebook.
Every step goes through the serialised state, so saving and restoring between steps is exercised too."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from app.engine import EngineError, TaskNotReady, complete_task, fire_due_timers, parse_bundle, start_workflow
from tests.conftest import PROCESSES

SOURCES = {p.name: p.read_text(encoding="utf-8") for p in PROCESSES.glob("*.bpmn")}
FAR_FUTURE = datetime(2099, 1, 1)


class Walk:
    def __init__(self, process_key: str, data: dict | None = None) -> None:
        self.bundle = parse_bundle(process_key, SOURCES)
        self.snapshot = start_workflow(self.bundle, data or {})

    @property
    def ready(self) -> list[str]:
        return [t.bpmn_id for t in self.snapshot.ready_tasks]

    def do(self, bpmn_id: str, **data: object) -> Walk:
        assert self.ready == [bpmn_id], f"expected {bpmn_id}, ready: {self.ready}"
        task = self.snapshot.ready_tasks[0]
        self.snapshot = complete_task(self.bundle, self.snapshot.state, task.task_id, data)
        return self

    def notice(self, outcome: str = "no_objection", review: str | None = None) -> Walk:
        """公示 or 公告: post, let the period pass, record objections, and the town's review if any."""
        self.do("Task_PostNotice", notice_ends_at="2030-01-06T00:00:00+08:00")
        assert self.ready == [] and self.snapshot.next_timer_at == datetime(2030, 1, 5, 16, 0)
        early = fire_due_timers(self.bundle, self.snapshot.state, datetime(2030, 1, 5, 15, 59))
        assert early.fired_timers == [] and early.ready_tasks == []
        self.snapshot = fire_due_timers(self.bundle, self.snapshot.state, datetime(2030, 1, 5, 16, 0))
        assert self.snapshot.fired_timers == ["公示期满"]
        self.do("Task_RecordObjections", decision=outcome)
        if review:
            self.do("Task_ReviewObjection", decision=review, opinion="复核")
        return self

    def certify(self) -> Walk:
        return (self.do("Task_TownCertify", decision="certify", risk_level="at_risk", opinion="符合")
                .do("Task_TownLeadershipReview", decision="pass", meeting_date="2030-01-01", opinion="通过")
                .do("Task_CountyApprove", decision="approve", opinion="同意"))

    def assist(self) -> Walk:
        return (self.do("Task_DraftMeasures", measures=[{"content": "医疗救助"}], cadre_id=7)
                .do("Task_CountyFiling", decision="file", opinion="备案")
                .do("Task_CarryOutMeasures", results=[{"measure_id": 1, "result": "已落实"}], new_measures=[]))

    def close(self) -> Walk:
        return (self.do("Task_ApplyClosure", summary="达标")
                .do("Task_TownAcceptance", decision="accept", opinion="合格")
                .do("Task_CountyRecheck", decision="confirm", opinion="达标")
                .notice())

    def ended(self, end_event: str) -> None:
        assert self.snapshot.completed and self.snapshot.end_event == end_event, self.ready


def test_monthly_screening_runs_screening_then_assessment():
    walk = Walk("monthly_screening", {"month": "2030-01"})
    walk.do("Task_ScreenHouseholds", households_checked=10).do("Task_AssessmentMeeting", key_assistance=[1])
    walk.ended("End_AssessmentReported")


def test_happy_path_certify_publicise_assist_close():
    walk = Walk("household_case").certify()
    task = walk.snapshot.ready_tasks[0]
    assert (task.bpmn_id, task.context_name, task.lane) == ("Task_PostNotice", "村内公示", "驻村工作队")
    walk.notice().assist().close().ended("End_Closed")


def test_town_returns_for_more_information_then_certifies():
    walk = Walk("household_case")
    walk.do("Task_TownCertify", decision="return", opinion="缺少医疗费用票据")
    walk.do("Task_SupplementInformation", supplement="已补充票据").certify()
    assert walk.ready == ["Task_PostNotice"]


def test_town_rejects():
    Walk("household_case").do("Task_TownCertify", decision="reject", opinion="收入达标").ended("End_Rejected")


def test_leadership_meeting_returns_to_the_certification_group():
    walk = Walk("household_case").do("Task_TownCertify", decision="certify", risk_level="returned", opinion="x")
    walk.do("Task_TownLeadershipReview", decision="return", meeting_date="2030-01-01", opinion="再核实")
    assert walk.ready == ["Task_TownCertify"]


@pytest.mark.parametrize("decision, expected", [("return", ["Task_TownCertify"]), ("reject", None)])
def test_county_returns_or_rejects(decision, expected):
    walk = Walk("household_case").do("Task_TownCertify", decision="certify", risk_level="at_risk", opinion="x")
    walk.do("Task_TownLeadershipReview", decision="pass", meeting_date="2030-01-01", opinion="y")
    walk.do("Task_CountyApprove", decision=decision, opinion="z")
    if expected is None:
        walk.ended("End_Rejected")
    else:
        assert walk.ready == expected


def test_upheld_objection_during_publicity_goes_back_to_the_town():
    walk = Walk("household_case").certify().notice("objection", review="uphold")
    assert walk.ready == ["Task_TownCertify"]


def test_dismissed_objection_lets_assistance_begin():
    walk = Walk("household_case").certify().notice("objection", review="dismiss")
    assert walk.ready == ["Task_DraftMeasures"]


def test_county_returns_the_measure_plan_for_revision():
    walk = Walk("household_case").certify().notice()
    walk.do("Task_DraftMeasures", measures=[], cadre_id=1).do("Task_CountyFiling", decision="return", opinion="不具体")
    assert walk.ready == ["Task_DraftMeasures"]


@pytest.mark.parametrize("refusal", ["town", "county"])
def test_closure_refused_returns_to_assistance_then_reapplied(refusal):
    """不合格退回 / 未达标，退回继续帮扶: assistance goes on (the cadre's measures), and the village applies again."""
    walk = Walk("household_case").certify().notice().assist()
    walk.do("Task_ApplyClosure", summary="申请")
    if refusal == "town":
        walk.do("Task_TownAcceptance", decision="return", opinion="收入未达标")
    else:
        walk.do("Task_TownAcceptance", decision="accept", opinion="合格")
        walk.do("Task_CountyRecheck", decision="return", opinion="未达标")
    assert walk.ready == ["Task_CarryOutMeasures"]
    walk.do("Task_CarryOutMeasures", results=[], new_measures=[])
    assert walk.ready == ["Task_ApplyClosure"]
    walk.close().ended("End_Closed")


def test_measures_added_while_assisting_are_filed_then_carried_out():
    walk = Walk("household_case").certify().notice().assist()
    walk.do("Task_ApplyClosure", summary="申请").do("Task_TownAcceptance", decision="return", opinion="收入未达标")
    walk.do("Task_CarryOutMeasures", results=[], new_measures=[{"content": "公益性岗位"}])
    walk.do("Task_CountyFiling", decision="file", opinion="备案")
    walk.do("Task_CarryOutMeasures", results=[{"measure_id": 2, "result": "已上岗"}], new_measures=[])
    assert walk.ready == ["Task_ApplyClosure"]


def test_upheld_objection_to_the_announcement_goes_back_to_town_acceptance():
    walk = Walk("household_case").certify().notice().assist()
    walk.do("Task_ApplyClosure", summary="申请").do("Task_TownAcceptance", decision="accept", opinion="合格")
    walk.do("Task_CountyRecheck", decision="confirm", opinion="达标").notice("objection", review="uphold")
    assert walk.ready == ["Task_TownAcceptance"]


def test_a_completed_task_cannot_be_completed_again():
    walk = Walk("household_case")
    first = walk.snapshot
    walk.do("Task_TownCertify", decision="reject", opinion="x")
    with pytest.raises(TaskNotReady):
        complete_task(walk.bundle, walk.snapshot.state, first.ready_tasks[0].task_id, {"decision": "certify"})


def test_an_unknown_task_cannot_be_completed():
    walk = Walk("household_case")
    from uuid import uuid4

    with pytest.raises(TaskNotReady):
        complete_task(walk.bundle, walk.snapshot.state, str(uuid4()), {})


def test_state_stores_the_spec_by_reference_and_chinese_as_utf8():
    walk = Walk("household_case").do("Task_TownCertify", decision="return", opinion="需要补充医疗票据")
    assert "需要补充医疗票据" in walk.snapshot.state
    assert '"spec":"household_case"' in walk.snapshot.state
    assert "task_specs" not in walk.snapshot.state


def test_state_of_another_process_is_refused():
    walk = Walk("household_case")
    other = parse_bundle("monthly_screening", SOURCES)
    with pytest.raises(EngineError):
        complete_task(other, walk.snapshot.state, walk.snapshot.ready_tasks[0].task_id, {})


def test_timer_waits_for_its_due_time():
    walk = Walk("publicity")
    walk.do("Task_PostNotice", notice_ends_at=(datetime(2030, 3, 1) + timedelta(days=5)).isoformat() + "+08:00")
    assert fire_due_timers(walk.bundle, walk.snapshot.state, datetime(2030, 3, 5)).ready_tasks == []
    fired = fire_due_timers(walk.bundle, walk.snapshot.state, FAR_FUTURE)
    assert [t.bpmn_id for t in fired.ready_tasks] == ["Task_RecordObjections"]
