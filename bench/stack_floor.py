"""The stack floor: the schema floor, served. What a task submit costs on this stack with nothing of the app's own
structure.

A Flask app with Flask-SQLAlchemy, served by the same gunicorn command and driven by the same client as the app,
answers POST /stack-floor/cases/<case>/tasks/<bpmn id> with the JSON body a client sends. In Flask-SQLAlchemy's
session and transaction it checks the bearer token, reads the case, the ready task and the instance's state as rows,
completes the task with the project's engine adapter, writes the schema floor's rows (bench/engine_floor.py:
SchemaStep, the same statements), commits, and answers the case and its next tasks as JSON.

It has no ORM object, no form, no permission rule and no domain hook: those are what the app adds. So the submit's
distance from it is the cost of the app's own structure, and its distance from the engine floor is the least that
any design on this stack (HTTP, gunicorn, Flask, Flask-SQLAlchemy, SpiffWorkflow through our adapter, this schema)
could add to the engine.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask, abort, g, jsonify, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event
from werkzeug.wrappers import Response

from app.engine import adapter
from bench.engine_floor import FAR_FUTURE, SQLITE_TIME, PgRows, Rows, SchemaStep, case_steps, open_rows
from bench.server import ApiClient
from bench.stats import Timing

_TOKEN_USER = ("SELECT u.id FROM user_account u JOIN api_token t ON t.user_id = u.id "
               "WHERE t.token_hash = ? AND t.expires_at > ? AND u.active")
_CASE = "SELECT id, instance_id, village_code, town_code, cadre_id FROM household_case WHERE id = ?"
_TASK = "SELECT task_uuid, form_key FROM ready_task WHERE instance_id = ? AND bpmn_id = ?"
_STATE = "SELECT state, revision FROM workflow_instance WHERE id = ?"
_CASE_ROW = "SELECT * FROM household_case WHERE id = ?"
_NEXT_TASKS = "SELECT * FROM ready_task WHERE instance_id = ? ORDER BY id"


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True}  # as app/config.py sets it
    db = SQLAlchemy()
    db.init_app(app)
    on_sqlite = app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
    with app.app_context():
        if on_sqlite:
            @event.listens_for(db.engine, "connect")
            def _pragmas(dbapi_connection: Any, _record: Any) -> None:  # as the app sets them
                for pragma in ("foreign_keys=ON", "journal_mode=WAL", "busy_timeout=5000"):
                    dbapi_connection.execute(f"PRAGMA {pragma}")

        database: Path | str = Path(db.engine.url.database or "") if on_sqlite \
            else db.engine.url.render_as_string(hide_password=False)
    # Each worker parses the diagram once, as the app's cache does; each thread prepares its statements once.
    sources, _ = case_steps(database)
    bundle = adapter.parse_bundle("household_case", sources)
    connection = open_rows(database)
    version_id = connection.execute("SELECT id FROM process_version WHERE process_key = 'household_case' "
                                    "AND is_current").fetchone()[0]
    connection.close()
    local = threading.local()

    def writer(c: Rows, cadre_id: int | None) -> SchemaStep:
        """This thread's writer, on the request's connection, acting for the token's user."""
        step = getattr(local, "writer", None)
        if step is None:
            step = local.writer = SchemaStep(c, 0, version_id)
        step.connection, step.actor_id, step.cadre_id = c, g.user_id, cadre_id
        return step

    @app.get("/login")  # what bench.server.Server polls until the workers answer
    def ready() -> str:
        return "ok"

    def rows() -> Rows:
        """The DB-API connection of the session's transaction (psycopg's wrapped to take sqlite3's calls)."""
        driver = db.session.connection().connection.driver_connection
        return driver if on_sqlite else PgRows(driver)  # type: ignore[return-value]

    @app.before_request
    def token() -> None:
        if request.endpoint == "ready":
            return
        scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
        now = datetime.utcnow().strftime(SQLITE_TIME)  # noqa: DTZ003 (naive UTC, as the app stores it)
        user = rows().execute(_TOKEN_USER, (hashlib.sha256(raw.strip().encode()).hexdigest(), now)).fetchone() \
            if scheme.lower() == "bearer" else None
        if user is None:
            abort(401)
        g.user_id = user[0]

    def answer(case_id: int, instance_id: int, completed: bool) -> Response:
        c = rows()
        case = _dicts(c.execute(_CASE_ROW, (case_id,)))[0]
        next_tasks = _dicts(c.execute(_NEXT_TASKS, (instance_id,)))
        db.session.commit()
        return jsonify({"completed": True, "case": case, "next_tasks": next_tasks, "case_completed": completed,
                        "ready": [t["bpmn_id"] for t in next_tasks]})

    @app.post("/stack-floor/cases/<int:case_id>/tasks/<bpmn_id>")
    def complete(case_id: int, bpmn_id: str) -> Response:
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
            abort(400)
        c = rows()
        case = c.execute(_CASE, (case_id,)).fetchone()
        task = c.execute(_TASK, (case[1], bpmn_id)).fetchone() if case else None
        if task is None:
            abort(409)
        state, revision = c.execute(_STATE, (case[1],)).fetchone()
        snapshot = adapter.complete_task(bundle, state, task[0], body["data"])
        writer(c, case[4]).write(case[:4], revision, snapshot, (bpmn_id, task[1], body["data"]))
        return answer(case_id, case[1], snapshot.completed)

    @app.post("/stack-floor/cases/<int:case_id>/timers")
    def timers(case_id: int) -> Response:  # a notice period's end: the driver calls it untimed
        c = rows()
        case = c.execute(_CASE, (case_id,)).fetchone()
        state, revision = c.execute(_STATE, (case[1],)).fetchone()
        writer(c, case[4]).write(case[:4], revision, adapter.fire_due_timers(bundle, state, FAR_FUTURE), None)
        return answer(case_id, case[1], False)

    return app


