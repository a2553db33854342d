"""The audit log: every state change, log-in, export, reveal of a full ID number, deploy and migration is kept
with who, when, from where and what; nothing in the app can change or delete it, and the database refuses to
as well; supervisors read and export it for a period."""

from __future__ import annotations

import ast
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from app import create_app
from app.audit.log import AuditLogIsAppendOnly
from app.extensions import db
from app.models import Event, Household
from app.workflow.write import write_columns
from tests.conftest import DEMO_PASSWORD, today
from tests.helpers import approve_case, open_case

APP_DIR = Path(__file__).resolve().parents[2] / "app"


def events(app, kind: str) -> list[Event]:
    with app.app_context():
        found = db.session.scalars(select(Event).where(Event.kind == kind).order_by(Event.id)).all()
        for e in found:
            _ = e.actor  # loaded while the session is open
        db.session.expunge_all()
        return list(found)


def count(app, kind: str | None = None) -> int:
    with app.app_context():
        stmt = select(func.count()).select_from(Event)
        if kind:
            stmt = stmt.where(Event.kind == kind)
        return int(db.session.scalar(stmt) or 0)


# ---- append-only ----------------------------------------------------------------------------------------

def test_the_app_cannot_change_or_delete_an_event(app):
    open_case(app)
    with app.app_context():
        entry = db.session.scalars(select(Event).order_by(Event.id)).first()
        entry.opinion = "改写历史"
        with pytest.raises(AuditLogIsAppendOnly):
            db.session.commit()
        db.session.rollback()
        db.session.delete(db.session.get(Event, entry.id))
        with pytest.raises(AuditLogIsAppendOnly):
            db.session.commit()
        db.session.rollback()
        with pytest.raises(AuditLogIsAppendOnly):
            db.session.execute(update(Event).values(opinion="x"))
        with pytest.raises(AuditLogIsAppendOnly):
            db.session.execute(delete(Event).where(Event.id == entry.id))
        db.session.rollback()
        # The step path's own writer goes to the connection, past the session's listeners: it refuses events itself.
        with pytest.raises(AuditLogIsAppendOnly):
            write_columns(db.session.get(Event, entry.id), opinion="改写历史")
        db.session.rollback()
        assert db.session.get(Event, entry.id).opinion != "改写历史"


def test_the_database_refuses_update_and_delete_below_the_app(app, database_url):
    """Straight SQL on the app's connection, past the ORM: the triggers of migration 0009 refuse it."""
    open_case(app)
    statements = ["UPDATE event SET opinion = 'x'", "DELETE FROM event"]
    if database_url.startswith("postgresql"):
        statements.append("TRUNCATE event CASCADE")
    with app.app_context():
        before = count(app)
        for statement in statements:
            connection = db.session.connection()
            with pytest.raises(DBAPIError, match="append-only"):
                connection.execute(text(statement))
            db.session.rollback()
        assert count(app) == before > 0


def test_no_code_in_the_app_updates_or_deletes_events():
    """A reader's check that the guard is not merely unreachable: no statement in app/ targets the event table."""
    offenders = []
    for path in APP_DIR.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("update", "delete") and node.args:
                target = node.args[0]
                if getattr(target, "id", "") == "Event" or "event" == getattr(target, "value", None):
                    offenders.append(f"{path.relative_to(APP_DIR)}:{node.lineno}")
        lowered = source.lower()
        if "update event" in lowered or "delete from event" in lowered:
            offenders.append(str(path.relative_to(APP_DIR)))
    assert offenders == []


# ---- who, when, from where, what ------------------------------------------------------------------------

