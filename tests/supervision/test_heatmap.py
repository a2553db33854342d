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


def town_rows(html: str) -> dict[str, dict[str, tuple[str, bool]]]:
    """The per-town table: town code -> step -> (the cell's text, whether it is marked the slowest)."""
    rows = {}
    for code, body in re.findall(r'<tr data-town="(\d+)">(.*?)</tr>', html, re.S):
        rows[code] = {step: (re.sub(r"<[^>]+>", "", text).strip(), bool(slowest))
                      for step, slowest, text in re.findall(r'data-step="(\w+)"( class="slowest")?>(.*?)</td>',
                                                            body, re.S)}
    return rows


def test_per_town_rows_show_which_town_is_slow_at_which_step(app, login_as):
    opened = china_moment(date(2026, 11, 2))  # a Monday
    with travel_to(opened):
        ids = {v: open_case(app, v) for v in ("610922100001", "610922100002", "610922101001")}
    with app.app_context():
        with travel_to(opened + timedelta(hours=48)):  # 城关镇: Wednesday, 2 working days
            complete("chengguan_certifier", "Task_TownCertify", CERTIFY, ids["610922100001"])
        with travel_to(opened + timedelta(hours=96)):  # 饶峰镇: Friday, 4 working days
            complete("raofeng_certifier", "Task_TownCertify", CERTIFY, ids["610922101001"])
    supervisor = login_as("supervisor")
    with travel_to(china_moment(date(2026, 11, 10))):
        html = supervisor.get("/supervision/heatmap?from=2026-11-01&to=2026-11-10").get_data(as_text=True)
        rows = town_rows(html)
        assert set(rows) == {"610922100", "610922101"}  # every town of the county, one row each
        assert "城关镇" in html and "饶峰镇" in html
        # median working days / waiting now; 饶峰镇 is the slow one at the town's certification
        assert rows["610922100"]["Task_TownCertify"] == ("2 / 1", False)
        assert rows["610922101"]["Task_TownCertify"] == ("4 / 0 最慢", True)
        assert rows["610922100"]["Task_TownLeadershipReview"] == ("— / 1", False)
        assert rows["610922101"]["Task_TownLeadershipReview"] == ("— / 1", False)

        # One town chosen: the diagram's figures and the table are that town's only.
        one = supervisor.get("/supervision/heatmap?from=2026-11-01&to=2026-11-10&town=610922101")
        assert one.status_code == 200
        page = one.get_data(as_text=True)
        cells = heat(page)
        assert cells["Task_TownCertify"]["finished"] == 1 and cells["Task_TownCertify"]["waiting"] == 0
        assert cells["Task_TownCertify"]["median_working_days"] == 4
        assert cells["Task_TownLeadershipReview"]["waiting"] == 1
        assert set(town_rows(page)) == {"610922101"}
        assert "/cases/?step=Task_TownLeadershipReview&amp;town=610922101" in page


def test_a_town_outside_the_users_area_is_refused(app, login_as):
    certifier = login_as("chengguan_certifier")
    assert certifier.get("/supervision/heatmap?town=610922101").status_code == 403
    assert certifier.get("/supervision/heatmap?town=610922100").status_code == 200
    assert login_as("supervisor").get("/supervision/heatmap?town=abc").status_code == 422
