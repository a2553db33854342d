"""A client that knows nothing but /api/v1 and its OpenAPI document walks a household from the monthly screening to
销号, as a provincial system or a phone app would: each task says what it needs (its fields, which of them are
required and when, the entries to fill in, the operations that belong to it), each answer names the tasks the step
led to, and every answer matches the document with no property left out of it (the `api` fixture checks each one:
tests/openapi_conformance.py). A case the town or the county sends back from closure goes back to assistance."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Flask

from app.clock import travel_to, utcnow
from tests.conftest import today

VILLAGE = "610922100001"


def fields_of(task: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in task["fields"]}


def operation(task: dict[str, Any], rel: str) -> dict[str, str]:
    [found] = [o for o in task["operations"] if o["rel"] == rel]
    return found


def only_task(client: Any, bpmn_id: str) -> dict[str, Any]:
    [task] = [t for t in client.get("/api/v1/tasks").get_json()["tasks"] if t["bpmn_id"] == bpmn_id]
    return client.get(f"/api/v1/tasks/{task['id']}").get_json()  # type: ignore[no-any-return]


def submit(client: Any, task: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    answer = client.post(operation(task, "complete")["href"], json=body)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()  # type: ignore[no-any-return]


def let_notice_period_pass(app: Flask) -> None:
    from app.extensions import db
    from app.workflow.runtime import run_due_timers

    with app.app_context():
        run_due_timers(utcnow() + timedelta(days=8))
        db.session.commit()


def post_notice(app: Flask, team: Any) -> None:
    posting = only_task(team, "Task_PostNotice")
    submit(team, posting, {"posted_on": today().isoformat(), "period_days": 5, "location": "村委会公示栏"})
    let_notice_period_pass(app)
    objections = only_task(team, "Task_RecordObjections")
    # 异议内容 is required when an objection was received, and the form says so.
    assert fields_of(objections)["objection_content"]["required_when"] == {"field": "decision", "equals": "objection"}
    refused = team.post(operation(objections, "complete")["href"], json={"decision": "objection"})
    assert refused.status_code == 422 and "objection_content" in refused.get_json()["errors"]
    submit(team, objections, {"decision": "no_objection"})


def screen_and_report(api: Any) -> tuple[int, int]:
    """The county starts the month; the team checks every household, registers one at risk and reports it at the
    assessment meeting. Returns (screening id, case id)."""
    county, team = api("county_office"), api("chengguan01_team")
    started = county.post("/api/v1/screenings", json={"month": today().strftime("%Y-%m")}).get_json()
    assert started["created"] == 4

    screening_task = only_task(team, "Task_ScreenHouseholds")
    # The task links to the operations that belong to it, and shows what is registered so far.
    registrations = operation(screening_task, "registrations")
    assert registrations["method"] == "POST" and registrations["href"].endswith(
        f"/screenings/{screening_task['subject_id']}/registrations")
    assert screening_task["records"]["registrations"] == []
    assert screening_task["records"]["coverage"]["checked"] == 0
    households = team.get(operation(screening_task, "checks")["href"]).get_json()["households"]

    # A refusal about one field names it.
    wrong = team.post(registrations["href"], json={"household_id": households[0]["household_id"],
                                                   "risk_type": "accident", "reason": ""})
    assert wrong.status_code == 422 and wrong.get_json()["errors"] == {"reason": ["请填写详细原因"]}
    elsewhere = team.post(registrations["href"], json={"household_id": 999999, "risk_type": "accident",
                                                       "reason": "车祸"})
    assert elsewhere.status_code == 422 and "household_id" in elsewhere.get_json()["errors"]
    registered = team.post(registrations["href"], json={"household_id": households[0]["household_id"],
                                                        "risk_type": "accident", "reason": "车祸致主要劳动力伤残"})
    assert registered.status_code == 201
    for household in households[1:]:
        href = operation(screening_task, "check")["href"].replace("{household_id}", str(household["household_id"]))
        assert team.put(href, json={"outcome": "checked", "visited_on": today().isoformat(), "visitors": "张三",
                                    "risks": [], "guarantee_gaps": []}).status_code == 200
    screening_task = team.get(f"/api/v1/tasks/{screening_task['id']}").get_json()
    [listed] = screening_task["records"]["registrations"]
    assert listed["id"] == registered.get_json()["id"] and listed["case_id"] is None
    assert screening_task["records"]["coverage"]["checked"] == len(households)

    done = submit(team, screening_task, {"note": "全村已排查"})
    assert [t["bpmn_id"] for t in done["next_tasks"]] == ["Task_AssessmentMeeting"]

    meeting = only_task(team, "Task_AssessmentMeeting")
    reported = submit(team, meeting, {"meeting_date": today().isoformat(), "attendees": "村两委、驻村工作队",
                                      "minutes": "研判", "key_assistance": [listed["id"]]})
    # The meeting opened a case: its certification task waits, in the case's own instance, and the answer says so.
    [certification] = reported["next_tasks"]
    assert (certification["bpmn_id"], certification["role"], certification["subject_kind"]) == \
        ("Task_TownCertify", "town_certifier", "case")
    return screening_task["subject_id"], certification["case_id"]


def test_a_client_walks_a_household_from_screening_to_closure(app: Flask, api: Any) -> None:
    screening_id, case_id = screen_and_report(api)
    team, certifier, leader = api("chengguan01_team"), api("chengguan_certifier"), api("chengguan_leader")
    county, cadre = api("county_office"), api("chengguan01_cadre1")

    # The case list says whose move it is, since when and by when, as the HTML list does.
    [row] = [c for c in county.get("/api/v1/cases").get_json()["cases"] if c["id"] == case_id]
    assert row["owner_role"] == "town_certifier" and row["holder"] == "城关镇 · 镇认定工作组"
    assert row["waiting_since"] and row["due_on"] and row["days_overdue"] == 0
    assert [w["bpmn_id"] for w in row["waiting"]] == ["Task_TownCertify"]

    certify = only_task(certifier, "Task_TownCertify")
    assert fields_of(certify)["risk_level"]["required"] is False
    assert fields_of(certify)["risk_level"]["required_when"] == {"field": "decision", "equals": "certify"}
    missing = certifier.post(operation(certify, "complete")["href"], json={"decision": "certify", "opinion": "符合"})
    assert missing.status_code == 422 and "risk_level" in missing.get_json()["errors"]
    submit(certifier, certify, {"decision": "certify", "risk_level": "at_risk", "opinion": "符合"})
    submit(leader, only_task(leader, "Task_TownLeadershipReview"),
           {"decision": "pass", "meeting_date": today().isoformat(), "opinion": "通过"})
    submit(county, only_task(county, "Task_CountyApprove"), {"decision": "approve", "opinion": "同意"})
    post_notice(app, team)

    plan = only_task(team, "Task_DraftMeasures")
    measures = fields_of(plan)["measures"]
    # One blank row to start with, as many as the household needs (up to a page's worth).
    assert measures["required"] and measures["min_filled"] == 1 and len(measures["entries"]) == 1
    assert measures["max_entries"] == 30
    assert all(item["required"] for item in measures["item_fields"])
    deadline = (today() + timedelta(days=90)).isoformat()
    submit(team, plan, {"cadre_id": fields_of(plan)["cadre_id"]["choices"][1]["value"], "measures": [
        {"content": "申请临时救助", "measure_type": "temporary_relief", "responsible_unit": "县民政局",
         "deadline": deadline}]})
    submit(county, only_task(county, "Task_CountyFiling"), {"decision": "file", "opinion": "予以备案"})

    # The cadre's form lists the measures to report on, each with its label and the id to send back.
    carry_out = only_task(cadre, "Task_CarryOutMeasures")
    results = fields_of(carry_out)["results"]
    [entry] = results["entries"]
    assert entry["label"] == "申请临时救助" and entry["values"]["measure_id"]
    assert {f["name"] for f in results["item_fields"] if f["required"]} == {"measure_id", "completed_on", "result"}
    [listed] = carry_out["records"]["measures"]
    assert (listed["id"], listed["status"], listed["responsible_unit"], listed["deadline"]) == (
        int(entry["values"]["measure_id"]), "planned", "县民政局", deadline)
    # Each measure is recorded on its own when it is done, at once; the task stays open until it is submitted.
    record = operation(carry_out, "record_measure")["href"].replace("{measure_id}", str(listed["id"]))
    early = cadre.post(record, json={"completed_on": (today() + timedelta(days=1)).isoformat(), "result": "x"})
    assert early.status_code == 422 and set(early.get_json()["errors"]) == {"completed_on", "result"}
    recorded = cadre.post(record, json={"completed_on": today().isoformat(), "result": "已发放临时救助金"})
    assert recorded.status_code == 201, recorded.get_json()
    assert (recorded.get_json()["status"], recorded.get_json()["result"]) == ("done", "已发放临时救助金")
    assert cadre.post(record, json={"completed_on": today().isoformat(), "result": "再次"}).status_code == 409
    still = only_task(cadre, "Task_CarryOutMeasures")
    assert still["id"] == carry_out["id"] and fields_of(still)["results"]["entries"] == []
    assert still["records"]["measures"][0]["completed_on"] == today().isoformat()
    submit(cadre, still, {})

    # The town finds the household not yet up to the standard: assistance goes on, with new measures possible.
    submit(team, only_task(team, "Task_ApplyClosure"),
           {"applied_on": today().isoformat(), "summary": "两不愁三保障已达标"})
    returned = submit(certifier, only_task(certifier, "Task_TownAcceptance"),
                      {"decision": "return", "opinion": "收入尚不稳定，继续帮扶"})
    assert [(t["bpmn_id"], t["role"]) for t in returned["next_tasks"]] == [("Task_CarryOutMeasures", "cadre")]
    assert returned["case"]["status"] == "assistance"
    again = only_task(cadre, "Task_CarryOutMeasures")
    assert fields_of(again)["results"]["entries"] == []  # every measure of the plan was carried out
    added = fields_of(again)["new_measures"]
    assert {f["name"] for f in added["item_fields"]} == {"content", "measure_type", "responsible_unit", "deadline"}
    filed = submit(cadre, again, {"new_measures": [{"content": "安排公益性岗位", "measure_type": "employment",
                                                    "responsible_unit": "县人社局", "deadline": deadline}]})
    # Added measures are filed with the county office before they are carried out.
    assert [t["bpmn_id"] for t in filed["next_tasks"]] == ["Task_CountyFiling"]
    submit(county, only_task(county, "Task_CountyFiling"), {"decision": "file", "opinion": "予以备案"})
    carry_new = only_task(cadre, "Task_CarryOutMeasures")
    [new_entry] = fields_of(carry_new)["results"]["entries"]
    assert new_entry["label"] == "安排公益性岗位"
    submit(cadre, carry_new, {"results": [{"measure_id": new_entry["values"]["measure_id"],
                                           "completed_on": today().isoformat(), "result": "已上岗"}],
                              "new_measures": []})

    # Applied again; this time the county's re-check sends it back, and assistance goes on once more.
    submit(team, only_task(team, "Task_ApplyClosure"), {"applied_on": today().isoformat(), "summary": "已稳定就业"})
    submit(certifier, only_task(certifier, "Task_TownAcceptance"), {"decision": "accept", "opinion": "合格"})
    sent_back = submit(county, only_task(county, "Task_CountyRecheck"),
                       {"decision": "return", "opinion": "产业收入未到账，继续帮扶"})
    assert [t["bpmn_id"] for t in sent_back["next_tasks"]] == ["Task_CarryOutMeasures"]
    assert county.get(f"/api/v1/cases/{case_id}").get_json()["status"] == "assistance"
    continued = submit(cadre, only_task(cadre, "Task_CarryOutMeasures"), {})
    assert [t["bpmn_id"] for t in continued["next_tasks"]] == ["Task_ApplyClosure"]
    submit(team, only_task(team, "Task_ApplyClosure"), {"applied_on": today().isoformat(), "summary": "收入已到账"})
    submit(certifier, only_task(certifier, "Task_TownAcceptance"), {"decision": "accept", "opinion": "合格"})
    submit(county, only_task(county, "Task_CountyRecheck"), {"decision": "confirm", "opinion": "复核达标"})
    post_notice(app, team)

    case = county.get(f"/api/v1/cases/{case_id}").get_json()
    assert case["status"] == "closed" and case["closed_at"]
    assert [m["content"] for m in case["measures"]] == ["申请临时救助", "安排公益性岗位"]
    # History events name their element, so a client needs no titles to match on.
    steps = [e["bpmn_id"] for e in case["history"] if e["kind"] == "task_completed"]
    assert steps.count("Task_CarryOutMeasures") == 4 and steps.count("Task_TownAcceptance") == 3
    assert "Task_CountyRecheck" in steps

    # The month's 附件1 roster and 附件2 ledger, as JSON rows and as the official workbook.
    month = today().strftime("%Y-%m")
    roster = county.get("/api/v1/reports/roster", query_string={"month": month, "area": VILLAGE}).get_json()
    assert roster["month"] == month and [r["head_name"] for r in roster["rows"]] == [case["household"]["head_name"]]
    assert roster["rows"][0]["risk_type"] == "因意外变故" and "*" in roster["rows"][0]["head_id_number_masked"]
    ledger = county.get("/api/v1/reports/ledger", query_string={"month": month, "area": VILLAGE}).get_json()
    assert [m["content"] for m in ledger["rows"][0]["measures"]] == ["申请临时救助", "安排公益性岗位"]
    workbook = county.get("/api/v1/reports/roster.xlsx", query_string={"month": month, "area": VILLAGE})
    try:
        assert workbook.status_code == 200 and workbook.data[:2] == b"PK"
    finally:
        workbook.close()
    assert api("chengguan01_cadre1").get("/api/v1/reports/roster").status_code == 403
    assert screening_id


def test_a_task_done_twice_says_by_whom_and_when(app: Flask, api: Any) -> None:
    _, case_id = screen_and_report(api)
    certifier = api("chengguan_certifier")
    certify = only_task(certifier, "Task_TownCertify")
    submit(certifier, certify, {"decision": "return", "opinion": "请补充医疗票据"})
    for answer in (certifier.post(operation(certify, "complete")["href"], json={"decision": "reject", "opinion": "x"}),
                   certifier.get(f"/api/v1/tasks/{certify['id']}")):
        assert answer.status_code == 409
        body = answer.get_json()
        assert body["completed_by"]["full_name"] in body["error"] and body["subject_id"] == case_id
    # Someone of another town may not learn who did it; an id that never named a task is not found.
    assert api("raofeng_certifier").get(f"/api/v1/tasks/{certify['id']}").status_code == 403
    assert certifier.get(f"/api/v1/tasks/{certify['id'] + 1000}").status_code == 404


def test_the_servers_today_is_chinas(app: Flask, api: Any) -> None:
    """At 00:30 on 1 January in China it is still 31 December in UTC: the API's default month is January's."""
    moment = datetime(today().year, 12, 31, 16, 30)  # naive UTC, as the tables store it
    with travel_to(moment):
        county = api("county_office")
        roster = county.get("/api/v1/reports/roster").get_json()
        assert today().isoformat() == f"{moment.year + 1}-01-01" and roster["month"] == f"{moment.year + 1}-01"
        started = county.post("/api/v1/screenings", json={"month": f"{moment.year + 1}-01"})
        assert started.status_code == 201
        # A meeting held on China's today is not "after today".
        team = api("chengguan01_team")
        check_day = f"{moment.year + 1}-01-01"
        task = only_task(team, "Task_ScreenHouseholds")
        households = team.get(operation(task, "checks")["href"]).get_json()["households"]
        href = operation(task, "check")["href"].replace("{household_id}", str(households[0]["household_id"]))
        answer = team.put(href, json={"outcome": "checked", "visited_on": check_day, "visitors": "张三", "risks": [],
                                      "guarantee_gaps": []})
        assert answer.status_code == 200, answer.get_json()
