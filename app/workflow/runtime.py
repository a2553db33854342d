"""Start instances, complete tasks and fire timers; keep query rows and history in step with the state.

Every function here flushes and never commits: the request or CLI command commits once, at the edge.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple, Protocol

from sqlalchemy import ColumnElement, Select, bindparam, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.datastructures import MultiDict

from app import engine
from app.audit.log import request_address
from app.clock import to_china, utcnow
from app.deadlines.policy import due_on
from app.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied
from app.extensions import db, table_of
from app.models import (
    ElementVisit,
    Event,
    ProcessVersion,
    ReadyTask,
    User,
    WorkflowInstance,
)
from app.processes import bundle_for_version, current_version
from app.roles import role_for_lane
from app.workflow.write import table_connection
from forms import FormContext, TaskForm, form_class


class TaskFormInvalid(InvalidInput):
    """The form did not validate; `form` carries the user's input and the messages."""

    def __init__(self, form: TaskForm) -> None:
        super().__init__("表单填写有误，请按提示修改", _flat_errors(form.errors))
        self.form = form


def _flat_errors(errors: Any, prefix: str = "") -> dict[str, list[str]]:
    flat: dict[str, list[str]] = {}
    for key, value in errors.items() if isinstance(errors, dict) else enumerate(errors):
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flat_errors(value, name + "-"))
        elif isinstance(value, list) and value and not all(isinstance(v, str) for v in value):
            for index, item in enumerate(value):
                if isinstance(item, dict):
                    flat.update(_flat_errors(item, f"{name}-{index}-"))
                elif item:
                    flat.setdefault(name, []).append(str(item))
        else:
            flat[name] = [str(v) for v in (value if isinstance(value, list) else [value])]
    return flat

def _instance_with_subject(model: Any) -> Select[Any]:
    return (select(WorkflowInstance, model).join(model, model.instance_id == WorkflowInstance.id)
            .where(WorkflowInstance.id == bindparam("instance_id")).execution_options(populate_existing=True))


class Subject(Protocol):
    """What a workflow instance is about (a case, a screening, …): a row of the kind's own table."""

    id: int
    instance_id: int
    village_code: str
    town_code: str


@dataclass
class SubjectHooks:
    """What the runtime needs from the domain package that owns a kind of subject. The package builds one and
    the app factory registers it (register_subject): that is all a new kind of subject takes."""

    kind: str  # the subject_kind of its rows (ready tasks, history, visited elements) and its instances' kind
    model: Any  # the subject's mapped class: a table with id, instance_id, village_code and town_code
    noun: str  # what people call one, e.g. 案件 (the audit log names a subject by it and its id)
    label: Callable[[Any], str]
    assignee_for: Callable[[Any, str], int | None]  # (subject, role) -> user id
    form_context: Callable[[Any, ReadyTask, frozenset[str]], FormContext]  # (subject, task, the form's needs)
    after_task: Callable[[Any, ReadyTask, dict[str, Any], User | None], None]
    after_step: Callable[[Any, engine.WorkflowSnapshot, User | None], None]
    # The rulebook's own latest due date for a task of this subject (month end, 15 days, measure deadlines).
    deadline_cap: Callable[[Any, engine.ReadyTaskInfo], date | None] = lambda subject, info: None
    # Which subjects a user may see, as SQL over the model (default: the user's area; none for the cadre).
    visible_to: Callable[[User], ColumnElement[bool]] | None = None
    # Whether an area's user (village, town, county) sees exactly the subjects of their area, as visible_to says:
    # then rows that carry their subject's area (ready tasks, visited elements) answer by their own columns.
    visible_by_area: bool = True
    # The task page: what is shown above the form and below it, and what those templates need beyond the
    # subject and the task, given the page's query arguments.
    summary_template: str = "tasks/_subject_summary.html"
    show_url: Callable[[Any], str] | None = None  # the subject's own page (a case's record, a lead's)
    panel_template: str | None = None
    page_context: Callable[[Any, ReadyTask, Mapping[str, str]], dict[str, Any]] = lambda subject, task, args: {}
    # The instance and its subject in one statement, built once at registration: building the statement costs
    # about as much as running it (bench/profile_submit.py).
    instance_with_subject: Select[Any] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.instance_with_subject = _instance_with_subject(self.model)
        if self.visible_to is None:
            from app.access import area_of

            model = self.model
            self.visible_to = lambda user: area_of(user, model)


