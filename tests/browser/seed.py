"""A case for the journeys that look at one rather than make one (supervision, access): a household of 饶峰镇's
first village taken through the JSON API of the live server, from this month's screening to a measure plan
filed with the county, so that it waits for its cadre (落实帮扶措施) and appears in both annexes."""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from app.clock import china_today
from tests.browser.live_server import PASSWORD, LiveServer

VILLAGE = "610922101001"
TOWN = "610922101"
TEAM, CERTIFIER, LEADER, COUNTY = "raofeng01_team", "raofeng_certifier", "raofeng_leader", "county_office"
MEASURE = "协助申请大病医疗救助，办理慢病卡"


@dataclass(frozen=True)
class SeededCase:
    case_id: int
    task_id: int  # its waiting task: 落实帮扶措施, the cadre's
    head_name: str
    head_id_number: str
    village_name: str
    measure: str


class Api:
    """A bearer-token client of /api/v1 for one user."""

    def __init__(self, server: LiveServer, username: str) -> None:
        self.server = server
        self.token = ""
        self.token = self.call("POST", "/auth/token", {"username": username, "password": PASSWORD})["token"]

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(self.server.url + "/api/v1" + path, method=method,
                                         data=json.dumps(body).encode() if body is not None else None)
        request.add_header("Accept", "application/json")
        if body is not None:
            request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())

    def complete(self, bpmn_id: str, data: dict[str, Any], case_id: int | None = None) -> Any:
        tasks = [t for t in self.call("GET", "/tasks")["tasks"]
                 if t["bpmn_id"] == bpmn_id and (case_id is None or t["case_id"] == case_id)]
        assert len(tasks) == 1, f"expected one {bpmn_id} for case {case_id}, found {tasks}"
        task = self.call("GET", f"/tasks/{tasks[0]['id']}")
        return self.call("POST", f"/tasks/{task['id']}/complete", {**data, "revision": task["revision"]})


def seed_case(server: LiveServer) -> SeededCase:
    today = china_today()
    county = Api(server, COUNTY)
    county.call("POST", "/screenings", {"month": today.strftime("%Y-%m")})  # 200 when already started

    team = Api(server, TEAM)
    screen = next(t for t in team.call("GET", "/tasks")["tasks"] if t["bpmn_id"] == "Task_ScreenHouseholds")
    screening = team.call("GET", f"/screenings/{screen['screening_id']}")
    household = team.call("GET", f"/households?village={VILLAGE}&q=610922")["households"][-1]
    registration = team.call("POST", f"/screenings/{screening['id']}/registrations",
                             {"household_id": household["id"], "risk_type": "major_illness",
                              "reason": "户主突发脑梗，医疗支出大"})
    for row in team.call("GET", f"/screenings/{screening['id']}/checks")["households"]:
        if row["check"] is None:
            team.call("PUT", f"/screenings/{screening['id']}/checks/{row['household_id']}",
                      {"outcome": "checked", "visited_on": today.isoformat(), "visitors": "驻村工作队"})
    team.complete("Task_ScreenHouseholds", {})
    team.complete("Task_AssessmentMeeting", {"meeting_date": today.isoformat(), "attendees": "工作队、村两委",
                                             "minutes": "研判后报镇认定", "key_assistance": [registration["id"]]})
    case_id = next(r["case_id"] for r in team.call("GET", f"/screenings/{screening['id']}")["registrations"]
                   if r["id"] == registration["id"])

    Api(server, CERTIFIER).complete("Task_TownCertify", {"decision": "certify", "risk_level": "at_risk",
                                                         "opinion": "入户核实属实"}, case_id)
    Api(server, LEADER).complete("Task_TownLeadershipReview", {"decision": "pass", "opinion": "会议通过",
                                                               "meeting_date": today.isoformat()}, case_id)
    county.complete("Task_CountyApprove", {"decision": "approve", "opinion": "同意"}, case_id)
    team.complete("Task_PostNotice", {"posted_on": today.isoformat(), "period_days": 5, "location": "村委会"},
                  case_id)
    server.move_time(days=6)
    team.complete("Task_RecordObjections", {"decision": "no_objection"}, case_id)
    draft = next(t for t in team.call("GET", "/tasks")["tasks"]
                 if t["bpmn_id"] == "Task_DraftMeasures" and t["case_id"] == case_id)
    cadre_field = next(f for f in team.call("GET", f"/tasks/{draft['id']}")["fields"] if f["name"] == "cadre_id")
    cadre_id = next(int(c["value"]) for c in cadre_field["choices"] if int(c["value"]))
    team.complete("Task_DraftMeasures", {
        "cadre_id": cadre_id,
        "measures": [{"content": MEASURE, "measure_type": "health", "responsible_unit": "县医保局",
                      "deadline": (today + timedelta(days=60)).isoformat()}],
    }, case_id)
    county.complete("Task_CountyFiling", {"decision": "file", "opinion": "予以备案"}, case_id)

    case = county.call("GET", f"/cases/{case_id}")
    waiting = [t for t in case["current_tasks"] if t["bpmn_id"] == "Task_CarryOutMeasures"]
    assert case["status"] == "assistance" and len(waiting) == 1, case
    return SeededCase(case_id=case_id, task_id=waiting[0]["id"], head_name=household["head_name"],
                      head_id_number=county.call("POST", f"/households/{household['id']}/id-numbers", {})
                      ["head_id_number"], village_name=household["village_name"],
                      measure=MEASURE)
