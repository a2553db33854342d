"""Deterministic regressions for the bugs the fuzz tests found: each request that used to be a server error (or
an answer the OpenAPI document did not describe) now gets a clear refusal and changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from app.extensions import db
from tests.fuzz.conftest import TaskTarget, WebSession, assert_unchanged, db_snapshot

HUGE = 2**63  # past SQLite's INTEGER and PostgreSQL's bigint


@pytest.mark.parametrize("income", ["sNaN", "NaN", "Infinity", "-Infinity"])
def test_closure_income_that_is_not_a_number_is_refused(app: Flask, web: Callable[[str], WebSession],
                                                         income: str) -> None:
    """sNaN crashed NumberRange (500); NaN was refused as "收入不能为负数"; Infinity was accepted."""
    task = TaskTarget(app, "closure_application")
    task_id = task.ensure()
    session = web(task.username)  # logged in before the snapshot
    before = db_snapshot(app)
    answer = session.post(f"/tasks/{task_id}", [
        ("applied_on", "2020-01-01"), ("income_per_capita", income), ("summary", "达标"),
        ("revision", str(task.revision()))])
    assert answer.status_code == 422
    assert "请填写有效的数字" in answer.get_data(as_text=True)
    assert_unchanged(before, db_snapshot(app), income)


@pytest.mark.parametrize("url", [f"/api/v1/cases/{HUGE}", f"/api/v1/tasks/{HUGE}", f"/api/v1/households/{HUGE}"])
def test_api_path_id_past_every_integer_column_is_not_found(app: Flask, api: Any, url: str) -> None:
    assert api("county_office").get(url).status_code == 404


@pytest.mark.parametrize("url", [f"/api/v1/cases/{HUGE}/comments", f"/api/v1/tasks/{HUGE}/claim",
                                 f"/api/v1/cases/{2**31}/attachments"])
def test_api_post_to_an_id_past_the_columns_is_not_found_not_405(app: Flask, api: Any, url: str) -> None:
    client = api("county_office")
    before = db_snapshot(app)
    answer = client.post(url, json={"text": "x"})
    # the unknown task of /claim is a conflict ("已办理或已不存在"), as for any unknown task id
    assert answer.status_code in (404, 409) and answer.get_json()["status"] == answer.status_code
    assert_unchanged(before, db_snapshot(app), url)


def test_web_path_id_past_every_integer_column_is_not_found(app: Flask, web: Callable[[str], WebSession]) -> None:
    session = web("county_office")
    assert session.client.get(f"/cases/{HUGE}").status_code == 404
    assert session.post(f"/cases/{HUGE}/comments", [("text", "x")]).status_code == 404


def test_api_json_ids_past_the_columns_are_refused(app: Flask, api: Any) -> None:
    task = TaskTarget(app, "town_certification")
    task_id = task.ensure()
    with app.app_context():
        from app.models import ReadyTask

        case_id = db.session.get(ReadyTask, task_id).subject_id
        db.session.remove()
    screening_id = _screening_id(app)
    admin, certifier, team = api("admin"), api("chengguan_certifier"), api("chengguan01_team")
    before = db_snapshot(app)
    for client, url, body in [
        (admin, f"/api/v1/cases/{case_id}/migrate", {"version_id": HUGE}),  # was OverflowError (500)
        (certifier, f"/api/v1/tasks/{task_id}/reassign", {"user_id": HUGE}),
        (certifier, f"/api/v1/cases/{case_id}/comments", {"text": "x", "task_id": HUGE}),
        (team, f"/api/v1/screenings/{screening_id}/registrations",
         {"household_id": HUGE, "risk_type": "accident", "reason": "x"}),
        (team, f"/api/v1/screenings/{screening_id}/registrations",
         {"household_id": float("1e300"), "risk_type": "accident", "reason": "x"}),
    ]:
        answer = client.post(url, json=body)
        assert answer.status_code in (404, 422), (url, body, answer.get_json())
        assert isinstance(answer.get_json()["error"], str)
    assert_unchanged(before, db_snapshot(app), "json ids")


def _screening_id(app: Flask) -> int:
    from app.models import ReadyTask

    task_id = TaskTarget(app, "screening").ensure()
    with app.app_context():
        screening_id = db.session.get(ReadyTask, task_id).subject_id
        db.session.remove()
    assert screening_id is not None
    return screening_id


def test_form_ids_past_the_columns_are_refused(app: Flask, web: Callable[[str], WebSession]) -> None:
    """An id field with 19 digits reached SQLite as an integer it cannot bind (OverflowError, 500)."""
    from app.models import ProcessVersion

    with app.app_context():
        version_id = db.session.scalar(db.select(ProcessVersion.id).order_by(ProcessVersion.id))
        db.session.remove()
    screening_id = _screening_id(app)
    for username in ("admin", "chengguan01_cadre1", "chengguan01_team"):
        web(username)  # logged in before the snapshot
    before = db_snapshot(app)
    for username, url, pairs in [
        ("admin", f"/admin/processes/versions/{version_id}/migrate", [("target", str(HUGE)), ("instance", "1")]),
        ("admin", f"/admin/processes/versions/{version_id}/migrate",
         [("target", str(version_id)), ("instance", str(HUGE))]),
        ("chengguan01_cadre1", "/account/stand-ins", [("stand_in_id", str(HUGE)), ("starts_on", "2099-01-01"),
                                                      ("ends_on", "2099-01-02")]),
        ("chengguan01_team", f"/screenings/{screening_id}/registrations",
         [("household_id", str(HUGE)), ("risk_type", "accident"), ("reason", "x")]),
    ]:
        answer = web(username).post(url, pairs)
        assert answer.status_code in (404, 422), (url, pairs, answer.status_code)
    assert_unchanged(before, db_snapshot(app), "form ids")


def test_openapi_documents_the_refusals_the_api_gives() -> None:
    """schemathesis found 404 (unknown path ids), 422 (a body that is not a JSON object) and 409 (reassigning a
    task already done) answered but not documented."""
    from app.web.openapi import openapi_document

    paths = openapi_document()["paths"]
    for path, item in paths.items():
        for method, operation in item.items():
            codes = set(operation["responses"])
            if "{" in path:
                assert "404" in codes, (method, path)
            if "application/json" in operation.get("requestBody", {}).get("content", {}):
                assert "422" in codes, (method, path)
    assert "409" in paths["/tasks/{task_id}/reassign"]["post"]["responses"]


def test_form_ids_past_a_32_bit_column_are_refused(app: Flask, web: Callable[[str], WebSession]) -> None:
    """2**31 fits SQLite but not PostgreSQL's int4: "integer out of range" was a 500 there."""
    from app.models import ProcessVersion

    with app.app_context():
        version_id = db.session.scalar(db.select(ProcessVersion.id).order_by(ProcessVersion.id))
        db.session.remove()
    session = web("admin")
    before = db_snapshot(app)
    answer = session.post(f"/admin/processes/versions/{version_id}/migrate",
                          [("target", str(2**31)), ("instance", "1")])
    assert answer.status_code in (404, 422)
    assert_unchanged(before, db_snapshot(app), "int4")


