"""The engine adapter: the only package that imports SpiffWorkflow.

It knows BPMN and nothing of Flask or the database. Callers hand it BPMN sources and a serialised
state; it hands back plain dataclasses (ReadyTaskInfo, WorkflowSnapshot) and a new serialised state.
Specs are parsed once per deployed version and cached; a stored state holds only a reference to its
spec, never a copy.
"""

from app.engine.adapter import (
    EngineError,
    MigrationRefused,
    ProcessBundle,
    ReadyTaskInfo,
    TaskNotReady,
    TrailStep,
    WorkflowSnapshot,
    bundle_for,
    complete_task,
    fire_due_timers,
    migrate,
    parse_bundle,
    read_state,
    start_workflow,
)
from app.engine.inspect import (
    DiagramProblem,
    ElementInfo,
    ProcessDescription,
    UserTaskInfo,
    describe_process,
    process_dependencies,
    timer_literal_problem,
)

__all__ = [
    "DiagramProblem",
    "ElementInfo",
    "EngineError",
    "MigrationRefused",
    "ProcessBundle",
    "ProcessDescription",
    "ReadyTaskInfo",
    "TaskNotReady",
    "TrailStep",
    "UserTaskInfo",
    "WorkflowSnapshot",
    "bundle_for",
    "complete_task",
    "describe_process",
    "fire_due_timers",
    "migrate",
    "parse_bundle",
    "read_state",
    "process_dependencies",
    "start_workflow",
    "timer_literal_problem",
]
