"""Read a parsed process: its user tasks, lanes, forms and gateway conditions (for the diagram check)."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.simple import TerminateEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import CallActivity

from app.engine.adapter import ProcessBundle


@dataclass(frozen=True)
class UserTaskInfo:
    process_key: str
    bpmn_id: str
    name: str
    lane: str | None
    form_key: str | None
    properties: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DiagramProblem:
    element_id: str
    message: str


@dataclass(frozen=True)
class ConditionInfo:
    process_key: str
    gateway_id: str
    flow_id: str
    expression: str
    names: frozenset[str]


@dataclass(frozen=True)
class ExpressionInfo:
    """Text the engine would evaluate: a condition, a timer expression or a script."""

    process_key: str
    element_id: str
    kind: str  # condition | timer | script
    text: str


@dataclass(frozen=True)
class ElementInfo:
    """Any element of a process (events, tasks, call activities, gateways), with its Spiff properties."""

    process_key: str
    bpmn_id: str
    element_type: str  # UserTask, EndEvent, CallActivity … (as in the trail)
    name: str | None
    properties: dict[str, str] = field(default_factory=dict)
    called_process: str | None = None  # a call activity's calledElement
    terminates: bool = False  # a terminate end event: reaching it ends every branch of the process


@dataclass(frozen=True)
class ProcessDescription:
    user_tasks: list[UserTaskInfo]
    conditions: list[ConditionInfo]
    problems: list[DiagramProblem]
    expressions: list[ExpressionInfo] = field(default_factory=list)
    elements: list[ElementInfo] = field(default_factory=list)


def process_dependencies(bundle: ProcessBundle) -> list[str]:
    """The process ids that `bundle`'s call activities call, directly or not."""
    return sorted(bundle.subprocess_specs)


def describe_process(bundle: ProcessBundle) -> ProcessDescription:
    user_tasks: list[UserTaskInfo] = []
    conditions: list[ConditionInfo] = []
    problems: list[DiagramProblem] = []
    expressions: list[ExpressionInfo] = []
    elements: list[ElementInfo] = []
    for spec in [bundle.spec, *bundle.subprocess_specs.values()]:
        for task_spec in spec.task_specs.values():
            bpmn_id = getattr(task_spec, "bpmn_id", None)
            if bpmn_id is None:
                continue  # the engine's own bookkeeping specs
            expressions += _expressions(spec.name, bpmn_id, task_spec)
            props = getattr(task_spec, "extensions", {}).get("properties", {})
            elements.append(ElementInfo(spec.name, bpmn_id, type(task_spec).__name__, task_spec.bpmn_name,
                                        dict(props), getattr(task_spec, "spec", None)
                                        if isinstance(task_spec, CallActivity) else None,
                                        isinstance(getattr(task_spec, "event_definition", None),
                                                   TerminateEventDefinition)))
            if task_spec.manual:
                user_tasks.append(
                    UserTaskInfo(spec.name, bpmn_id, task_spec.bpmn_name or bpmn_id, task_spec.lane,
                                 props.get("form"), dict(props))
                )
            if isinstance(task_spec, CallActivity):
                continue
            for condition, target in getattr(task_spec, "cond_task_specs", []) or []:
                if condition is None:
                    continue
                expression = str(condition.args[0])
                try:
                    tree = ast.parse(expression, mode="eval")
                except SyntaxError as exc:
                    problems.append(DiagramProblem(bpmn_id, f"条件表达式语法错误：{expression}（{exc.msg}）"))
                    continue
                names = frozenset(n.id for n in ast.walk(tree) if isinstance(n, ast.Name))
                conditions.append(ConditionInfo(spec.name, bpmn_id, str(target), expression, names))
                expressions.append(ExpressionInfo(spec.name, bpmn_id, "condition", expression))
    return ProcessDescription(user_tasks, conditions, problems, expressions, elements)


def _expressions(process_key: str, bpmn_id: str, task_spec: Any) -> list[ExpressionInfo]:
    """Scripts, pre/post scripts and timer expressions of one element (conditions are read with gateways)."""
    found = []
    for attribute, kind in (("script", "script"), ("prescript", "script"), ("postscript", "script")):
        text = getattr(task_spec, attribute, None)
        if isinstance(text, str) and text.strip():
            found.append(ExpressionInfo(process_key, bpmn_id, kind, text))
    if kind_is_script_task(task_spec) and not (getattr(task_spec, "script", None) or "").strip():
        found.append(ExpressionInfo(process_key, bpmn_id, "script", ""))
    definition = getattr(task_spec, "event_definition", None)
    if isinstance(definition, TimerEventDefinition):
        found.append(ExpressionInfo(process_key, bpmn_id, f"timer_{_timer_kind(definition)}",
                                    str(definition.expression)))
    return found


def _timer_kind(definition: TimerEventDefinition) -> str:
    if isinstance(definition, DurationTimerEventDefinition):
        return "duration"
    if isinstance(definition, CycleTimerEventDefinition):
        return "cycle"
    return "date"


def timer_literal_problem(kind: str, value: str) -> str | None:
    """For a timer written as a literal: None if the engine can read it, else the reason in Chinese."""
    try:
        if kind == "timer_duration":
            TimerEventDefinition.parse_iso_duration(value)
        elif kind == "timer_cycle":
            TimerEventDefinition.parse_iso_recurring_interval(value)
        else:
            TimerEventDefinition.get_datetime(value)
    except Exception:  # the engine raises ValueError, TypeError or its own errors for unreadable values
        expected = {"timer_duration": "ISO 8601 时长（如 P5D）", "timer_cycle": "ISO 8601 周期（如 R3/PT10H）"}
        return f"“{value}”不是有效的{expected.get(kind, 'ISO 8601 日期时间（如 2026-12-01T09:00:00+08:00）')}"
    return None


def kind_is_script_task(task_spec: Any) -> bool:
    return type(task_spec).__name__ == "ScriptTask"
