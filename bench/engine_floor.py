"""The engine floor: what completing one user task costs the engine itself, persisted, with nothing of ours.

Per task: load the state row, deserialise with the spec cached, complete the READY user task and run the
engine to the next wait, serialise, write the row and commit — with the project's own engine adapter
(app/engine/adapter.py) on the deployed case diagram, and a bare stdlib sqlite3 database in WAL mode. The task
data is what the app recorded for the same steps of a real case (its events), so the engine does the same work.
"""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from app.engine import adapter
from bench.stats import Timing

FAR_FUTURE = datetime(2100, 1, 1)


class PgRows:
    """A psycopg connection called as sqlite3's is (qmark parameters, execute on the connection), so the floors'
    hand-written statements run unchanged on PostgreSQL."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    def execute(self, statement: str, parameters: Any = ()) -> Any:
        cursor = self.connection.cursor()
        cursor.execute(statement.replace("?", "%s"), tuple(parameters) or None)
        return cursor

    def executemany(self, statement: str, rows: Any) -> Any:
        cursor = self.connection.cursor()
        cursor.executemany(statement.replace("?", "%s"), [tuple(row) for row in rows])
        return cursor

    def commit(self) -> None:
        self.connection.commit()

    def close(self) -> None:
        self.connection.close()


Rows = sqlite3.Connection | PgRows


def open_rows(database: Path | str, autocommit: bool = False) -> Rows:
    """A SQLite file (sqlite3), or a database URL (psycopg, wrapped to be called the same way)."""
    if isinstance(database, Path):
        return sqlite3.connect(database, isolation_level=None if autocommit else "")
    from bench.postgres import connect

    return PgRows(connect(database, autocommit=autocommit))


def _json(value: Any) -> Any:
    """A JSON column's value: text on SQLite, already decoded on PostgreSQL."""
    return json.loads(value) if isinstance(value, str) else value


def _sources(connection: Rows, process_key: str) -> dict[str, str]:
    row = connection.execute("SELECT bpmn_xml, dependencies FROM process_version WHERE process_key = ? "
                             "AND is_current", (process_key,)).fetchone()
    sources = {f"{process_key}.bpmn": row[0]}
    for dependency in _json(row[1]) or {}:
        sources.update(_sources(connection, dependency))
    return sources


def case_steps(database: Path | str) -> tuple[dict[str, str], list[tuple[str, dict[str, Any]]]]:
    """The case diagram's sources and the closed template case's user tasks with their data, in order."""
    connection = open_rows(database)
    sources = _sources(connection, "household_case")
    template = connection.execute("SELECT id FROM household_case WHERE status = 'closed' ORDER BY id "
                                  "LIMIT 1").fetchone()[0]
    steps = [(bpmn_id, _json(data) or {}) for bpmn_id, data in connection.execute(
        "SELECT bpmn_id, data FROM event WHERE subject_kind = 'case' AND subject_id = ? "
        "AND kind = 'task_completed' ORDER BY id",
        (template,))]
    connection.close()
    return sources, steps


def measure_floor(database: Path | str, scratch: Path | str, instances: int) -> tuple[Timing, dict[str, Any]]:
    """`instances` cases taken through every user task of the happy path; one untimed case first. `scratch`: a
    SQLite file (WAL), or a PostgreSQL database URL whose table `floor_instance` the floor owns."""
    sources, steps = case_steps(database)
    bundle = adapter.parse_bundle("household_case", sources)
    if isinstance(scratch, Path):
        scratch.unlink(missing_ok=True)
        connection = open_rows(scratch)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE floor_instance (id INTEGER PRIMARY KEY, state TEXT NOT NULL, "
                           "revision INTEGER NOT NULL)")
    else:
        connection = open_rows(scratch)
        connection.execute("DROP TABLE IF EXISTS floor_instance")
        connection.execute("CREATE TABLE floor_instance (id SERIAL PRIMARY KEY, state TEXT NOT NULL, "
                           "revision INTEGER NOT NULL)")
    connection.commit()
    seconds: list[float] = []
    sizes: list[int] = []
    for number in range(instances + 1):
        snapshot = adapter.start_workflow(bundle, {"household_id": number + 1, "risk_type": "major_illness"})
        instance_id = connection.execute("INSERT INTO floor_instance (state, revision) VALUES (?, 1) RETURNING id",
                                         (snapshot.state,)).fetchone()[0]
        connection.commit()
        for bpmn_id, data in steps:
            if not any(t.bpmn_id == bpmn_id for t in snapshot.ready_tasks):  # a notice period: fire its timer
                state = connection.execute("SELECT state FROM floor_instance WHERE id = ?",
                                           (instance_id,)).fetchone()[0]
                snapshot = adapter.fire_due_timers(bundle, state, FAR_FUTURE)
                connection.execute("UPDATE floor_instance SET state = ? WHERE id = ?", (snapshot.state,
                                                                                           instance_id))
                connection.commit()
            task = next(t for t in snapshot.ready_tasks if t.bpmn_id == bpmn_id)
            started = time.perf_counter()
            state = connection.execute("SELECT state FROM floor_instance WHERE id = ?",
                                       (instance_id,)).fetchone()[0]
            snapshot = adapter.complete_task(bundle, state, task.task_id, data)
            connection.execute("UPDATE floor_instance SET state = ?, revision = revision + 1 WHERE id = ?",
                               (snapshot.state, instance_id))
            connection.commit()
            elapsed = time.perf_counter() - started
            if number:
                seconds.append(elapsed)
                sizes.append(len(snapshot.state))
        assert snapshot.completed, "the floor's case did not reach its end"
    connection.close()
    return Timing("engine floor: one user task, persisted", seconds), {
        "user_tasks_per_case": len(steps), "steps": [bpmn_id for bpmn_id, _ in steps],
        "state_bytes_mean": round(sum(sizes) / len(sizes))}


