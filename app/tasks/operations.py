"""Working a task from the inbox: claim and release, hand over, stand-ins during absences, form drafts.

A claim is one conditional UPDATE (… WHERE claimed_by_id IS NULL), so of two people claiming at once exactly one
wins and the other gets a Conflict. Every change is in the case's (or screening's) history."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import InvalidRequestError

from app.access import _eligible, can_change_cadre, can_claim, can_reassign, in_area, may_stand_in_for
from app.clock import china_today, utcnow
from app.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from app.extensions import db
from app.models import Case, ReadyTask, StandIn, TaskDraft, User
from app.roles import role_label
from app.workflow import runtime

MAX_ABSENCE_DAYS = 366


def _task(task_id: int) -> ReadyTask:
    task = db.session.get(ReadyTask, task_id)
    if task is None:
        raise Conflict("该任务已办理或已不存在，请回到待办列表")
    runtime.lock_instance(task.instance_id)  # the same lock order as completing a task
    try:
        db.session.refresh(task)
    except InvalidRequestError as exc:  # completed by someone else while we waited for the lock
        raise Conflict("该任务已办理或已不存在，请回到待办列表") from exc
    return task


def _record(task: ReadyTask, kind: str, actor: User, text: str) -> None:
    runtime.record_event(runtime.subject_of(task), kind, actor, instance_id=task.instance_id,
                         bpmn_id=task.bpmn_id, task_name=text[:160],
                         subject_kind=task.subject_kind)


def claim(task_id: int, actor: User) -> ReadyTask:
    task = _task(task_id)
    if not can_claim(actor, task):
        raise PermissionDenied("您无权认领此任务")
    claimed = db.session.execute(
        update(ReadyTask).where(ReadyTask.id == task.id, ReadyTask.claimed_by_id.is_(None))
        .values(claimed_by_id=actor.id, claimed_at=utcnow()).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        db.session.rollback()
        holder = db.session.get(User, _task(task_id).claimed_by_id or 0)
        raise Conflict(f"该任务已由{holder.full_name if holder else '他人'}认领")
    db.session.refresh(task)
    _record(task, "task_claimed", actor, f"认领：{task.title}")
    return task


def release(task_id: int, actor: User) -> ReadyTask:
    task = _task(task_id)
    if task.claimed_by_id != actor.id and not can_reassign(actor, task) and not can_claim(actor, task):
        raise PermissionDenied("只有认领人或本组同事可以释放该任务")
    if task.claimed_by_id is None:
        raise Conflict("该任务尚未被认领")
    if task.claimed_by_id != actor.id and not can_reassign(actor, task):
        raise PermissionDenied("只有认领人或上级可以释放该任务")
    _conditional_claim(task, task.claimed_by_id, None)
    _record(task, "task_released", actor, f"释放：{task.title}")
    return task


def _conditional_claim(task: ReadyTask, expected: int | None, new: int | None) -> None:
    """Change the claim only if nobody changed it (or completed the task) since it was read."""
    holder = ReadyTask.claimed_by_id.is_(None) if expected is None else ReadyTask.claimed_by_id == expected
    changed = db.session.execute(
        update(ReadyTask).where(ReadyTask.id == task.id, holder)
        .values(claimed_by_id=new, claimed_at=utcnow() if new else None)
        .execution_options(synchronize_session=False))
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        db.session.rollback()
        raise Conflict("该任务刚被他人办理或改动，请刷新后重试")
    db.session.refresh(task)


def eligible_people(task: ReadyTask) -> list[User]:
    """Active users who may do the task: its role, within its area (the cadre's colleagues for cadre tasks)."""
    role = "cadre" if task.assignee_id is not None else task.role
    people = db.session.scalars(select(User).where(User.role == role, User.active).order_by(User.username)).all()
    if role == "cadre":
        return [p for p in people if p.area_code == task.village_code]
    return [p for p in people if in_area(p, task.village_code)]


def handover_targets(task: ReadyTask, actor: User) -> list[User]:
    """Whom the task may be handed to: the eligible colleagues, not the one handing it over nor its holder."""
    return [p for p in eligible_people(task) if p.id not in (actor.id, task.claimed_by_id)]


def reassign(task_id: int, actor: User, target_id: int) -> ReadyTask:
    """Hand the task to a colleague of its group (claimed for them); town and county groups, within the area."""
    task = _task(task_id)
    if not can_reassign(actor, task):
        raise PermissionDenied("只有镇、县同一工作组的人员可以在本辖区内转办任务")
    target = db.session.get(User, target_id)
    if target is None or target not in eligible_people(task) or not _eligible(target, task):
        raise InvalidInput("只能转给本辖区内同一角色的在岗人员")
    _conditional_claim(task, task.claimed_by_id, target.id)
    _record(task, "task_reassigned", actor, f"转办：{task.title} → {target.full_name}")
    return task


def cadres_for(case: Case) -> list[User]:
    return list(db.session.scalars(select(User).where(User.role == "cadre", User.area_code == case.village_code,
                                                      User.active).order_by(User.username)))


def change_cadre(case: Case, actor: User, target_id: int) -> None:
    """一户一人精准包抓: the household moves to another cadre of its village, with its waiting tasks."""
    if not can_change_cadre(actor, case):
        raise PermissionDenied("只有镇认定工作组、镇领导小组或县办可以更换包抓干部")
    target = db.session.get(User, target_id)
    if target is None or target not in cadres_for(case):
        raise InvalidInput("只能更换为本村的在岗包抓干部")
    if case.cadre_id == target.id:
        raise InvalidInput("该干部已是本户的包抓干部")
    previous = db.session.get(User, case.cadre_id or 0)
    if previous is not None:
        db.session.execute(update(ReadyTask).where(ReadyTask.about("case", case.id),
                                                   ReadyTask.assignee_id == previous.id)
                           .values(assignee_id=target.id, claimed_by_id=None, claimed_at=None)
                           .execution_options(synchronize_session=False))
    case.cadre_id = target.id
    runtime.record_event(case, "cadre_changed", actor, instance_id=case.instance_id,
                         task_name=f"更换包抓干部：{previous.full_name if previous else '无'} → {target.full_name}",
                         subject_kind="case")
    db.session.flush()


# ---- stand-ins ------------------------------------------------------------------------------------------

def add_stand_in(user: User, stand_in_id: int, starts_on: date, ends_on: date, note: str = "") -> StandIn:
    colleague = db.session.get(User, stand_in_id)
    if colleague is None or colleague.id == user.id:
        raise InvalidInput("请选择一位同事作为代理人")
    if not may_stand_in_for(colleague, user):
        raise InvalidInput("代理人须与您同一角色、同一辖区，且账号在用")
    if ends_on < starts_on:
        raise InvalidInput("结束日期不能早于开始日期")
    if ends_on < china_today():
        raise InvalidInput("请假期间已经过去")
    if (ends_on - starts_on).days > MAX_ABSENCE_DAYS:
        raise InvalidInput("请假期间不能超过一年")
    stand_in = StandIn(user_id=user.id, stand_in_id=colleague.id, starts_on=starts_on, ends_on=ends_on,
                       note=note.strip()[:200])
    db.session.add(stand_in)
    db.session.flush()
    return stand_in


def end_stand_in(stand_in_id: int, user: User) -> None:
    stand_in = db.session.get(StandIn, stand_in_id)
    if stand_in is None or stand_in.user_id != user.id:
        raise NotFound("没有这条代理安排")
    db.session.delete(stand_in)
    db.session.flush()


def stand_ins_of(user: User) -> list[StandIn]:
    return list(db.session.scalars(select(StandIn).where((StandIn.user_id == user.id)
                                                         | (StandIn.stand_in_id == user.id))
                                   .order_by(StandIn.starts_on.desc())))


def colleagues(user: User) -> list[User]:
    """Who may stand in for the user: same role, same area."""
    return list(db.session.scalars(select(User).where(User.role == user.role, User.area_code == user.area_code,
                                                      User.id != user.id, User.active).order_by(User.username)))


# ---- drafts ---------------------------------------------------------------------------------------------

KEEP_OUT = {"csrf_token", "revision", "action"}


def save_draft(task: ReadyTask, user: User, pairs: list[tuple[str, Any]]) -> TaskDraft:
    fields = [[str(name), str(value)[:5000]] for name, value in pairs if name not in KEEP_OUT][:500]
    draft = db.session.scalar(select(TaskDraft).where(TaskDraft.task_uuid == task.task_uuid,
                                                      TaskDraft.user_id == user.id))
    if draft is None:
        draft = TaskDraft(task_uuid=task.task_uuid, user_id=user.id, fields=fields)
        db.session.add(draft)
    else:
        draft.fields, draft.updated_at = fields, utcnow()
    db.session.flush()
    return draft


def draft_for(task: ReadyTask, user: User) -> TaskDraft | None:
    return db.session.scalar(select(TaskDraft).where(TaskDraft.task_uuid == task.task_uuid,
                                                     TaskDraft.user_id == user.id))


def discard_draft(task: ReadyTask, user: User) -> None:
    db.session.execute(delete(TaskDraft).where(TaskDraft.task_uuid == task.task_uuid, TaskDraft.user_id == user.id))


def role_name(user: User) -> str:
    return role_label(user.role)
