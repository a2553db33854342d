"""批量审批: the county approves several cases of one town at once, each still its own step.

The county's decision steps whose form names a favourable decision (TaskForm.batch_decision: 县办审批 批准, 县办备案
予以备案, 县办复核确认 复核达标, and the national procedure's 县级审定) can be given to several cases of one town with
one opinion. Each case goes through runtime.complete_user_task exactly as a single submit does (the same form
validation, the same history row, trail and query rows, the revision the user saw), in its own transaction,
committed before the next, as the timer worker fires one instance per transaction: a case someone else has
meanwhile claimed or decided is reported and skipped, and the others go through. A refusal or a return needs its
own reason per case, so only the favourable decision is offered.

Read side: the steps, the towns and the waiting tasks are SQL over ready_task and the cases' history rows; no
workflow is deserialised until a case is actually approved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from app.access import (
    absent_colleagues,
    can_approve_in_batch,
    can_approve_town_in_batch,
    can_decide_in_batch,
    can_see_case,
    inbox_clause,
)
from app.cases.operations import EarlierDecision, earlier_decisions_of
from app.clock import to_china
from app.errors import Conflict, DomainError, InvalidInput, PermissionDenied
from app.extensions import db
from app.models import Area, Case, ProcessVersion, ReadyTask, User, WorkflowInstance
from app.roles import role_for_lane
from app.workflow import runtime
from app.workflow.runtime import TaskFormInvalid
from forms import REGISTRY

# At most this many cases are listed (and approved) at once: a page a person can read before deciding.
BATCH_LIMIT = 100
OPINION_MAX = 2000


@dataclass(frozen=True)
class BatchStep:
    """A decision step that may be approved in batch: its task, its form, the favourable decision and its label."""

    bpmn_id: str
    name: str
    form_key: str
    decision: str
    decision_label: str


@dataclass(frozen=True)
class BatchTown:
    code: str
    name: str
    waiting: int


@dataclass(frozen=True)
class BatchCandidate:
    """One waiting task as the batch page shows it: the case's key facts and the decisions taken before."""

    task: ReadyTask
    case: Case
    revision: int
    earlier: list[EarlierDecision]

    @property
    def last_decision(self) -> EarlierDecision | None:
        """The step just before the county's (the town's opinion)."""
        return self.earlier[-1] if self.earlier else None


@dataclass(frozen=True)
class BatchOutcome:
    task_id: int
    subject: str
    approved: bool
    message: str
    case_id: int | None = None


@dataclass
class BatchResult:
    outcomes: list[BatchOutcome] = field(default_factory=list)

    @property
    def approved(self) -> list[BatchOutcome]:
        return [o for o in self.outcomes if o.approved]

    @property
    def skipped(self) -> list[BatchOutcome]:
        return [o for o in self.outcomes if not o.approved]


# ---- what may be approved in batch -----------------------------------------------------------------------

def _decision_label(form_key: str, decision: str) -> str:
    unbound = getattr(REGISTRY[form_key], "decision", None)
    for choice in (unbound.kwargs.get("choices") or []) if unbound is not None else []:
        if getattr(choice, "value", None) == decision:
            return str(choice.label)
    return decision


@lru_cache(maxsize=64)
def _batch_steps_of(version_id: int, sha256: str) -> tuple[tuple[str, str, str, str | None], ...]:
    """(bpmn_id, name, form_key, role) of the version's user tasks whose form has a batch decision."""
    from app.engine import describe_process
    from app.processes import bundle_for_version

    version = db.session.get(ProcessVersion, version_id)
    if version is None:
        return ()
    return tuple((t.bpmn_id, t.name, t.form_key, role_for_lane(t.lane))
                 for t in describe_process(bundle_for_version(version)).user_tasks
                 if t.form_key in REGISTRY and REGISTRY[t.form_key].batch_decision)


