"""The supervisors' case list: where each case is, since when, whose move it is, when it is due.

SQL over the case rows and an aggregate of their ready tasks (never the workflow state): the page's ids are
picked from the narrow case table first, then only those cases are joined to their household, areas and tasks;
the total is counted up to a cap. So a page costs the page size, not the length of history."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import aliased

from app.access import about_visible_subject, case_clause, rows_in_area, sees_every_subject
from app.clock import china_today
from app.errors import InvalidInput
from app.extensions import db
from app.leads.income import MONITORING_CATEGORIES
from app.leads.vocab import LEAD_CHANNELS
from app.models import Area, Case, Household, ReadyTask, User
from app.paging import CappedTotal
from app.roles import role_label
from app.vocab import CASE_STATUSES, OPEN_CASE_STATUSES, PROCEDURES, RISK_TYPES

SORTS = {
    "due": "到期日",
    "waiting": "等待时间",
    "updated": "最近更新",
    "household": "户主姓名",
}
EXPORT_LIMIT = 100_000


@dataclass(frozen=True)
class CurrentTask:
    bpmn_id: str
    title: str
    holder: str
    ready_since: datetime
    due_on: date | None
    role: str = ""  # the role that owns it (the lane)
    assignee_id: int | None = None
    task_id: int = 0


@dataclass(frozen=True)
class CaseRow:
    id: int
    head_name: str
    head_id_number: str
    town: str
    village: str
    risk_type: str
    status: str
    current_step: str
    waiting_since: datetime | None
    due_on: date | None
    days_overdue: int
    procedure: str = "county"
    category: str | None = None  # 监测对象类型 (national)
    channel: str | None = None  # how the risk was found (national)
    tasks: list[CurrentTask] = field(default_factory=list)

    @property
    def procedure_label(self) -> str:
        return PROCEDURES.get(self.procedure, self.procedure)

    @property
    def category_label(self) -> str:
        return MONITORING_CATEGORIES.get(self.category or "", "")

    @property
    def channel_label(self) -> str:
        return LEAD_CHANNELS.get(self.channel or "", "")

    @property
    def status_label(self) -> str:
        return CASE_STATUSES.get(self.status, self.status)

    @property
    def risk_type_label(self) -> str:
        return RISK_TYPES.get(self.risk_type, self.risk_type)

    @property
    def holders(self) -> str:
        return "；".join(t.holder for t in self.tasks)

    @property
    def steps(self) -> str:
        return "；".join(t.title for t in self.tasks) or self.current_step


@dataclass(frozen=True)
class CaseFilters:
    town: str = ""
    village: str = ""
    step: str = ""
    risk_type: str = ""
    status: str = "open"
    overdue: bool = False
    q: str = ""
    sort: str = "due"
    procedure: str = ""
    category: str = ""
    channel: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> CaseFilters:
        sort = str(args.get("sort") or "due")
        if sort not in SORTS:
            raise InvalidInput(f"未知的排序方式：{sort}")
        # Open cases unless asked otherwise: supervision is about work in hand, and the list then costs the
        # same however long the history grows.
        status = str(args.get("status") or "open")
        if status not in CASE_STATUSES and status not in ("open", "all"):
            raise InvalidInput(f"未知的案件状态：{status}")
        chosen = {name: str(args.get(name) or "") for name in ("procedure", "category", "channel")}
        for name, allowed, label in (("procedure", PROCEDURES, "程序"), ("channel", LEAD_CHANNELS, "发现渠道"),
                                     ("category", MONITORING_CATEGORIES, "监测对象类型")):
            if chosen[name] and chosen[name] not in allowed:
                raise InvalidInput(f"未知的{label}：{chosen[name]}")
        return cls(town=str(args.get("town") or ""), village=str(args.get("village") or ""),
                   step=str(args.get("step") or ""), risk_type=str(args.get("risk_type") or ""),
                   status=status, overdue=str(args.get("overdue") or "") in ("1", "true", "on"),
                   q=str(args.get("q") or "").strip(), sort=sort, **chosen)

    def as_args(self) -> dict[str, str]:
        values = {"town": self.town, "village": self.village, "step": self.step, "risk_type": self.risk_type,
                  "status": self.status, "overdue": "1" if self.overdue else "", "q": self.q, "sort": self.sort,
                  "procedure": self.procedure, "category": self.category, "channel": self.channel}
        return {k: v for k, v in values.items() if v}


def holder_text(role: str, assignee: str | None, village: str, town: str) -> str:
    """Whose move it is: the person for assigned tasks, else the unit and role."""
    if assignee:
        return f"{role_label(role)} {assignee}"
    if role == "village_team":
        return f"{town}{village} · {role_label(role)}"
    if role in ("town_certifier", "town_leadership"):
        return f"{town} · {role_label(role)}"
    return role_label(role)


def _task_aggregate(case_ids: list[int]) -> Any:
    """Each of these cases' earliest waiting task and due date."""
    return (select(ReadyTask.subject_id.label("case_id"), func.min(ReadyTask.ready_since).label("waiting_since"),
                   func.min(ReadyTask.due_on).label("due_on"))
            .where(ReadyTask.about_any("case", case_ids)).group_by(ReadyTask.subject_id).subquery())


