"""The measures a county department is responsible for (五(二): each department sees to the measures it leads): its
list of them, and the progress and completion it records, with evidence, beside the household's cadre."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import IO

from sqlalchemy import case, func, select

from app.access import can_see_case, case_clause, department_of
from app.clock import china_today, to_china
from app.departments.catalogue import DEPARTMENTS
from app.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from app.extensions import db
from app.models import Case, Measure, MeasureProgress, User
from app.vocab import OPEN_CASE_STATUSES
from app.workflow import runtime

MAX_NOTE = 2000


@dataclass(frozen=True)
class DepartmentMeasure:
    measure: Measure
    case: Case
    progress: list[MeasureProgress]

    @property
    def overdue(self) -> bool:
        return self.measure.status != "done" and self.measure.deadline < china_today()


def department_measures(user: User, pending_only: bool = True, limit: int = 500) -> list[DepartmentMeasure]:
    """The measures of the user's department in cases still in hand (or, all of them), the oldest deadline first."""
    code = department_of(user)
    if code is None:
        raise PermissionDenied("只有县级行业部门有本部门负责的帮扶措施")
    stmt = (select(Measure, Case).join(Case, Case.id == Measure.case_id)
            .where(Measure.department == code, Case.status != "rejected", case_clause(user))
            .order_by(case((Measure.status == "done", 1), else_=0), Measure.deadline, Measure.id))
    if pending_only:
        stmt = stmt.where(Measure.status != "done", Case.status.in_(OPEN_CASE_STATUSES))
    rows = db.session.execute(stmt.limit(limit)).all()
    notes: dict[int, list[MeasureProgress]] = {}
    ids = [m.id for m, _c in rows]
    if ids:
        for note in db.session.scalars(select(MeasureProgress).where(MeasureProgress.measure_id.in_(ids))
                                       .order_by(MeasureProgress.recorded_on, MeasureProgress.id)):
            notes.setdefault(note.measure_id, []).append(note)
    return [DepartmentMeasure(m, c, notes.get(m.id, [])) for m, c in rows]


def pending_count(user: User) -> int:
    code = department_of(user)
    if code is None:
        return 0
    return db.session.scalar(select(func.count()).select_from(Measure).join(Case, Case.id == Measure.case_id)
                             .where(Measure.department == code, Measure.status != "done",
                                    Case.status.in_(OPEN_CASE_STATUSES), case_clause(user))) or 0


def record_progress(measure_id: int, actor: User, recorded_on: str, note: str, completed: bool,
                    evidence: IO[bytes] | None = None, evidence_name: str | None = None) -> MeasureProgress:
    """Progress on a measure, or its completion (the measure is then done on that day, the note its result), by the
    department responsible, with an optional photo or document as evidence (kept with the case's attachments)."""
    code = department_of(actor)
    measure = db.session.get(Measure, measure_id)
    if measure is None:
        raise NotFound("该帮扶措施不存在")
    case_row = db.session.get(Case, measure.case_id)
    assert case_row is not None  # the foreign key
    # The department of the case's county: a county's departments see to its own households' measures.
    if code is None or measure.department != code or not actor.active or not can_see_case(actor, case_row):
        raise PermissionDenied("只能登记本部门负责的帮扶措施")
    errors: dict[str, list[str]] = {}
    text = (note or "").strip()
    if not 2 <= len(text) <= MAX_NOTE:
        errors["note"] = [f"请填写落实情况（2 到 {MAX_NOTE} 个字）"]
    try:
        day = date.fromisoformat(recorded_on or "")
    except ValueError:
        errors["recorded_on"] = ["请填写日期（YYYY-MM-DD）"]
        day = china_today()
    if day > china_today():
        errors["recorded_on"] = ["日期不能晚于今天"]
    elif day < to_china(case_row.opened_at).date():
        errors["recorded_on"] = ["日期不能早于该户建立案件的日期"]
    if errors:
        raise InvalidInput("未保存：" + "；".join(m for messages in errors.values() for m in messages), errors)
    if measure.status == "done":
        raise Conflict("该措施已落实完成，不能再登记")
    if case_row.status not in OPEN_CASE_STATUSES:
        raise Conflict("该户的案件已办结，措施不再登记")
    attachment_id = None
    if evidence is not None and evidence_name:
        from app.collab.operations import store_attachment

        attachment, _created = store_attachment(case_row, evidence, evidence_name, actor)
        attachment_id = attachment.id
    progress = MeasureProgress(measure_id=measure.id, department=code, recorded_on=day, note=text,
                               completed=completed, attachment_id=attachment_id, recorded_by_id=actor.id)
    db.session.add(progress)
    if completed:
        measure.status, measure.completed_on, measure.result = "done", day, text
    department = DEPARTMENTS[code].name
    runtime.record_event(case_row, "measure_progress", actor,
                         task_name=f"{department}{'落实完成' if completed else '登记进展'}：{measure.content}"[:160],
                         opinion=text, data={"measure_id": measure.id, "completed": completed,
                                             "attachment_id": attachment_id, "recorded_on": day.isoformat()})
    db.session.flush()
    return progress
