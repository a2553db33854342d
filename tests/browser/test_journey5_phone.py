"""Journey 5: a village team member on a phone (375 px) checks households at their doors: three checked, one
with a risk that goes into the month's roster, and the connection lost in the middle of the fourth (the browser
set offline). Back online, nothing typed is lost: the form comes back as it was, marked 未保存, and saves."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from app.clock import china_today
from tests.browser.journey import Journey
from tests.browser.seed import Api, SeededCase

TEAM = "chengguan02_team"  # its own village: the other journeys work in chengguan01


def test_a_team_member_checks_households_on_a_phone_and_loses_nothing_offline(journey: Journey) -> None:
    page, today = journey.page, china_today()
    Api(journey.server, "county_office").call("POST", "/screenings", {"month": today.strftime("%Y-%m")})
    journey.log_in(TEAM)
    journey.open_task("逐户排查并登记风险户", f"{today:%Y-%m} 月度排查")
    # On the phone from here (the inbox helper reads the desktop table, whose cells a phone shows as cards).
    page.set_viewport_size({"width": 375, "height": 812})
    page.get_by_role("link", name="逐户登记排查情况").click()
    expect(journey.main()).to_contain_text("已排查 0 / 6 户")
    # Made for the width: nothing wider than the screen, and each household a large target.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    first_row = journey.main().locator(".check-row a").first
    assert first_row.bounding_box()["height"] >= 44

    def open_next() -> str:
        row = journey.main().locator(".check-row.todo a").first
        name = row.locator(".name").inner_text()
        row.click()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"{name}户")
        return name

    # Three households: two without risk, one with a serious illness (its roster entry comes from this record).
    for _ in range(2):
        open_next()
        page.get_by_role("button", name="保存本户排查情况").click()
        expect(journey.status(re.compile("已保存.*户的排查情况"))).to_be_visible()
    ill = open_next()
    page.get_by_label("因重大疾病导致返贫或致贫").check()
    page.get_by_label("三重保障后个人自负医疗费用（元）").fill("23000")
    page.get_by_label("风险情况说明").fill("户主确诊肺癌，化疗费用高")
    page.get_by_label("基本医疗有保障").check()
    page.get_by_role("button", name="保存本户排查情况").click()
    expect(journey.status(re.compile(f"已保存{ill}户的排查情况"))).to_be_visible()
    expect(journey.main().locator(".check-row", has_text=ill)).to_contain_text("有风险（因重大疾病）")
    expect(journey.main()).to_contain_text("已排查 3 / 6 户")

    # The fourth: typed, then the signal goes before it is saved.
    fourth = open_next()
    page.get_by_label("备注").fill("户主在外务工，妻子在家，收入稳定")
    expect(page.get_by_role("status").filter(has_text="未保存")).to_be_visible()
    journey.context.set_offline(True)
    page.get_by_role("button", name="保存本户排查情况").click()
    expect(page.get_by_role("status").filter(has_text="网络中断")).to_be_visible()
    journey.shoot("offline-unsaved")

    # Back in range: the page reloads with what was typed, marked 未保存, and saves.
    journey.context.set_offline(False)
    page.reload()
    expect(page.get_by_label("备注")).to_have_value("户主在外务工，妻子在家，收入稳定")
    expect(page.get_by_role("status").filter(has_text="未保存")).to_be_visible()
    page.get_by_role("button", name="保存本户排查情况").click()
    expect(journey.status(re.compile(f"已保存{fourth}户的排查情况"))).to_be_visible()
    expect(journey.main()).to_contain_text("已排查 4 / 6 户")
    expect(journey.main().locator(".unsaved")).to_have_count(0)  # nothing left only in the browser

    # The roster (附件1) of the month has the ill household once, from its check.
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(journey.url("/"))
    journey.open_task("逐户排查并登记风险户", f"{today:%Y-%m} 月度排查")
    roster = journey.main().get_by_role("table").filter(has_text="详细原因")
    expect(roster.get_by_role("row").filter(has_text=ill)).to_have_count(1)
    expect(roster).to_contain_text("户主确诊肺癌，化疗费用高")
    journey.shoot("phone-roster")


PHONE = {"width": 375, "height": 812}


def _assignee(journey: Journey, task_id: int) -> str:
    from sqlalchemy import create_engine, text

    engine = create_engine(journey.server.database_url)
    with engine.connect() as connection:
        username = connection.execute(text("SELECT u.username FROM user_account u JOIN ready_task t "
                                           "ON t.assignee_id = u.id WHERE t.id = :id"), {"id": task_id}).scalar_one()
    engine.dispose()
    return str(username)


def _header_is_a_compact_bar(journey: Journey) -> None:
    """Issue 26 item 10: the header is one bar (under 15 % of the screen) until 菜单 opens the navigation."""
    page = journey.page
    banner = page.get_by_role("banner")
    box = banner.bounding_box()
    assert box and box["height"] < 0.15 * PHONE["height"], box
    expect(banner.get_by_role("navigation")).to_be_hidden()
    menu = banner.get_by_role("button", name="菜单")
    expect(menu).to_have_attribute("aria-expanded", "false")
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(banner.get_by_role("navigation").get_by_role("link", name="案件")).to_be_visible()
    expect(banner.get_by_role("button", name="退出")).to_be_visible()
    menu.click()
    expect(banner.get_by_role("navigation")).to_be_hidden()


def test_a_cadre_and_a_supervisor_on_a_phone_get_a_short_page(journey: Journey, seeded_case: SeededCase) -> None:
    page = journey.page
    journey.log_in(_assignee(journey, seeded_case.task_id))
    page.set_viewport_size(PHONE)
    page.goto(journey.url(f"/tasks/{seeded_case.task_id}"))
    expect(page.get_by_role("heading", level=1)).to_have_text("落实帮扶措施")
    _header_is_a_compact_bar(journey)
    # The comment and attachment panels are folded, their counts in view; a tap opens one.
    folded = {"#comments": re.compile(r"办理备注（\d+ 条）"), "#attachments": re.compile(r"附件（\d+ 个）")}
    for panel, summary in folded.items():
        details = journey.main().locator(f"details{panel}")
        expect(details).not_to_have_attribute("open", "")
        expect(details.locator("summary")).to_have_text(summary)
        expect(details.locator("form")).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    journey.shoot("phone-cadre-task")
    journey.main().locator("details#comments summary").click()
    expect(page.get_by_label("备注内容")).to_be_visible()
    page.set_viewport_size({"width": 1400, "height": 900})  # log_in's 退出 is in the desktop header
    journey.log_in("supervisor")
    page.set_viewport_size(PHONE)
    page.goto(journey.url("/supervision/scoreboard"))
    _header_is_a_compact_bar(journey)
    # 督查考核: the towns' table stacks each row with its labels; the monthly table keeps its months as columns.
    town_row = journey.main().locator("table.scoreboard:not(.national) tbody tr").first
    label = town_row.locator("td.open-cases").evaluate("td => getComputedStyle(td, '::before').content")
    assert "在办案件" in label, label
    trend = journey.main().locator("table.trend")
    expect(trend.get_by_role("columnheader").first).to_be_visible()
    expect(trend.get_by_role("columnheader").nth(1)).to_be_visible()
    expect(trend.get_by_role("rowheader", name="新增")).to_be_visible()
    journey.shoot("phone-scoreboard")
