"""What the code relies on in the diagrams, declared once: the steps it finds in the history by their id, the end
states that set a case's outcome, the phase property that sets a case's status, and the forms whose submission
changes more than the workflow. Code refers to a tie by its name here, never by a raw BPMN id; every diagram the
modeler validates or deploys, and `flask processes check`, is refused when it breaks one (tie_problems), with a
message that names the tie and what depends on it.

A county's administrator may change anything else: names, lanes, time limits, new steps, new gateways."""

from __future__ import annotations

from dataclasses import dataclass

from app.engine import ElementInfo, ProcessDescription
from app.vocab import COUNTY_CASE_PHASES, NATIONAL_CASE_PHASES

PHASE_PROPERTY = "phase"


@dataclass(frozen=True)
class StepTie:
    """A user task the code finds by its id (the history is queried by it), with the form it must carry."""

    process_key: str
    bpmn_id: str
    form_key: str
    label: str
    used_by: str


@dataclass(frozen=True)
class EndTie:
    """An end event of the procedure whose reaching gives the subject its outcome. In a procedure with parallel
    branches the outcome ends terminate the process (every other branch with it), and a branch may end at an end
    event of its own that gives no outcome (outcome "", not required)."""

    process_key: str
    bpmn_id: str
    label: str
    outcome: str
    used_by: str
    terminates: bool = False

    @property
    def is_branch_end(self) -> bool:
        return not self.outcome


@dataclass(frozen=True)
class StartData:
    """What the code gives a procedure when it starts an instance: gateway conditions may read these names as well
    as the fields of the forms upstream."""

    process_key: str
    names: tuple[tuple[str, str], ...]  # (name, what it means)


@dataclass(frozen=True)
class FormTie:
    """A form whose submission writes the subject's own records: the procedure must have a step with it."""

    process_key: str
    form_key: str
    label: str
    used_by: str


@dataclass(frozen=True)
class PhaseTie:
    """Every user task and call activity of the procedure says which phase the subject is in while it waits."""

    process_key: str
    values: tuple[str, ...]
    used_by: str
    # A called procedure's phases: while the call runs, the subject's phase is the call activity's.
    called: tuple[tuple[str, tuple[str, ...]], ...] = ()


COUNTY_APPROVAL = StepTie("household_case", "Task_CountyApprove", "county_approval", "县办审批",
                          "督查考核的审批时效和年度考评")
NOTICE_POSTING = StepTie("publicity", "Task_PostNotice", "notice_posting", "张贴公示公告",
                         "村内公示、销号公告的名单")
CASE_CLOSED = EndTie("household_case", "End_Closed", "销号", "closed", "案件状态“已销号”")
CASE_REJECTED = EndTie("household_case", "End_Rejected", "不予认定", "rejected", "案件状态“不予认定”")
CASE_PHASES = PhaseTie(
    "household_case", COUNTY_CASE_PHASES, "案件状态、认定环节的 15 日时限和公示公告名单",
    called=(("publicity", ("publicity", "announcement")),),
)
CASE_FORMS = (
    FormTie("household_case", "town_certification", "镇认定（风险等级）", "案件的风险等级和公示结果"),
    FormTie("household_case", "measures_plan", "制定帮扶措施并确定包抓干部", "帮扶措施台账（附件2）和包抓干部"),
    FormTie("household_case", "measures_execution", "落实帮扶措施", "措施落实情况和督查考核"),
)
LEAD_VERIFICATION = FormTie("lead_verification", "lead_verification", "入户核实", "线索的核实记录和核实结论")
INCOME_ASSESSMENT = FormTie("lead_verification", "income_assessment", "收支测算", "收支测算记录和监测对象类型的建议")
LEAD_CONFIRMED = EndTie("lead_verification", "End_RiskConfirmed", "风险属实", "confirmed", "线索状态“核实属实”")
LEAD_NOT_CONFIRMED = EndTie("lead_verification", "End_RiskNotConfirmed", "风险不属实", "not_confirmed",
                            "线索状态“核实不属实”")

