"""Is a diagram fit to deploy? The engine parses it, then the product's own rules check it. Every problem names
its element (when there is one) and says what is wrong in Chinese, for the modeler to show beside it.

Uploaded XML is untrusted: it is read without DTDs, entities or network access, and refused outright when it
declares a DOCTYPE (the way in for XXE and billion-laughs files)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from lxml import etree

from app import engine
from app.deadlines.policy import TIME_LIMIT_PROPERTY, time_limit_problem
from app.engine.sandbox import SandboxError, check_expression, check_script
from app.processes.ties import start_names, tie_problems
from app.roles import role_for_lane
from forms import REGISTRY, field_names

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
MAX_BYTES = 5 * 1024 * 1024
EXPRESSION_KIND = {"condition": "条件表达式", "timer_date": "定时表达式", "timer_duration": "定时表达式",
                   "timer_cycle": "定时表达式", "script": "脚本"}


@dataclass(frozen=True)
class Problem:
    element_id: str | None
    message: str

    def as_json(self) -> dict[str, str | None]:
        return {"element_id": self.element_id, "message": self.message}


@dataclass
class Validation:
    process_keys: list[str] = field(default_factory=list)  # executable processes the file defines
    problems: list[Problem] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # process key → its name in the diagram

    @property
    def valid(self) -> bool:
        return bool(self.process_keys) and not self.problems

    def as_json(self) -> dict[str, object]:
        return {"valid": self.valid, "process_keys": self.process_keys,
                "problems": [p.as_json() for p in self.problems]}


class BpmnRefused(Exception):
    """The file cannot be read as BPMN at all (not XML, a DOCTYPE, too large, not BPMN 2.0)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def read_bpmn(xml: str | bytes) -> etree._Element:
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    if len(data) > MAX_BYTES:
        raise BpmnRefused(f"文件过大（超过 {MAX_BYTES // 1024 // 1024} MB）")
    if not data.strip():
        raise BpmnRefused("文件为空")
    head = data[:4096].upper()
    if b"<!DOCTYPE" in head or b"<!ENTITY" in data.upper():
        raise BpmnRefused("不接受带 DOCTYPE 或实体声明的 XML 文件（可能是 XXE 或“十亿笑声”攻击）")
    parser = etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True, huge_tree=False,
                             remove_comments=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise BpmnRefused(f"不是有效的 XML：{exc.msg}（第 {exc.lineno} 行）") from exc
    if etree.QName(root).namespace != BPMN_NS or etree.QName(root).localname != "definitions":
        raise BpmnRefused("不是 BPMN 2.0 文件：根元素应为 bpmn:definitions")
    return root


def time_limit_problems(root: etree._Element) -> list[Problem]:
    """Every user task whose 办理时限 (spiffworkflow property `time_limit_days`) is not a whole number of 1–365
    working days, named by the task. Read from the XML alone, so a draft is refused before it is stored."""
    problems = []
    for task in root.iter(f"{{{BPMN_NS}}}userTask"):
        for prop in task.iter():
            if (isinstance(prop.tag, str) and etree.QName(prop).localname == "property"
                    and prop.get("name") == TIME_LIMIT_PROPERTY):
                value = prop.get("value") or ""
                if value.strip() and (problem := time_limit_problem(value)):
                    element_id = task.get("id") or ""
                    name = " ".join((task.get("name") or "").split()) or element_id
                    problems.append(Problem(element_id, f"任务“{name}”（{element_id}）：{problem}"))
    return problems


def validate_bpmn(xml: str, available: Mapping[str, str] | None = None) -> Validation:
    """Check every executable process of `xml`. `available` maps other deployed process keys to their XML, so
    call activities to them resolve. Raises BpmnRefused when the file cannot be read as BPMN at all."""
    root = read_bpmn(xml)
    result = Validation()
    processes = root.findall(f"{{{BPMN_NS}}}process")
    if not processes:
        result.problems.append(Problem(None, "文件中没有流程（bpmn:process）"))
        return result
    executable = [p for p in processes if p.get("isExecutable", "true").lower() != "false"] or processes
    result.process_keys = [p.get("id", "") for p in executable]
    all_keys = {p.get("id", "") for p in processes}
    result.names = {p.get("id", ""): p.get("name") or p.get("id", "") for p in executable}
    # The file's own processes replace their deployed versions.
    sources = {f"{key}.bpmn": text for key, text in (available or {}).items() if key not in all_keys}
    own_name = "__draft__.bpmn"
    sources[own_name] = xml
    for key in result.process_keys:
        result.problems += process_problems(key, sources, root)
    # One problem once, even when several processes of the file share an element.
    unique = list(dict.fromkeys(result.problems))
    result.problems = unique
    return result