HOOKS: dict[str, SubjectHooks] = {}
_KIND_OF_MODEL: dict[type, str] = {}

# The step's statements, built once (each submit runs them; building them again costs more than running them).
_READY = table_of(ReadyTask)
_INSTANCE = table_of(WorkflowInstance)
_INSERT_EVENT = insert(table_of(Event))
_INSERT_VISIT = insert(table_of(ElementVisit))
# A step's task rows in two statements: those no longer waiting go (their drafts with them: a cascading foreign
# key), and those waiting now are inserted unless already there (the task's unique id), keeping a row that waits on
# as it was (since when, who claimed it).
_DELETE_ENDED = delete(_READY).where(_READY.c.instance_id == bindparam("instance_id"),
                                     _READY.c.task_uuid.not_in(bindparam("waiting", expanding=True)))
_INSERT_WAITING = {"sqlite": sqlite_insert(_READY).on_conflict_do_nothing(index_elements=[_READY.c.task_uuid]),
                   "postgresql": postgresql_insert(_READY).on_conflict_do_nothing(
                       index_elements=[_READY.c.task_uuid])}
_LOCK_INSTANCE = select(_INSTANCE.c.id).where(_INSTANCE.c.id == bindparam("instance_id")).with_for_update()
_SAVE_INSTANCE = (update(_INSTANCE)
                  .where(_INSTANCE.c.id == bindparam("instance_id"),
                         _INSTANCE.c.revision == bindparam("seen_revision")))


def register_subject(hooks: SubjectHooks) -> None:
    """Called by the app factory, once per kind (again for another app in the same process: the same hooks)."""
    HOOKS[hooks.kind] = hooks
    _KIND_OF_MODEL[hooks.model] = hooks.kind


def hooks_for(kind: str) -> SubjectHooks:
    try:
        return HOOKS[kind]
    except KeyError:
        raise DomainError(f"未注册的业务对象类型：{kind}") from None


def kind_of(subject: Any) -> str:
    return _KIND_OF_MODEL[type(subject)]


# The session remembers the instances started in it, so a step can name the tasks it led to in other instances
# (the assessment meeting opens cases whose certification tasks then wait).
STARTED_INSTANCES = "rpm_started_instances"


def start_instance(kind: str, process_key: str,
                   data: dict[str, Any]) -> tuple[WorkflowInstance, engine.WorkflowSnapshot]:
    version = current_version(process_key)
    snapshot = engine.start_workflow(bundle_for_version(version), data)
    instance = WorkflowInstance(
        process_version_id=version.id, kind=kind, state=snapshot.state, completed=snapshot.completed,
        end_event=snapshot.end_event, next_timer_at=snapshot.next_timer_at,
    )
    db.session.add(instance)
    db.session.flush()
    db.session.info.setdefault(STARTED_INSTANCES, []).append(instance.id)
    return instance, snapshot


def attach_subject(instance: WorkflowInstance, subject: Any, snapshot: engine.WorkflowSnapshot,
                   actor: User | None) -> None:
    """After the subject row exists: write its first ready-task rows and let the domain react."""
    hooks = hooks_for(instance.kind)
    _record_trail(instance, subject, snapshot, actor)
    _sync_ready_tasks(instance, subject, snapshot, hooks)
    hooks.after_step(subject, snapshot, actor)