# The national mechanism's case (national_case.bpmn): identification after a verified lead, assistance under
# monitoring, risk elimination; a fast path's measures on a branch beside the identification.
NATIONAL_CASE = "national_case"
NATIONAL_NOT_IDENTIFIED = EndTie(NATIONAL_CASE, "End_NotIdentified", "不纳入监测", "rejected",
                                 "案件状态“不予认定”（先行帮扶的分支随之结束）", terminates=True)
NATIONAL_ELIMINATED = EndTie(NATIONAL_CASE, "End_RiskEliminated", "标注风险消除", "eliminated",
                             "案件状态“风险已消除”和风险消除时间", terminates=True)
FIRST_AID_DONE = EndTie(NATIONAL_CASE, "End_FirstAidRecorded", "先行帮扶措施已落实", "", "先帮扶后认定的分支")
NATIONAL_CASE_PHASES_TIE = PhaseTie(
    NATIONAL_CASE, NATIONAL_CASE_PHASES, "案件状态、发现至县级审定的 15 日时限、公示公告名单和监测对象名单",
    called=(("publicity", ("review_publicity", "result_notice", "elim_publicity", "elim_notice")),),
)
IDENTIFICATION_REVIEW = FormTie(NATIONAL_CASE, "identification_review", "民主评议（识别）",
                                "民主评议记录和监测对象类型")
COUNTY_IDENTIFICATION = FormTie(NATIONAL_CASE, "county_identification", "县级审定（识别）",
                                "风险识别时间、监测对象名单和 15 日内认定率")
FIRST_AID = FormTie(NATIONAL_CASE, "first_aid_measures", "先行落实帮扶措施", "先帮扶后认定的措施记录")
ELIMINATION_CHECK = FormTie(NATIONAL_CASE, "elimination_check", "风险消除入户核实", "风险消除条件核查记录")
ELIMINATION_REVIEW = FormTie(NATIONAL_CASE, "elimination_review", "民主评议（风险消除）", "民主评议记录")
NATIONAL_CASE_FORMS = (
    IDENTIFICATION_REVIEW, COUNTY_IDENTIFICATION, FIRST_AID, ELIMINATION_CHECK, ELIMINATION_REVIEW,
    FormTie(NATIONAL_CASE, "measures_plan", "制定帮扶措施并确定包抓干部", "帮扶措施台账和包抓干部"),
    FormTie(NATIONAL_CASE, "measures_execution", "落实帮扶措施", "措施落实情况和风险消除条件"),
)
NATIONAL_CASE_START = StartData(NATIONAL_CASE, (
    ("fast_path", "先帮扶后认定：线索为突发灾害、意外等紧急情况"),
    ("resume_monitoring", "风险消除回退后继续监测：从风险消除入户核实开始"),
))

SCREENING_FORMS = (
    FormTie("monthly_screening", "screening", "逐户排查", "排查覆盖率和风险户花名册（附件1）"),
    FormTie("national_screening", "screening", "逐户排查", "排查覆盖率、花名册和基层干部排查渠道的风险线索"),
    FormTie("monthly_screening", "assessment", "评估会议", "评估确定的重点帮扶户开案"),
)

STEPS = (COUNTY_APPROVAL, NOTICE_POSTING)
ENDS = (CASE_CLOSED, CASE_REJECTED, LEAD_CONFIRMED, LEAD_NOT_CONFIRMED, NATIONAL_NOT_IDENTIFIED, NATIONAL_ELIMINATED,
        FIRST_AID_DONE)
PHASES = (CASE_PHASES, NATIONAL_CASE_PHASES_TIE)
FORMS = (*CASE_FORMS, *SCREENING_FORMS, LEAD_VERIFICATION, INCOME_ASSESSMENT, *NATIONAL_CASE_FORMS)
STARTS = (NATIONAL_CASE_START,)