@dataclass(frozen=True)
class _Matching:
    """The cases a filter selects, as conditions on the narrow case table (and the household, for a search)."""

    where: list[Any]
    needs_household: bool
    tasks_here: Any  # the area's tasks (a condition on ready_task), for joins from the cases to their tasks
    without_work: bool = False  # the status chosen holds no task (closed, rejected): nothing to join to tasks

    def select(self, *columns: Any) -> Select[Any]:
        stmt = select(*columns).select_from(Case)
        if self.needs_household:
            stmt = stmt.join(Household, Case.household_id == Household.id)
        return stmt.where(*self.where)


def _matching(user: User, filters: CaseFilters, today: date) -> _Matching:
    where: list[Any] = [case_clause(user)]
    if filters.town:
        where.append(Case.town_code == filters.town)
    if filters.village:
        where.append(Case.village_code == filters.village)
    tasks_here = rows_in_area(user, ReadyTask)
    if filters.step:
        where.append(Case.id.in_(select(ReadyTask.subject_id).where(ReadyTask.subject_kind == "case",
                                                                    ReadyTask.bpmn_id == filters.step, tasks_here)))
    if filters.risk_type:
        where.append(Case.risk_type == filters.risk_type)
    if filters.procedure:
        where.append(Case.procedure == filters.procedure)
    if filters.category:
        where.append(Case.category == filters.category)
    if filters.channel:
        where.append(Case.channel == filters.channel)
    if filters.status == "open":
        where.append(Case.status.in_(OPEN_CASE_STATUSES))
    elif filters.status and filters.status != "all":
        where.append(Case.status == filters.status)
    if filters.overdue:
        # From the (few) overdue tasks to their cases, on the due-date index.
        where.append(Case.id.in_(select(ReadyTask.subject_id).where(ReadyTask.due_on < today,
                                                                    ReadyTask.subject_kind == "case", tasks_here)))
    if filters.q:
        q = filters.q.upper()
        where.append(Household.head_name.contains(q) | Household.head_id_number.contains(q))
    without_work = filters.status not in ("open", "all", *OPEN_CASE_STATUSES)
    return _Matching(where, bool(filters.q), tasks_here, without_work)