def record_event(subject: Any, kind: str, actor: User | None, *, instance_id: int | None = None,
                 bpmn_id: str | None = None, task_name: str | None = None, decision: str | None = None,
                 opinion: str | None = None, data: dict[str, Any] | None = None,
                 remote_addr: str | None = None, subject_kind: str | None = None,
                 on_behalf_of: User | None = None, task_id: int | None = None) -> None:
    """Append one history row. A table insert, at once: nothing reads it back in the step, and the audit log is
    append-only anyway (the subject and every row it names are already in the database)."""
    row: dict[str, Any] = dict(
        kind=kind, actor_id=actor.id if actor else None, instance_id=instance_id, subject_kind=None, subject_id=None,
        bpmn_id=bpmn_id, task_name=task_name, decision=decision, opinion=opinion, data=data,
        remote_addr=remote_addr or request_address(), at=utcnow(),
        on_behalf_of_id=on_behalf_of.id if on_behalf_of else None, task_id=task_id)
    if subject is not None:
        row.update(subject_kind=subject_kind or kind_of(subject), subject_id=subject.id)
    table_connection().execute(_INSERT_EVENT, [row])


def _diagram_version_id(instance: WorkflowInstance, process_key: str) -> int:
    """The version of the diagram an element is drawn in: the instance's own, or the called one it pinned."""
    version = instance.process_version
    if not process_key or process_key == version.process_key:
        return version.id
    return int(version.dependencies.get(process_key, version.id))


def _record_trail(instance: WorkflowInstance, subject: Any, snapshot: engine.WorkflowSnapshot,
                  actor: User | None, completed_task: ReadyTask | None = None) -> None:
    """One row per element the engine finished in this step, so the diagram view and the heatmap are SQL."""
    now = utcnow()
    subject_ref = {"subject_kind": instance.kind, "subject_id": subject.id,
                   "village_code": subject.village_code, "town_code": subject.town_code}
    rows = []
    for step in snapshot.trail:
        is_completed_task = completed_task is not None and step.bpmn_id == completed_task.bpmn_id
        rows.append(dict(
            instance_id=instance.id, **subject_ref,
            diagram_version_id=_diagram_version_id(instance, step.process_key), process_key=step.process_key,
            bpmn_id=step.bpmn_id, element_type=step.element_type, from_bpmn_id=step.from_bpmn_id,
            name=(step.name or "")[:160] or None,
            ready_at=completed_task.ready_since if is_completed_task and completed_task else None,
            completed_at=now, actor_id=actor.id if actor and is_completed_task else None,
        ))
    if rows:  # one executemany on the table (every row names every column); nothing reads them back in the step
        table_connection().execute(_INSERT_VISIT, rows)


def _sync_ready_tasks(instance: WorkflowInstance, subject: Any, snapshot: engine.WorkflowSnapshot,
                      hooks: SubjectHooks) -> None:
    connection = table_connection()
    wanted = {t.task_id: t for t in snapshot.ready_tasks}
    connection.execute(_DELETE_ENDED, {"instance_id": instance.id, "waiting": list(wanted)})
    if not wanted:
        return
    label = hooks.label(subject)
    subject_ref = {"subject_kind": hooks.kind, "subject_id": subject.id}
    now = utcnow()
    today = to_china(now).date()
    rows = []
    for task_id, info in wanted.items():
        role = role_for_lane(info.lane)
        if role is None or info.form_key is None:
            raise DomainError(f"流程图错误：任务“{info.name}”没有已知角色的泳道或表单")
        rows.append(dict(
            instance_id=instance.id, task_uuid=task_id, bpmn_id=info.bpmn_id, name=info.name,
            context_name=info.context_name or "", form_key=info.form_key, role=role,
            village_code=subject.village_code, town_code=subject.town_code,
            assignee_id=hooks.assignee_for(subject, role), **subject_ref,
            subject=label, ready_since=now,
            diagram_version_id=_diagram_version_id(instance, info.process_key), from_bpmn_id=info.from_bpmn_id,
            due_on=due_on(today, info.properties, hooks.deadline_cap(subject, info)),
        ))
    connection.execute(_INSERT_WAITING[connection.dialect.name], rows)


