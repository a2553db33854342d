"""The production set-up the README documents works as written: gunicorn with several worker processes serves
the app, and on PostgreSQL the app's own role (the GRANTs of the README) can do its work but cannot switch off
the audit log's triggers."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from app.extensions import db
from app.models import Event, ReadyTask
from tests.conftest import DEMO_PASSWORD
from tests.helpers import open_case

ROOT = Path(__file__).resolve().parents[2]
APP_ROLE = "rpm_app_test"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _call(port: int, method: str, path: str, body: dict | None = None, token: str | None = None
          ) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    try:
        connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def _readme_wsgi_app() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    served = re.search(r"bin/gunicorn [^\n]*'([\w.]+:\w+)'", readme)
    assert served, "the README no longer shows the gunicorn command"
    return served.group(1)


def test_gunicorn_with_several_workers_serves_the_app(app, database_url):
    case_id = open_case(app)
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "same-on-every-worker",
           "DEMO_PASSWORD": DEMO_PASSWORD}
    gunicorn = Path(sys.executable).parent / "gunicorn"
    server = subprocess.Popen([str(gunicorn), "-w", "2", "--threads", "2", "-b", f"127.0.0.1:{port}",
                               _readme_wsgi_app()], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, start_new_session=True)
    try:
        status, body = 0, {}
        for _ in range(150):
            try:
                status, body = _call(port, "POST", "/api/v1/auth/token",
                                     {"username": "chengguan_certifier", "password": DEMO_PASSWORD})
                break
            except OSError:
                time.sleep(0.2)
        assert status == 201, body
        token = body["token"]
        # a token issued by one worker is honoured by every other (it lives in the database)
        for _ in range(6):
            assert _call(port, "GET", "/api/v1/me", token=token)[0] == 200
        with app.app_context():
            task_id = db.session.scalar(select(ReadyTask.id).where(ReadyTask.about("case", case_id)))
        status, body = _call(port, "POST", f"/api/v1/tasks/{task_id}/complete",
                             {"decision": "certify", "risk_level": "at_risk", "opinion": "属实"}, token)
        assert status == 200 and body["completed"], body
        workers = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True).stdout.split()
        assert len(workers) == 2, "gunicorn did not start two worker processes"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        server.stderr.close()
    with app.app_context():
        assert db.session.scalar(select(Event.remote_addr).where(Event.kind == "task_completed",
                                                                 Event.about("case", case_id))) == "127.0.0.1"


def test_the_web_entry_point_leaves_the_command_line_tools_out():
    """Workers never migrate or import from the command line: Alembic and the commands stay out of them."""
    probe = ("import json, sys; from app.wsgi import application; "
             "print(json.dumps({'alembic': 'alembic' in sys.modules, 'commands': sorted(application.cli.commands)}))")
    env = {**os.environ, "DATABASE_URL": "sqlite:///:memory:", "SECRET_KEY": "probe"}
    web = json.loads(subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True,
                                    text=True, check=True).stdout)
    assert web == {"alembic": False, "commands": []}
    full = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "--help"], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=True).stdout
    assert "init-db" in full and "db" in full.split()  # the flask command still has them all


def _readme_grants() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quoted = re.search(r'psql -d rpm -c "(GRANT .*?)"', readme, re.S)
    assert quoted, "the README no longer shows the app role's GRANTs"
    return [g.strip().replace("rpm_app", APP_ROLE) for g in quoted.group(1).split(";") if g.strip()]


def test_the_app_role_of_the_readme_works_but_cannot_switch_off_the_audit_triggers(app, database_url):
    grants = _readme_grants()
    if not database_url.startswith("postgresql"):
        return  # roles and GRANTs are PostgreSQL's; SQLite has no users (its triggers are tested elsewhere)
    case_id = open_case(app)
    owner = create_engine(database_url)
    with owner.begin() as connection:
        connection.execute(text(f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') "
                                f"THEN CREATE ROLE {APP_ROLE} LOGIN; END IF; END $$"))
        for grant in grants:
            connection.execute(text(grant))
    owner.dispose()

    from app import create_app

    as_app_role = make_url(database_url).set(username=APP_ROLE).render_as_string(hide_password=False)
    role_app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": as_app_role, "SECRET_KEY": "test"})
    try:
        with role_app.app_context():
            from tests.helpers import complete

            complete("chengguan_certifier", "Task_TownCertify",
                     {"decision": "certify", "risk_level": "at_risk", "opinion": "属实"}, case_id)
            for statement in ("ALTER TABLE event DISABLE TRIGGER USER", "DROP TRIGGER event_append_only ON event",
                              "DELETE FROM event"):
                with pytest.raises(DBAPIError, match="must be owner|append-only"):
                    db.session.execute(text(statement))
                db.session.rollback()
            assert db.session.scalar(select(Event.id).where(Event.kind == "task_completed")) is not None
    finally:
        with role_app.app_context():
            db.engine.dispose()
