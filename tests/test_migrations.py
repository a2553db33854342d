"""The migrations build the schema the models describe, on an empty database."""

from __future__ import annotations

from app import create_app
from app.extensions import db


def test_upgrade_on_an_empty_database_matches_the_models(tmp_path, database_url):
    if not database_url.startswith("sqlite"):
        url = database_url  # the session database was migrated by the same path
    else:
        url = "sqlite:///" + str(tmp_path / "empty.sqlite3")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x"})
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    result = runner.invoke(args=["db", "check"])
    with app.app_context():
        db.engine.dispose()
    assert result.exit_code == 0, result.output


def _demo_database(tmp_path):
    """A migrated SQLite database of its own holding the small demo county; its app and command runner."""
    from tests.conftest import DEMO_PASSWORD, DEMO_SIZE

    url = "sqlite:///" + str(tmp_path / "upgraded.sqlite3")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x", "TESTING": True,
                      "DEMO_PASSWORD": DEMO_PASSWORD})
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init-db"]).exit_code == 0
    with app.app_context():
        from app.demo import load_demo

        load_demo(DEMO_PASSWORD, **DEMO_SIZE)
        db.session.commit()
        db.engine.dispose()
    return app, runner


def test_0020_dates_the_identification_of_county_cases_approved_before_it(tmp_path):
    """Cases the county office approved before migration 0020 get its day (China time) as 风险识别时间."""
    from datetime import date

    from sqlalchemy import text

    from app.clock import china_moment, travel_to
    from app.models import Case
    from tests.helpers import approve_case, open_case

    app, runner = _demo_database(tmp_path)
    # Approved at 07:30 on 5 March, China time: 23:30 UTC on the 4th.
    with travel_to(china_moment(date(2026, 3, 5), 7).replace(minute=30)):
        case_id = open_case(app)
        with app.app_context():
            approve_case(case_id)
            db.session.execute(text("UPDATE household_case SET identified_on = NULL"))
            db.session.commit()
    assert runner.invoke(args=["db", "downgrade", "0019"]).exit_code == 0
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    with app.app_context():
        assert db.session.get(Case, case_id).identified_on == date(2026, 3, 5)
        db.engine.dispose()


def test_0021_gives_each_recorded_setting_the_county_of_whoever_recorded_it(tmp_path):
    """Settings recorded before a deployment held several counties belong to their recorder's county, or else to
    the deployment's one county."""
    from sqlalchemy import text

    app, runner = _demo_database(tmp_path)
    assert runner.invoke(args=["db", "downgrade", "0020"]).exit_code == 0
    with app.app_context():
        office = db.session.scalar(text("SELECT id FROM user_account WHERE username = 'county_office'"))
        for recorder in (office, None):
            db.session.execute(text(
                "INSERT INTO county_setting (key, value, effective_from, source_document, note, recorded_by_id, "
                "recorded_at) VALUES ('elimination_income_months', '9', '2026-01-01', '文件', '', :who, "
                "'2026-01-01 00:00:00')"), {"who": recorder})
        db.session.commit()
        db.engine.dispose()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    with app.app_context():
        assert db.session.scalars(text("SELECT county_code FROM county_setting")).all() == ["610922", "610922"]
        db.engine.dispose()


def test_0022_gives_each_warning_rule_and_column_mapping_the_county_of_whoever_recorded_it(tmp_path):
    from sqlalchemy import text

    app, runner = _demo_database(tmp_path)
    assert runner.invoke(args=["db", "downgrade", "0021"]).exit_code == 0
    with app.app_context():
        office = db.session.scalar(text("SELECT id FROM user_account WHERE username = 'county_office'"))
        bureau = db.session.scalar(text("SELECT id FROM user_account WHERE username = 'department_yibao'"))
        db.session.execute(text(
            "INSERT INTO warning_rule (key, department, label, field, operator, threshold, risk_type, "
            "national_risk_type, urgent, active, effective_from, source_document, note, recorded_by_id, recorded_at) "
            "VALUES ('yibao_out_of_pocket_year', 'yibao', '年度自付', 'out_of_pocket', 'year_total_at_least', '5000', "
            "'major_illness', 'illness', false, true, '2026-01-01', '纪要', '', :who, '2026-01-01 00:00:00')"),
            {"who": office})
        db.session.execute(text("INSERT INTO department_mapping (department, mapping, saved_by_id, saved_at) "
                                "VALUES ('yibao', '{}', :who, '2026-01-01 00:00:00')"), {"who": bureau})
        db.session.commit()
        db.engine.dispose()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    with app.app_context():
        assert db.session.scalar(text("SELECT county_code FROM warning_rule")) == "610922"
        assert db.session.scalar(text("SELECT county_code FROM department_mapping")) == "610922"
        db.engine.dispose()