def batch_steps(user: User) -> list[BatchStep]:
    """The decision steps of the deployed diagrams the user may approve in batch (their role's lane)."""
    if not can_approve_in_batch(user):
        return []
    roles = {user.role, *(person.role for person in absent_colleagues(user))}
    versions = db.session.execute(select(ProcessVersion.id, ProcessVersion.sha256)
                                  .where(ProcessVersion.is_current).order_by(ProcessVersion.id)).all()
    steps: dict[str, BatchStep] = {}
    for version_id, sha256 in versions:
        for bpmn_id, name, form_key, role in _batch_steps_of(version_id, sha256):
            decision = REGISTRY[form_key].batch_decision
            if role in roles and decision and bpmn_id not in steps:
                steps[bpmn_id] = BatchStep(bpmn_id, name, form_key, decision, _decision_label(form_key, decision))
    return list(steps.values())


def batch_step(user: User, bpmn_id: str) -> BatchStep:
    for step in batch_steps(user):
        if step.bpmn_id == bpmn_id:
            return step
    raise InvalidInput("该环节不能批量审批")


def _waiting(user: User, step: BatchStep) -> Any:
    return select(ReadyTask).where(inbox_clause(user), ReadyTask.bpmn_id == step.bpmn_id,
                                   ReadyTask.form_key == step.form_key, ReadyTask.subject_kind == "case")


def batch_towns(user: User, step: BatchStep) -> list[BatchTown]:
    """The towns of the user's area with tasks of the step waiting for them, and how many."""
    counts = dict(db.session.execute(
        _waiting(user, step).with_only_columns(ReadyTask.town_code, func.count()).group_by(ReadyTask.town_code)).all())
    if not counts:
        return []
    names = dict(db.session.execute(select(Area.code, Area.name).where(Area.code.in_(counts))).all())
    return [BatchTown(code, names.get(code, code), counts[code]) for code in sorted(counts)]


def batch_candidates(user: User, step: BatchStep, town_code: str) -> list[BatchCandidate]:
    """The step's tasks of the town waiting for the user, soonest due first, with what the page shows of each."""
    if not can_approve_town_in_batch(user, town_code):
        raise PermissionDenied("只能批量审批本县（市）所辖镇的案件")
    tasks = list(db.session.scalars(_waiting(user, step).where(ReadyTask.town_code == town_code)
                                    .order_by(ReadyTask.due_on, ReadyTask.ready_since, ReadyTask.id)
                                    .limit(BATCH_LIMIT)))
    case_ids = [t.subject_id for t in tasks]
    cases = {c.id: c for c in db.session.scalars(select(Case).where(Case.id.in_(case_ids)))} if tasks else {}
    revisions = dict(db.session.execute(
        select(WorkflowInstance.id, WorkflowInstance.revision)
        .where(WorkflowInstance.id.in_([t.instance_id for t in tasks]))).all()) if tasks else {}
    earlier = earlier_decisions_of(case_ids)
    return [BatchCandidate(task, cases[task.subject_id], revisions.get(task.instance_id, 0),
                           earlier.get(task.subject_id, []))
            for task in tasks if task.subject_id in cases]


@dataclass(frozen=True)
class BatchOverview:
    """What the batch page shows: the steps to choose from, the chosen one's towns, the chosen town's tasks."""

    steps: list[BatchStep]
    step: BatchStep | None
    towns: list[BatchTown]
    town: str
    candidates: list[BatchCandidate]

    @property
    def town_name(self) -> str:
        return next((t.name for t in self.towns if t.code == self.town), self.town)


def batch_overview(user: User, bpmn_id: str = "", town_code: str = "") -> BatchOverview:
    """The batch page for a step (by default the first with tasks waiting) and a town (refused when not the
    user's)."""
    if not can_approve_in_batch(user):
        raise PermissionDenied("批量审批由县办办理")
    if town_code and not can_approve_town_in_batch(user, town_code):
        raise PermissionDenied("只能批量审批本县（市）所辖镇的案件")
    steps = batch_steps(user)
    step = next((s for s in steps if s.bpmn_id == bpmn_id), None)
    towns: list[BatchTown] = []
    if step is None:  # none chosen (or one that cannot be approved in batch): the first with tasks waiting
        for candidate in steps:
            towns = batch_towns(user, candidate)
            if towns:
                step = candidate
                break
        step = step or (steps[0] if steps else None)
    else:
        towns = batch_towns(user, step)
    candidates = batch_candidates(user, step, town_code) if step and town_code else []
    return BatchOverview(steps, step, towns, town_code if step else "", candidates)


# ---- approving ---------------------------------------------------------------------------------------------

