"""A task submit writes each row once: the instance's state in one UPDATE that checks and bumps its revision, the
case in one UPDATE, the history and query rows as table inserts; nothing is written again by a later flush.
The shape of the hot path is a specification here (bench/ measures its time)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, select

from app.extensions import db
from tests.helpers import open_case


@contextmanager
def recorded_statements(app: Flask) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(" ".join(statement.split()))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def shapes(statements: list[str]) -> Counter[str]:
    """'UPDATE workflow_instance', 'INSERT INTO event', … per statement."""
    found: Counter[str] = Counter()
    for statement in statements:
        match = re.match(r"(UPDATE|INSERT INTO|DELETE FROM|SELECT .*? FROM)\s+(\w+)", statement)
        if match:
            verb = match.group(1) if not match.group(1).startswith("SELECT") else "SELECT"
            found[f"{verb} {match.group(2)}"] += 1
    return found


def test_a_submit_writes_its_instance_and_case_once_each(app: Flask, api) -> None:
    case_id = open_case(app)
    certifier = api("chengguan_certifier")
    [task] = certifier.get("/api/v1/tasks").get_json()["tasks"]
    revision = certifier.get(f"/api/v1/tasks/{task['id']}").get_json()["revision"]
    with recorded_statements(app) as statements:
        done = certifier.post(f"/api/v1/tasks/{task['id']}/complete", json={
            "decision": "certify", "risk_level": "at_risk", "opinion": "符合", "revision": revision})
    assert done.status_code == 200, done.get_json()
    writes = {shape: n for shape, n in shapes(statements).items() if not shape.startswith("SELECT")}
    assert writes["UPDATE workflow_instance"] == 1
    # the risk level (the certification's own change) and the step it led to: each written when it is known
    assert writes["UPDATE household_case"] <= 2
    assert writes["INSERT INTO event"] == 1
    assert writes["INSERT INTO element_visit"] == 1  # one executemany for every element the step passed
    assert writes["INSERT INTO ready_task"] == 1
    [instance_update] = [s for s in statements if s.startswith("UPDATE workflow_instance")]
    assert "WHERE workflow_instance.id = " in instance_update and "workflow_instance.revision = " in instance_update
    assert len(statements) <= 16, "\n".join(statements)  # a submit is a fixed handful of statements

    with app.app_context():
        from app.models import Case, Event, WorkflowInstance

        case = db.session.get(Case, case_id)
        assert (case.risk_level, case.status, case.current_step) == ("at_risk", "certification", "镇领导小组会议审议")
        assert db.session.get(WorkflowInstance, case.instance_id).revision == revision + 1
        last = db.session.scalars(select(Event).where(Event.about("case", case_id)).order_by(Event.id.desc())).first()
        assert (last.kind, last.decision, last.actor.username) == ("task_completed", "certify",
                                                                   "chengguan_certifier")


def test_write_columns_refuses_an_object_not_yet_in_the_database(app: Flask) -> None:
    from app.models import Event
    from app.workflow.write import write_columns

    with app.app_context():
        pending = Event(kind="x")
        db.session.add(pending)
        with pytest.raises(ValueError, match="already in the database"):
            write_columns(pending, kind="y")
        db.session.rollback()


def test_table_statements_keep_the_order_rows_were_made_in(app: Flask) -> None:
    """A table statement runs after the session's pending changes are flushed, as Session.execute would do: history
    made through the ORM first and as a table row second is stored in that order."""
    from app.models import Event
    from app.workflow import runtime

    with app.app_context():
        db.session.add(Event(kind="made_first"))
        runtime.record_event(None, "made_second", None)
        kinds = db.session.scalars(select(Event.kind).where(Event.kind.in_(["made_first", "made_second"]))
                                   .order_by(Event.id)).all()
        assert kinds == ["made_first", "made_second"]
        db.session.rollback()
