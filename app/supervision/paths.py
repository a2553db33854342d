"""A case's path on its diagrams, and where cases wait (the heatmap): SQL over element visits and ready
tasks, never the workflow state."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select, true

from app.access import about_visible_subject
from app.clock import to_china
from app.deadlines.calendar import workday_ordinal
from app.extensions import db
from app.models import Case, ElementVisit, ProcessVersion, ReadyTask, RiskLead, User, WorkflowInstance


@dataclass
class DiagramPath:
    """What to mark on one diagram: elements done (how often), flows taken, tasks waiting now."""

    version_id: int
    process_key: str
    title: str
    done: Counter[str] = field(default_factory=Counter)
    flows: set[tuple[str, str]] = field(default_factory=set)
    current: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)

    def label(self, bpmn_id: str) -> str:
        return self.names.get(bpmn_id) or bpmn_id

    def as_json(self) -> dict[str, Any]:
        return {"version_id": self.version_id, "process_key": self.process_key, "title": self.title,
                "done": dict(self.done), "flows": sorted([a, b] for a, b in self.flows),
                "current": self.current}


def _title(version: ProcessVersion) -> str:
    return f"{version.name or version.process_key}（第 {version.version} 版）"


def case_path(case: Case) -> list[DiagramPath]:
    """The case's own diagram first, then each called diagram it has entered (公示/公告). Every instance the case
    has run is drawn (a reverted elimination continues the case in a new one)."""
    instance = db.session.get(WorkflowInstance, case.instance_id)
    assert instance is not None
    diagrams: dict[int, DiagramPath] = {}

    def diagram(version_id: int) -> DiagramPath:
        if version_id not in diagrams:
            version = db.session.get(ProcessVersion, version_id)
            assert version is not None
            diagrams[version_id] = DiagramPath(version_id, version.process_key, _title(version))
        return diagrams[version_id]

    diagram(instance.process_version_id)
    visits = db.session.execute(select(ElementVisit.diagram_version_id, ElementVisit.bpmn_id,
                                       ElementVisit.from_bpmn_id, ElementVisit.name)
                                .where(ElementVisit.about("case", case.id)).order_by(ElementVisit.id))
    for version_id, bpmn_id, from_bpmn_id, name in visits:
        path = diagram(version_id)
        path.done[bpmn_id] += 1
        if name:
            path.names[bpmn_id] = name
        if from_bpmn_id:
            path.flows.add((from_bpmn_id, bpmn_id))
    tasks = db.session.execute(select(ReadyTask.diagram_version_id, ReadyTask.bpmn_id, ReadyTask.from_bpmn_id,
                                      ReadyTask.name).where(ReadyTask.about("case", case.id)))
    for task_version_id, task_bpmn_id, task_from, task_name in tasks:
        path = diagram(task_version_id or instance.process_version_id)
        path.current.append(task_bpmn_id)
        path.names[task_bpmn_id] = task_name
        if task_from:
            path.flows.add((task_from, task_bpmn_id))
    return list(diagrams.values())


@dataclass(frozen=True)
class HeatCell:
    bpmn_id: str
    name: str
    waiting: int
    median_working_days: float | None  # officials count time in working days (the county's calendar)
    finished: int


@dataclass(frozen=True)
class HeatFilter:
    """Narrow the heatmap to the national mechanism's cases of one monitoring category, or to the cases and leads
    of one channel of finding risk."""

    category: str = ""
    channel: str = ""
    town: str = ""  # one town's subjects (a town's code), or every town of the user's area

    def clause(self, row: Any) -> ColumnElement[bool]:
        if not self.town:
            return self._kind_clause(row)
        return and_(self._kind_clause(row), _in_town(row, self.town))

    def _kind_clause(self, row: Any) -> ColumnElement[bool]:
        if not (self.category or self.channel):
            return true()
        cases = select(Case.id)
        if self.category:
            cases = cases.where(Case.category == self.category)
        if self.channel:
            cases = cases.where(Case.channel == self.channel)
        about_case = and_(row.subject_kind == "case", row.subject_id.in_(cases))
        if self.category:
            return about_case
        leads = select(RiskLead.id).where(RiskLead.channel == self.channel)
        return or_(about_case, and_(row.subject_kind == "lead", row.subject_id.in_(leads)))


def _in_town(row: Any, town: str) -> ColumnElement[bool]:
    """Rows (ready tasks, element visits) about a subject of the town, whatever its registered kind."""
    from app.workflow.runtime import HOOKS

    if hasattr(row, "town_code"):
        return row.town_code == town  # type: ignore[no-any-return]
    return or_(false(), *(and_(row.subject_kind == kind,
                               row.subject_id.in_(select(hooks.model.id).where(hooks.model.town_code == town)))
                          for kind, hooks in HOOKS.items()))


def heatmap_versions() -> list[ProcessVersion]:
    """Every deployed version, newest first per process (a handful of rows; never a scan of the history)."""
    return list(db.session.scalars(select(ProcessVersion)
                                   .order_by(ProcessVersion.process_key, ProcessVersion.version.desc())))


@dataclass(frozen=True)
class TownHeatRow:
    """One unit of the user's area (a town; a county above the county) across the steps of the diagram."""

    code: str
    name: str
    cells: dict[str, HeatCell]  # by bpmn_id; a step with nothing there is missing