# ---- the schema floor ---------------------------------------------------------------------------------------------
# The engine floor plus the rows this design keeps in step with the state, in the same transaction: the history
# event, the element visits, the ready-task rows (deleted and inserted, with all their inbox indexes), the case's
# step, and the domain's own rows (risk level, measures, cadre, closure). Hand-written with stdlib sqlite3 on a copy
# of the benchmark's own database (the real schema: its indexes, foreign keys and the audit log's triggers), so it
# is what the fastest possible step path could cost with this schema: no web framework, no HTTP, no ORM, no form,
# no permission checks. The submit's distance from it is the framework's share; its distance from the engine
# floor is the schema's.

SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores a DATETIME in SQLite


def _columns(connection: Rows, table: str) -> str:
    if isinstance(connection, PgRows):
        names = [row[0] for row in connection.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = ? "
            "ORDER BY ordinal_position", (table,))]
    else:
        names = [row[1] for row in connection.execute(f"PRAGMA table_info({table})")]
    return ", ".join(name for name in names if name != "id")


def _insert(connection: Rows, table: str) -> str:
    names = _columns(connection, table)
    return f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(names.split(', ')))})"


class SchemaStep:
    """One step's writes, as the runtime and the case's hooks make them (app/workflow/runtime.py,
    app/cases/operations.py), in plain SQL."""

    def __init__(self, connection: Rows, actor_id: int, version_id: int) -> None:
        from app.roles import role_for_lane

        self.connection, self.actor_id, self.version_id, self.role_for_lane = (connection, actor_id, version_id,
                                                                               role_for_lane)
        self.insert_event, self.insert_visit, self.insert_ready, self.insert_measure = (
            _insert(connection, "event"), _insert(connection, "element_visit"), _insert(connection, "ready_task"),
            _insert(connection, "measure"))
        self.cadre_id: int | None = None  # named by the measures plan; the cadre's tasks are assigned to them
        # The column order of each insert, to build rows by name.
        self.event_columns = _columns(connection, "event").split(", ")
        self.visit_columns = _columns(connection, "element_visit").split(", ")
        self.ready_columns = _columns(connection, "ready_task").split(", ")
        self.measure_columns = _columns(connection, "measure").split(", ")

    def write(self, case: tuple[int, int, str, str], revision: int, snapshot: adapter.WorkflowSnapshot,
              completed: tuple[str, str, dict[str, Any]] | None) -> None:
        """`completed`: the bpmn id, form key and data of the task the step completed (None for a timer)."""
        case_id, instance_id, village_code, town_code = case
        c = self.connection
        now = datetime.utcnow().strftime(SQLITE_TIME)  # noqa: DTZ003 (naive UTC, as the app stores it)
        today = now[:10]
        if c.execute("UPDATE workflow_instance SET state = ?, completed = ?, end_event = ?, next_timer_at = ?, "
                     "revision = ?, updated_at = ? WHERE id = ? AND revision = ?",
                     (snapshot.state, snapshot.completed, snapshot.end_event,
                      snapshot.next_timer_at.strftime(SQLITE_TIME) if snapshot.next_timer_at else None,
                      revision + 1, now, instance_id, revision)).rowcount != 1:
            raise RuntimeError("stale revision in the schema floor")
        if completed:
            bpmn_id, form_key, data = completed
            self.event(now, "task_completed", instance_id, case_id, bpmn_id, data)
            self.after_task(case_id, instance_id, form_key, data, now)
        visits = [dict(instance_id=instance_id, subject_kind="case", subject_id=case_id,
                       village_code=village_code, town_code=town_code, diagram_version_id=self.version_id,
                       process_key=step.process_key, bpmn_id=step.bpmn_id, element_type=step.element_type,
                       from_bpmn_id=step.from_bpmn_id, name=step.name, completed_at=now,
                       ready_at=now if completed and step.bpmn_id == completed[0] else None,
                       actor_id=self.actor_id if completed and step.bpmn_id == completed[0] else None)
                  for step in snapshot.trail]
        if visits:
            c.executemany(self.insert_visit, [[v.get(name) for name in self.visit_columns] for v in visits])
        wanted = {t.task_id: t for t in snapshot.ready_tasks}
        existing = {row[0] for row in c.execute("SELECT task_uuid FROM ready_task WHERE instance_id = ?",
                                                (instance_id,))}
        gone = [uuid for uuid in existing if uuid not in wanted]
        if gone:
            marks = ", ".join("?" * len(gone))
            c.execute(f"DELETE FROM ready_task WHERE task_uuid IN ({marks})", gone)
            c.execute(f"DELETE FROM task_draft WHERE task_uuid IN ({marks})", gone)
        rows = [dict(instance_id=instance_id, task_uuid=task_id, bpmn_id=info.bpmn_id, name=info.name,
                     context_name=info.context_name or "", form_key=info.form_key,
                     role=self.role_for_lane(info.lane), village_code=village_code, town_code=town_code,
                     assignee_id=self.cadre_id if self.role_for_lane(info.lane) == "cadre" else None,
                     subject_kind="case", subject_id=case_id, subject="某户", ready_since=now,
                     diagram_version_id=self.version_id,
                     due_on=today, from_bpmn_id=info.from_bpmn_id)
                for task_id, info in wanted.items() if task_id not in existing]
        if rows:
            c.executemany(self.insert_ready, [[r.get(name) for name in self.ready_columns] for r in rows])
        if snapshot.completed:
            c.execute("UPDATE household_case SET status = ?, closed_at = ?, current_step = ?, updated_at = ? "
                      "WHERE id = ?", ("closed", now, "已销号", now, case_id))
            self.event(now, "case_closed", instance_id, case_id, None, {})
        else:
            step = "、".join(t.name for t in snapshot.ready_tasks)[:255] or "公示期"
            c.execute("UPDATE household_case SET status = ?, current_step = ?, updated_at = ? WHERE id = ?",
                      ("assisting", step, now, case_id))

    def event(self, now: str, kind: str, instance_id: int, case_id: int, bpmn_id: str | None,
              data: dict[str, Any]) -> None:
        row = dict(at=now, kind=kind, actor_id=self.actor_id, instance_id=instance_id, subject_kind="case",
                   subject_id=case_id,
                   bpmn_id=bpmn_id, task_name=bpmn_id or kind, decision=data.get("decision"),
                   opinion=data.get("opinion"), data=json.dumps(data) if data else None, remote_addr="127.0.0.1")
        self.connection.execute(self.insert_event, [row.get(name) for name in self.event_columns])

    def after_task(self, case_id: int, instance_id: int, form_key: str, data: dict[str, Any], now: str) -> None:
        """The domain's own writes (app/cases/operations.py: _after_task): the risk level, the day approved, the
        measures and the cadre, the measures' results."""
        c = self.connection
        if form_key == "town_certification" and data.get("decision") == "certify":
            c.execute("UPDATE household_case SET risk_level = ? WHERE id = ?", (data.get("risk_level"), case_id))
        elif form_key == "county_approval" and data.get("decision") == "approve":
            c.execute("UPDATE household_case SET identified_on = ?, approved_at = coalesce(approved_at, ?) "
                      "WHERE id = ?", (now[:10], now, case_id))
        elif form_key == "measures_plan":
            c.execute("DELETE FROM measure WHERE case_id = ?", (case_id,))
            c.executemany(self.insert_measure, [
                [dict(case_id=case_id, position=position, content=m["content"], measure_type=m["measure_type"],
                      responsible_unit=m["responsible_unit"], deadline=m["deadline"], status="planned",
                      first_aid=False).get(name)
                 for name in self.measure_columns] for position, m in enumerate(data["measures"])])
            self.cadre_id = data["cadre_id"]
            c.execute("UPDATE household_case SET cadre_id = ? WHERE id = ?", (self.cadre_id, case_id))
            self.event(now, "cadre_assigned", instance_id, case_id, None, {})
        elif form_key == "measures_execution":  # the template's measure ids are another case's: by position
            c.executemany("UPDATE measure SET status = 'done', completed_on = ?, result = ? WHERE case_id = ? "
                          "AND position = ?", [(r["completed_on"], r["result"], case_id, position)
                                               for position, r in enumerate(data["results"])])


