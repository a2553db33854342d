"""Where cases wait: per task of a diagram version, how many cases wait now and the median time spent there."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

from app.clock import china_moment, travel_to
from tests.helpers import complete, open_case

CERTIFY = {"decision": "certify", "risk_level": "at_risk", "opinion": "符合"}


def heat(html: str) -> dict[str, dict]:
    block = re.search(r'<script type="application/json" id="heat-data">(.*?)</script>', html, re.S)
    assert block, "no heatmap data on the page"
    return {cell["bpmn_id"]: cell for cell in json.loads(block.group(1))["cells"]}


def test_counts_match_the_cases_and_medians_the_time_spent(app, login_as):
    opened = china_moment(date(2026, 11, 2))
    with travel_to(opened):
        ids = {v: open_case(app, v) for v in ("610922100001", "610922100002", "610922101001")}
    with app.app_context():
        with travel_to(opened + timedelta(hours=48)):
            complete("chengguan_certifier", "Task_TownCertify", CERTIFY, ids["610922100001"])
        with travel_to(opened + timedelta(hours=96)):
            complete("chengguan_certifier", "Task_TownCertify", CERTIFY, ids["610922100002"])
    with travel_to(china_moment(date(2026, 11, 10))):
        cells = heat(login_as("supervisor").get("/supervision/heatmap?from=2026-11-01&to=2026-11-10")
                     .get_data(as_text=True))
    assert cells["Task_TownCertify"]["waiting"] == 1
    assert cells["Task_TownLeadershipReview"]["waiting"] == 2
    assert cells["Task_TownCertify"]["finished"] == 2
    # Monday to Wednesday and Monday to Friday: 2 and 4 working days, as officials count them; the median is 3.
    assert cells["Task_TownCertify"]["median_working_days"] == 3


def test_the_period_bounds_the_times(app, login_as):
    with travel_to(china_moment(date(2026, 11, 2))):
        case_id = open_case(app)
    with app.app_context(), travel_to(china_moment(date(2026, 11, 3))):
        complete("chengguan_certifier", "Task_TownCertify", CERTIFY, case_id)
    with travel_to(china_moment(date(2026, 12, 20))):
        cells = heat(login_as("supervisor").get("/supervision/heatmap?from=2026-12-01&to=2026-12-20")
                     .get_data(as_text=True))
    assert cells["Task_TownLeadershipReview"]["waiting"] == 1
    assert "Task_TownCertify" not in cells or cells["Task_TownCertify"]["finished"] == 0


def test_a_town_sees_only_its_own_cases_and_the_step_links_to_the_case_list(app, login_as):
    ids = {v: open_case(app, v) for v in ("610922100001", "610922100002", "610922101001")}
    raofeng = login_as("raofeng_certifier")
    html = raofeng.get("/supervision/heatmap").get_data(as_text=True)
    assert heat(html)["Task_TownCertify"]["waiting"] == 1
    assert "/cases/?step=Task_TownCertify" in html
    listed = raofeng.get("/cases/?step=Task_TownCertify").get_data(as_text=True)
    assert f"#{ids['610922101001']}<" in listed and f"#{ids['610922100001']}<" not in listed


def test_cadres_have_no_heatmap_and_bad_dates_are_refused(app, login_as):
    assert login_as("chengguan01_cadre1").get("/supervision/heatmap").status_code == 403
    refused = login_as("supervisor").get("/supervision/heatmap?from=yesterday")
    assert refused.status_code == 422 and "日期格式" in refused.get_data(as_text=True)
