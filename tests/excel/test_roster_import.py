"""A filled 附件1 roster, saved by LibreOffice, uploaded into a village's screening task: every row becomes a
registered risk household, or none does and the page lists the bad rows."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from app.extensions import db
from app.models import RiskRegistration
from tests.excel.conftest import fixture_bytes, upload

MONTH = "2026-11"  # the month in the fixtures' title: 石泉县返贫风险对象花名册（2026年11月）


def _screening(runner, login_as, month: str = MONTH, team: str = "chengguan01_team"):
    assert runner.invoke(args=["screenings", "start", "--month", month]).exit_code == 0
    browser = login_as(team)
    task = browser.task("Task_ScreenHouseholds")
    return browser, task


def _upload(browser, task, name: str):
    return upload(browser, f"/screenings/{task['screening_id']}/roster", fixture_bytes(name), name,
                  f"/tasks/{task['id']}")


def registrations(app) -> list[tuple[str, str, str]]:
    with app.app_context():
        rows = db.session.scalars(select(RiskRegistration).order_by(RiskRegistration.id)).all()
        return [(r.household.head_name, r.risk_type, r.reason) for r in rows]


def test_the_task_page_offers_the_roster_upload(app, runner, login_as):
    team, task = _screening(runner, login_as)
    html = team.get(f"/tasks/{task['id']}").get_data(as_text=True)
    assert f'action="/screenings/{task["screening_id"]}/roster"' in html and "上传花名册" in html


def test_a_filled_roster_registers_its_households_and_a_second_upload_skips_them(app, runner, login_as):
    team, task = _screening(runner, login_as)
    response = _upload(team, task, "roster_filled.xlsx")
    assert response.status_code == 302
    assert registrations(app) == [("韩飞海", "major_illness", "户主确诊尿毒症，需长期透析"),
                                  ("徐平", "unstable_employment", "务工人员失业三个月")]
    page = team.get(f"/tasks/{task['id']}").get_data(as_text=True)
    assert "已从花名册登记 2 户风险户" in page and "韩飞海" in page and "徐平" in page
    again = _upload(team, task, "roster_filled.xlsx")
    assert again.status_code == 302
    assert "2 户本月已按相同内容登记，未重复登记" in team.get(f"/tasks/{task['id']}").get_data(as_text=True)
    assert len(registrations(app)) == 2


EXPECTED = [
    ("7", "户主证件号码", "系统中没有以该证件号码为户主的农户"),
    ("8", "户主证件号码", "该户不在本村（金星村（演示））的监测范围内"),
    ("9", "返贫风险类型", "返贫风险类型应为：因重大疾病、因自然灾害、因意外变故、因产业失败、因就业不稳、其它原因"),
    ("10", "详细原因", "请填写详细原因"),
    ("11", "户主姓名", "户主姓名与系统登记的不一致（系统中为 杨兴）"),
    ("12", "户主证件号码", "与第6行是同一户"),
]


def test_bad_rows_are_listed_and_nothing_is_registered(app, runner, login_as):
    team, task = _screening(runner, login_as)
    response = _upload(team, task, "roster_bad.xlsx")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "花名册有 6 处错误，未登记任何农户" in html
    found = re.findall(r'<td data-label="行号">(\d+)</td><td data-label="列">([^<]*)</td>'
                       r'<td data-label="问题">([^<]*)</td>', html)
    assert found == EXPECTED
    assert registrations(app) == []


def test_a_roster_of_another_month_is_refused(app, runner, login_as):
    team, task = _screening(runner, login_as, month="2026-12")
    response = _upload(team, task, "roster_filled.xlsx")
    assert response.status_code == 422
    assert "花名册的月份（2026年11月）与本次排查（2026-12）不一致" in response.get_data(as_text=True)
    assert registrations(app) == []


def test_a_household_registered_differently_this_month_is_an_error(app, runner, login_as):
    team, task = _screening(runner, login_as)
    with app.app_context():
        from app.models import Household

        han = db.session.scalar(select(Household.id).where(Household.head_id_number == "610922196105180393"))
    assert team.post(f"/screenings/{task['screening_id']}/registrations",
                     {"household_id": han, "risk_type": "accident", "reason": "车祸"}).status_code == 302
    response = _upload(team, task, "roster_filled.xlsx")
    assert response.status_code == 422
    assert "本月已登记该户，风险类型或详细原因与已登记的不同" in response.get_data(as_text=True)
    assert registrations(app) == [("韩飞海", "accident", "车祸")]


def test_only_the_villages_own_team_may_upload(app, runner, login_as):
    _team, task = _screening(runner, login_as)
    for username in ("chengguan02_team", "county_office", "chengguan_certifier"):
        other = login_as(username)
        response = upload(other, f"/screenings/{task['screening_id']}/roster", fixture_bytes("roster_filled.xlsx"),
                          "roster.xlsx", "/")
        assert response.status_code == 403, username
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RiskRegistration)) == 0
