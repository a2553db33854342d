"""Journey 6 (the national mechanism's first channel): a resident declares hardship from the public page on a phone
(375 px, no account), gets a receipt number and follows the declaration with it; the village team verifies it at
the door on a phone, photographing the signed 承诺授权书, and the resident sees that the hardship was confirmed."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from app.clock import china_today
from tests.browser.journey import Journey
from tests.browser.seed import Api

VILLAGE = "610922101002"  # 饶峰镇's second village: the other journeys work elsewhere
TEAM = "raofeng02_team"
PHONE = {"width": 375, "height": 812}
# A JPEG's first bytes are what the upload checks; the rest stands for the photo.
PHOTO = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(range(256)) * 8 + b"\xff\xd9"


def a_member(journey: Journey) -> tuple[str, str, str]:
    """(head of household, a member's name, that member's ID number) of the village, as its team sees them."""
    team = Api(journey.server, TEAM)
    household = team.call("GET", f"/households?village={VILLAGE}&q=610922")["households"][0]
    revealed = team.call("POST", f"/households/{household['id']}/id-numbers", {})
    member = revealed["members"][-1]
    return household["head_name"], member["name"], member["id_number"]


def test_a_resident_declares_on_a_phone_and_the_team_verifies_it_at_the_door(journey: Journey) -> None:
    page = journey.page
    head, name, number = a_member(journey)
    page.set_viewport_size(PHONE)

    # The QR code of the notice board opens the village's page: no log-in, made for the width.
    page.goto(journey.url(f"/declare?village={VILLAGE}"))
    expect(page.get_by_role("heading", level=1)).to_have_text("农户自主申报")
    expect(journey.main()).to_contain_text("饶峰镇")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.get_by_label("申报人姓名（本户家庭成员）").fill(name)
    page.get_by_label("申报人身份证号码").fill(number)
    page.get_by_label("联系电话").fill("13912345678")
    page.get_by_label("因病").check()
    page.get_by_label("发生了什么").fill("母亲突发脑溢血住院，自付医疗费用约五万元")
    journey.shoot("phone-declaration")
    page.get_by_role("button", name="提交申报").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("申报已受理")
    receipt = page.locator(".receipt-no strong").inner_text()
    assert re.fullmatch(r"FP[0-9A-Z]{8}", receipt)
    journey.shoot("phone-receipt")

    # Following it needs the receipt number and the last four characters of the ID number, nothing else.
    page.get_by_role("link", name="查询办理情况").click()
    page.get_by_label("受理号").fill(receipt)
    page.get_by_label("申报人身份证号码后四位").fill(number[-4:])
    page.get_by_role("button", name="查询").click()
    expect(page.get_by_role("status")).to_contain_text("村工作队将在规定时限内入户核实")

    # The village team: the verification waits in its inbox; at the door, on the phone.
    page.set_viewport_size({"width": 1400, "height": 900})
    journey.log_in(TEAM)
    journey.open_task("入户核实", head)
    page.set_viewport_size(PHONE)
    expect(journey.main()).to_contain_text(receipt)
    expect(journey.main()).to_contain_text("母亲突发脑溢血住院")
    page.get_by_label("承诺授权书照片或 PDF").set_input_files(
        {"name": "承诺授权书.jpg", "mimeType": "image/jpeg", "buffer": PHOTO})
    page.get_by_role("button", name="上传承诺授权书").click()
    expect(journey.status("承诺授权书已上传")).to_be_visible()
    expect(journey.main()).to_contain_text("承诺授权书.jpg")
    page.get_by_label("入户日期").fill(china_today().isoformat())
    page.get_by_label("参加核实人员").fill("驻村第一书记、村主任")
    page.get_by_label("基本医疗有保障").check()
    page.get_by_label("核实情况").fill("住院属实，家庭收入主要靠务工，已无存款")
    journey.choose("风险属实，进入认定")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    journey.shoot("phone-verification")
    journey.submit()

    # Next: the income assessment; and the resident sees the hardship confirmed.
    page.set_viewport_size({"width": 1400, "height": 900})
    expect(journey.inbox_row("收支测算", head)).to_have_count(1)
    journey.context.clear_cookies()
    page.set_viewport_size(PHONE)
    page.goto(journey.url("/declare/status"))
    page.get_by_label("受理号").fill(receipt)
    page.get_by_label("申报人身份证号码后四位").fill(number[-4:])
    page.get_by_role("button", name="查询").click()
    expect(page.get_by_role("status")).to_contain_text("困难情况属实")
    journey.shoot("phone-status-confirmed")
