"""落实帮扶措施, one measure at a time: the cadre (四(二): 具体负责帮扶措施的落实) records each measure of the plan when
it is done — the day and what came of it — while the task stays open, so a measure due next year does not hold
up the one done today. The task is submitted once every measure is recorded (forms/assistance.py)."""

from __future__ import annotations

from datetime import date

from app.access import acting_for, can_record_measures
from app.cases.operations import measures_to_carry_out
from app.clock import china_today, to_china
from app.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from app.extensions import db
from app.models import Case, Measure, User
from app.workflow import runtime
from forms.base import CONTROL_CHARACTERS

MAX_RESULT = 2000


def record_measure_result(task_id: int, measure_id: int, actor: User, completed_on: str, result: str) -> Measure:
    """Record one measure of the case the task carries out as done on `completed_on`, with its result. Raises
    PermissionDenied (not the task's cadre or their stand-in), NotFound (not a measure of the case), InvalidInput
    (with the message of each field) or Conflict (already recorded, or the task moved on); nothing is changed then."""
    task = runtime.get_ready_task(task_id)
    if not can_record_measures(actor, task):
        raise PermissionDenied("只有该户的包抓干部可以登记帮扶措施的落实情况")
    runtime.lock_instance(task.instance_id)  # queued with the task's submit: never half of each
    case = runtime.subject_of(task)
    assert isinstance(case, Case)
    measure = db.session.get(Measure, measure_id)
    if measure is None or measure.case_id != case.id:
        raise NotFound("该帮扶措施不属于本户")
    errors: dict[str, list[str]] = {}
    text = (result or "").strip()
    if not 2 <= len(text) <= MAX_RESULT:
        errors["result"] = [f"请填写落实情况（2 到 {MAX_RESULT} 个字）"]
    elif CONTROL_CHARACTERS.search(text):
        errors["result"] = ["不能包含控制字符，请删除后重新填写"]
    day = None
    try:
        day = date.fromisoformat((completed_on or "").strip())
    except ValueError:
        errors["completed_on"] = ["请填写落实日期（YYYY-MM-DD）"]
    if day is not None and day > china_today():
        errors["completed_on"] = ["落实日期不能晚于今天"]
    elif day is not None and day < to_china(case.opened_at).date():
        errors["completed_on"] = ["落实日期不能早于该户建立案件的日期"]
    if errors:
        raise InvalidInput("未保存：" + "；".join(m for messages in errors.values() for m in messages), errors)
    assert day is not None
    if measure not in measures_to_carry_out(case):
        raise Conflict("该措施已登记落实，不能重复登记")
    measure.status, measure.completed_on, measure.result = "done", day, text
    acting = acting_for(actor, task)
    runtime.record_event(case, "measure_recorded", actor, instance_id=task.instance_id, bpmn_id=task.bpmn_id,
                         task_name=f"登记措施落实：{measure.content}"[:160], opinion=text,
                         data={"measure_id": measure.id, "completed_on": day.isoformat()},
                         on_behalf_of=acting if acting is not None and acting is not actor else None)
    db.session.flush()
    return measure
