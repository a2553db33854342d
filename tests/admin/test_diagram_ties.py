"""The code's ties to diagram elements are declared (app/processes/ties.py) and checked: a diagram that breaks one
is refused by `flask processes check` and by the modeler's 校验 and 部署, with a Chinese message that names the
tie, and nothing is deployed. Renaming or re-laning anything else stays the administrator's business."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import ProcessVersion
from tests.admin.test_process_admin import Modeler
from tests.conftest import PROCESSES

SHIPPED = {p.stem: p.read_text(encoding="utf-8") for p in PROCESSES.glob("*.bpmn")}


def _rename(xml: str, old: str, new: str) -> str:
    """An id changed everywhere the diagram names it (flows, lanes, shapes), as the modeler does."""
    renamed = re.sub(rf"\b{old}\b", new, xml)
    assert renamed != xml
    return renamed


def _replace(xml: str, old: str, new: str) -> str:
    assert old in xml, old
    return xml.replace(old, new, 1)


BROKEN = {
    "county approval step renamed": (
        "household_case", lambda x: _rename(x, "Task_CountyApprove", "Task_CountyDecision"),
        "缺少“县办审批”环节（编号 Task_CountyApprove）：督查考核的审批时效和年度考评按此编号统计"),
    "county approval step with another form": (
        "household_case", lambda x: _replace(x, 'value="county_approval"', 'value="county_recheck"'),
        "“县办审批”环节（Task_CountyApprove）的表单应为“county_approval”"),
    "closed end renamed": (
        "household_case", lambda x: _rename(x, "End_Closed", "End_Done"),
        "缺少结束事件“销号”（编号 End_Closed）：案件状态“已销号”依赖它"),
    "rejected end renamed": (
        "household_case", lambda x: _rename(x, "End_Rejected", "End_NotCertified"),
        "结束事件“不予认定”不是已声明的结束状态"),
    "a step's phase is not a case status": (
        "household_case", lambda x: _replace(x, 'name="phase" value="assistance"', 'name="phase" value="helping"'),
        "阶段属性 phase“helping”不在 certification、publicity、assistance、closure、announcement 之中"),
    "a step without a phase": (
        "household_case", lambda x: _replace(x, '<spiffworkflow:property name="phase" value="closure" />', ""),
        "“申报验收销号”缺少阶段属性 phase"),
    "the announcement call in a phase the notices do not know": (
        "household_case", lambda x: _replace(x, 'name="phase" value="announcement"', 'name="phase" value="closure"'),
        "“销号公告”的阶段属性 phase“closure”不在 publicity、announcement 之中"),
    "the measures plan's form gone": (
        "household_case", lambda x: _replace(x, 'value="measures_plan"', 'value="county_filing"'),
        "缺少使用表单“measures_plan”的“制定帮扶措施并确定包抓干部”环节：帮扶措施台账（附件2）和包抓干部依赖它"),
    "notice posting step renamed": (
        "publicity", lambda x: _rename(x, "Task_PostNotice", "Task_Post"),
        "缺少“张贴公示公告”环节（编号 Task_PostNotice）：村内公示、销号公告的名单按此编号统计"),
    # The national procedure's ties.
    "the not-identified end no longer terminates the fast path's branch": (
        "national_case", lambda x: _replace(
            x, '<bpmn:terminateEventDefinition id="TerminateDefinition_NotIdentified" />', ""),
        "结束事件“不纳入监测”（End_NotIdentified）应为终止结束事件"),
    "the eliminated end renamed": (
        "national_case", lambda x: _rename(x, "End_RiskEliminated", "End_Done"),
        "缺少结束事件“标注风险消除”（编号 End_RiskEliminated）：案件状态“风险已消除”和风险消除时间依赖它"),
    "a national step's phase is a county phase": (
        "national_case", lambda x: _replace(x, 'name="phase" value="elimination"', 'name="phase" value="closure"'),
        "阶段属性 phase“closure”不在 certification、review_publicity、result_notice、assistance、elimination、"
        "elim_publicity、elim_notice 之中"),
    "the county decision's form gone": (
        "national_case", lambda x: _replace(x, 'value="county_identification"', 'value="county_approval"'),
        "缺少使用表单“county_identification”的“县级审定（识别）”环节：风险识别时间、监测对象名单和 15 日内认定率"
        "依赖它"),
    "the elimination check's form gone": (
        "national_case", lambda x: _replace(x, 'value="elimination_check"', 'value="measures_plan"'),
        "缺少使用表单“elimination_check”的“风险消除入户核实”环节：风险消除条件核查记录依赖它"),
    "the assessment meeting's form gone": (
        "monthly_screening", lambda x: _replace(x, 'value="assessment"', 'value="screening"'),
        "缺少使用表单“assessment”的“评估会议”环节：评估确定的重点帮扶户开案依赖它"),
}


@pytest.mark.parametrize("case", list(BROKEN), ids=list(BROKEN))
def test_processes_check_refuses_a_diagram_that_breaks_a_tie(runner, tmp_path: Path, case: str):
    key, breaks, message = BROKEN[case]
    for name, xml in SHIPPED.items():
        (tmp_path / f"{name}.bpmn").write_text(breaks(xml) if name == key else xml, encoding="utf-8")
    result = runner.invoke(args=["processes", "check", str(tmp_path)])
    assert result.exit_code == 1
    assert message in result.output, result.output


@pytest.mark.parametrize("case", list(BROKEN), ids=list(BROKEN))
def test_the_modeler_refuses_to_validate_or_deploy_a_diagram_that_breaks_a_tie(app, login_as, case: str):
    key, breaks, message = BROKEN[case]
    modeler = Modeler(login_as("admin"), _current_id(app, key))
    saved = modeler.post("/admin/processes/drafts", {"process_key": key, "xml": breaks(SHIPPED[key])})
    draft = saved.get_json()["draft_id"]
    checked = modeler.post(f"/admin/processes/drafts/{draft}/validate").get_json()
    assert checked["valid"] is False
    assert any(message in p["message"] for p in checked["problems"]), checked["problems"]
    deployed = modeler.post(f"/admin/processes/drafts/{draft}/deploy")
    assert deployed.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.max(ProcessVersion.version))
                                 .where(ProcessVersion.process_key == key)) == 1


def test_what_the_code_does_not_rely_on_stays_free_to_change(app, login_as):
    """Names, other ids and time limits are the county's: the modeler deploys such a change."""
    xml = _rename(SHIPPED["household_case"], "Task_CountyFiling", "Task_FileWithCounty")
    xml = _replace(xml, 'name="县办审批"', 'name="县防返贫办审批"')
    modeler = Modeler(login_as("admin"), _current_id(app, "household_case"))
    draft = modeler.post("/admin/processes/drafts", {"process_key": "household_case", "xml": xml}).get_json()
    checked = modeler.post(f"/admin/processes/drafts/{draft['draft_id']}/validate").get_json()
    assert checked == {"valid": True, "process_keys": ["household_case"], "problems": []}
    assert modeler.post(f"/admin/processes/drafts/{draft['draft_id']}/deploy").status_code == 201


def _current_id(app, key: str) -> int:
    with app.app_context():
        return db.session.scalar(select(ProcessVersion.id).where(ProcessVersion.process_key == key,
                                                                 ProcessVersion.is_current))
