"""Read a parsed process: its user tasks, lanes, forms and gateway conditions (for the diagram check)."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

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
class ProcessDescription:
    user_tasks: list[UserTaskInfo]
    conditions: list[ConditionInfo]
    problems: list[DiagramProblem]


def process_dependencies(bundle: ProcessBundle) -> list[str]:
    """The process ids that `bundle`'s call activities call, directly or not."""
    return sorted(bundle.subprocess_specs)


def describe_process(bundle: ProcessBundle) -> ProcessDescription:
    user_tasks: list[UserTaskInfo] = []
    conditions: list[ConditionInfo] = []
    problems: list[DiagramProblem] = []
    for spec in [bundle.spec, *bundle.subprocess_specs.values()]:
        for task_spec in spec.task_specs.values():
            bpmn_id = getattr(task_spec, "bpmn_id", None)
            if bpmn_id is None:
                continue  # the engine's own bookkeeping specs
            if task_spec.manual:
                props = getattr(task_spec, "extensions", {}).get("properties", {})
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
    return ProcessDescription(user_tasks, conditions, problems)