def _page_ids(matching: _Matching, sort: str, offset: int, limit: int) -> list[int]:
    """The ids of one page, in the list's order, read from the narrow case table before anything is joined.

    By due date or waiting time, cases holding a dated (or any) task come first in that order; they are open
    work, so there are few of them. All the others follow by id, which the case indexes (status, town, village,
    cadre: all of them end with the id) yield in order, so a page of history costs the page, not the history."""
    if sort in ("due", "waiting") and not matching.without_work:
        task_key = ReadyTask.due_on if sort == "due" else ReadyTask.ready_since
        first = _first_by_task(matching, task_key, offset + limit)
        ids = first[offset:]
        if len(ids) < limit:
            keyed = exists().where(ReadyTask.about("case", Case.id), task_key.is_not(None))
            ids += db.session.scalars(matching.select(Case.id).where(~keyed).order_by(Case.id)
                                      .offset(max(offset - len(first), 0)).limit(limit - len(ids)))
        return ids
    if sort in ("due", "waiting"):  # cases that hold no task (closed, rejected): in the order of their ids
        return list(db.session.scalars(matching.select(Case.id).order_by(Case.id).offset(offset).limit(limit)))
    if sort == "household":
        stmt = matching.select(Case.id)
        if not matching.needs_household:
            stmt = stmt.join(Household, Case.household_id == Household.id)
        stmt = stmt.order_by(Household.head_name, Case.id)
    else:
        stmt = matching.select(Case.id).order_by(Case.updated_at.desc(), Case.id.desc())
    return list(db.session.scalars(stmt.offset(offset).limit(limit)))


def _first_by_task(matching: _Matching, task_key: Any, wanted: int) -> list[int]:
    """The first `wanted` matching cases by their earliest task's key (then id): the area's tasks walked in that
    order (the key's index), each case kept where it first appears — which is its earliest task's place. So a
    province's first page reads a page's worth of tasks, not every open case's, and a county's the county's."""
    stmt = (matching.select(ReadyTask.subject_id).join(ReadyTask, ReadyTask.about("case", Case.id))
            .where(task_key.is_not(None), matching.tasks_here).order_by(task_key, ReadyTask.subject_id))
    batch = max(2 * wanted, 100)
    while True:
        found = list(db.session.scalars(stmt.limit(batch)))
        ids = list(dict.fromkeys(found))  # first appearances, in order
        if len(ids) >= wanted or len(found) < batch:
            return ids[:wanted]
        batch *= 4


def _rows(ids: list[int], today: date) -> list[CaseRow]:
    """The page's cases with their household, area names and task aggregate, in the order of `ids`."""
    if not ids:
        return []
    tasks = _task_aggregate(ids)
    village, town = aliased(Area), aliased(Area)
    stmt = (select(Case.id, Household.head_name, Household.head_id_number, town.name, village.name,
                   Case.risk_type, Case.status, Case.current_step, tasks.c.waiting_since, tasks.c.due_on,
                   Case.procedure, Case.category, Case.channel)
            .join(Household, Case.household_id == Household.id)
            .join(village, village.code == Case.village_code)
            .join(town, town.code == Case.town_code)
            .outerjoin(tasks, tasks.c.case_id == Case.id)
            .where(Case.id.in_(ids)))
    found = {r[0]: r for r in db.session.execute(stmt)}
    rows = [CaseRow(id=r[0], head_name=r[1], head_id_number=r[2], town=r[3], village=r[4], risk_type=r[5],
                    status=r[6], current_step=r[7], waiting_since=r[8], due_on=r[9],
                    days_overdue=max((today - r[9]).days, 0) if r[9] else 0, procedure=r[10], category=r[11],
                    channel=r[12])
            for r in (found.get(i) for i in ids) if r is not None]
    _attach_tasks(rows)
    return rows


def _attach_tasks(rows: list[CaseRow]) -> None:
    if not rows:
        return
    by_id = {r.id: r for r in rows}
    assignee = aliased(User)
    stmt = (select(ReadyTask, assignee.full_name)
            .outerjoin(assignee, assignee.id == ReadyTask.assignee_id)
            .where(ReadyTask.about_any("case", list(by_id)))
            .order_by(ReadyTask.subject_id, ReadyTask.id))
    for task, assignee_name in db.session.execute(stmt):
        row = by_id[task.subject_id]  # tasks of these cases only (filtered in SQL)
        row.tasks.append(CurrentTask(task.bpmn_id, task.title,
                                     holder_text(task.role, assignee_name, row.village, row.town),
                                     task.ready_since, task.due_on, task.role, task.assignee_id, task.id))