def _save(instance: WorkflowInstance, snapshot: engine.WorkflowSnapshot, **also: Any) -> None:
    """Write the step's state in one UPDATE that checks and bumps the revision; a stale revision (someone else's
    step got there first) rolls back everything the step wrote and refuses it. The instance object is told the
    new values as committed, so no flush writes it again."""
    values = dict(state=snapshot.state, completed=snapshot.completed, end_event=snapshot.end_event,
                  next_timer_at=snapshot.next_timer_at, updated_at=utcnow(), revision=instance.revision + 1,
                  **also)
    written = table_connection().execute(_SAVE_INSTANCE, {**values, "instance_id": instance.id,
                                                          "seen_revision": instance.revision}).rowcount
    if written != 1:
        db.session.rollback()
        raise Conflict("该案件刚被其他人更新，您的提交未保存，请刷新后重试")
    for key, value in values.items():
        set_committed_value(instance, key, value)


def lock_instance(instance_id: int) -> WorkflowInstance | None:
    """Every write to an instance or its task rows takes the instance row first (PostgreSQL: FOR UPDATE), so
    concurrent operations queue instead of deadlocking; the revision check still refuses stale submits.
    SQLite has no row locks (FOR UPDATE is dropped from the SQL): its writers queue on the database lock at the
    first write, and the revision check refuses a submit whose instance moved meanwhile."""
    _take_row_lock(instance_id)
    return db.session.get(WorkflowInstance, instance_id, populate_existing=True)


def _take_row_lock(instance_id: int) -> None:
    if db.session.get_bind().dialect.name != "sqlite":
        db.session.execute(_LOCK_INSTANCE, {"instance_id": instance_id})


def get_ready_task(task_row_id: int) -> ReadyTask:
    task = db.session.get(ReadyTask, task_row_id)
    if task is None:
        raise Conflict("该任务已办理或已不存在，请回到待办列表")
    return task


def subject_of(task: ReadyTask) -> Any:
    subject = db.session.get(hooks_for(task.subject_kind).model, task.subject_id)
    if subject is None:
        raise NotFound("任务所属的案件不存在")
    return subject


def build_form(task: ReadyTask, formdata: MultiDict[str, Any] | None = None,
               data: dict[str, Any] | None = None, subject: Any = None) -> TaskForm:
    subject = subject if subject is not None else subject_of(task)
    hooks = hooks_for(task.subject_kind)
    cls = form_class(task.form_key)
    context = hooks.form_context(subject, task, cls.context_needs)
    return cls(formdata=formdata, data=data, context=context)


class Completion(NamedTuple):
    form: TaskForm
    subject: Any  # the task's subject (a case, a screening, …), as the step left it
    revision: int  # the instance's revision after the step (what the next submit may be checked against)
    started: tuple[int, ...] = ()  # instances the step started (cases an assessment opened, …)


def task_completion(task_row_id: int) -> Event | None:
    """The history row of the completion of a ready-task id that no longer waits, if it was completed."""
    return db.session.scalar(select(Event).where(Event.task_id == task_row_id, Event.kind == "task_completed")
                             .order_by(Event.id).limit(1))


