"""The JSON API: tokens, the user's tasks with their forms described, completing tasks, cases, OpenAPI."""

from __future__ import annotations

import re

from flask import Flask

from app.extensions import db
from app.models import Household
from tests.conftest import today
from tests.helpers import open_case


def test_token_me_and_users(api, client):
    admin = api("admin")
    me = admin.get("/api/v1/me").get_json()
    assert me["username"] == "admin" and me["role"] == "admin"
    users = admin.get("/api/v1/users").get_json()["users"]
    assert {u["username"] for u in users} >= {"county_office", "chengguan01_team", "chengguan_certifier"}
    assert api("county_office").get("/api/v1/users").status_code == 403
    bad = client.post("/api/v1/auth/token", json={"username": "admin", "password": "wrong"})
    assert bad.status_code == 401 and bad.get_json()["error"] == "用户名或密码错误"
    assert client.post("/api/v1/auth/token", data="not json").status_code == 422


def test_households_are_scoped_and_searchable(app, api):
    team = api("chengguan01_team")
    rows = team.get("/api/v1/households").get_json()["households"]
    assert rows and {h["village_code"] for h in rows} == {"610922100001"}
    one = rows[0]
    with app.app_context():
        full = db.session.get(Household, one["id"]).head_id_number
    # lists show the number masked; searching by the full number (read off the household's papers) finds it
    assert one["head_id_number_masked"] == f"{full[:6]}********{full[-4:]}" and "head_id_number" not in one
    by_id = team.get("/api/v1/households", query_string={"q": full}).get_json()["households"]
    assert [h["id"] for h in by_id] == [one["id"]]
    assert api("raofeng01_team").get("/api/v1/households", query_string={"q": full}) \
        .get_json()["households"] == []


def test_screening_start_is_idempotent_and_county_only(api):
    month = today().strftime("%Y-%m")
    county = api("county_office")
    first = county.post("/api/v1/screenings", json={"month": month})
    assert first.status_code == 201 and first.get_json()["created"] == 4  # 2 towns × 2 villages
    again = county.post("/api/v1/screenings", json={"month": month})
    assert again.status_code == 200 and again.get_json()["created"] == 0
    assert county.post("/api/v1/screenings", json={"month": "2026-13"}).status_code == 422
    assert api("chengguan01_team").post("/api/v1/screenings", json={"month": month}).status_code == 403


def test_task_form_is_described_and_completed_over_the_api(app: Flask, api):
    case_id = open_case(app)
    certifier = api("chengguan_certifier")
    [task] = certifier.get("/api/v1/tasks").get_json()["tasks"]
    assert task["case_id"] == case_id and task["form"] == "town_certification"
    detail = certifier.get(f"/api/v1/tasks/{task['id']}").get_json()
    fields = {f["name"]: f for f in detail["fields"]}
    assert fields["decision"]["type"] == "choice" and fields["decision"]["required"]
    assert {c["value"] for c in fields["decision"]["choices"]} == {"certify", "return", "reject"}
    invalid = certifier.post(f"/api/v1/tasks/{task['id']}/complete", json={"decision": "maybe"})
    assert invalid.status_code == 422 and "decision" in invalid.get_json()["errors"]
    stale = certifier.post(f"/api/v1/tasks/{task['id']}/complete",
                           json={"decision": "return", "opinion": "补充", "revision": detail["revision"] + 5})
    assert stale.status_code == 409
    done = certifier.post(f"/api/v1/tasks/{task['id']}/complete",
                          json={"decision": "return", "opinion": "请补充医疗票据", "revision": detail["revision"]})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["case"]["current_step"] == "补充核实材料"
    # Done already: 409, saying by whom and when; an id that never named a task is 404.
    again = certifier.post(f"/api/v1/tasks/{task['id']}/complete", json={"decision": "return", "opinion": "x"})
    assert again.status_code == 409
    assert again.get_json()["completed_by"]["username"] == "chengguan_certifier"
    assert again.get_json()["completed_at"] and again.get_json()["bpmn_id"] == "Task_TownCertify"
    assert certifier.post("/api/v1/tasks/999999/complete", json={}).status_code == 404

    # The answer names what the step led to: the village team's task, and the revision to submit against.
    [led_to] = done.get_json()["next_tasks"]
    assert (led_to["bpmn_id"], led_to["role"], led_to["case_id"]) == \
        ("Task_SupplementInformation", "village_team", case_id)
    assert done.get_json()["revision"] == detail["revision"] + 1
    team = api("chengguan01_team")
    [supplement] = team.get("/api/v1/tasks").get_json()["tasks"]
    assert supplement["id"] == led_to["id"]
    assert team.get(f"/api/v1/tasks/{led_to['id']}").get_json()["revision"] == done.get_json()["revision"]
    assert team.post(f"/api/v1/tasks/{supplement['id']}/complete",
                     json={"supplement": "已补充住院票据"}).status_code == 200
    case = certifier.get(f"/api/v1/cases/{case_id}").get_json()
    assert [t["bpmn_id"] for t in case["current_tasks"]] == ["Task_TownCertify"]
    assert case["current_tasks"][0]["holder"] == "城关镇 · 镇认定工作组"
    kinds = [(e["kind"], e["decision"]) for e in case["history"]]
    assert ("task_completed", "return") in kinds and kinds[0][0] == "case_opened"


