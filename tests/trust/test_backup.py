"""A backup taken while the app runs restores every case intact."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import Case, Event, ReadyTask, WorkflowInstance
from tests.helpers import approve_case, complete, open_case


def every_case_is_consistent() -> list[str]:
    from app.workflow.runtime import consistency_problems

    problems = []
    for instance in db.session.scalars(select(WorkflowInstance)):
        problems += consistency_problems(instance)
    return problems


def test_backup_and_restore_bring_back_every_case_intact(app, runner, tmp_path, database_url):
    if not database_url.startswith("sqlite"):
        result = runner.invoke(args=["backup", "create", "-o", str(tmp_path / "x.sqlite3")])
        assert result.exit_code != 0 and "pg_dump" in result.output
        return
    first, second = open_case(app, "610922100001"), open_case(app, "610922100002")
    with app.app_context():
        approve_case(first)
        assert every_case_is_consistent() == []
        before = {c.id: (c.status, c.current_step) for c in db.session.scalars(select(Case))}
        events_before = db.session.scalar(select(func.count()).select_from(Event))
    backup = tmp_path / "backup.sqlite3"
    result = runner.invoke(args=["backup", "create", "-o", str(backup)])
    assert result.exit_code == 0 and "integrity ok" in result.output, result.output

    with app.app_context():  # work goes on after the backup …
        complete("chengguan_certifier", "Task_TownCertify", {"decision": "reject", "opinion": "不符合"}, second)
        assert db.session.get(Case, second).status == "rejected"

    refused = runner.invoke(args=["backup", "restore", str(backup)])
    assert refused.exit_code != 0 and "--yes" in refused.output
    result = runner.invoke(args=["backup", "restore", str(backup), "--yes"])
    assert result.exit_code == 0, result.output
    with app.app_context():  # … and the restore brings back the moment of the backup, every case intact
        after = {c.id: (c.status, c.current_step) for c in db.session.scalars(select(Case))}
        assert after == before
        assert db.session.scalar(select(func.count()).select_from(Event)) == events_before
        assert db.session.scalar(select(ReadyTask.bpmn_id).where(ReadyTask.about("case", second))) == "Task_TownCertify"
        assert every_case_is_consistent() == []


def test_a_file_that_is_not_a_backup_is_refused(app, runner, tmp_path, database_url):
    if not database_url.startswith("sqlite"):
        return
    open_case(app)
    bogus = tmp_path / "bogus.sqlite3"
    bogus.write_bytes(b"not a database at all" * 100)
    result = runner.invoke(args=["backup", "restore", str(bogus), "--yes"])
    assert result.exit_code != 0 and "not a" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Case)) == 1  # nothing changed