def test_logins_state_changes_and_exports_name_who_when_and_from_where(app, login_as):
    case_id = open_case(app)
    certifier = login_as("chengguan_certifier")
    certifier.client.environ_base["REMOTE_ADDR"] = "10.61.9.21"
    with app.app_context():
        from app.models import ReadyTask

        task_id = db.session.scalar(select(ReadyTask.id).where(ReadyTask.about("case", case_id)))
    assert certifier.post(f"/tasks/{task_id}/claim", {}).status_code == 303  # an event the domain writes itself
    certifier.complete("Task_TownCertify", {"decision": "certify", "risk_level": "at_risk", "opinion": "属实"},
                       case_id)
    supervisor = login_as("supervisor")
    supervisor.client.environ_base["REMOTE_ADDR"] = "10.61.0.5"
    assert supervisor.get("/cases/export.xlsx").status_code == 200
    assert supervisor.get(f"/reports/roster.xlsx?month={today():%Y-%m}").status_code == 200

    [login] = [e for e in events(app, "login") if e.actor.username == "chengguan_certifier"]
    assert login.remote_addr == "127.0.0.1" and login.data == {"via": "web"}
    [step] = [e for e in events(app, "task_completed") if e.bpmn_id == "Task_TownCertify"]
    assert (step.actor.username, step.remote_addr, step.subject_id, step.decision) == (
        "chengguan_certifier", "10.61.9.21", case_id, "certify")
    assert step.at is not None
    [claimed] = events(app, "task_claimed")
    assert (claimed.actor.username, claimed.remote_addr, claimed.subject_id) == ("chengguan_certifier", "10.61.9.21",
                                                                               case_id)
    [listing] = events(app, "case_list_exported")
    assert (listing.actor.username, listing.remote_addr) == ("supervisor", "10.61.0.5")
    assert listing.data["cases"] == 1
    [annex] = events(app, "annex_exported")
    assert annex.remote_addr == "10.61.0.5" and annex.data["annex"] == "roster"

    assert supervisor.post("/logout", {}).status_code == 302
    assert [e.actor.username for e in events(app, "logout")] == ["supervisor"]


def test_behind_a_trusted_proxy_the_client_address_comes_from_x_forwarded_for(app, database_url):
    proxied = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "test",
                          "TRUSTED_PROXIES": 1})
    for flask_app, expected in ((proxied, "203.0.113.9"), (app, "127.0.0.1")):
        client = flask_app.test_client()
        client.post("/api/v1/auth/token", json={"username": "county_office", "password": DEMO_PASSWORD},
                    headers={"X-Forwarded-For": "203.0.113.9"})
        assert events(app, "login")[-1].remote_addr == expected
    with proxied.app_context():
        db.engine.dispose()


# ---- revealing a full ID number -------------------------------------------------------------------------

def _household(app, village: str = "610922100001") -> tuple[int, str]:
    with app.app_context():
        h = db.session.scalars(select(Household).where(Household.village_code == village)
                               .order_by(Household.id)).first()
        return h.id, h.head_id_number


def test_a_full_id_number_is_shown_only_on_request_and_each_reveal_is_logged(app, login_as):
    household_id, id_number = _household(app)
    team = login_as("chengguan01_team")
    page = team.get(f"/households/{household_id}").get_data(as_text=True)
    assert id_number not in page and id_number[-4:] in page and "显示完整证件号码" in page

    team.client.environ_base["REMOTE_ADDR"] = "10.61.1.8"
    revealed = team.post(f"/households/{household_id}/reveal-id-numbers", {}, page=f"/households/{household_id}")
    assert revealed.status_code == 200 and revealed.headers["Cache-Control"] == "no-store"
    assert id_number in revealed.get_data(as_text=True)
    [entry] = events(app, "id_number_revealed")
    assert (entry.actor.username, entry.remote_addr, entry.data["household_id"]) == (
        "chengguan01_team", "10.61.1.8", household_id)
    # the next plain visit is masked again
    assert id_number not in team.get(f"/households/{household_id}").get_data(as_text=True)


def test_the_api_masks_id_numbers_in_lists_and_reveals_them_logged(app, api):
    household_id, id_number = _household(app)
    team = api("chengguan01_team")
    listed = team.get("/api/v1/households").get_data(as_text=True)
    assert id_number not in listed and id_number[-4:] in listed
    assert id_number not in team.get(f"/api/v1/households/{household_id}").get_data(as_text=True)
    revealed = team.post(f"/api/v1/households/{household_id}/id-numbers", json={})
    assert revealed.status_code == 200 and revealed.get_json()["head_id_number"] == id_number
    assert revealed.headers["Cache-Control"] == "no-store"
    assert [e.actor.username for e in events(app, "id_number_revealed")] == ["chengguan01_team"]
    refused = api("supervisor").post(f"/api/v1/households/{household_id}/id-numbers", json={})
    assert refused.status_code == 403 and id_number not in refused.get_data(as_text=True)
    assert count(app, "id_number_revealed") == 1


@pytest.mark.parametrize("username", ["chengguan01_cadre1", "supervisor", "admin", "raofeng01_team",
                                      "chengguan02_team"])
