"""The exchange over the JSON API: a county script uploads the national system's export, reads the report when the
comparison is done, imports the file and follows the import, and reads the roster in the national columns."""

from __future__ import annotations

import io
import time
from typing import Any

from tests.exchange.conftest import national_file, registry
from tests.helpers import approve_case, open_case


def wait(client: Any, url: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        body = client.get(url).get_json()
        if body["status"] not in ("queued", "validating", "storing"):
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.05)


def test_a_script_reconciles_imports_and_exports_over_the_api(app, api):
    households = registry(app)
    households[0].people[0].person_no = "610922100001000101"
    client = api("county_office")
    started = client.post("/api/v1/national-reconciliations",
                          data={"file": (io.BytesIO(national_file(households)), "国家系统导出.xlsx")},
                          content_type="multipart/form-data")
    assert started.status_code == 202, started.get_json()
    job = wait(client, f"/api/v1/national-reconciliations/{started.get_json()['id']}")
    assert job["status"] == "done" and job["may_apply"] is True
    counts = job["report"]["counts"]
    assert (counts["new"], counts["changed"], counts["conflicting"]) == (0, 1, 0)
    assert job["report"]["changed"][0]["household_no"] == households[0].household_no

    applied = client.post(f"/api/v1/national-reconciliations/{job['id']}/apply")
    assert applied.status_code == 202 and applied.get_json()["kind"] == "households"
    imported = wait(client, f"/api/v1/household-imports/{applied.get_json()['id']}")
    assert (imported["status"], imported["updated"]) == ("done", 1)
    again = client.post(f"/api/v1/national-reconciliations/{job['id']}/apply")
    assert again.status_code == 422 and "已导入" in again.get_json()["error"]

    # Refused input: no file, a file that is not a workbook; others may not.
    assert client.post("/api/v1/national-reconciliations", data={},
                       content_type="multipart/form-data").status_code == 422
    not_xlsx = client.post("/api/v1/national-reconciliations",
                           data={"file": (io.BytesIO(b"just text"), "a.xlsx")}, content_type="multipart/form-data")
    assert not_xlsx.status_code == 422 and "不是 Excel" in not_xlsx.get_json()["error"]
    assert api("chengguan_certifier").get(f"/api/v1/national-reconciliations/{job['id']}").status_code == 403


def test_the_roster_in_the_national_columns_over_the_api(app, api):
    case_id = open_case(app)
    with app.app_context():
        approve_case(case_id)
    client = api("county_office")
    body = client.get("/api/v1/national-exports/roster").get_json()
    assert body["columns"][:4] == ["县", "乡(镇)", "行政村", "户编号"] and body["truncated"] is False
    assert body["rows"] and all(row["风险是否消除"] == "否" for row in body["rows"])
    assert body["rows"][0]["与户主关系"] == "户主" and body["rows"][0]["致贫原因"] == "因意外事故"
    changes = client.get("/api/v1/national-exports/changes").get_json()
    assert {row["变动类型"] for row in changes["rows"]} == {"新识别纳入监测"}
    assert client.get("/api/v1/national-exports/roster?state=nothing").status_code == 422
