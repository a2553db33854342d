"""The OpenAPI document against the running app: schemathesis generates requests for every operation (valid and
invalid bodies, queries and path ids) and sends them to the app served by waitress on a loopback port. Every
answer must be no server error, with a documented status code and content type, and a body that matches the
documented schema.

Each generated request is sent twice: as generated (mostly ids that do not exist) and with the path ids replaced
by rows of the fixture (an open case, its task, a screening, a household, an attachment, a diagram version), so
that the success answers are checked against their schemas too. Each operation is called with the token of a
user allowed to use it; /auth/revoke gets a fresh token for every call (revoking it is the point)."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.extensions import db
from app.web.openapi import openapi_document
from tests.conftest import DEMO_PASSWORD
from tests.fuzz.conftest import SCALE, TaskTarget

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64


@pytest.fixture(scope="module")
def live_server(_migrated: Flask) -> Iterator[str]:
    """The test app under waitress on a free loopback port, in a daemon thread, for the whole module; each test's
    `app` fixture resets the database it serves."""
    from waitress import wasyncore
    from waitress.server import create_server

    server = create_server(_migrated, host="127.0.0.1", port=0, threads=2)
    port = server.effective_port  # type: ignore[union-attr]
    stop = threading.Event()

    def serve() -> None:  # server.run() cannot be stopped from outside without closing sockets under its feet
        while not stop.is_set():
            wasyncore.loop(timeout=0.1, map=server._map, count=1)  # type: ignore[union-attr]

    thread = threading.Thread(target=serve, name="fuzz-waitress", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    stop.set()
    thread.join(timeout=10)
    server.task_dispatcher.shutdown()  # type: ignore[union-attr]
    # Every socket in the server's map, accepted connections included: server.close() shuts only the listener,
    # and a connection left to the garbage collector warns in whichever later test collects it.
    wasyncore.close_all(server._map)  # type: ignore[union-attr]


def token(base: str, username: str) -> str:
    answer = requests.post(f"{base}/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD},
                           timeout=30)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["token"])


@pytest.fixture()
def fixture_rows(app: Flask, live_server: str) -> dict[str, Any]:
    """Rows the known-id requests name, and a token per user."""
    from app.models import Case, ProcessVersion, ReadyTask

    task_id = TaskTarget(app, "town_certification").ensure()
    with app.app_context():
        task = db.session.get(ReadyTask, task_id)
        rows: dict[str, Any] = {
            "task_id": task_id, "case_id": task.subject_id,
            "household_id": db.session.get(Case, task.subject_id).household_id,
            "version_id": db.session.scalar(db.select(ProcessVersion.id).order_by(ProcessVersion.id)),
            "process_key": "household_case",
        }
        db.session.remove()
    screening_task = TaskTarget(app, "screening").ensure()
    with app.app_context():
        rows["screening_id"] = db.session.get(ReadyTask, screening_task).subject_id
        db.session.remove()
    rows["tokens"] = {name: token(live_server, name) for name in ("admin", "county_office", "chengguan_certifier")}
    upload = requests.post(f"{live_server}/api/v1/cases/{rows['case_id']}/attachments",
                           headers={"Authorization": "Bearer " + rows["tokens"]["chengguan_certifier"]},
                           files={"file": ("photo.png", io.BytesIO(PNG), "image/png")}, timeout=30)
    assert upload.status_code == 201, upload.text
    rows["attachment_id"] = upload.json()["id"]
    lead = requests.post(f"{live_server}/api/v1/leads", headers={"Authorization": "Bearer " + rows["tokens"][
        "county_office"]}, json={"household_id": rows["household_id"], "source": "hotline_12317",
                                 "reporter_name": "户主", "reporter_phone": "13800138000",
                                 "discovered_on": "2026-12-01", "risk_types": ["illness"],
                                 "description": "住院费用增加"}, timeout=30)
    assert lead.status_code == 201, lead.text
    rows["lead_id"] = lead.json()["id"]
    return rows


@pytest.fixture()
def api_schema(live_server: str, app: Flask) -> Any:
    """The document as the running app serves it."""
    return schemathesis.openapi.from_url(f"{live_server}/api/v1/openapi.json")


def user_for(path: str) -> str:
    if path.startswith(("/processes", "/users")) or path.endswith("/migrate"):
        return "admin"
    if path.startswith("/tasks"):
        return "chengguan_certifier"
    return "county_office"


# Every operation of the document (the parametrization is read from the code; the test runs against the document
# the server answers with, loaded from its URL). schemathesis.pytest.from_fixture cannot be used here: its lazy
# loader reads a private attribute that this pytest no longer has.
OPERATIONS = [(path, method.upper()) for path, item in openapi_document()["paths"].items() for method in item]


@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[f"{m} {p}" for p, m in OPERATIONS])
def test_api_conforms_to_its_schema(api_schema: Any, live_server: str, fixture_rows: dict[str, Any], path: str,
                                    method: str) -> None:
    operation = api_schema[path][method]
    base = f"{live_server}/api/v1"

    @settings(max_examples=max(1, int(15 * SCALE)), deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                          operation.as_strategy(GenerationMode.NEGATIVE)))
    def run(case: Any) -> None:
        bearer = token(live_server, "county_office") if path == "/auth/revoke" else \
            fixture_rows["tokens"][user_for(path)]
        headers = {"Authorization": f"Bearer {bearer}"}
        case.call_and_validate(base_url=base, session=session, headers=headers, checks=CHECKS)
        if case.path_parameters:  # the same request on rows that exist
            case.path_parameters = {name: fixture_rows.get(name, value)
                                    for name, value in case.path_parameters.items()}
            case.call_and_validate(base_url=base, session=session, headers=headers, checks=CHECKS)

    # One session, closed here: a connection left to the garbage collector would warn in a later test.
    with requests.Session() as session:
        run()
