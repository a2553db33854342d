"""The national procedure's cases through the JSON API (their fields and records, the rosters, the reversal) and
on the lists a county keeps: the monitoring roster as Excel in the national columns, the heatmap by category and
channel, the village notices."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook

from app.clock import china_today
from tests.national.steps import (
    COUNTY,
    TEAM,
    confirmed_lead,
    eliminate,
    identify,
    monitored_case,
    review,
    tasks_of,
)


def test_a_national_case_over_the_api_carries_its_category_clock_and_records(app, login_as, api):
    lead = confirmed_lead(app, login_as)
    review(login_as(TEAM), lead.case_id, category="marginal")
    client = api(COUNTY)
    body = client.get(f"/api/v1/cases/{lead.case_id}").get_json()
    assert (body["procedure"], body["category"], body["channel"], body["fast_path"]) == (
        "national", "marginal", "self_declared", False)
    assert body["discovered_on"] == lead.discovered_on.isoformat() and body["identified_on"] is None
    [meeting] = body["review_meetings"]
    assert meeting["purpose"] == "identification" and meeting["attendance"] == 12
    assert body["elimination_checks"] == [] and body["elimination_reversals"] == []
    listed = client.get("/api/v1/cases").get_json()["cases"]
    assert any(c["id"] == lead.case_id and c["category"] == "marginal" for c in listed)


def test_the_rosters_and_the_reversal_over_the_api(app, login_as, api):
    case_id = monitored_case(app, login_as)
    eliminate(app, login_as, case_id)
    client = api(COUNTY)
    roster = client.get("/api/v1/monitoring/roster?state=eliminated").get_json()["households"]
    assert [(r["case_id"], r["eliminated"]) for r in roster] == [(case_id, True)]
    assert client.get("/api/v1/monitoring/roster?state=monitored").get_json()["households"] == []
    listed = client.get("/api/v1/monitoring/eliminations").get_json()["households"]
    assert [r["case_id"] for r in listed] == [case_id]
    assert client.get("/api/v1/monitoring/roster?state=gone").status_code == 422
    refused = api(TEAM).post(f"/api/v1/cases/{case_id}/elimination-reversal", json={"reason": "收入未到账，需继续监测"})
    assert refused.status_code == 403
    short = client.post(f"/api/v1/cases/{case_id}/elimination-reversal", json={"reason": "否"})
    assert short.status_code == 422 and "reason" in short.get_json()["errors"]
    reverted = client.post(f"/api/v1/cases/{case_id}/elimination-reversal", json={"reason": "收入未到账，需继续监测"})
    assert reverted.status_code == 200
    body = reverted.get_json()
    assert body["status"] == "assistance" and body["eliminated_on"] is None
    assert body["elimination_reversals"][0]["reason"] == "收入未到账，需继续监测"
    assert [t["bpmn_id"] for t in body["current_tasks"]] == ["Task_EliminationCheck"]
    assert client.post(f"/api/v1/cases/{case_id}/elimination-reversal",
                       json={"reason": "收入未到账，需继续监测"}).status_code == 409


def test_the_monitoring_roster_in_excel_has_the_national_columns(app, login_as):
    lead = confirmed_lead(app, login_as)
    identify(app, login_as, lead.case_id, category="unstable_lifted")
    response = login_as(COUNTY).get("/monitoring/roster.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet["A1"].value == "石泉县防止返贫监测对象名单（全部监测对象）"
    header = [c.value for c in sheet[3]]
    assert header == ["序号", "镇", "村", "户主姓名", "户主证件号码", "家庭人口", "户类型", "脱贫年度", "监测对象类型",
                      "风险类型", "发现渠道", "风险识别时间", "风险是否消除", "风险消除时间", "包抓干部", "当前状态"]
    row = dict(zip(header, [c.value for c in sheet[4]], strict=True))
    assert row["监测对象类型"] == "脱贫不稳定户" and row["风险类型"] == "因病" and row["发现渠道"] == "农户自主申报"
    assert row["风险是否消除"] == "否" and row["风险识别时间"].date() == china_today()
    assert len(row["户主证件号码"]) == 18 and sheet["E4"].number_format == "@"


def test_the_heatmap_narrows_to_a_category_or_a_channel(app, login_as):
    lead = confirmed_lead(app, login_as)
    review(login_as(TEAM), lead.case_id, category="marginal")
    office = login_as(COUNTY)
    from sqlalchemy import select

    from app.extensions import db
    from app.models import ProcessVersion

    with app.app_context():
        version = db.session.scalar(select(ProcessVersion.id).where(ProcessVersion.process_key == "national_case"))
    def finished(query: str) -> dict[str, str]:
        """The table under the diagram: task name → how many were finished in the period."""
        page = office.get(f"/supervision/heatmap?version={version}&{query}").get_data(as_text=True)
        rows = re.findall(r'step=(\w+)[^>]*>[^<]*</a></td>\s*<td data-label="等待">\d+</td>'
                          r'<td data-label="办结">(\d+)</td>', page)
        return dict(rows)

    assert finished("category=marginal")["Task_IdentificationReview"] == "1"
    assert finished("channel=self_declared")["Task_IdentificationReview"] == "1"
    assert "Task_IdentificationReview" not in finished("category=sudden_hardship")
    assert "Task_IdentificationReview" not in finished("channel=department_warning")
    assert office.get(f"/supervision/heatmap?version={version}&channel=nowhere").status_code == 422


def test_the_village_notices_of_the_national_procedure_print(app, login_as):
    lead = confirmed_lead(app, login_as)
    team = login_as(TEAM)
    review(team, lead.case_id, category="marginal")
    assert tasks_of(app, lead.case_id) == ["Task_PostNotice"]
    page = team.get(f"/notices/{lead.village_code}?kind=review_publicity").get_data(as_text=True)
    assert "拟纳入防止返贫监测对象公示" in page and "边缘易致贫户" in page
    assert team.get(f"/notices/{lead.village_code}?kind=nothing").status_code == 422
    case_page = team.get(f"/cases/{lead.case_id}").get_data(as_text=True)
    assert "打印本村公示" in case_page and "kind=review_publicity" in case_page
