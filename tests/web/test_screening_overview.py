"""The month's screening overview: a county's villages read town by town, each town with its totals, filtered by
town and by status (a city's supervisor sees each county's totals: tests/areas/test_counties.py)."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from app.models import Screening
from tests.conftest import today
from tests.helpers import check_households


def _start(login_as) -> str:
    month = today().strftime("%Y-%m")
    login_as("county_office").post("/screenings/start", {"month": month}, page="/screenings/")
    return month


def _town_rows(page: str) -> list[str]:
    return re.findall(r'<tr class="group"><th scope="rowgroup" data-label="乡镇">([^<]+)</th>', page)


def test_the_county_sees_its_villages_town_by_town_with_each_towns_totals(app, login_as):
    month = _start(login_as)
    with app.app_context():
        first = db.session.scalar(select(Screening).where(Screening.month == month,
                                                          Screening.village_code == "610922100001"))
        check_households(first.id, "chengguan01_team")
    office = login_as("county_office")
    page = office.get(f"/screenings/?month={month}").get_data(as_text=True)
    assert _town_rows(page) == ["城关镇", "饶峰镇"]
    # Each village row names its town; each town its villages and how far they are.
    assert page.count('<td data-label="乡镇">城关镇</td>') == 2 and page.count('<td data-label="乡镇">饶峰镇</td>') == 2
    town_line = page.split('<tr class="group">')[1].split("</tr>")[0]
    assert "2 个村" in town_line and "排查中 2" in town_line
    assert '<tr class="total"><th>合计</th><td data-label="村">4 个村</td>' in page

    one_town = office.get(f"/screenings/?month={month}&area=610922101").get_data(as_text=True)
    assert _town_rows(one_town) == ["饶峰镇"] and "合计" not in one_town
    assert '<option value="610922101" selected>饶峰镇</option>' in one_town
    none = office.get(f"/screenings/?month={month}&status=completed").get_data(as_text=True)
    assert "没有符合条件的排查" in none


def test_a_wrong_filter_is_answered_in_chinese(app, login_as):
    month = _start(login_as)
    team = login_as("chengguan01_team")
    refused = team.get(f"/screenings/?month={month}&area=610922101")
    assert refused.status_code == 403 and "只能查看本辖区" in refused.get_data(as_text=True)
    wrong = login_as("county_office").get(f"/screenings/?month={month}&status=x")
    assert wrong.status_code == 422 and "未知的排查状态" in wrong.get_data(as_text=True)
