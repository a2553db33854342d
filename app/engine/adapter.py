"""Start, step, complete and serialise workflows with SpiffWorkflow 3.2."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow import TaskState
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.specs.event_definitions.simple import TerminateEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.util.diff import SpecDiff, diff_workflow, migrate_workflow
from SpiffWorkflow.exceptions import SpiffWorkflowException, TaskNotFoundException
from SpiffWorkflow.spiff.parser import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from app.engine import sandbox

# The engine logs every state change with a dict of extras; at WARNING it skips that work.
logging.getLogger("spiff.workflow").setLevel(logging.WARNING)
logging.getLogger("spiff.task").setLevel(logging.WARNING)

SERIALIZER_VERSION = "1.5"


class EngineError(Exception):
    """A diagram could not be parsed or run; `element_id` names the BPMN element when the engine said which."""

    def __init__(self, message: str, element_id: str | None = None) -> None:
        super().__init__(message)
        self.element_id = element_id


class TaskNotReady(EngineError):
    """The task is not (or no longer) waiting for a person."""


@dataclass(frozen=True)
class ReadyTaskInfo:
    task_id: str
    bpmn_id: str
    name: str
    lane: str | None
    form_key: str | None
    properties: dict[str, str]
    process_key: str = ""  # the diagram the task is drawn in
    from_bpmn_id: str | None = None  # the element the flow into this task came from
    # The call activity this task runs inside (e.g. 村内公示 vs 销号公告), if any.
    context_bpmn_id: str | None = None
    context_name: str | None = None
    context_properties: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TrailStep:
    """One BPMN element finished during an engine call: what the diagram view marks as done."""

    bpmn_id: str
    process_key: str  # the diagram the element is drawn in (a called process has its own)
    element_type: str  # UserTask, ExclusiveGateway, StartEvent …
    from_bpmn_id: str | None  # the element before it: a sequence flow joins the two
    name: str | None


@dataclass(frozen=True)
class WorkflowSnapshot:
    state: str
    ready_tasks: list[ReadyTaskInfo]
    completed: bool
    end_event: str | None
    next_timer_at: datetime | None  # naive UTC
    data: dict[str, Any]
    fired_timers: list[str] = field(default_factory=list)
    trail: list[TrailStep] = field(default_factory=list)


@dataclass
class ProcessBundle:
    """A parsed process with the called processes it depends on."""

    process_key: str
    fingerprint: str
    spec: Any
    subprocess_specs: dict[str, Any]


class _SpecByReferenceConverter(BpmnWorkflowConverter):
    """Stores the spec's name instead of the whole spec; the caller supplies the cached spec on load."""

    def to_dict(self, workflow):  # type: ignore[no-untyped-def]
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["spec"] = workflow.spec.name
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct, bundle=None):  # type: ignore[no-untyped-def]
        if bundle is None or dct["spec"] != bundle.spec.name:
            raise EngineError(f"state belongs to process {dct['spec']!r}, not to the bundle given")
        workflow = self.target_class(bundle.spec, bundle.subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _make_serializer() -> BpmnWorkflowSerializer:
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = _SpecByReferenceConverter
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))