def test_measure_plan_lists_are_accepted_as_json(app, api):
    case_id = open_case(app)
    from tests.helpers import approve_case, complete

    with app.app_context():
        approve_case(case_id, risk_level="returned")
        complete("chengguan01_team", "Task_PostNotice", {"posted_on": "2020-01-01", "period_days": 5,
                                                         "location": "村委会"})
        from app.workflow.runtime import run_due_timers

        run_due_timers()
        from app.extensions import db

        db.session.commit()
        complete("chengguan01_team", "Task_RecordObjections", {"decision": "no_objection"})
    team = api("chengguan01_team")
    [task] = team.get("/api/v1/tasks").get_json()["tasks"]
    detail = team.get(f"/api/v1/tasks/{task['id']}").get_json()
    fields = {f["name"]: f for f in detail["fields"]}
    assert fields["measures"]["type"] == "list"
    assert {f["name"] for f in fields["measures"]["item_fields"]} == {"content", "measure_type",
                                                                       "responsible_unit", "deadline"}
    cadre = fields["cadre_id"]["choices"][1]["value"]
    body = {"measures": [{"content": "申请临时救助", "measure_type": "temporary_relief",
                          "responsible_unit": "县民政局", "deadline": today().isoformat()}], "cadre_id": cadre}
    response = team.post(f"/api/v1/tasks/{task['id']}/complete", json=body)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["case"]["cadre_id"] == cadre
    assert api("county_office").get(f"/api/v1/cases/{case_id}").get_json()["measures"][0]["content"] == "申请临时救助"


def test_openapi_documents_every_api_route(app, client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    documented = {("/api/v1" + path, method.upper()) for path, ops in doc["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method) in documented, f"{method} {path} is not in the OpenAPI document"


def test_a_completed_screening_step_names_the_assessment_meeting_next(api):
    api("county_office").post("/api/v1/screenings", json={"month": today().strftime("%Y-%m")})
    team = api("chengguan01_team")
    [screen] = [t for t in team.get("/api/v1/tasks").get_json()["tasks"] if t["bpmn_id"] == "Task_ScreenHouseholds"]
    refused = team.post(f"/api/v1/tasks/{screen['id']}/complete", json={})
    assert refused.status_code == 422 and "还有 6 户未排查" in str(refused.get_json())
    checks = team.get(f"/api/v1/screenings/{screen['screening_id']}/checks").get_json()
    assert checks["coverage"] == {"total": 6, "checked": 0, "not_checked_with_reason": 0, "unaccounted": 6}
    for index, row in enumerate(checks["households"]):
        body = ({"outcome": "checked", "visited_on": today().isoformat(), "visitors": "工作队", "risks": []}
                if index else {"outcome": "not_checked", "not_checked_reason": "away_unreachable"})
        saved = team.put(f"/api/v1/screenings/{screen['screening_id']}/checks/{row['household_id']}", json=body)
        assert saved.status_code == 200, saved.get_json()
    detail = team.get(f"/api/v1/tasks/{screen['id']}").get_json()
    done = team.post(f"/api/v1/tasks/{screen['id']}/complete", json={})
    assert done.status_code == 200, done.get_json()
    body = done.get_json()
    assert body["screening"]["id"] == screen["screening_id"] and "case" not in body
    [meeting] = body["next_tasks"]
    assert (meeting["bpmn_id"], meeting["screening_id"]) == ("Task_AssessmentMeeting", screen["screening_id"])
    assert body["revision"] == detail["revision"] + 1
    assert [t["id"] for t in team.get("/api/v1/tasks").get_json()["tasks"]
            if t["screening_id"] == screen["screening_id"]] == [meeting["id"]]