# The engine's most common refusals, said in Chinese (the engine's own words follow in brackets).
ENGINE_MESSAGES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"Process (\S+) is not executable"), "流程 {0} 未标记为可执行（isExecutable=\"false\"）"),
    (re.compile(r"A Service Task must have an operator"), "本系统不支持服务任务（没有可调用的服务）"),
    (re.compile(r"Data Store with name (.+?) has no implementation"), "本系统不支持数据存储“{0}”"),
    (re.compile(r"Exactly one start event is required"), "子流程必须有且只有一个开始事件"),
    (re.compile(r"multiinstance task must specify a cardinality"), "多实例任务必须指定实例数量或输入集合"),
    (re.compile(r"Cannot resolve data(Input|Output)Association"),
     "无法解析数据关联（本系统不支持数据对象的输入输出映射）"),
    (re.compile(r"There is no support implemented for this task type"), "流程引擎不支持该类型的元素"),
    (re.compile(r"No start event found"), "流程没有开始事件"),
    (re.compile(r"Multiple outgoing flows are not supported"), "任务不能有多条流出的顺序流，请使用网关"),
    (re.compile(r"Non-default exclusive outgoing sequence flow without condition"),
     "排他网关的非默认流出顺序流缺少条件"),
    (re.compile(r"The process '(\S+)' was not found|Unable to find process (\S+)|not find.* process (\S+)"),
     "调用的流程 {0} 不存在（请先部署被调用的流程）"),
]


def _engine_problem(exc: engine.EngineError, root: etree._Element | None) -> Problem:
    text = _short(str(exc))
    element_id = exc.element_id
    for pattern, chinese in ENGINE_MESSAGES:
        match = pattern.search(text)
        if match:
            groups = [g for g in match.groups() if g] or [""]
            message = chinese.format(*groups)
            if element_id is None and root is not None and "数据存储" in message:
                element_id = _id_by_name(root, groups[0])
            return Problem(element_id, f"{message}（{text}）")
    return Problem(element_id, f"流程引擎无法解析：{text}")


def _id_by_name(root: etree._Element, name: str) -> str | None:
    wanted = " ".join(name.split())
    for element in root.iter():
        if element.get("id") and " ".join((element.get("name") or "").split()) == wanted:
            return str(element.get("id"))
    return None


def process_problems(key: str, sources: dict[str, str], root: etree._Element | None = None) -> list[Problem]:
    try:
        bundle = engine.parse_bundle(key, sources)
    except engine.EngineError as exc:
        return [_engine_problem(exc, root)]
    description = engine.describe_process(bundle)
    problems = [Problem(p.element_id, p.message) for p in description.problems]
    known_fields: set[str] = start_names(key)
    for task in description.user_tasks:
        if role_for_lane(task.lane) is None:
            problems.append(Problem(task.bpmn_id, f"任务“{task.name}”所在泳道“{task.lane or '无'}”不是已知角色"))
        if task.form_key is None:
            problems.append(Problem(task.bpmn_id, f"任务“{task.name}”未指定表单"))
        elif task.form_key not in REGISTRY:
            problems.append(Problem(task.bpmn_id, f"任务“{task.name}”的表单“{task.form_key}”不存在"))
        else:
            known_fields |= field_names(task.form_key)
        limit = task.properties.get(TIME_LIMIT_PROPERTY)
        if limit is not None and (problem := time_limit_problem(limit)):
            problems.append(Problem(task.bpmn_id, f"任务“{task.name}”：{problem}"))
    for expression in description.expressions:
        try:
            if expression.kind == "script":
                if not expression.text.strip():
                    raise SandboxError("脚本任务没有脚本")
                check_script(expression.text)
            else:
                check_expression(expression.text)
                if expression.kind.startswith("timer_"):
                    _check_timer_literal(expression.kind, expression.text)
        except SandboxError as exc:
            what = EXPRESSION_KIND.get(expression.kind, expression.kind)
            problems.append(Problem(expression.element_id, f"{what}“{_short(expression.text, 60)}”：{exc}"))
    problems += [Problem(element_id, message) for element_id, message in tie_problems(key, description)]
    for condition in description.conditions:
        unknown = condition.names - known_fields
        if unknown:
            problems.append(Problem(condition.gateway_id, f"条件“{condition.expression}”读取了上游表单中没有的字段："
                                                          f"{'、'.join(sorted(unknown))}"))
    return problems


def _check_timer_literal(kind: str, text: str) -> None:
    """A timer given as a quoted literal must be readable now, not fail when the timer is reached."""
    import ast

    tree = ast.parse(text.strip(), mode="eval")
    if isinstance(tree.body, ast.Constant) and isinstance(tree.body.value, str):
        problem = engine.timer_literal_problem(kind, tree.body.value)
        if problem:
            raise SandboxError(problem)


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
