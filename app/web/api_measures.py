"""/api/v1 for 落实帮扶措施 one measure at a time: the cadre's task lists the plan's measures (records.measures) and
links the recording of each one (POST /tasks/{task_id}/measures/{measure_id}), saved at once, the task left open."""

from __future__ import annotations

from typing import Any

from flask import Response, g, jsonify

from app.cases.measures import record_measure_result
from app.cases.operations import get_case
from app.extensions import db
from app.models import ReadyTask
from app.web.api import TASK_LINKS, TASK_RECORDS, _json_body, _link, bp, measure_json, token_required


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    return value if isinstance(value, str) else ""


@bp.route("/tasks/<int:task_id>/measures/<int:measure_id>", methods=["POST"])
@token_required
def record_task_measure(task_id: int, measure_id: int) -> tuple[Response, int]:
    """One measure of the plan done: JSON `completed_on` (YYYY-MM-DD) and `result`."""
    body = _json_body()
    measure = record_measure_result(task_id, measure_id, g.api_user, _text(body, "completed_on"),
                                    _text(body, "result"))
    answer = measure_json(measure)
    db.session.commit()
    return jsonify(answer), 201


def _measure_links(task: ReadyTask) -> list[dict[str, str]]:
    return [_link("record_measure", "POST", f"/api/v1/tasks/{task.id}/measures/{{measure_id}}",
                  "登记一项措施已落实（落实日期和落实情况），立即保存，任务仍待办")]


def _measure_records(task: ReadyTask) -> dict[str, Any]:
    return {"measures": [measure_json(m) for m in get_case(task.subject_id).measures]}


TASK_LINKS.update(measures_execution=_measure_links)
TASK_RECORDS.update(measures_execution=_measure_records)