class _Utf8Encoder(json.JSONEncoder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ensure_ascii"] = False  # Chinese text at 3 bytes a character, not 6
        super().__init__(*args, **kwargs)


_serializer = _make_serializer()
_registry = _serializer.registry
_encoder_cls: type[json.JSONEncoder] = type(
    "StateEncoder", (_Utf8Encoder, _serializer._encoder_cls), {}
)
class _SandboxEnvironment(BasePythonScriptEngineEnvironment):
    """Conditions, timer expressions and scripts run in the checked subset of app/engine/sandbox.py, never as
    Python: diagrams are edited in the browser."""

    def evaluate(self, expression: str, context: dict[str, Any], external_context: Any = None) -> Any:
        return sandbox.evaluate(expression, {**(external_context or {}), **context})

    def execute(self, script: str, context: dict[str, Any], external_context: Any = None) -> bool:
        sandbox.execute(script or "", context)
        return True

    def call_service(self, context: Any, **kwargs: Any) -> Any:
        raise sandbox.SandboxError("本系统不支持服务任务")


_script_engine = PythonScriptEngine(environment=_SandboxEnvironment())

_bundle_cache: dict[str, ProcessBundle] = {}
_bundle_lock = threading.Lock()


def _fingerprint(process_key: str, sources: Mapping[str, str]) -> str:
    digest = hashlib.sha256(process_key.encode())
    for name in sorted(sources):
        digest.update(name.encode() + b"\0" + sources[name].encode() + b"\0")
    return digest.hexdigest()


def parse_bundle(process_key: str, sources: Mapping[str, str]) -> ProcessBundle:
    """Parse `process_key` from BPMN sources (file name → XML). Raises EngineError with the parser's reason."""
    parser = SpiffBpmnParser()
    try:
        for name, xml in sources.items():
            parser.add_bpmn_str(xml.encode("utf-8"), filename=name)
        spec = parser.get_spec(process_key)
        subprocess_specs = parser.get_subprocess_specs(process_key)
    except SpiffWorkflowException as exc:
        raise EngineError(str(exc), getattr(exc, "id", None) or None) from exc
    except Exception as exc:  # lxml syntax errors and the parser's own bugs
        raise EngineError(f"{type(exc).__name__}: {exc}") from exc
    return ProcessBundle(process_key, _fingerprint(process_key, sources), spec, subprocess_specs)


def bundle_for(process_key: str, sources_fn: Callable[[], Mapping[str, str]], cache_key: str) -> ProcessBundle:
    """The cached bundle for a deployed version; `cache_key` must change whenever the sources do."""
    bundle = _bundle_cache.get(cache_key)
    if bundle is None:
        with _bundle_lock:
            bundle = _bundle_cache.get(cache_key)
            if bundle is None:
                bundle = parse_bundle(process_key, sources_fn())
                _bundle_cache[cache_key] = bundle
    return bundle


def _serialize(workflow: BpmnWorkflow) -> str:
    _registry._encoder_mode = True
    try:
        dct = _serializer.to_dict(workflow)
        dct["serializer_version"] = SERIALIZER_VERSION
        return json.dumps(dct, cls=_encoder_cls, separators=(",", ":"))
    finally:
        _registry._encoder_mode = False


def _deserialize(bundle: ProcessBundle, state: str) -> BpmnWorkflow:
    dct = json.loads(state)
    version = dct.pop("serializer_version", None)
    if version != SERIALIZER_VERSION:
        raise EngineError(f"unsupported serializer version {version!r}")
    workflow = _serializer.from_dict(dct, bundle=bundle)
    workflow.script_engine = _script_engine
    return workflow


def _properties(task_spec: Any) -> dict[str, str]:
    return dict(getattr(task_spec, "extensions", {}).get("properties", {}))


def _ready_info(workflow: BpmnWorkflow, task: Any) -> ReadyTaskInfo:
    spec = task.task_spec
    props = _properties(spec)
    context_id = context_name = None
    context_props: dict[str, str] = {}
    parent_task_id = task.workflow.parent_task_id
    if parent_task_id is not None:
        caller = workflow.get_task_from_id(parent_task_id)
        context_id, context_name = caller.task_spec.bpmn_id, caller.task_spec.bpmn_name
        context_props = _properties(caller.task_spec)
    return ReadyTaskInfo(
        task_id=str(task.id),
        bpmn_id=spec.bpmn_id,
        name=spec.bpmn_name or spec.bpmn_id,
        lane=spec.lane,
        form_key=props.get("form"),
        properties=props,
        process_key=task.workflow.spec.name,
        from_bpmn_id=_predecessor(task),
        context_bpmn_id=context_id,
        context_name=context_name,
        context_properties=context_props,
    )


def _waiting_timers(workflow: BpmnWorkflow) -> list[tuple[Any, datetime]]:
    """WAITING timer events with their due time (aware UTC), inside called processes too."""
    timers = []
    for task in _all_tasks(workflow):
        if task.state != TaskState.WAITING:
            continue
        definition = getattr(task.task_spec, "event_definition", None)
        value = task.internal_data.get("event_value")
        if isinstance(definition, TimerEventDefinition) and isinstance(value, str):
            timers.append((task, TimerEventDefinition.get_datetime(value)))
    return timers


def _next_timer(workflow: BpmnWorkflow) -> datetime | None:
    due = [moment for _task, moment in _waiting_timers(workflow)]
    return min(due).replace(tzinfo=None) if due else None


def _end_event(workflow: BpmnWorkflow) -> str | None:
    """The end that finished the workflow: a terminate end if one was reached (it ends every other branch, such as
    a fast path's measures beside the identification, which may have ended at its own end), else the last end."""
    if not workflow.is_completed():
        return None
    ends = [t for t in workflow.get_tasks(state=TaskState.COMPLETED, skip_subprocesses=True)
            if type(t.task_spec).__name__ == "EndEvent"]
    if not ends:
        return None
    terminating = [t for t in ends if isinstance(getattr(t.task_spec, "event_definition", None),
                                                 TerminateEventDefinition)]
    return max(terminating or ends, key=lambda t: t.last_state_change).task_spec.bpmn_id


def _latest_data(workflow: BpmnWorkflow) -> dict[str, Any]:
    if workflow.is_completed():
        return dict(workflow.data)
    last = workflow.last_task
    return dict(last.data) if last is not None else {}


def _all_tasks(workflow: BpmnWorkflow) -> Iterator[Any]:
    """Every task of the workflow and its called processes, in no particular order: a plain walk over the task
    maps, much cheaper than the engine's tree iterator (this runs several times per submit)."""
    yield from workflow.tasks.values()
    for sub in workflow.subprocesses.values():
        yield from sub.tasks.values()


def _completed_ids(workflow: BpmnWorkflow) -> set[UUID]:
    completed = TaskState.COMPLETED
    return {t.id for t in _all_tasks(workflow) if t.state == completed}


def _predecessor(task: Any) -> str | None:
    """The nearest ancestor that is a BPMN element (engine-internal tasks have no bpmn_id)."""
    parent = task.parent
    while parent is not None and not getattr(parent.task_spec, "bpmn_id", None):
        parent = parent.parent
    return parent.task_spec.bpmn_id if parent is not None else None


def _trail(workflow: BpmnWorkflow, before: set[UUID]) -> list[TrailStep]:
    """The elements completed since `before` was taken, in the order they finished."""
    completed = TaskState.COMPLETED
    done = [t for t in _all_tasks(workflow)
            if t.state == completed and t.id not in before and getattr(t.task_spec, "bpmn_id", None)]
    done.sort(key=lambda t: t.last_state_change)
    return [TrailStep(bpmn_id=task.task_spec.bpmn_id, process_key=task.workflow.spec.name,
                      element_type=type(task.task_spec).__name__, from_bpmn_id=_predecessor(task),
                      name=task.task_spec.bpmn_name) for task in done]


def _snapshot(workflow: BpmnWorkflow, fired: list[str] | None = None,
              before: set[UUID] | None = None) -> WorkflowSnapshot:
    ready = workflow.get_tasks(state=TaskState.READY, manual=True)
    return WorkflowSnapshot(
        state=_serialize(workflow),
        ready_tasks=[_ready_info(workflow, t) for t in ready],
        completed=workflow.is_completed(),
        end_event=_end_event(workflow),
        next_timer_at=_next_timer(workflow),
        data=_latest_data(workflow),
        fired_timers=fired or [],
        trail=_trail(workflow, before) if before is not None else [],
    )


def _run_engine(workflow: BpmnWorkflow) -> None:
    try:
        workflow.do_engine_steps()
    except SpiffWorkflowException as exc:
        raise EngineError(str(exc)) from exc


def start_workflow(bundle: ProcessBundle, data: Mapping[str, Any]) -> WorkflowSnapshot:
    workflow = BpmnWorkflow(bundle.spec, bundle.subprocess_specs, script_engine=_script_engine)
    workflow.get_tasks(state=TaskState.READY)[0].set_data(**data)
    _run_engine(workflow)
    return _snapshot(workflow, before=set())


def complete_task(
    bundle: ProcessBundle, state: str, task_id: str, data: Mapping[str, Any]
) -> WorkflowSnapshot:
    """Complete one READY human task with the form's data and run the engine to the next wait."""
    workflow = _deserialize(bundle, state)
    try:
        task = workflow.get_task_from_id(UUID(task_id))
    except (TaskNotFoundException, ValueError) as exc:
        raise TaskNotReady(f"no task {task_id}") from exc
    # run() would happily execute a FUTURE task: only a READY human task may be completed.
    if task.state != TaskState.READY or not task.task_spec.manual:
        raise TaskNotReady(f"task {task.task_spec.bpmn_id} is {TaskState.get_name(task.state)}")
    before = _completed_ids(workflow)
    task.set_data(**data)
    try:
        task.run()
    except SpiffWorkflowException as exc:
        raise EngineError(str(exc)) from exc
    _run_engine(workflow)
    return _snapshot(workflow, before=before)


def fire_due_timers(bundle: ProcessBundle, state: str, now: datetime) -> WorkflowSnapshot:
    """Fire the timers due at `now` (naive UTC), then run the engine. `now` may lie ahead in tests."""
    workflow = _deserialize(bundle, state)
    moment = now.replace(tzinfo=UTC)
    before = _completed_ids(workflow)
    fired: list[str] = []
    for task, due in _waiting_timers(workflow):
        if due <= moment:
            task.internal_data["event_fired"] = True
            fired.append(task.task_spec.bpmn_name or task.task_spec.bpmn_id)
    if fired:
        workflow.refresh_timers()
        _run_engine(workflow)
    return _snapshot(workflow, fired, before)


class MigrationRefused(EngineError):
    """Moving a running workflow to another version is not safe; the message says why, in Chinese."""


_LIVE_STATES = TaskState.COMPLETED | TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR


def migrate(old: ProcessBundle, new: ProcessBundle, state: str) -> WorkflowSnapshot:
    """Move a running workflow onto `new` (the same process, another version) where that is safe: every element
    it has passed through or waits at still exists, and a called process it is inside has not changed.
    Waiting tasks are reset and predicted again from the new diagram."""
    if old.process_key != new.process_key:
        raise MigrationRefused("只能迁移到同一流程的其他版本")
    workflow = _deserialize(old, state)
    if workflow.is_completed():
        raise MigrationRefused("流程已结束，无需迁移")
    top, sub_diffs = diff_workflow(_registry, workflow, new.spec, new.subprocess_specs)
    gone = sorted({t.task_spec.bpmn_name or t.task_spec.bpmn_id for t in top.removed
                   if t.state & _LIVE_STATES and getattr(t.task_spec, "bpmn_id", None)})
    if gone:
        raise MigrationRefused(f"案件已经过或正停在的环节在新版本中不存在：{'、'.join(gone)}")
    for sub_id, sub_diff in sub_diffs.items():
        sub = workflow.subprocesses[sub_id]
        if sub.is_completed():
            continue
        if sub_diff is None:
            raise MigrationRefused(f"案件正在进行的子流程“{sub.spec.name}”在新版本中不再被调用")
        spec_diff = SpecDiff(_registry, sub.spec, new.subprocess_specs[sub.spec.name])
        if spec_diff.added or spec_diff.removed or spec_diff.changed:
            raise MigrationRefused(f"案件正在进行的子流程“{sub.spec.description or sub.spec.name}”在新版本中有改动，"
                                   "请待该环节办结后再迁移")
    before = _completed_ids(workflow)
    try:
        migrate_workflow(top, workflow, new.spec)
        workflow.subprocess_specs = new.subprocess_specs
        for sub_id, sub_diff in sub_diffs.items():
            sub = workflow.subprocesses[sub_id]
            if sub_diff is not None and sub.spec.name in new.subprocess_specs:
                migrate_workflow(sub_diff, sub, new.subprocess_specs[sub.spec.name])
        _run_engine(workflow)
    except SpiffWorkflowException as exc:
        raise MigrationRefused(f"迁移时流程引擎出错：{exc}") from exc
    return _snapshot(workflow, before=before)


def read_state(bundle: ProcessBundle, state: str) -> WorkflowSnapshot:
    """What a stored state holds (its ready tasks, timers, end), without running anything."""
    return _snapshot(_deserialize(bundle, state))
