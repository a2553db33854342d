"""The inbox as pages: what a page costs does not grow with the number of open tasks.

Each branch of the user's inbox (their group's tasks in their area, the tasks assigned to them, and the same for
an absent colleague they stand in for) is an equality prefix of one of ready_task's inbox indexes, followed by
(due_on, ready_since): so each branch reads its first `page × per_page` rows straight off the index, already in
order, and the branches are merged here. Tasks without a due date come after the dated ones (a second, equally
indexed read), as before. The total is counted up to InboxPage.COUNT_CAP and shown as "1000+" beyond it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import func, or_, select

from app.access import absent_colleagues, inbox_branches
from app.extensions import db
from app.models import ProcessVersion, ReadyTask, User
from app.paging import CappedTotal
from app.roles import role_for_lane

PER_PAGE = 50


@dataclass(frozen=True)
class InboxPage(CappedTotal):
    COUNT_CAP = 1000
    tasks: list[ReadyTask]
    total: int  # at most COUNT_CAP + 1
    page: int
    per_page: int


def count_open(user: User) -> int:
    """How many tasks wait in the user's inbox, counted up to InboxPage.COUNT_CAP + 1."""
    branches = inbox_branches(user)
    if not branches:
        return 0
    capped = select(ReadyTask.id).where(or_(*branches)).limit(InboxPage.COUNT_CAP + 1).subquery()
    return db.session.scalar(select(func.count()).select_from(capped)) or 0


def inbox_page(user: User, *, step: str | None = None, overdue_before: date | None = None,
               oldest_first: bool = False, page: int = 1, per_page: int = PER_PAGE) -> InboxPage:
    """One page of the user's inbox: due soonest first (tasks without a time limit after them, oldest first),
    or oldest first."""
    page = max(page, 1)
    branches = inbox_branches(user)
    filters: list[Any] = []
    if step:
        filters.append(ReadyTask.bpmn_id == step)
    if overdue_before is not None:
        filters.append(ReadyTask.due_on < overdue_before)
    need = page * per_page
    found: dict[int, ReadyTask] = {}
    for branch in branches:
        base = select(ReadyTask).where(branch, *filters)
        if oldest_first:
            rows = list(db.session.scalars(base.order_by(ReadyTask.ready_since, ReadyTask.id).limit(need)))
        else:
            rows = list(db.session.scalars(base.where(ReadyTask.due_on.is_not(None))
                                           .order_by(ReadyTask.due_on, ReadyTask.ready_since, ReadyTask.id)
                                           .limit(need)))
            if len(rows) < need and overdue_before is None:
                rows += db.session.scalars(base.where(ReadyTask.due_on.is_(None))
                                           .order_by(ReadyTask.ready_since, ReadyTask.id).limit(need - len(rows)))
        found.update((task.id, task) for task in rows)

    def order(task: ReadyTask) -> tuple[Any, ...]:
        if oldest_first:
            return (task.ready_since, task.id)
        return (task.due_on is None, task.due_on or date.max, task.ready_since, task.id)

    tasks = sorted(found.values(), key=order)[(page - 1) * per_page:need]
    total = 0
    if branches:
        capped = select(ReadyTask.id).where(or_(*branches), *filters).limit(InboxPage.COUNT_CAP + 1).subquery()
        total = db.session.scalar(select(func.count()).select_from(capped)) or 0
    return InboxPage(tasks, total, page, per_page)


def inbox_steps(user: User) -> list[tuple[str, str]]:
    """The steps the user's inbox can hold (user tasks whose lane is the user's role, or an absent colleague's),
    from the deployed diagrams: the filter's choices, read without walking the open tasks."""
    roles = {user.role, *(person.role for person in absent_colleagues(user))}
    versions = db.session.execute(select(ProcessVersion.id, ProcessVersion.sha256)
                                  .where(ProcessVersion.is_current).order_by(ProcessVersion.id)).all()
    steps: dict[str, str] = {}
    for version_id, sha256 in versions:
        for bpmn_id, name, lane in _user_tasks(version_id, sha256):
            if role_for_lane(lane) in roles:
                steps.setdefault(bpmn_id, name)
    return sorted(steps.items())


@lru_cache(maxsize=64)
def _user_tasks(version_id: int, sha256: str) -> tuple[tuple[str, str, str | None], ...]:
    from app.engine import describe_process
    from app.processes import bundle_for_version

    version = db.session.get(ProcessVersion, version_id)
    if version is None:
        return ()
    return tuple((t.bpmn_id, t.name, t.lane) for t in describe_process(bundle_for_version(version)).user_tasks)
