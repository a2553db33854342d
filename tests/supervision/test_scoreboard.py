"""The town and village scoreboard: each figure matches the work built in the test, overdue counts move with
time, and every user sees only their own area."""

from __future__ import annotations

import html
import re
from datetime import date

import pytest

from app.clock import china_moment, travel_to
from app.extensions import db
from app.models import Screening
from tests.helpers import (
    approve_case,
    check_households,
    complete,
    open_case,
    plan_measures,
    uphold_publicity_objection,
    user,
)

CHENGGUAN, RAOFENG = "610922100", "610922101"
MARCH = date(2026, 3, 2)  # a Monday; the month has no holidays


def row(page: str, unit: str) -> dict[str, str]:
    """The scoreboard row of one unit, as {cell class: text}."""
    match = re.search(rf'<tr[^>]*data-unit="{unit}">(.*?)</tr>', page, re.S)
    assert match, f"no row for {unit}"
    cells = re.findall(r'<td[^>]*class="([\w-]+)"[^>]*>(.*?)</td>', match.group(1), re.S)
    return {name: html.unescape(re.sub(r"<[^>]+>", "", text)).strip() for name, text in cells}


def units(page: str) -> list[str]:
    return re.findall(r'<tr[^>]*data-unit="(\d+)">', page)


def board(browser, month: str = "2026-03", **args: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"month": month, **args}.items())
    response = browser.get(f"/supervision/scoreboard?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def start_march(app) -> None:
    from app.screenings.operations import start_monthly_screening

    with app.app_context():
        start_monthly_screening("2026-03", user("county_office"))
        db.session.commit()


def test_coverage_matches_the_screening_month_built_in_the_test(app, login_as):
    with travel_to(china_moment(MARCH)):
        start_march(app)
        with app.app_context():
            screening_id = db.session.query(Screening).filter_by(village_code="610922100001").one().id
            check_households(screening_id, "chengguan01_team", checked=5)  # the sixth: 长期不在家
            complete("chengguan01_team", "Task_ScreenHouseholds", {})
        county = login_as("county_office")
        page = board(county)
        assert units(page)[:2] == [CHENGGUAN, RAOFENG]
        chengguan = row(page, CHENGGUAN)
        assert chengguan["villages-screened"].startswith("1/2（50.0%）")
        assert chengguan["villages-assessed"] == "0/2"
        assert chengguan["households"] == "5/12（41.7%）"  # 6 households registered in each demo village
        assert chengguan["households-with-reason"] == "1"  # the sixth, not checked, with its reason
        raofeng = row(page, RAOFENG)
        assert raofeng["villages-screened"].startswith("0/2") and raofeng["households"].startswith("0/12")
        assert row(page, "610922")["villages-screened"].startswith("1/4")  # the county's total

        # The town's own view is per village; the assessment meeting completes the village's month.
        with app.app_context():
            complete("chengguan01_team", "Task_AssessmentMeeting", {"meeting_date": "2026-03-02",
                                                                   "attendees": "全体", "minutes": "无重点户"})
            assert db.session.query(Screening).filter_by(village_code="610922100001").one().status == "completed"
        town = board(login_as("chengguan_certifier"))
        assert units(town) == ["610922100001", "610922100002", CHENGGUAN]
        assert row(town, "610922100001")["villages-screened"].startswith("1/1")
        assert row(town, "610922100001")["villages-assessed"] == "1/1"
        assert row(town, "610922100002")["villages-screened"].startswith("0/1")

    # Another month has its own coverage: nothing was screened in February.
    assert row(board(login_as("county_office"), "2026-02"), CHENGGUAN)["villages-screened"].startswith("0/2")


def test_overdue_tasks_move_with_time(app, login_as):
    with travel_to(china_moment(MARCH)):
        open_case(app)  # starts March in every village; 城关镇 village 1 screens and reports one household
    # The town's certification is due 5 working days after 2 March: 9 March. Screenings are due by 31 March.
    with travel_to(china_moment(date(2026, 3, 9))):
        page = board(login_as("supervisor"))
        assert row(page, CHENGGUAN)["overdue-tasks"] == "0" and row(page, RAOFENG)["overdue-tasks"] == "0"
    with travel_to(china_moment(date(2026, 3, 10))):
        page = board(login_as("supervisor"))
        assert row(page, CHENGGUAN)["overdue-tasks"] == "1" and row(page, RAOFENG)["overdue-tasks"] == "0"
        assert row(page, CHENGGUAN)["open-cases"] == "1"
    with travel_to(china_moment(date(2026, 4, 1))):
        page = board(login_as("supervisor"))
        # Plus the villages that have not screened: one in 城关镇, two in 饶峰镇.
        assert row(page, CHENGGUAN)["overdue-tasks"] == "2" and row(page, RAOFENG)["overdue-tasks"] == "2"
        assert row(page, "610922")["overdue-tasks"] == "4"


def test_days_from_discovery_to_county_approval(app, login_as):
    with travel_to(china_moment(MARCH)):
        quick = open_case(app, "610922100001")
        slow = open_case(app, "610922100002")
        open_case(app, "610922101001")  # 饶峰镇: not approved in March
    with app.app_context():
        with travel_to(china_moment(date(2026, 3, 5))):
            approve_case(quick)
        with travel_to(china_moment(date(2026, 3, 25))):
            approve_case(slow)
    with travel_to(china_moment(date(2026, 3, 26))):
        page = board(login_as("county_office"))
    chengguan = row(page, CHENGGUAN)
    assert chengguan["approvals"] == "2"
    assert chengguan["median-days"] == "13"  # 3 and 23 days
    assert chengguan["within-limit"] == "1/2（50.0%）"
    assert row(page, RAOFENG)["approvals"] == "0" and row(page, RAOFENG)["median-days"] == "—"
    # The approvals count in the month they happened.
    with travel_to(china_moment(date(2026, 4, 2))):
        assert row(board(login_as("county_office"), "2026-04"), CHENGGUAN)["approvals"] == "0"


def test_a_case_approved_again_after_an_upheld_objection_counts_once_from_its_first_approval(app, login_as):

    with travel_to(china_moment(MARCH)):
        case_id = open_case(app)
    with app.app_context():
        with travel_to(china_moment(date(2026, 3, 5))):
            approve_case(case_id)
        uphold_publicity_objection(case_id, date(2026, 3, 5), date(2026, 3, 12))
        with travel_to(china_moment(date(2026, 4, 2))):
            approve_case(case_id)
    with travel_to(china_moment(date(2026, 4, 3))):
        county = login_as("county_office")
        march, april = row(board(county), CHENGGUAN), row(board(county, "2026-04"), CHENGGUAN)
    assert march["approvals"] == "1" and march["median-days"] == "3"
    assert april["approvals"] == "0"


def test_measures_count_in_the_month_of_their_deadline(app, login_as):
    with travel_to(china_moment(MARCH)):
        case_id = open_case(app)
    with app.app_context():
        with travel_to(china_moment(date(2026, 3, 5))):
            approve_case(case_id)
            plan_measures(case_id, [
                {"content": "协助办理慢病卡", "measure_type": "health", "responsible_unit": "县医保局",
                 "deadline": "2026-03-20"},
                {"content": "申请临时救助", "measure_type": "temporary_relief", "responsible_unit": "县民政局",
                 "deadline": "2026-03-24"},
                {"content": "安排公益性岗位", "measure_type": "public_welfare_job", "responsible_unit": "镇人社站",
                 "deadline": "2026-04-15"},
            ])
    with travel_to(china_moment(date(2026, 3, 22))):
        county = login_as("county_office")
        # Only the first is past its deadline (and undone); the others are not due yet.
        assert row(board(county), CHENGGUAN)["measures-on-time"] == "0/1（0.0%）"
        assert row(board(county, "2026-04"), CHENGGUAN)["measures-on-time"] == "0/0（—）"
    with app.app_context(), travel_to(china_moment(date(2026, 3, 24))):
        from app.models import Case

        data = {}
        for index, measure in enumerate(db.session.get(Case, case_id).measures):
            data.update({f"results-{index}-measure_id": measure.id, f"results-{index}-completed_on": "2026-03-24",
                         f"results-{index}-result": "已落实"})
        complete("chengguan01_cadre1", "Task_CarryOutMeasures", data, case_id)
    with travel_to(china_moment(date(2026, 3, 25))):
        county = login_as("county_office")
        # Done on 24 March: late for the first, on its very deadline for the second, early for the third.
        assert row(board(county), CHENGGUAN)["measures-on-time"] == "1/2（50.0%）"
        assert row(board(county, "2026-04"), CHENGGUAN)["measures-on-time"] == "1/1（100.0%）"


def test_new_and_closed_cases_by_month_are_in_the_page_for_the_chart_and_the_table(app, login_as):
    with travel_to(china_moment(MARCH)):
        open_case(app)
        page = board(login_as("county_office"))
    data = re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', page, re.S)
    assert data
    import json

    charts = json.loads(data.group(1))
    assert charts["trend"]["months"][-1] == "2026-03" and len(charts["trend"]["months"]) == 12
    assert charts["trend"]["months"][0] == "2025-04"
    assert charts["trend"]["opened"][-1] == 1 and sum(charts["trend"]["opened"]) == 1
    assert charts["compare"]["units"] == ["城关镇", "饶峰镇"]
    assert charts["compare"]["open_cases"] == [1, 0]
    # Local assets only, and the same figures readable without JavaScript.
    assert "/static/vendor/echarts/echarts.min.js" in page and "/static/js/charts.js" in page
    assert "http://" not in page and "https://" not in page
    assert re.search(r"<th scope=\"row\">新增</th>(<td>0</td>){11}<td>1</td>", page)


def test_a_county_user_narrows_to_one_town(app, login_as):
    page = board(login_as("supervisor"), town=RAOFENG)
    assert units(page) == ["610922101001", "610922101002", RAOFENG]
    assert "610922100001" not in page


def test_a_town_user_sees_only_their_town(app, login_as):
    with travel_to(china_moment(MARCH)):
        open_case(app, "610922101001")  # 饶峰镇's case
        certifier = login_as("chengguan_certifier")
        page = board(certifier)
        assert units(page) == ["610922100001", "610922100002", CHENGGUAN]
        assert "饶峰镇" not in page
        assert row(page, CHENGGUAN)["open-cases"] == "0"
        same = board(certifier, town=CHENGGUAN)
        assert without_tokens(same) == without_tokens(page)  # their own town may be named
        refused = certifier.get(f"/supervision/scoreboard?month=2026-03&town={RAOFENG}")
        assert refused.status_code == 403 and "只能查看本辖区" in refused.get_data(as_text=True)


def test_a_village_team_sees_its_village(app, login_as):
    team = login_as("chengguan01_team")
    assert units(board(team)) == ["610922100001", "610922100001"]  # its row and the total
    assert team.get(f"/supervision/scoreboard?town={CHENGGUAN}").status_code == 403


@pytest.mark.parametrize("url", ["/supervision/scoreboard", "/supervision/annual-review",
                                 "/supervision/annual-review.xlsx"])
def test_cadres_are_refused(app, login_as, url):
    response = login_as("chengguan01_cadre1").get(url)
    assert response.status_code == 403 and "包抓干部不能查看" in response.get_data(as_text=True)


def test_bad_month_or_town_is_refused_in_chinese(app, login_as):
    county = login_as("county_office")
    bad_month = county.get("/supervision/scoreboard?month=2026-13")
    assert bad_month.status_code == 422 and "月份格式" in bad_month.get_data(as_text=True)
    for town in ("999999999", "610922100001", "610922199"):
        response = county.get(f"/supervision/scoreboard?town={town}")
        assert response.status_code == 422 and "镇" in response.get_data(as_text=True)


def test_pages_require_login(client):
    for url in ("/supervision/scoreboard", "/supervision/annual-review", "/supervision/annual-review.xlsx"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.location


def without_tokens(html: str) -> str:
    """A page without its CSRF tokens, which carry a timestamp and so differ between two renders."""
    return re.sub(r'(csrf_token" value=")[^"]+', r"\1", html)