def _dicts(cursor: Any) -> list[dict[str, Any]]:
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor]


def grant_token(database: Path | str) -> str:
    """A live API token for the first user, written into `database` before the server starts."""
    raw = secrets.token_urlsafe(32)
    connection = open_rows(database)
    user_id = connection.execute("SELECT min(id) FROM user_account").fetchone()[0]
    connection.execute("INSERT INTO api_token (user_id, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?)",
                       (user_id, hashlib.sha256(raw.encode()).hexdigest(),
                        datetime.utcnow().strftime(SQLITE_TIME),  # noqa: DTZ003
                        (datetime.utcnow() + timedelta(days=1)).strftime(SQLITE_TIME)))  # noqa: DTZ003
    connection.commit()
    connection.close()
    return raw


def measure_stack_floor(port: int, database: Path | str, token: str, instances: int) -> Timing:
    """`instances` idle cases of `database` (waiting at their first task) through every user task of the happy
    path over HTTP, one client; one untimed case first. The cases are the next idle ones the schema floor left."""
    _, steps = case_steps(database)
    connection = open_rows(database)
    cases = [row[0] for row in connection.execute(
        "SELECT c.id FROM household_case c JOIN ready_task r ON r.subject_kind = 'case' AND r.subject_id = c.id "
        "WHERE r.bpmn_id = ? "
        "ORDER BY c.id LIMIT ?", (steps[0][0], instances + 1))]
    connection.close()
    if len(cases) < instances + 1:
        raise RuntimeError(f"the stack floor needs {instances + 1} idle cases, the dataset has {len(cases)}")
    api = ApiClient(port)
    seconds: list[float] = []
    for number, case_id in enumerate(cases):
        ready = [steps[0][0]]
        completed = False
        for bpmn_id, data in steps:
            if bpmn_id not in ready:  # a notice period: end it, untimed
                ready = api.ok("POST", f"/stack-floor/cases/{case_id}/timers", token, {})["ready"]
            started = time.perf_counter()
            status, body = api.call("POST", f"/stack-floor/cases/{case_id}/tasks/{bpmn_id}", token, {"data": data})
            elapsed = time.perf_counter() - started
            if status != 200:
                raise RuntimeError(f"the stack floor answered {status} at {bpmn_id}: {body}")
            ready, completed = body["ready"], body["case_completed"]
            if number:
                seconds.append(elapsed)
        assert completed, "the stack floor's case did not reach its end"
    return Timing("stack floor: the schema floor served by Flask and Flask-SQLAlchemy, nothing of the app's own",
                  seconds)