def current_tasks_of(case_ids: list[int]) -> dict[int, list[CurrentTask]]:
    """The waiting tasks of these cases, each with whose move it is: one statement for a page of cases."""
    if not case_ids:
        return {}
    assignee, village, town = aliased(User), aliased(Area), aliased(Area)
    stmt = (select(ReadyTask, assignee.full_name, village.name, town.name)
            .outerjoin(assignee, assignee.id == ReadyTask.assignee_id)
            .outerjoin(village, village.code == ReadyTask.village_code)
            .outerjoin(town, town.code == ReadyTask.town_code)
            .where(ReadyTask.about_any("case", case_ids))
            .order_by(ReadyTask.subject_id, ReadyTask.id))
    found: dict[int, list[CurrentTask]] = {}
    for task, assignee_name, village_name, town_name in db.session.execute(stmt):
        found.setdefault(task.subject_id, []).append(CurrentTask(
            task.bpmn_id, task.title, holder_text(task.role, assignee_name, village_name or "", town_name or ""),
            task.ready_since, task.due_on, task.role, task.assignee_id, task.id))
    return found


@dataclass(frozen=True)
class CasePage(CappedTotal):
    COUNT_CAP = 10_000  # the list says "10000+" beyond it
    rows: list[CaseRow]
    total: int  # at most COUNT_CAP + 1
    page: int
    per_page: int


def case_page(user: User, filters: CaseFilters, page: int = 1, per_page: int = 50) -> CasePage:
    today = china_today()
    page = max(page, 1)
    matching = _matching(user, filters, today)
    # Counted up to the cap, so the count costs the same whatever the length of history.
    capped = matching.select(Case.id).limit(CasePage.COUNT_CAP + 1).subquery()
    total = db.session.scalar(select(func.count()).select_from(capped)) or 0
    return CasePage(_rows(_page_ids(matching, filters.sort, (page - 1) * per_page, per_page), today),
                    total, page, per_page)


def all_case_rows(user: User, filters: CaseFilters, batch: int = 500) -> Iterator[CaseRow]:
    """Every matching case, for the Excel export, in pages so memory stays bounded."""
    today = china_today()
    matching = _matching(user, filters, today)
    for offset in range(0, EXPORT_LIMIT, batch):
        ids = _page_ids(matching, filters.sort, offset, batch)
        yield from _rows(ids, today)
        if len(ids) < batch:
            return


def waiting_steps(user: User) -> list[tuple[str, str]]:
    """The steps cases of the user's area wait at now, for the step filter."""
    if sees_every_subject(user):
        return _every_waiting_step()
    stmt = (select(ReadyTask.bpmn_id, func.min(ReadyTask.name))
            .where(ReadyTask.subject_kind == "case", about_visible_subject(user, ReadyTask))
            .group_by(ReadyTask.bpmn_id).order_by(ReadyTask.bpmn_id))
    return [(bpmn_id, name) for bpmn_id, name in db.session.execute(stmt)]


def _every_waiting_step() -> list[tuple[str, str]]:
    """The whole deployment's: a province's 80,000 waiting tasks sit at a few dozen steps, so the steps are walked on
    the step index (each the first one after the last), and a step's case-task name is the first of its entries."""
    steps = select(select(ReadyTask.bpmn_id).order_by(ReadyTask.bpmn_id).limit(1).scalar_subquery()
                   .label("bpmn_id")).cte("steps", recursive=True)
    following = (select(ReadyTask.bpmn_id).where(ReadyTask.bpmn_id > steps.c.bpmn_id)
                 .order_by(ReadyTask.bpmn_id).limit(1).scalar_subquery())
    steps = steps.union_all(select(following).where(steps.c.bpmn_id.is_not(None)))
    name = (select(ReadyTask.name).where(ReadyTask.bpmn_id == steps.c.bpmn_id, ReadyTask.subject_kind == "case")
            .order_by(ReadyTask.name).limit(1).scalar_subquery())
    # The walk's last row (no step after it) and steps only other kinds of task wait at have no case-task name.
    named = select(steps.c.bpmn_id, name.label("name")).subquery()
    stmt = select(named.c.bpmn_id, named.c.name).where(named.c.name.is_not(None)).order_by(named.c.bpmn_id)
    return [(bpmn_id, name) for bpmn_id, name in db.session.execute(stmt)]
