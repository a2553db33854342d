"""The demo county has a year of work in it (`flask load-demo`), made through the app's own operations: at first
login every role's inbox has work, cases stand at every step, the supervision pages tell towns apart, and it is
the same for the same seed and day. `load-demo --empty` keeps the bare county."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    Area,
    Attachment,
    Case,
    Comment,
    Event,
    Household,
    ProcessVersion,
    ReadyTask,
    Screening,
    StandIn,
    WorkflowInstance,
)
from tests.conftest import DEMO_PASSWORD, Browser, _clear

SIZE = ["--towns", "3", "--villages-per-town", "3", "--households-per-village", "20"]


@pytest.fixture(scope="module")
def year(_migrated: Flask, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    app = _migrated
    saved = app.config.get("ATTACHMENTS_DIR")
    app.config["ATTACHMENTS_DIR"] = str(tmp_path_factory.mktemp("attachments"))
    _clear(app)
    result = app.test_cli_runner().invoke(args=["load-demo", *SIZE])
    assert result.exit_code == 0, result.output
    app.config["demo_output"] = result.output
    yield app
    _clear(app)
    app.config["ATTACHMENTS_DIR"] = saved


def counts(app: Flask) -> dict[str, object]:
    with app.app_context():
        return {
            "cases": dict(db.session.execute(select(Case.status, func.count()).group_by(Case.status)).all()),
            "tasks": dict(db.session.execute(select(ReadyTask.bpmn_id, func.count()).group_by(ReadyTask.bpmn_id))
                          .all()),
            # the year's own record: the tests' log-ins and page views are not part of it
            "events": dict(db.session.execute(select(Event.kind, func.count()).where(~Event.kind.like("log%"))
                                              .group_by(Event.kind)).all()),
            # Row ids differ between databases (PostgreSQL's sequences are not reset when the tests empty the
            # tables): cases are told by their household's number.
            "decisions": db.session.execute(select(Household.household_no, Event.bpmn_id, Event.decision, Event.at)
                                            .outerjoin(Case, Event.about("case", Case.id))
                                            .outerjoin(Household, Household.id == Case.household_id)
                                            .where(Event.kind == "task_completed")
                                            .order_by(Event.at, Event.id)).all(),
        }


def test_the_year_is_made_by_the_engine_and_the_forms(year: Flask):
    assert "made " in year.config["demo_output"] and " steps in " in year.config["demo_output"]
    with year.app_context():
        months = db.session.scalars(select(Screening.month).distinct()).all()
        assert len(months) == 13  # twelve past months and this one
        # Every step is a completed task in the audit log, by a person, with the engine's instance.
        steps = db.session.scalar(select(func.count()).select_from(Event).where(Event.kind == "task_completed"))
        assert steps > 300
        orphans = db.session.scalar(select(func.count()).select_from(Case).where(
            ~Case.instance_id.in_(select(WorkflowInstance.id))))
        assert orphans == 0
        # The stored workflow state and the query rows agree, case by case.
        from app.workflow.runtime import consistency_problems

        for instance in db.session.scalars(select(WorkflowInstance)).all():
            assert consistency_problems(instance) == [], instance.id


def test_cases_stand_at_every_step(year: Flask):
    found = counts(year)
    statuses = found["cases"]
    assert isinstance(statuses, dict)
    for status in ("certification", "assistance", "closed"):
        assert statuses.get(status, 0) > 0, statuses
    assert sum(statuses.values()) >= 15
    waiting = found["tasks"]
    assert isinstance(waiting, dict)
    for step in ("Task_TownCertify", "Task_SupplementInformation", "Task_TownLeadershipReview", "Task_CountyApprove",
                 "Task_CarryOutMeasures", "Task_ScreenHouseholds"):
        assert waiting.get(step, 0) > 0, (step, waiting)
    with year.app_context():
        decisions = set(db.session.scalars(select(Event.decision).where(Event.decision.is_not(None))))
        assert {"certify", "pass", "approve", "file", "accept", "confirm", "no_objection"} <= decisions
        assert "return" in decisions  # some case went back a step
        reopened = db.session.execute(select(Case.household_id).group_by(Case.household_id)
                                      .having(func.count() > 1)).all()
        assert reopened, "no household re-opened after its closure"
        assert db.session.scalar(select(func.count()).select_from(Comment)) > 0
        assert db.session.scalar(select(func.count()).select_from(Attachment)) > 0
        assert db.session.scalar(select(func.count()).select_from(StandIn)) == 2


def test_the_procedure_changed_half_way_and_cases_run_on_both_versions(year: Flask):
    with year.app_context():
        versions = dict(db.session.execute(
            select(ProcessVersion.version, func.count(WorkflowInstance.id))
            .join(WorkflowInstance, WorkflowInstance.process_version_id == ProcessVersion.id)
            .where(ProcessVersion.process_key == "household_case").group_by(ProcessVersion.version)).all())
        assert set(versions) == {1, 2} and all(versions.values()), versions
        current = db.session.scalar(select(ProcessVersion).where(ProcessVersion.process_key == "household_case",
                                                                 ProcessVersion.is_current))
        assert current is not None and current.version == 2 and current.deployed_by_id is not None


def test_at_first_login_every_role_has_work(year: Flask):
    """The county office has cases to decide, every town's certification group and leadership meeting too,
    most village teams are still screening this month (the others screened early), and cadres have measures."""
    with year.app_context():
        from app.models import User

        users = db.session.scalars(select(User)).all()

    def has_work(username: str) -> bool:
        page = Browser(year, username).get("/").get_data(as_text=True)
        assert "待办" in page
        return "暂无待办任务" not in page

    assert has_work("county_office")
    for user in users:
        if user.role in ("town_certifier", "town_leadership"):
            assert has_work(user.username), user.username
    teams = [has_work(u.username) for u in users if u.role == "village_team"]
    assert sum(teams) >= 0.6 * len(teams), teams
    assert any(has_work(u.username) for u in users if u.role == "cadre")


def test_the_supervision_pages_tell_towns_apart(year: Flask):
    """Overdue work in some towns and not alike in all; last month's coverage short of 100% somewhere; the annual
    review names some towns, not all, that may not be rated excellent, and its accountability list has names."""
    from app.clock import china_today
    from app.reports.scope import ReportMonth

    today = china_today()
    with year.app_context():
        towns = db.session.scalars(select(Area.code).where(Area.level == "town")).all()
        late = dict(db.session.execute(select(ReadyTask.town_code, func.count()).where(ReadyTask.due_on < today)
                                       .group_by(ReadyTask.town_code)).all())
    assert late, "no overdue task anywhere"
    assert len({late.get(town, 0) for town in towns}) > 1, late

    supervisor = Browser(year, "supervisor")
    last_month = ReportMonth.of(today.replace(day=1) - timedelta(days=1))
    board = supervisor.get(f"/supervision/scoreboard?month={last_month.key}").get_data(as_text=True)
    shares = re.findall(r"(\d+)/(\d+)（(\d+\.\d)%）", board)
    assert shares and any(share != "100.0" for _done, _all, share in shares), shares

    review = supervisor.get(f"/supervision/annual-review?year={today.year}").get_data(as_text=True)
    named = re.search(r"不得评优：([^<]+)<", review)
    assert named, "the annual review names no town"
    assert 0 < len(named.group(1).split("、")) < len(towns)
    assert "追责清单" in review and review.count("逾期") > 2


def test_the_same_seed_and_day_give_the_same_year(year: Flask, tmp_path: Path):
    """Reproducible: a second database loaded the same way holds the same cases, tasks and events."""
    from app import create_app

    other = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'again.sqlite3'}",
                        "SECRET_KEY": "test", "DEMO_PASSWORD": DEMO_PASSWORD,
                        "ATTACHMENTS_DIR": str(tmp_path / "attachments")})
    runner = other.test_cli_runner()
    assert runner.invoke(args=["init-db"]).exit_code == 0
    result = runner.invoke(args=["load-demo", *SIZE])
    assert result.exit_code == 0, result.output
    assert counts(other) == counts(year)
    again = runner.invoke(args=["load-demo", *SIZE])
    assert "already" in again.output and counts(other) == counts(year)  # loading twice adds nothing
    with other.app_context():
        db.engine.dispose()


def test_load_demo_empty_keeps_the_bare_county(_migrated: Flask, tmp_path: Path):
    from app import create_app

    bare = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'bare.sqlite3'}",
                       "SECRET_KEY": "test", "DEMO_PASSWORD": DEMO_PASSWORD})
    runner = bare.test_cli_runner()
    assert runner.invoke(args=["init-db"]).exit_code == 0
    result = runner.invoke(args=["load-demo", "--empty", *SIZE])
    assert result.exit_code == 0, result.output
    found = counts(bare)
    assert found["cases"] == {} and found["tasks"] == {}
    with bare.app_context():
        db.engine.dispose()


def test_the_demo_has_its_work_under_the_national_mechanism(year: Flask):
    from app.clock import china_today
    from app.models import Case, IncomeAssessment, MonitoringLine, RiskLead

    with year.app_context():
        lines = db.session.scalars(select(MonitoringLine)).all()
        assert all("演示数据" in line.source_document for line in lines)
        assert china_today().year in {line.year for line in lines}
        statuses = sorted(db.session.scalars(select(RiskLead.status)))
        assert statuses == ["confirmed", "confirmed", "identified", "identified", "not_confirmed", "open"]
        assert db.session.scalar(select(func.count()).select_from(IncomeAssessment)) == 4
        assert db.session.scalar(select(func.count()).select_from(ReadyTask)
                                 .where(ReadyTask.bpmn_id == "Task_VerifyAtHome")) == 1
        # The cases: one waiting for its review, one on the fast path, one monitored, one eliminated.
        national = db.session.scalars(select(Case).where(Case.procedure == "national").order_by(Case.id)).all()
        assert [c.status for c in national] == ["certification", "certification", "assistance", "eliminated"]
        assert [c.fast_path for c in national] == [False, True, False, False]
        waiting = {t for (t,) in db.session.execute(select(ReadyTask.bpmn_id).where(
            ReadyTask.about_any("case", [c.id for c in national])))}
        assert waiting == {"Task_IdentificationReview", "Task_FirstAid", "Task_EliminationCheck"}
        assert all(c.identified_on - c.discovered_on <= timedelta(days=15) for c in national[2:])
