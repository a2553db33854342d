"""A user of one village or town can neither see nor complete another's tasks or cases."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ReadyTask
from tests.helpers import open_case


def _task_id(app, case_id: int) -> int:
    with app.app_context():
        return db.session.scalar(select(ReadyTask.id).where(ReadyTask.about("case", case_id)))


@pytest.mark.parametrize("outsider", ["raofeng_certifier", "chengguan01_team", "chengguan_leader",
                                      "county_office", "supervisor", "admin", "chengguan01_cadre1"])
def test_the_town_certification_task_is_closed_to_everyone_else(app, login_as, outsider):
    case_id = open_case(app)
    task_id = _task_id(app, case_id)
    browser = login_as(outsider)
    assert all(t["id"] != task_id for t in browser.inbox())
    assert browser.get(f"/tasks/{task_id}").status_code == 403
    response = browser.post(f"/tasks/{task_id}", {"decision": "certify", "risk_level": "at_risk",
                                                  "opinion": "越权"})
    assert response.status_code == 403
    with app.app_context():
        assert db.session.get(ReadyTask, task_id) is not None  # nothing moved


@pytest.mark.parametrize("username, visible", [
    ("chengguan01_team", True), ("chengguan_certifier", True), ("county_office", True), ("supervisor", True),
    ("chengguan02_team", False), ("raofeng01_team", False), ("raofeng_certifier", False),
    ("raofeng_leader", False), ("chengguan01_cadre1", False),
])
def test_case_pages_follow_the_area(app, login_as, api, username, visible):
    case_id = open_case(app)
    browser = login_as(username)
    assert browser.get(f"/cases/{case_id}").status_code == (200 if visible else 403)
    listed = f"/cases/{case_id}\"" in browser.get("/cases/").get_data(as_text=True)
    assert listed is visible
    client = api(username)
    assert client.get(f"/api/v1/cases/{case_id}").status_code == (200 if visible else 403)
    assert any(c["id"] == case_id for c in client.get("/api/v1/cases").get_json()["cases"]) is visible


def test_another_town_cannot_complete_over_the_api(app, api):
    case_id = open_case(app)
    task_id = _task_id(app, case_id)
    outsider = api("raofeng_certifier")
    assert outsider.get(f"/api/v1/tasks/{task_id}").status_code == 403
    response = outsider.post(f"/api/v1/tasks/{task_id}/complete",
                             json={"decision": "reject", "opinion": "越权"})
    assert response.status_code == 403
    with app.app_context():
        assert db.session.get(ReadyTask, task_id) is not None


def test_pages_require_login(client):
    for url in ["/", "/cases/", "/screenings/", "/tasks/1", "/cases/1"]:
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.location


def test_api_requires_a_valid_token(client):
    assert client.get("/api/v1/tasks").status_code == 401
    response = client.get("/api/v1/tasks", headers={"Authorization": "Bearer forged"})
    assert response.status_code == 401 and "令牌" in response.get_json()["error"]


def test_posts_without_csrf_token_are_refused(app, login_as):
    browser = login_as("county_office")
    response = browser.client.post("/screenings/start", data={"month": "2030-01"})
    assert response.status_code == 400 and "CSRF" in response.get_data(as_text=True)
