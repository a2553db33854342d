"""One case on its diagram: done elements and flows marked, loops counted, the current task highlighted."""

from __future__ import annotations

import json
import re
from pathlib import Path

from app.extensions import db
from app.models import Case, WorkflowInstance
from tests.helpers import approve_case, complete, open_case

VENDOR = Path(__file__).resolve().parents[2] / "app" / "static" / "vendor"


def diagram_data(html: str) -> list[dict]:
    blocks = re.findall(r'<script type="application/json" id="diagram-\d+">(.*?)</script>', html, re.S)
    return [json.loads(block) for block in blocks]


def test_a_returned_case_shows_the_loop_and_its_current_task(app, login_as):
    case_id = open_case(app)
    with app.app_context():
        complete("chengguan_certifier", "Task_TownCertify", {"decision": "return", "opinion": "补充收入证明"},
                 case_id)
        complete("chengguan01_team", "Task_SupplementInformation", {"supplement": "已补充"}, case_id)
        version_id = db.session.get(WorkflowInstance, db.session.get(Case, case_id).instance_id).process_version_id
    html = login_as("supervisor").get(f"/cases/{case_id}/diagram").get_data(as_text=True)
    [data] = diagram_data(html)
    diagram = data["diagram"]
    assert diagram["version_id"] == version_id
    assert diagram["done"]["Task_TownCertify"] == 1 and diagram["done"]["Task_SupplementInformation"] == 1
    assert diagram["current"] == ["Task_TownCertify"]  # back at the town: the task is waiting a second time
    assert ["Gateway_TownCertifyDecision", "Task_SupplementInformation"] in diagram["flows"]
    assert ["Task_SupplementInformation", "Task_TownCertify"] in diagram["flows"]
    assert data["xml_url"] == f"/supervision/diagrams/{version_id}.bpmn"


def test_the_publicity_call_shows_its_own_diagram(app, login_as):
    case_id = open_case(app)
    with app.app_context():
        approve_case(case_id)
    html = login_as("county_office").get(f"/cases/{case_id}/diagram").get_data(as_text=True)
    case_diagram, publicity = diagram_data(html)
    assert case_diagram["diagram"]["process_key"] == "household_case"
    assert case_diagram["diagram"]["done"]["Task_CountyApprove"] == 1
    assert publicity["diagram"]["process_key"] == "publicity"
    assert publicity["diagram"]["current"] == ["Task_PostNotice"]


def test_the_diagram_and_the_viewer_are_served_from_this_server(app, login_as):
    case_id = open_case(app)
    user = login_as("chengguan01_team")
    html = user.get(f"/cases/{case_id}/diagram").get_data(as_text=True)
    assert "http://" not in html and "https://" not in html  # nothing from the internet
    assert "/static/vendor/bpmn-js/bpmn-navigated-viewer.js" in html
    assert (VENDOR / "bpmn-js" / "bpmn-navigated-viewer.js").exists(), "run `make assets` first"
    viewer = user.get("/static/vendor/bpmn-js/bpmn-navigated-viewer.js")
    viewer.close()
    assert viewer.status_code == 200
    xml_url = diagram_data(html)[0]["xml_url"]
    xml = user.get(xml_url)
    assert xml.status_code == 200 and b"Task_TownCertify" in xml.data


def test_another_village_cannot_open_the_case_diagram(app, login_as):
    case_id = open_case(app)
    assert login_as("chengguan02_team").get(f"/cases/{case_id}/diagram").status_code == 403
    assert login_as("raofeng_certifier").get(f"/cases/{case_id}/diagram").status_code == 403
