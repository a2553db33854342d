"""Fixtures: a migrated database (SQLite by default, PostgreSQL when TEST_DATABASE_URL says so), a small
demo county per test, clients logged in as its users, and time moved by the timers command."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, select

from app import create_app
from app.extensions import db

DEMO_PASSWORD = "Test-Demo-2026"
# Small county: 2 towns × 2 villages × 6 households. Town 610922100 城关镇, villages …100001 and …100002.
DEMO_SIZE = {"towns": 2, "villages_per_town": 2, "households_per_village": 6}


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite3")


@pytest.fixture(scope="session")
def _migrated(database_url: str) -> Iterator[Flask]:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "test",
                      "DEMO_PASSWORD": DEMO_PASSWORD})
    runner = app.test_cli_runner()
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    yield app
    with app.app_context():
        db.engine.dispose()


def _clear(app: Flask) -> None:
    """Empty every table, children first, but keep the diagrams as init-db deployed them (version 1 current;
    versions a test deployed are removed). The audit log is append-only for the app and in the database, so
    its rows go with the database's own guard switched off for this one transaction (as the tables' owner)."""
    from sqlalchemy import update

    from app.models import ProcessVersion

    with app.app_context():
        connection = db.session.connection()  # Core, below the ORM's append-only guard
        with audit_guard_off(connection):
            for table in reversed(db.metadata.sorted_tables):
                if table.name == "process_version":
                    connection.execute(delete(ProcessVersion.__table__).where(ProcessVersion.version > 1))
                    connection.execute(update(ProcessVersion.__table__).values(is_current=True,
                                                                               deployed_by_id=None,
                                                                               origin="shipped"))
                elif table.name != "alembic_version":
                    connection.execute(delete(table))
        db.session.commit()


@contextmanager
def audit_guard_off(connection: Any) -> Iterator[None]:
    """Inside the caller's transaction: PostgreSQL disables the event triggers (owner only); SQLite drops them
    and creates them again from their own stored definition."""
    from sqlalchemy import text

    if connection.dialect.name == "postgresql":
        connection.execute(text("ALTER TABLE event DISABLE TRIGGER USER"))
        yield
        connection.execute(text("ALTER TABLE event ENABLE TRIGGER USER"))
        return
    triggers = connection.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                                       "AND tbl_name = 'event'")).all()
    for name, _sql in triggers:
        connection.execute(text(f'DROP TRIGGER "{name}"'))
    yield
    for _name, sql in triggers:
        connection.execute(text(sql))


@pytest.fixture()
def app(_migrated: Flask) -> Iterator[Flask]:
    from app.demo import load_demo

    _clear(_migrated)
    with _migrated.app_context():
        load_demo(DEMO_PASSWORD, **DEMO_SIZE)
        db.session.commit()
    yield _migrated
    with _migrated.app_context():
        db.session.remove()


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture()
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    """A logged-in user driving the real pages, CSRF tokens and all."""

    def __init__(self, app: Flask, username: str) -> None:
        self.app = app
        self.username = username
        self.client = app.test_client()
        page = self.client.get("/login")
        response = self.client.post("/login", data={"username": username, "password": DEMO_PASSWORD,
                                                    "csrf_token": self._csrf(page.get_data(as_text=True))})
        assert response.status_code == 302, f"login failed for {username}"

    @staticmethod
    def _csrf(html: str) -> str:
        match = CSRF_RE.search(html)
        assert match, "page has no CSRF token"
        return match.group(1)

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.client.get(url, **kwargs)

    def post(self, url: str, data: dict[str, Any] | list[tuple[str, Any]], page: str | None = None) -> Any:
        html = self.client.get(page or "/").get_data(as_text=True)
        pairs = list(data.items()) if isinstance(data, dict) else list(data)
        pairs.append(("csrf_token", self._csrf(html)))
        return self.client.post(url, data=_multi(pairs))

    def inbox(self) -> list[dict[str, Any]]:
        """The inbox as the user sees it, read from the same rows the page renders."""
        from app.access import inbox_clause
        from app.models import ReadyTask, User

        html = self.get("/").get_data(as_text=True)
        with self.app.app_context():
            user = db.session.scalar(select(User).where(User.username == self.username))
            rows = db.session.scalars(select(ReadyTask).where(inbox_clause(user)).order_by(ReadyTask.id)).all()
            tasks = [{"id": r.id, "bpmn_id": r.bpmn_id, "title": r.title,
                      "case_id": r.subject_id if r.is_about("case") else None,
                      "screening_id": r.subject_id if r.is_about("screening") else None} for r in rows]
        for task in tasks:
            assert f"/tasks/{task['id']}" in html, f"{task['title']} missing from the inbox page"
        return tasks

    def task(self, bpmn_id: str, case_id: int | None = None) -> dict[str, Any]:
        matches = [t for t in self.inbox() if t["bpmn_id"] == bpmn_id
                   and (case_id is None or t["case_id"] == case_id)]
        assert matches, f"{self.username} has no {bpmn_id} in the inbox: {[t['bpmn_id'] for t in self.inbox()]}"
        return matches[0]

    def complete(self, bpmn_id: str, data: dict[str, Any] | list[tuple[str, Any]], case_id: int | None = None,
                 expect: int = 302) -> Any:
        task = self.task(bpmn_id, case_id)
        page = self.get(f"/tasks/{task['id']}")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        revision = re.search(r'name="revision" value="(\d+)"', html)
        pairs = list(data.items()) if isinstance(data, dict) else list(data)
        pairs += [("revision", revision.group(1) if revision else ""), ("csrf_token", self._csrf(html))]
        response = self.client.post(f"/tasks/{task['id']}", data=_multi(pairs))
        assert response.status_code == expect, (re.findall(r'class="(?:error|flash[^"]*)"[^>]*>([^<]*)<',
                                                           response.get_data(as_text=True)),
                                                response.get_data(as_text=True)[:3000])
        return response


def _multi(pairs: list[tuple[str, Any]]) -> Any:
    from werkzeug.datastructures import MultiDict

    return MultiDict([(k, str(v)) for k, v in pairs])


@pytest.fixture()
def login_as(app: Flask) -> Callable[[str], Browser]:
    return lambda username: Browser(app, username)


@pytest.fixture()
def api(app: Flask) -> Callable[[str], Any]:
    """An API client holding a bearer token for the user."""

    from tests.openapi_conformance import check_answer

    def checked(method: str, url: str, response: Any) -> Any:
        if url.startswith("/api/v1/"):
            check_answer(method, url, response)
        return response

    class Api:
        def __init__(self, username: str) -> None:
            self.client = app.test_client()
            response = self.client.post("/api/v1/auth/token",
                                        json={"username": username, "password": DEMO_PASSWORD})
            assert response.status_code == 201, response.get_json()
            self.headers = {"Authorization": "Bearer " + response.get_json()["token"]}

        # Every answer is checked against the OpenAPI document, additional properties refused
        # (tests/openapi_conformance.py).
        def get(self, url: str, **kw: Any) -> Any:
            return checked("GET", url, self.client.get(url, headers=self.headers, **kw))

        def post(self, url: str, **kw: Any) -> Any:
            return checked("POST", url, self.client.post(url, headers=self.headers, **kw))

        def put(self, url: str, **kw: Any) -> Any:
            return checked("PUT", url, self.client.put(url, headers=self.headers, **kw))

    return Api


def today() -> date:
    from app.clock import china_today

    return china_today()


def days_from_now(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


PROCESSES = Path(__file__).resolve().parent.parent / "processes"