def test_0024_keeps_the_first_county_approval_on_the_case_and_the_area_on_each_visit(tmp_path):
    """Cases approved before migration 0024 get the time of their first county approval (the scoreboard's and the
    annual review's approvals of a period are read off it), and every visited element its subject's village and
    town (the heatmap reads one county's visits by them)."""
    from sqlalchemy import func, select, text

    from app.models import Case, ElementVisit, Event
    from tests.helpers import approve_case, open_case

    app, runner = _demo_database(tmp_path)
    case_id = open_case(app)
    with app.app_context():
        approve_case(case_id)
        approved_at = db.session.scalar(select(func.min(Event.at)).where(
            Event.about("case", case_id), Event.bpmn_id == "Task_CountyApprove", Event.decision == "approve"))
        case = db.session.get(Case, case_id)
        assert case.approved_at is not None and approved_at is not None
        village, town = case.village_code, case.town_code
        db.session.execute(text("UPDATE household_case SET approved_at = NULL"))
        db.session.execute(text("UPDATE element_visit SET village_code = NULL, town_code = NULL"))
        db.session.commit()
        db.engine.dispose()
    assert runner.invoke(args=["db", "downgrade", "0023"]).exit_code == 0
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    with app.app_context():
        assert db.session.get(Case, case_id).approved_at == approved_at
        areas = set(db.session.execute(select(ElementVisit.village_code, ElementVisit.town_code)
                                       .where(ElementVisit.about("case", case_id))))
        assert areas == {(village, town)}
        assert db.session.scalar(select(func.count()).select_from(ElementVisit)
                                 .where(ElementVisit.town_code.is_(None))) == 0
        db.engine.dispose()


def test_0025_counts_each_villages_registered_households(tmp_path):
    """A database migrated to 0025 has each village's registered households counted on its area row (the city's and
    the province's overviews add these up)."""
    from sqlalchemy import func, select, text

    from app.models import Area, Household

    app, runner = _demo_database(tmp_path)
    assert runner.invoke(args=["db", "downgrade", "0024"]).exit_code == 0
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    with app.app_context():
        counted = dict(db.session.execute(select(Household.village_code, func.count())
                                          .group_by(Household.village_code)).all())
        kept = dict(db.session.execute(select(Area.code, Area.registered_households)
                                       .where(Area.level == "village")).all())
        assert counted and kept == {code: counted.get(code, 0) for code in kept}
        assert db.session.scalar(text("SELECT sum(registered_households) FROM area WHERE level <> 'village'")) == 0
        db.engine.dispose()


def test_0026_keeps_the_households_kind_on_each_case(tmp_path):
    """Cases opened before migration 0026 get their household's kind (the annual review's 返贫 or 新致贫)."""
    from sqlalchemy import select, text

    from app.models import Case, Household
    from tests.helpers import open_case

    app, runner = _demo_database(tmp_path)
    case_id = open_case(app)
    assert runner.invoke(args=["db", "downgrade", "0025"]).exit_code == 0
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    with app.app_context():
        kinds = db.session.execute(select(Case.household_kind, Household.kind)
                                   .join(Household, Household.id == Case.household_id)
                                   .where(Case.id == case_id)).one()
        assert kinds[0] == kinds[1] and kinds[0] in ("lifted", "non_poor")
        assert db.session.scalar(text("SELECT count(*) FROM household_case WHERE household_kind = ''")) == 0
        db.engine.dispose()


def test_0029_removes_the_drafts_of_ended_tasks_and_drops_drafts_with_their_task(tmp_path):
    """Drafts whose task ended before migration 0029 are removed; after it the database drops a task's drafts
    with the task's row."""
    from sqlalchemy import delete, func, select, text

    from app.models import ReadyTask, TaskDraft
    from tests.helpers import open_case, user

    app, runner = _demo_database(tmp_path)
    case_id = open_case(app)
    assert runner.invoke(args=["db", "downgrade", "0028"]).exit_code == 0
    with app.app_context():
        waiting = db.session.scalar(select(ReadyTask.task_uuid).where(ReadyTask.about("case", case_id)))
        author = user("chengguan_certifier")
        db.session.execute(text("INSERT INTO task_draft (task_uuid, user_id, fields, updated_at) VALUES "
                                "(:waiting, :user, '[]', '2026-12-01'), ('ended-long-ago', :user, '[]', '2026-12-01')"),
                           {"waiting": waiting, "user": author.id})
        db.session.commit()
        db.engine.dispose()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    with app.app_context():
        assert list(db.session.scalars(select(TaskDraft.task_uuid))) == [waiting]
        db.session.execute(delete(ReadyTask).where(ReadyTask.task_uuid == waiting))
        assert db.session.scalar(select(func.count()).select_from(TaskDraft)) == 0
        db.session.rollback()
        db.engine.dispose()