def test_other_roles_and_other_areas_cannot_reveal_and_leave_no_trace(app, login_as, username):
    case_id = open_case(app)  # so that the cadre of the village can see the household at all
    with app.app_context():
        approve_case(case_id)
    household_id, id_number = _household(app)
    user = login_as(username)
    response = user.post(f"/households/{household_id}/reveal-id-numbers", {})
    assert response.status_code in (403, 404)
    assert id_number not in response.get_data(as_text=True)
    assert count(app, "id_number_revealed") == 0


# ---- reading and exporting the log for a period ---------------------------------------------------------

def test_supervisors_read_and_export_the_log_of_a_period(app, login_as):
    open_case(app)
    supervisor = login_as("supervisor")
    page = supervisor.get(f"/audit?start={today().isoformat()}&end={today().isoformat()}&kind=case_opened")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "建立案件" in html and "共 1 条" in html

    total = count(app)
    exported = supervisor.get(f"/audit/export.xlsx?start={today().isoformat()}&end={today().isoformat()}")
    assert exported.status_code == 200
    sheet = load_workbook(io.BytesIO(exported.data)).active
    assert "审计日志" in sheet["A1"].value
    header = [c.value for c in sheet[3]]
    assert header[:4] == ["序号", "时间", "类别", "操作人"] and "来源地址" in header
    rows = [r for r in sheet.iter_rows(min_row=4, values_only=True) if r[0] is not None]
    assert len(rows) == total
    assert {"登录", "启动月度排查", "建立案件"} <= {r[2] for r in rows}
    [entry] = events(app, "audit_exported")
    assert entry.actor.username == "supervisor" and entry.data["events"] == total

    # a period before anything happened is empty
    empty = supervisor.get("/audit?start=2020-01-01&end=2020-01-31").get_data(as_text=True)
    assert "该期间没有记录" in empty


def test_a_wrong_period_is_answered_in_chinese_and_logs_no_export(app, login_as):
    supervisor = login_as("supervisor")
    for query in ("start=2026-13-01", "start=2026-05-02&end=2026-05-01"):
        response = supervisor.get(f"/audit/export.xlsx?{query}")
        assert response.status_code == 422
        assert "日期格式" in response.get_data(as_text=True) or "结束日期不能早于" in response.get_data(as_text=True)
    assert count(app, "audit_exported") == 0


def test_the_command_line_exports_a_period_and_is_audited_itself(app, runner, tmp_path):
    open_case(app)
    target = tmp_path / "audit.xlsx"
    result = runner.invoke(args=["audit", "export", "--from", today().isoformat(), "-o", str(target)])
    assert result.exit_code == 0, result.output
    sheet = load_workbook(target).active
    assert sum(1 for r in sheet.iter_rows(min_row=4, values_only=True) if r[0] is not None) == count(app) - 1
    [entry] = events(app, "audit_exported")
    assert entry.actor is None and entry.remote_addr.startswith("cli:") and entry.data["via"] == "cli"

    refused = runner.invoke(args=["audit", "export", "--from", "yesterday", "-o", str(tmp_path / "x.xlsx")])
    assert refused.exit_code != 0 and "YYYY-MM-DD" in refused.output
    assert not (tmp_path / "x.xlsx").exists()


def test_the_log_names_each_decision_in_chinese(app, login_as):
    """结论 reads as the form said it (认定, 退回 …), on the page and in the export, never the stored code."""
    case_id = open_case(app)
    login_as("chengguan_certifier").complete(
        "Task_TownCertify", {"decision": "certify", "risk_level": "at_risk", "opinion": "属实"}, case_id)
    supervisor = login_as("supervisor")
    day = today().isoformat()
    page = supervisor.get(f"/audit?start={day}&end={day}&kind=task_completed").get_data(as_text=True)
    assert '<td data-label="结论">认定</td>' in page and ">certify<" not in page
    exported = supervisor.get(f"/audit/export.xlsx?start={day}&end={day}")
    sheet = load_workbook(io.BytesIO(exported.data)).active
    column = [c.value for c in sheet[3]].index("结论")
    decisions = {r[column] for r in sheet.iter_rows(min_row=4, values_only=True) if r[0] is not None} - {None, ""}
    exported.close()
    assert decisions == {"认定"}