def complete_user_task(task_row_id: int, formdata: MultiDict[str, Any], actor: User, expected_revision: int | None,
                       remote_addr: str | None = None) -> Completion:
    """Validate the form and complete the task. Raises InvalidInput (with the bound form's errors),
    Conflict (stale or doubled submit) or PermissionDenied; on any of them nothing is changed."""
    from app.access import acting_for, can_claim

    task = get_ready_task(task_row_id)
    acting = acting_for(actor, task)
    if acting is None:
        if task.claimed_by_id is not None and can_claim(actor, task):
            holder = db.session.get(User, task.claimed_by_id)
            raise Conflict(f"该任务已由{holder.full_name if holder else '他人'}认领，请联系其释放或由上级转办")
        raise PermissionDenied("您无权办理此任务")
    instance, subject = _lock_with_subject(task)
    if expected_revision is not None and instance.revision != expected_revision:
        raise Conflict("该案件在您打开表单后已被更新，请刷新后重试")
    form = build_form(task, formdata=formdata, subject=subject)
    if not form.validate():
        raise TaskFormInvalid(form)
    db.session.info[STARTED_INSTANCES] = []
    data = form.task_data()
    kind = instance.kind
    hooks = hooks_for(kind)
    bundle = bundle_for_version(instance.process_version)
    try:
        snapshot = engine.complete_task(bundle, instance.state, task.task_uuid, data)
    except engine.TaskNotReady as exc:
        raise Conflict("该任务已办理，不能重复提交") from exc
    except engine.EngineError as exc:
        raise DomainError(f"流程执行出错：{exc}") from exc
    _save(instance, snapshot)  # the step's first write: a stale revision is refused before anything else
    record_event(subject, "task_completed", actor, instance_id=instance.id, bpmn_id=task.bpmn_id,
                 task_name=task.title, decision=data.get("decision"), opinion=_opinion(data), data=data,
                 remote_addr=remote_addr, subject_kind=kind, on_behalf_of=acting if acting is not actor else None,
                 task_id=task.id)
    hooks.after_task(subject, task, data, actor)
    # One flush for the domain's own changes (the case, its measures) at the end of the step.
    with db.session.no_autoflush:
        _record_trail(instance, subject, snapshot, actor, completed_task=task)
        _sync_ready_tasks(instance, subject, snapshot, hooks)
        hooks.after_step(subject, snapshot, actor)
    db.session.flush()
    return Completion(form, subject, instance.revision, tuple(db.session.info.pop(STARTED_INSTANCES, [])))


def _opinion(data: dict[str, Any]) -> str | None:
    for key in ("opinion", "supplement", "objection_content", "summary", "minutes", "note"):
        if data.get(key):
            return str(data[key])
    return None


def _due_instances(now: datetime, limit: int, skip_locked: bool = False,
                   seen: set[int] | None = None) -> list[WorkflowInstance]:
    stmt = (select(WorkflowInstance).where(WorkflowInstance.next_timer_at.is_not(None),
                                           WorkflowInstance.next_timer_at <= now,
                                           WorkflowInstance.completed.is_(False))
            .order_by(WorkflowInstance.next_timer_at, WorkflowInstance.id).limit(limit))
    if seen:
        stmt = stmt.where(WorkflowInstance.id.not_in(seen))
    if skip_locked and db.engine.dialect.name == "postgresql":
        # Several timer workers: each takes rows no other worker holds (SQLite serialises writers anyway).
        stmt = stmt.with_for_update(skip_locked=True, of=WorkflowInstance)
    return list(db.session.scalars(stmt))


def _fire(instance: WorkflowInstance, now: datetime) -> bool:
    hooks = hooks_for(instance.kind)
    subject = _subject_for_instance(instance)
    snapshot = engine.fire_due_timers(bundle_for_version(instance.process_version), instance.state, now)
    _save(instance, snapshot)  # first: another worker that fired it already leaves a stale revision
    for name in snapshot.fired_timers:
        record_event(subject, "timer_fired", None, instance_id=instance.id, task_name=name,
                     subject_kind=instance.kind)
    _record_trail(instance, subject, snapshot, None)
    _sync_ready_tasks(instance, subject, snapshot, hooks)
    hooks.after_step(subject, snapshot, None)
    return bool(snapshot.fired_timers)


def run_due_timers(now: datetime | None = None, limit: int = 500) -> int:
    """Fire the timers due at `now` (naive UTC; default the real time) in the current transaction.
    Returns how many instances moved."""
    now = now or utcnow()
    moved = sum(1 for instance in _due_instances(now, limit) if _fire(instance, now))
    db.session.flush()
    return moved


def process_due_timers(now: datetime | None = None, limit: int = 500) -> int:
    """The timer worker's loop body: one instance per transaction, committed, so several workers can run at
    once and each timer fires exactly once (row locks on PostgreSQL; the revision check everywhere)."""
    now = now or utcnow()
    moved = 0
    seen: set[int] = set()
    for _ in range(limit):
        due = _due_instances(now, 1, skip_locked=True, seen=seen)
        if not due:
            break
        seen.add(due[0].id)
        try:
            moved += 1 if _fire(due[0], now) else 0
            db.session.commit()
        except Conflict:
            db.session.rollback()  # another worker fired it first: nothing of ours was kept
    return moved