class _Chosen(NamedTuple):
    bpmn_id: str
    town_code: str
    subject_kind: str
    subject_id: int
    label: str


def _done_message(task_id: int, user: User) -> str:
    """Who decided a task that no longer waits (when the user may see its case)."""
    event = runtime.task_completion(task_id)
    if event is not None and event.subject_id is not None:
        case = db.session.get(Case, event.subject_id)
        if case is not None and can_see_case(user, case):
            who = event.actor.full_name if event.actor else "系统"
            return f"已由{who}于 {to_china(event.at).strftime('%Y-%m-%d %H:%M')} 办理，未重复提交"
    return "该任务已办理或已不存在，未重复提交"


def approve_in_batch(actor: User, bpmn_id: str, town_code: str, chosen: list[tuple[int, int | None]],
                     opinion: str, remote_addr: str | None = None) -> BatchResult:
    """Give the step's favourable decision, with one opinion, to each chosen task (task id, the revision the user
    saw) of the town. Refused as a whole (PermissionDenied, InvalidInput) before any case changes when the user may
    not decide in batch, the town is not theirs, a chosen task's role or area is not theirs, or the opinion is
    missing. Otherwise each case is completed and committed on its own; one that someone else claimed or decided
    meanwhile, or whose form refuses the decision, is reported with the reason and skipped."""
    if not can_approve_town_in_batch(actor, town_code):
        raise PermissionDenied("只能批量审批本县（市）所辖镇的案件")
    step = batch_step(actor, bpmn_id)
    opinion = opinion.strip()
    if not opinion:
        raise InvalidInput("请填写审批意见", {"opinion": ["请填写意见"]})
    if len(opinion) > OPINION_MAX:
        raise InvalidInput(f"意见不超过 {OPINION_MAX} 字", {"opinion": [f"不超过 {OPINION_MAX} 字"]})
    ids = list(dict.fromkeys(task_id for task_id, _ in chosen))
    if not ids:
        raise InvalidInput("请勾选要批量审批的案件")
    if len(ids) > BATCH_LIMIT:
        raise InvalidInput(f"一次最多批量审批 {BATCH_LIMIT} 户")
    revisions = dict(chosen)
    rows = list(db.session.scalars(select(ReadyTask).where(ReadyTask.id.in_(ids))))
    for row in rows:
        if not can_decide_in_batch(actor, row):
            raise PermissionDenied("所选案件中有不属于您办理的任务，未作任何处理")
    # What each task was when the batch began, read once: each commit below expires the session's objects, and a
    # task someone else completes meanwhile is gone from the table.
    waiting = {row.id: _Chosen(row.bpmn_id, row.town_code, row.subject_kind, row.subject_id, row.subject)
               for row in rows}
    formdata = MultiDict([("decision", step.decision), ("opinion", opinion)])
    result = BatchResult()
    for task_id in ids:
        task = waiting.get(task_id)
        if task is None:
            result.outcomes.append(BatchOutcome(task_id, f"任务 {task_id}", False, _done_message(task_id, actor)))
            continue
        label, case_id = task.label, task.subject_id
        if task.bpmn_id != step.bpmn_id or task.town_code != town_code or task.subject_kind != "case":
            result.outcomes.append(BatchOutcome(task_id, label, False, "不是本镇本环节的待办，未处理", case_id))
            continue
        try:
            runtime.complete_user_task(task_id, formdata, actor, revisions.get(task_id), remote_addr)
            db.session.commit()
        except TaskFormInvalid as exc:
            db.session.rollback()
            problems = "；".join(message for messages in exc.errors.values() for message in messages)
            result.outcomes.append(BatchOutcome(task_id, label, False, f"未通过校验：{problems}", case_id))
            continue
        except Conflict as exc:
            db.session.rollback()
            message = exc.message
            if db.session.get(ReadyTask, task_id) is None:
                message = _done_message(task_id, actor)
            result.outcomes.append(BatchOutcome(task_id, label, False, message, case_id))
            continue
        except DomainError as exc:  # refused by the runtime (e.g. no longer the user's to do): this case only
            db.session.rollback()
            result.outcomes.append(BatchOutcome(task_id, label, False, exc.message, case_id))
            continue
        result.outcomes.append(BatchOutcome(task_id, label, True, step.decision_label, case_id))
    return result