@dataclass(frozen=True)
class TownHeat:
    """Rows per town (per county for a city's or a province's user), columns per step: which unit is slow where."""

    unit: str  # 镇 | 县
    steps: list[tuple[str, str]]  # (bpmn_id, name) in the heatmap's order
    rows: list[TownHeatRow]
    slowest: dict[str, str]  # bpmn_id -> the code of the unit with the longest median there (when two or more differ)


def heatmap_units(user: User) -> list[tuple[str, str]]:
    """The rows of heatmap()'s per-town table: (code, name) of the towns of the user's area (their own town for a
    town's or a village's user), or of its counties for a city's or a province's user."""
    from app.areas import CODE_LENGTHS, below, is_above_county
    from app.models import Area

    above = is_above_county(user.area_code)
    if above or len(user.area_code) <= CODE_LENGTHS["town"]:
        return [(a.code, a.name) for a in db.session.scalars(
            select(Area).where(Area.level == ("county" if above else "town"), below(Area.code, user.area_code))
            .order_by(Area.code))]
    town = db.session.get(Area, user.area_code[:CODE_LENGTHS["town"]])
    return [(town.code, town.name)] if town is not None else []


@dataclass(frozen=True)
class Heatmap:
    """The diagram's steps for the user's whole area, and the same split by town (by county above the county)."""

    cells: list[HeatCell]
    by_town: TownHeat


def heatmap(user: User, version: ProcessVersion, since: datetime, until: datetime,
            only: HeatFilter | None = None) -> Heatmap:
    """Per user task of the diagram version: subjects waiting there now, and the median time spent there by tasks
    finished in [since, until), in working days — of the subjects the user may see, whatever their kind (or only
    those of a category or channel); for the whole area and per town of it (per county for a city's or a
    province's user). One read of the ready tasks and one of the period's visits serve both: each row carries its
    subject's town."""
    from app.areas import CODE_LENGTHS, is_above_county

    only = only or HeatFilter()
    above = is_above_county(user.area_code)
    length = CODE_LENGTHS["county" if above else "town"]
    names: dict[str, str] = {}
    waiting: dict[tuple[str, str], int] = defaultdict(int)
    waiting_stmt = (select(ReadyTask.town_code, ReadyTask.bpmn_id, func.min(ReadyTask.name), func.count())
                    .where(ReadyTask.diagram_version_id == version.id, about_visible_subject(user, ReadyTask),
                           only.clause(ReadyTask))
                    .group_by(ReadyTask.town_code, ReadyTask.bpmn_id))
    for town_code, bpmn_id, name, count in db.session.execute(waiting_stmt):
        names.setdefault(bpmn_id, name or bpmn_id)
        waiting[((town_code or "")[:length], bpmn_id)] += count
    durations: dict[tuple[str, str], list[int]] = defaultdict(list)
    ordinals: dict[date, int] = {}  # a period has a few hundred days and maybe a million visits

    def ordinal(moment: datetime) -> int:
        day = to_china(moment).date()
        found = ordinals.get(day)
        if found is None:
            found = ordinals[day] = workday_ordinal(day)
        return found

    visit_stmt = (select(ElementVisit.town_code, ElementVisit.bpmn_id, ElementVisit.name, ElementVisit.ready_at,
                         ElementVisit.completed_at)
                  .where(ElementVisit.diagram_version_id == version.id, ElementVisit.ready_at.is_not(None),
                         ElementVisit.completed_at >= since, ElementVisit.completed_at < until,
                         about_visible_subject(user, ElementVisit), only.clause(ElementVisit)))
    for visit_town, bpmn_id, visit_name, ready_at, completed_at in db.session.execute(visit_stmt):
        assert ready_at is not None and completed_at is not None  # filtered in SQL
        names.setdefault(bpmn_id, visit_name or bpmn_id)
        durations[((visit_town or "")[:length], bpmn_id)].append(ordinal(completed_at) - ordinal(ready_at))

    steps = sorted(names.items())
    every: dict[str, list[int]] = defaultdict(list)
    for (_unit, bpmn_id), times in durations.items():
        every[bpmn_id].extend(times)
    waiting_everywhere: dict[str, int] = defaultdict(int)
    for (_unit, bpmn_id), count in waiting.items():
        waiting_everywhere[bpmn_id] += count
    cells = [_cell(bpmn_id, name, waiting_everywhere.get(bpmn_id, 0), every.get(bpmn_id, []))
             for bpmn_id, name in steps]

    units = heatmap_units(user)
    if only.town:
        units = [(code, name) for code, name in units if code == only.town[:length]]
    rows = []
    for code, unit_name in units:
        row_cells = {}
        for bpmn_id, step_name in steps:
            times = durations.get((code, bpmn_id), [])
            count = waiting.get((code, bpmn_id), 0)
            if times or count:
                row_cells[bpmn_id] = _cell(bpmn_id, step_name, count, times)
        rows.append(TownHeatRow(code, unit_name, row_cells))
    slowest = {}
    for bpmn_id, _ in steps:
        medians = [(row.cells[bpmn_id].median_working_days, row.code) for row in rows
                   if bpmn_id in row.cells and row.cells[bpmn_id].median_working_days is not None]
        if len(medians) > 1 and len({m for m, _ in medians}) > 1:
            slowest[bpmn_id] = max(medians, key=lambda pair: (pair[0] or 0.0))[1]
    return Heatmap(cells, TownHeat("县" if above else "镇", steps, rows, slowest))


def _cell(bpmn_id: str, name: str, waiting: int, times: list[int]) -> HeatCell:
    return HeatCell(bpmn_id, name, waiting, round(statistics.median(times), 1) if times else None, len(times))