@pytest.mark.parametrize("query", ["\x00", "王\x00", "a" * 10 + "\x00"])
def test_searches_with_a_nul_character_are_not_server_errors(app: Flask, api: Any, query: str) -> None:
    """PostgreSQL refuses NUL in a text parameter ("cannot contain NUL (0x00) bytes"): it was a 500."""
    client = api("county_office")
    for url in ("/api/v1/households", "/api/v1/cases"):
        answer = client.get(url, query_string={"q": query})
        assert answer.status_code in (200, 422), (url, answer.status_code)
        if answer.status_code == 422:
            assert "不允许的字符" in answer.get_json()["error"]


def test_a_log_in_with_a_nul_character_is_refused(app: Flask) -> None:
    """The failed attempt was stored with the name as typed: NUL made it a 500 on PostgreSQL."""
    client = app.test_client()
    answer = client.post("/api/v1/auth/token", json={"username": "admin\x00", "password": "x"})
    assert answer.status_code in (401, 422) and isinstance(answer.get_json()["error"], str)
    page = client.get("/login").get_data(as_text=True)
    from tests.fuzz.conftest import _csrf

    answer = client.post("/login", data={"username": "\x00", "password": "x", "csrf_token": _csrf(page)})
    assert answer.status_code in (401, 422)


def test_a_control_character_in_a_task_form_is_named_on_its_field(app, login_as):
    """Found on PostgreSQL (which refuses NUL in text): the form answers on the field, on both databases, and
    nothing is stored."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Event
    from tests.helpers import open_case

    case_id = open_case(app)
    certifier = login_as("chengguan_certifier")
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(Event))
    response = certifier.complete("Task_TownCertify", {"decision": "certify", "risk_level": "at_risk",
                                                       "opinion": "属实\x00"}, case_id, expect=422)
    assert "不能包含控制字符" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Event)) == before