def _lock_with_subject(task: ReadyTask) -> tuple[WorkflowInstance, Any]:
    """The task's instance, locked as lock_instance() does, and its case or screening, read in one statement after
    the lock: never a copy the session held from before it (another step may have changed the subject since, e.g.
    named the cadre a new task is assigned to). On PostgreSQL the lock is its own statement first: a statement
    that waited for a row lock sees only that row as the other transaction left it (READ COMMITTED), and would
    join the case and the diagram version as they were when it began."""
    _take_row_lock(task.instance_id)
    statement = hooks_for(task.subject_kind).instance_with_subject
    row = db.session.execute(statement, {"instance_id": task.instance_id}).first()
    if row is None:
        raise NotFound("任务所属的案件不存在")
    return row[0], row[1]


def _subject_for_instance(instance: WorkflowInstance) -> Any:
    model = hooks_for(instance.kind).model
    subject = db.session.scalar(select(model).where(model.instance_id == instance.id)
                                .execution_options(populate_existing=True))  # as it is under the lock
    if subject is None:
        raise NotFound(f"instance {instance.id} has no {instance.kind}")
    return subject


def version_label(version: ProcessVersion) -> str:
    return f"{version.name or version.process_key} v{version.version}"


def migrate_instance(instance: WorkflowInstance, target: ProcessVersion, actor: User | None) -> Any:
    """Move a running instance to `target` where the engine finds it safe; its query rows follow. Raises
    Conflict with the reason when it is not safe. Returns the subject."""
    locked = lock_instance(instance.id)  # queue behind a completion or another migration of the same case
    if locked is None:
        raise NotFound("流程实例不存在")
    instance = locked
    hooks = hooks_for(instance.kind)
    subject = _subject_for_instance(instance)
    source = instance.process_version
    if target.id == source.id:
        raise Conflict("案件已在该版本上运行")
    try:
        snapshot = engine.migrate(bundle_for_version(source), bundle_for_version(target), instance.state)
    except engine.EngineError as exc:
        raise Conflict(str(exc)) from exc
    waiting_since = dict(db.session.execute(select(ReadyTask.bpmn_id, ReadyTask.ready_since)
                                            .where(ReadyTask.instance_id == instance.id)).all())
    _save(instance, snapshot, process_version_id=target.id)
    db.session.expire(instance, ["process_version"])
    # The engine re-predicts waiting tasks (new ids): rebuild their rows, keeping how long each has waited.
    db.session.execute(delete(ReadyTask).where(ReadyTask.instance_id == instance.id))
    db.session.flush()
    _sync_ready_tasks(instance, subject, snapshot, hooks)
    for row in db.session.scalars(select(ReadyTask).where(ReadyTask.instance_id == instance.id)):
        if row.bpmn_id in waiting_since:
            row.ready_since = waiting_since[row.bpmn_id]
    record_event(subject, "instance_migrated", actor, instance_id=instance.id,
                 task_name=f"迁移到新版流程：{version_label(source)} → {version_label(target)}",
                 data={"from_version_id": source.id, "to_version_id": target.id}, subject_kind=instance.kind)
    hooks.after_step(subject, snapshot, actor)
    db.session.flush()
    return subject


def consistency_problems(instance: WorkflowInstance) -> list[str]:
    """Does the instance's stored state agree with its query rows? (English; for checks and tests.)"""
    snapshot = engine.read_state(bundle_for_version(instance.process_version), instance.state)
    rows = {r.task_uuid: r.bpmn_id for r in db.session.scalars(select(ReadyTask).where(
        ReadyTask.instance_id == instance.id))}
    engine_tasks = {t.task_id: t.bpmn_id for t in snapshot.ready_tasks}
    problems = []
    if rows != engine_tasks:
        problems.append(f"instance {instance.id}: ready rows {sorted(rows.values())} "
                        f"but the engine waits at {sorted(engine_tasks.values())}")
    if snapshot.completed != instance.completed:
        problems.append(f"instance {instance.id}: completed flag {instance.completed} vs engine {snapshot.completed}")
    return problems