def measure_schema_floor(database: Path | str, scratch: Path | str, instances: int) -> Timing:
    """`instances` of the dataset's idle cases (waiting at their first task) taken through every user task of the
    happy path with the writes of SchemaStep, on a copy of `database` (a SQLite file, or a PostgreSQL database
    copied as a template); one untimed case first."""
    sources, steps = case_steps(database)
    bundle = adapter.parse_bundle("household_case", sources)
    if isinstance(database, Path) and isinstance(scratch, Path):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{scratch}{suffix}").unlink(missing_ok=True)
        with sqlite3.connect(database) as source, sqlite3.connect(scratch) as target:
            source.backup(target)
        source.close()
        target.close()
        connection = open_rows(scratch, autocommit=True)  # the transactions are explicit below
        for pragma in ("foreign_keys=ON", "journal_mode=WAL", "busy_timeout=5000"):
            connection.execute(f"PRAGMA {pragma}")
    else:
        from bench.postgres import copy_database

        copy_database(str(database), str(scratch))
        connection = open_rows(scratch, autocommit=True)
    cases = connection.execute(
        "SELECT c.id, c.instance_id, c.village_code, c.town_code FROM household_case c "
        "JOIN ready_task r ON r.subject_kind = 'case' AND r.subject_id = c.id WHERE r.bpmn_id = ? "
        "ORDER BY c.id LIMIT ?",
        (steps[0][0], instances + 1)).fetchall()
    if len(cases) < instances + 1:
        raise RuntimeError(f"the schema floor needs {instances + 1} idle cases, the dataset has {len(cases)}")
    version_id = connection.execute("SELECT id FROM process_version WHERE process_key = 'household_case' "
                                    "AND is_current").fetchone()[0]
    actor_id = connection.execute("SELECT min(id) FROM user_account").fetchone()[0]
    writer = SchemaStep(connection, actor_id, version_id)
    seconds: list[float] = []
    for number, case in enumerate(cases):
        instance_id = case[1]
        writer.cadre_id = None
        for bpmn_id, data in steps:
            task_row = connection.execute("SELECT id FROM ready_task WHERE instance_id = ? AND bpmn_id = ?",
                                          (instance_id, bpmn_id)).fetchone()
            if task_row is None:  # a notice period: fire its timer, untimed
                state, revision = connection.execute("SELECT state, revision FROM workflow_instance WHERE id = ?",
                                                     (instance_id,)).fetchone()
                connection.execute("BEGIN")
                writer.write(case, revision, adapter.fire_due_timers(bundle, state, FAR_FUTURE), None)
                connection.execute("COMMIT")
                task_row = connection.execute("SELECT id FROM ready_task WHERE instance_id = ? AND bpmn_id = ?",
                                              (instance_id, bpmn_id)).fetchone()
            started = time.perf_counter()
            connection.execute("BEGIN")
            task_id, form_key = connection.execute("SELECT task_uuid, form_key FROM ready_task WHERE id = ?",
                                                   task_row).fetchone()
            state, revision = connection.execute("SELECT state, revision FROM workflow_instance WHERE id = ?",
                                                 (instance_id,)).fetchone()
            snapshot = adapter.complete_task(bundle, state, task_id, data)
            writer.write(case, revision, snapshot, (bpmn_id, form_key, data))
            connection.execute("COMMIT")
            if number:
                seconds.append(time.perf_counter() - started)
        assert snapshot.completed, "the schema floor's case did not reach its end"
        # The rows were kept in step, as the runtime keeps them: nothing left waiting, every element visited.
        left = connection.execute("SELECT count(*) FROM ready_task WHERE instance_id = ?", (instance_id,)).fetchone()
        assert left == (0,), f"the schema floor left {left[0]} ready rows of a closed case"
        done = connection.execute("SELECT count(*) FROM measure WHERE case_id = ? AND status = 'done'",
                                  (case[0],)).fetchone()
        assert done[0] >= 1, "the schema floor's case closed without its measures carried out"
    connection.close()
    return Timing("schema floor: one user task, persisted with this schema's rows, hand-written", seconds)