def outcome_of(process_key: str, end_event: str | None) -> str | None:
    """The outcome a declared end event gives, or None for an end the procedure does not declare (or a branch's
    own end, which gives none)."""
    return next((t.outcome or None for t in ENDS if t.process_key == process_key and t.bpmn_id == end_event), None)


def start_names(process_key: str) -> set[str]:
    """The names the code gives the procedure at its start (gateway conditions may read them)."""
    return {name for tie in STARTS if tie.process_key == process_key for name, _meaning in tie.names}


def tie_problems(process_key: str, description: ProcessDescription) -> list[tuple[str | None, str]]:
    """(element id, message in Chinese) for each tie of `process_key` the diagram breaks."""
    own = [e for e in description.elements if e.process_key == process_key]
    by_id = {e.bpmn_id: e for e in own}
    problems: list[tuple[str | None, str]] = []
    for step in (t for t in STEPS if t.process_key == process_key):
        element = by_id.get(step.bpmn_id)
        if element is None or element.element_type != "UserTask":
            problems.append((None, f"缺少“{step.label}”环节（编号 {step.bpmn_id}）：{step.used_by}按此编号统计，"
                                   f"请保留该环节及其编号"))
        elif element.properties.get("form") != step.form_key:
            problems.append((step.bpmn_id, f"“{step.label}”环节（{step.bpmn_id}）的表单应为“{step.form_key}”："
                                           f"{step.used_by}依赖它"))
    ends = [t for t in ENDS if t.process_key == process_key]
    if ends:
        declared = {t.bpmn_id for t in ends}
        for end in ends:
            element = by_id.get(end.bpmn_id)
            if element is None or element.element_type != "EndEvent":
                if not end.is_branch_end:
                    problems.append((None, f"缺少结束事件“{end.label}”（编号 {end.bpmn_id}）：{end.used_by}依赖它"))
            elif end.terminates and not element.terminates:
                problems.append((end.bpmn_id, f"结束事件“{end.label}”（{end.bpmn_id}）应为终止结束事件：到达它时"
                                              f"其他分支（如先行帮扶）随之结束，{end.used_by}才能确定"))
        names = "、".join(f"{t.label}（{t.bpmn_id}）" for t in ends if not t.is_branch_end)
        for element in own:
            if element.element_type == "EndEvent" and element.bpmn_id not in declared:
                problems.append((element.bpmn_id, f"结束事件“{element.name or element.bpmn_id}”不是已声明的结束状态"
                                                  f"（{names}）：到达它时无法确定办结结果"))
    for phase in (t for t in PHASES if t.process_key == process_key):
        called = dict(phase.called)
        for element in own:
            if element.element_type == "UserTask":
                allowed = phase.values
            elif element.element_type == "CallActivity":
                allowed = called.get(element.called_process or "", phase.values)
            else:
                continue
            problem = _phase_problem(element, allowed, phase.used_by)
            if problem:
                problems.append((element.bpmn_id, problem))
    present = {e.properties.get("form") for e in own if e.element_type == "UserTask"}
    for form in (t for t in FORMS if t.process_key == process_key):
        if form.form_key not in present:
            problems.append((None, f"缺少使用表单“{form.form_key}”的“{form.label}”环节：{form.used_by}依赖它"))
    return problems


def _phase_problem(element: ElementInfo, allowed: tuple[str, ...], used_by: str) -> str | None:
    value = element.properties.get(PHASE_PROPERTY)
    name = element.name or element.bpmn_id
    if not value:
        return f"“{name}”缺少阶段属性 {PHASE_PROPERTY}（应为 {'、'.join(allowed)} 之一）：{used_by}依赖它"
    if value not in allowed:
        return f"“{name}”的阶段属性 {PHASE_PROPERTY}“{value}”不在 {'、'.join(allowed)} 之中：{used_by}依赖它"
    return None
