"""The risk leads over the JSON API, as an integrator (the county's 12317 desk, a phone app) uses them: record a
declaration, list the area's leads, upload the signed 承诺授权书 and complete the verification task with the same
validation as the pages."""

from __future__ import annotations

import io

from app.clock import china_today
from tests.collab.conftest import JPEG
from tests.leads.test_declarations import member_of

CALL = {"source": "hotline_12317", "reporter_name": "李邻居", "reporter_phone": "13700001111",
        "risk_types": ["disaster"], "description": "暴雨冲毁房屋后墙", "urgency": "urgent"}


def test_a_12317_desk_records_a_declaration_and_the_team_verifies_it_over_the_api(app, api):
    household_id, _, _ = member_of(app)
    desk = api("county_office")
    created = desk.post("/api/v1/leads", json=dict(CALL, household_id=household_id,
                                                   discovered_on=china_today().isoformat()))
    assert created.status_code == 201, created.get_json()
    lead = created.get_json()
    assert lead["status"] == "open" and lead["channel"] == "self_declared" and lead["urgency"] == "urgent"
    team = api("chengguan01_team")
    assert [row["id"] for row in team.get("/api/v1/leads?status=open").get_json()["leads"]] == [lead["id"]]
    assert api("raofeng01_team").get(f"/api/v1/leads/{lead['id']}").status_code == 403

    task = next(t for t in team.get("/api/v1/tasks").get_json()["tasks"] if t["subject_kind"] == "lead")
    assert task["bpmn_id"] == "Task_VerifyAtHome" and task["subject_id"] == lead["id"]
    body = {"visited_on": china_today().isoformat(), "verifiers": "驻村工作队", "findings": "后墙倒塌，已临时安置",
            "decision": "confirmed", "revision": team.get(f"/api/v1/tasks/{task['id']}").get_json()["revision"]}
    early = team.post(f"/api/v1/tasks/{task['id']}/complete", json=body)
    assert early.status_code == 422 and "承诺授权书" in str(early.get_json()["errors"])

    uploaded = team.client.post(f"/api/v1/leads/{lead['id']}/authorisation", headers=team.headers,
                                data={"file": (io.BytesIO(JPEG), "授权书.jpg")}, content_type="multipart/form-data")
    assert uploaded.status_code == 201 and uploaded.get_json()["content_type"] == "image/jpeg"
    again = team.client.post(f"/api/v1/leads/{lead['id']}/authorisation", headers=team.headers,
                             data={"file": (io.BytesIO(JPEG), "授权书.jpg")}, content_type="multipart/form-data")
    assert again.status_code == 200 and again.get_json()["id"] == uploaded.get_json()["id"]

    done = team.post(f"/api/v1/tasks/{task['id']}/complete", json=body)
    assert done.status_code == 200, done.get_json()
    detail = team.get(f"/api/v1/leads/{lead['id']}").get_json()
    assert detail["status"] == "verified" and detail["verifications"][0]["confirmed"] is True
    assert detail["documents"][0]["file_name"] == "授权书.jpg"


def test_a_bad_declaration_over_the_api_names_each_field_and_stores_nothing(app, api):
    household_id, _, _ = member_of(app)
    desk = api("county_office")
    refused = desk.post("/api/v1/leads", json={"household_id": household_id, "source": "app", "risk_types": "x",
                                               "discovered_on": "明天"})
    assert refused.status_code == 422 and "discovered_on" in refused.get_json()["errors"]
    refused = desk.post("/api/v1/leads", json={"household_id": household_id, "source": "app",
                                               "discovered_on": china_today().isoformat()})
    errors = refused.get_json()["errors"]
    assert refused.status_code == 422 and {"source", "reporter_name", "reporter_phone", "risk_types"} <= set(errors)
    assert desk.get("/api/v1/leads").get_json()["leads"] == []


def test_a_household_is_found_by_any_members_id_number(app, api):
    household_id, _, number = member_of(app, index=1)
    found = api("county_office").get(f"/api/v1/households?q={number}").get_json()["households"]
    assert [h["id"] for h in found] == [household_id]
