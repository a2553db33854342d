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


def _sources(connection: sqlite3.Connection, process_key: str) -> dict[str, str]:
    row = connection.execute("SELECT bpmn_xml, dependencies FROM process_version WHERE process_key = ? "
                             "AND is_current", (process_key,)).fetchone()
    sources = {f"{process_key}.bpmn": row[0]}
    for dependency in json.loads(row[1] or "{}"):
        sources.update(_sources(connection, dependency))
    return sources


def case_steps(database: Path) -> tuple[dict[str, str], list[tuple[str, dict[str, Any]]]]:
    """The case diagram's sources and the closed template case's user tasks with their data, in order."""
    with sqlite3.connect(database) as connection:
        sources = _sources(connection, "household_case")
        template = connection.execute("SELECT id FROM household_case WHERE status = 'closed' ORDER BY id "
                                      "LIMIT 1").fetchone()[0]
        steps = [(bpmn_id, json.loads(data or "{}")) for bpmn_id, data in connection.execute(
            "SELECT bpmn_id, data FROM event WHERE case_id = ? AND kind = 'task_completed' ORDER BY id",
            (template,))]
    return sources, steps


def measure_floor(database: Path, scratch: Path, instances: int) -> tuple[Timing, dict[str, Any]]:
    """`instances` cases taken through every user task of the happy path; one untimed case first."""
    sources, steps = case_steps(database)
    bundle = adapter.parse_bundle("household_case", sources)
    scratch.unlink(missing_ok=True)
    connection = sqlite3.connect(scratch)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE workflow_instance (id INTEGER PRIMARY KEY, state TEXT NOT NULL, "
                       "revision INTEGER NOT NULL)")
    connection.commit()
    seconds: list[float] = []
    sizes: list[int] = []
    for number in range(instances + 1):
        snapshot = adapter.start_workflow(bundle, {"household_id": number + 1, "risk_type": "major_illness"})
        instance_id = connection.execute("INSERT INTO workflow_instance (state, revision) VALUES (?, 1)",
                                         (snapshot.state,)).lastrowid
        connection.commit()
        for bpmn_id, data in steps:
            if not any(t.bpmn_id == bpmn_id for t in snapshot.ready_tasks):  # a notice period: fire its timer
                state = connection.execute("SELECT state FROM workflow_instance WHERE id = ?",
                                           (instance_id,)).fetchone()[0]
                snapshot = adapter.fire_due_timers(bundle, state, FAR_FUTURE)
                connection.execute("UPDATE workflow_instance SET state = ? WHERE id = ?", (snapshot.state,
                                                                                           instance_id))
                connection.commit()
            task = next(t for t in snapshot.ready_tasks if t.bpmn_id == bpmn_id)
            started = time.perf_counter()
            state = connection.execute("SELECT state FROM workflow_instance WHERE id = ?",
                                       (instance_id,)).fetchone()[0]
            snapshot = adapter.complete_task(bundle, state, task.task_id, data)
            connection.execute("UPDATE workflow_instance SET state = ?, revision = revision + 1 WHERE id = ?",
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
