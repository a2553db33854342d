"""The household file (户档案) through HTTP: one page and one API answer per household with its members, every
case (open and closed), all measures, its screenings and the history of all processes, newest first; only for
those who may see the household."""

from __future__ import annotations

from datetime import datetime

import pytest

from app.extensions import db
from app.households.idnumber import masked_id
from app.models import Household
from tests.conftest import today
from tests.helpers import approve_case, close_case, plan_measures
from tests.households import households_of, screen_village

VILLAGE = "610922100001"


def _next_month() -> str:
    first = today().replace(day=1)
    return f"{first.year + 1}-01" if first.month == 12 else f"{first.year}-{first.month + 1:02d}"


@pytest.fixture()
def household(app) -> dict:
    """Household 0 of 城关镇 village 1: a closed case (this month) and an open one (next month's screening, in
    公示); household 1 of the same village has a case of its own that must stay off household 0's file."""
    first, neighbour = screen_village(app, VILLAGE, [0, 1])
    with app.app_context():
        approve_case(first)
        plan_measures(first, [{"content": "申请临时救助", "measure_type": "temporary_relief",
                               "responsible_unit": "镇民政办", "deadline": today().isoformat()}])
        close_case(first)
    (second,) = screen_village(app, VILLAGE, [0], month=_next_month(), reason="山洪冲毁住房")
    with app.app_context():
        approve_case(second, risk_level="returned")
        homes = households_of(VILLAGE)
        h, other = homes[0], homes[1]
        return {"id": h.id, "head": h.head_name, "other_head": other.head_name, "phone": h.phone,
                "members": [(m.name, m.relation, m.id_number) for m in h.members],
                "closed": first, "open": second, "neighbour": neighbour}


def test_the_file_shows_members_every_case_measures_screenings_and_history(login_as, household):
    page = login_as("chengguan01_team").get(f"/households/{household['id']}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f"户档案 · {household['head']}户" in html
    for name, relation, id_number in household["members"]:
        assert name in html and relation in html
        assert masked_id(id_number) in html
        assert id_number not in html  # full numbers are not needed here
    # Both cases, open and closed, with their status and a link to the case page; not the neighbour's.
    assert f'href="/cases/{household["closed"]}"' in html and f'href="/cases/{household["open"]}"' in html
    assert f'href="/cases/{household["neighbour"]}"' not in html
    assert "已销号" in html and "公示中" in html
    assert "返贫户（新致贫户）" in html  # the open case's certified level
    # Measures of the closed case, carried out.
    assert "申请临时救助" in html and "镇民政办" in html and "已落实" in html
    # Both screenings that registered it, with the reasons.
    assert today().strftime("%Y-%m") in html and _next_month() in html
    assert "山洪冲毁住房" in html
    # History across processes: the screening registrations and the case events.
    assert f"登记风险户：{household['head']}" in html
    assert "张贴公示公告" in html and "复核达标" in html
    if household["other_head"] != household["head"]:
        assert f"登记风险户：{household['other_head']}" not in html
    # Newest first: the open case's county approval comes before the closed case's opening.
    history = html[html.index("办理记录"):]
    assert history.index(f"案件 #{household['open']}") < history.index(f"案件 #{household['closed']}")


def test_the_case_page_links_to_the_household_file(login_as, household):
    html = login_as("chengguan01_team").get(f"/cases/{household['open']}").get_data(as_text=True)
    assert f'href="/households/{household["id"]}"' in html


@pytest.mark.parametrize("username,status", [
    ("chengguan01_team", 200),      # its village
    ("chengguan_certifier", 200),   # its town
    ("chengguan_leader", 200),
    ("county_office", 200),         # the county
    ("supervisor", 200),
    ("chengguan01_cadre1", 200),    # cadre of one of its cases
    ("chengguan02_team", 403),      # another village of the same town
    ("raofeng01_team", 403),
    ("raofeng_certifier", 403),     # another town
    ("chengguan01_cadre2", 403),    # a cadre of the village, not assigned to this household
])
def test_only_those_who_may_see_the_household_open_its_file(login_as, api, household, username, status):
    assert login_as(username).get(f"/households/{household['id']}").status_code == status
    assert api(username).get(f"/api/v1/households/{household['id']}").status_code == status


def test_a_missing_household_is_404(login_as, api):
    assert login_as("county_office").get("/households/999999").status_code == 404
    assert api("county_office").get("/api/v1/households/999999").status_code == 404


def test_the_api_returns_the_same_file(api, household):
    response = api("chengguan01_team").get(f"/api/v1/households/{household['id']}")
    assert response.status_code == 200
    body = response.get_json()
    text = response.get_data(as_text=True)
    assert body["household"]["head_name"] == household["head"]
    assert "head_id_number" not in body["household"]
    assert [(m["name"], m["relation"], m["id_number_masked"]) for m in body["members"]] == [
        (name, relation, masked_id(id_number)) for name, relation, id_number in household["members"]]
    for _, _, id_number in household["members"]:
        assert id_number not in text
    assert [c["id"] for c in body["cases"]] == [household["open"], household["closed"]]
    assert {c["id"]: c["status"] for c in body["cases"]} == {household["open"]: "publicity",
                                                             household["closed"]: "closed"}
    assert [(m["case_id"], m["content"], m["status"]) for m in body["measures"]] == [
        (household["closed"], "申请临时救助", "done")]
    assert [r["month"] for r in body["registrations"]] == [_next_month(), today().strftime("%Y-%m")]
    assert [r["case_id"] for r in body["registrations"]] == [household["open"], household["closed"]]
    history = body["history"]
    times = [datetime.fromisoformat(e["at"].rstrip("Z")) for e in history]
    assert times == sorted(times, reverse=True)
    assert {e["case_id"] for e in history} == {household["open"], household["closed"], None}
    assert sum(1 for e in history if e["kind"] == "household_registered") == 2
    assert any(e["task"] == "村内公示 · 张贴公示公告" for e in history)
    assert any(e["task"] == "销号公告 · 张贴公示公告" for e in history)


def test_a_household_without_cases_has_a_file_for_its_village(app, login_as):
    with app.app_context():
        h = db.session.get(Household, households_of(VILLAGE)[3].id)
        assert h is not None
        hid, head = h.id, h.head_name
    page = login_as("chengguan01_team").get(f"/households/{hid}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert head in html and "该户还没有监测帮扶案件" in html
    # A cadre sees only the households of the cases assigned to them.
    assert login_as("chengguan01_cadre1").get(f"/households/{hid}").status_code == 403
