"""部门筛查预警 over the JSON API: a department's script uploads its monthly list (the same file again answers 200 with
the first result), reads what came of it and the rules, and records the progress of the measures it leads."""

from __future__ import annotations

import io
from datetime import date

from app.clock import china_moment, china_today, travel_to
from tests.collab.conftest import JPEG
from tests.departments.conftest import YIBAO_HEADER, heads, xlsx
from tests.departments.test_measures import _measures, planned_case


def test_a_department_uploads_its_list_over_the_api(app, api):
    (name, number, _), *_ = heads(app)
    content = xlsx([YIBAO_HEADER, [name, number, 52000, 40000, 12000, "2026-11-03"]], (2,))
    with travel_to(china_moment(date(2026, 11, 20), 10)):
        client = api("department_yibao")
        first = client.post("/api/v1/department-lists", data={"month": "2026-11",
                                                              "file": (io.BytesIO(content), "名单.xlsx")},
                            content_type="multipart/form-data")
        assert first.status_code == 201, first.get_json()
        body = first.get_json()
        assert (body["rows_total"], body["rows_matched"], body["leads_created"], body["again"]) == (1, 1, 1, False)
        assert body["warned"][0]["rules"] == ["yibao_out_of_pocket_year"] and body["warned"][0]["lead_id"]
        again = client.post("/api/v1/department-lists", data={"month": "2026-11",
                                                              "file": (io.BytesIO(content), "名单.xlsx")},
                            content_type="multipart/form-data")
        assert again.status_code == 200 and again.get_json()["again"] is True and again.get_json()["id"] == body["id"]
        bad = client.post("/api/v1/department-lists", data={"month": "2026-11", "file": (io.BytesIO(
            xlsx([YIBAO_HEADER, [name, number[:17] + "0", 1, 1, 1, "2026-11-03"]])), "错.xlsx")},
            content_type="multipart/form-data")
        assert bad.status_code == 422 and any("第2行" in e for e in bad.get_json()["errors"]["file"])
        assert [u["id"] for u in client.get("/api/v1/department-lists").get_json()["uploads"]] == [body["id"]]
        assert client.get(f"/api/v1/department-lists/{body['id']}").get_json()["rows_warned"] == 1
        assert api("department_minzheng").get(f"/api/v1/department-lists/{body['id']}").status_code == 403
        assert api("chengguan01_team").get("/api/v1/department-lists").status_code == 403
        rules = client.get("/api/v1/warning-rules").get_json()["rules"]
        assert {r["department"] for r in rules} == {"yibao"} and len(rules) == 2


def test_a_department_records_its_measures_over_the_api(app, api):
    case_id = planned_case(app)
    county_measure, _ = _measures(app, case_id)
    client = api("department_yibao")
    [item] = client.get("/api/v1/department-measures").get_json()["measures"]
    assert item["id"] == county_measure.id and item["status"] == "planned"
    done = client.post(f"/api/v1/department-measures/{county_measure.id}/progress", data={
        "recorded_on": china_today().isoformat(), "note": "已办结", "completed": "1",
        "evidence": (io.BytesIO(JPEG), "回执.jpg")}, content_type="multipart/form-data")
    assert done.status_code == 201 and done.get_json()["completed"] and done.get_json()["attachment_id"]
    assert client.get("/api/v1/department-measures").get_json()["measures"] == []
    assert client.post(f"/api/v1/department-measures/{county_measure.id}/progress", data={
        "recorded_on": china_today().isoformat(), "note": "再登记"},
        content_type="multipart/form-data").status_code == 409
