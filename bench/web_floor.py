"""The web floor: what one task submit's round trip costs the stack before any code of ours runs.

A bare Flask app served exactly as the benchmark serves ours (the same gunicorn command, workers and client):
POST /api/v1/tasks/{id}/complete reads the JSON body and answers JSON of the size and shape of the real answer
(the case with its household, the next task, the revision). No database, no authentication, no form, no engine.
Beside the engine floor and the schema floor it splits a submit's time into the engine's, the schema's, the
stack's (HTTP, gunicorn, Flask) and the app's own (authentication, permissions, the ORM session, the form, the
domain's hooks, the answer).
"""

from __future__ import annotations

import time
from typing import Any

from flask import Flask, jsonify, request
from werkzeug.wrappers import Response

from bench.server import ApiClient
from bench.stats import Timing


def _answer(task_id: int, body: dict[str, Any]) -> dict[str, Any]:
    household = {"id": 1, "household_no": "6109220010010001", "head_name": "张某某",
                 "head_id_number_masked": "610922********0011", "size": 4, "kind": "non_poor", "lifted_year": None,
                 "village_code": "610922100001", "village_name": "某某村", "town_code": "610922100"}
    case = {"id": 1, "status": "certification", "current_step": "镇认定组核实", "risk_type": "major_illness",
            "risk_level": None, "reason": "家庭成员患重大疾病", "village_code": "610922100001",
            "town_code": "610922100", "cadre_id": None, "opened_at": "2026-11-01T08:00:00Z", "closed_at": None,
            "household": household}
    task = {"id": task_id + 1, "name": "镇领导小组会议审定", "title": "镇领导小组会议审定",
            "bpmn_id": "Task_TownApprove", "form": "town_approval", "role": "town_leadership",
            "village_code": "610922100001", "town_code": "610922100", "assignee_id": None,
            "subject_kind": "case", "subject_id": 1, "case_id": 1, "screening_id": None, "subject": "张某某户",
            "ready_since": "2026-11-01T08:00:00Z",
            "due_on": "2026-11-15", "claimed_by_id": None, "claimed_at": None}
    return {"completed": True, "case": case, "next_tasks": [task], "revision": int(body.get("revision") or 0) + 1}


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/login")  # what bench.server.Server polls until the workers answer
    def ready() -> str:
        return "ok"

    @app.post("/api/v1/tasks/<int:task_id>/complete")
    def complete(task_id: int) -> Response | tuple[Response, int]:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return jsonify({"error": "请求体必须是 JSON 对象"}), 400
        return jsonify(_answer(task_id, body))

    return app


def measure_web_floor(port: int, repeat: int) -> Timing:
    """`repeat` submits of a typical body, one client, timed as the benchmark's drivers time theirs."""
    api = ApiClient(port)
    body = {
        "decision": "certify",
        "risk_level": "general",
        "opinion": "经核实，情况属实，同意认定为监测对象",
        "revision": 3,
    }
    for task_id in range(20):  # warm both workers
        api.ok("POST", f"/api/v1/tasks/{task_id + 1}/complete", "bench-token", body)
    seconds = []
    for task_id in range(repeat):
        started = time.perf_counter()
        status, _answer_body = api.call("POST", f"/api/v1/tasks/{task_id + 1}/complete", "bench-token", body)
        seconds.append(time.perf_counter() - started)
        if status != 200:
            raise RuntimeError(f"the web floor's app answered {status}")
    return Timing("web floor: a submit's round trip through HTTP, gunicorn and Flask, nothing of ours", seconds)
