"""Journey 1: the rulebook's people take one household from the monthly screening to 销号, each on their own
pages — the village team, the town certification group (which returns the case once), the town leadership,
the county office and the household's cadre — with the 公示 and 公告 periods passed by the timers command."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Locator, expect

from app.clock import china_today
from tests.browser.journey import Journey
from tests.browser.live_server import HOUSEHOLDS_PER_VILLAGE

TEAM, CERTIFIER, LEADER, COUNTY = "chengguan01_team", "chengguan_certifier", "chengguan_leader", "county_office"
CADRE = "chengguan01_cadre1"
ID_NUMBER = re.compile(r"\b\d{17}[\dX]\b")
MASKED = re.compile(r"\b\d{6}\*{8}\d{3}[\dX]\b")


def _found(journey: Journey) -> Locator:
    """The households the search found, each a small form to register it."""
    return journey.main().locator("form").filter(has=journey.page.get_by_role("button", name="登记为风险户"))


def _id_number_of(journey: Journey, head_name: str, masked: str) -> str:
    """The full ID number the team has on paper for the household head the page shows masked."""
    from sqlalchemy import create_engine, text

    engine = create_engine(journey.server.database_url)
    with engine.connect() as connection:
        numbers = [n for (n,) in connection.execute(text("SELECT head_id_number FROM household WHERE head_name = :n"),
                                                    {"n": head_name}) if n[:6] == masked[:6] and n[-4:] == masked[-4:]]
    engine.dispose()
    assert len(numbers) == 1, (head_name, masked, numbers)
    return str(numbers[0])


def _search(journey: Journey, text: str) -> Locator:
    journey.page.get_by_label("户主姓名或证件号码").fill(text)
    journey.page.get_by_role("button", name="查找").click()
    return _found(journey)


def _register(household: Locator, risk_type: str, reason: str) -> None:
    household.get_by_label("风险类型").select_option(label=risk_type)
    household.get_by_label("详细原因").fill(reason)
    household.get_by_role("button", name="登记为风险户").click()


def _post_notice(journey: Journey, phase: str, head_name: str, days: int = 5) -> None:
    """Post the 公示 (phase 村内公示) or the 公告 (phase 销号公告) in the village."""
    journey.open_task(f"{phase} · 张贴公示公告", head_name)
    journey.page.get_by_label("张贴日期").fill(china_today().isoformat())
    expect(journey.page.get_by_label("公示天数")).to_have_value(str(days))  # the rulebook's default
    journey.page.get_by_label("张贴地点").fill("村委会公示栏")
    journey.submit()


def _period_passes(journey: Journey, phase: str, head_name: str) -> None:
    """Not yet: the objections wait for the period; six days on (the timers command) they are due."""
    journey.nav("待办")
    expect(journey.inbox_row(f"{phase} · 登记异议情况", head_name)).to_have_count(0)
    output = journey.server.move_time(days=6)
    assert re.search(r"fired timers of [1-9]\d* instance", output), output
    journey.nav("待办")
    journey.open_task(f"{phase} · 登记异议情况", head_name)
    journey.choose("公示期内无异议")
    journey.submit()


def test_a_household_goes_from_screening_to_closure(journey: Journey) -> None:
    page, today = journey.page, china_today()
    month = today.strftime("%Y-%m")

    # 县办 starts this month's screening (once: a second start creates nothing).
    journey.log_in(COUNTY)
    journey.nav("月度排查")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{month} 月度排查")
    page.get_by_role("button", name=re.compile("启动本月排查")).click()
    expect(journey.status(re.compile(f"已启动 {month} 月度排查|{month} 月度排查此前已启动"))).to_be_visible()
    expect(journey.main().get_by_role("row").filter(has_text="排查中").first).to_be_visible()
    journey.shoot("screening-started")

    # 一月一精准排查: the team finds households by ID number and by name and registers two.
    journey.log_in(TEAM)
    journey.open_task("逐户排查并登记风险户", f"{month} 月度排查")
    everyone = _search(journey, "610922")  # the county's code begins every ID number
    expect(everyone).to_have_count(HOUSEHOLDS_PER_VILLAGE)
    heads = []
    for index in range(2):
        line = everyone.nth(index).get_by_role("paragraph").inner_text()
        assert not ID_NUMBER.findall(line) and MASKED.findall(line), line  # masked, as every list shows them
        name = everyone.nth(index).locator("strong").inner_text()
        heads.append((name, _id_number_of(journey, name, MASKED.findall(line)[0])))  # the team's paper roster
    (target, target_id), (other, other_id) = heads

    by_id = _search(journey, target_id)
    expect(by_id).to_have_count(1)
    expect(by_id).to_contain_text(target)
    _register(by_id, "因重大疾病", "户主患尿毒症，自付医疗费用高")
    expect(journey.status("已登记为风险户")).to_be_visible()
    by_name = _search(journey, other).filter(has_text=f"{other_id[:6]}********{other_id[-4:]}")
    expect(by_name).to_have_count(1)
    _register(by_name, "因自然灾害", "暴雨致房屋受损")
    registered = journey.main().get_by_role("table").filter(has_text="详细原因")
    expect(registered.get_by_role("row")).to_have_count(3)
    expect(registered).to_contain_text(target)
    expect(registered).to_contain_text(other)
    # 逐户逐人: the two registered households have their checks; the team records the others on the phone page.
    expect(journey.main()).to_contain_text(f"已排查 2 / {HOUSEHOLDS_PER_VILLAGE} 户")
    task_url = page.url
    page.get_by_role("link", name="逐户登记排查情况").click()
    for _ in range(HOUSEHOLDS_PER_VILLAGE - 2):
        journey.main().locator(".check-row.todo a").first.click()
        expect(page.get_by_label("入户日期")).to_have_value(today.isoformat())  # today, and the user, by default
        page.get_by_role("button", name="保存本户排查情况").click()
        expect(journey.status(re.compile("已保存.*户的排查情况"))).to_be_visible()
    expect(journey.main()).to_contain_text(f"已排查 {HOUSEHOLDS_PER_VILLAGE} / {HOUSEHOLDS_PER_VILLAGE} 户")
    page.goto(task_url)
    page.get_by_label("排查情况说明").fill("逐户走访完毕")
    journey.shoot("screening-registered")
    journey.submit()

    # 一月一精准评估: the meeting reports both households for key assistance.
    journey.open_task("召开评估会议确定重点帮扶户", f"{month} 月度排查")
    page.get_by_label("会议日期").fill(today.isoformat())
    page.get_by_label("参会人员").fill("工作队全体、村两委")
    page.get_by_label("会议研判情况（纪要）").fill("研判后确定两户为重点帮扶户")
    for name in (target, other):
        page.get_by_role("checkbox", name=re.compile(re.escape(name))).check()
    journey.shoot("assessment-meeting")
    journey.submit()
    expect(journey.main()).to_contain_text("暂无待办任务")

    # 一月一精准认定: the town group asks for more, the team supplies it, then the town certifies.
    journey.log_in(CERTIFIER)
    expect(journey.inbox_row("镇认定工作组认定", other)).to_have_count(1)
    journey.open_task("镇认定工作组认定", target)
    journey.choose("退回驻村工作队补充材料")
    page.get_by_label("认定意见说明").fill("请补充近三个月的医疗费用票据")
    journey.shoot("certifier-returns")
    journey.submit()

    journey.log_in(TEAM)
    journey.open_task("补充核实材料", target)
    page.get_by_label("补充核实情况").fill("已补充医院诊断证明和费用清单")
    journey.submit()

    journey.log_in(CERTIFIER)
    for name in (target, other):
        journey.open_task("镇认定工作组认定", name)
        journey.choose("认定为监测对象，报镇领导小组审议")
        journey.choose("返贫（致贫）风险户")
        page.get_by_label("认定意见说明").fill("经入户核实，符合认定条件")
        journey.submit()

    journey.log_in(LEADER)
    for name in (target, other):
        journey.open_task("镇领导小组会议审议", name)
        journey.choose("会议通过，报县审批")
        page.get_by_label("会议日期").fill(today.isoformat())
        page.get_by_label("会议意见").fill(f"会议研究通过{name}户")
        journey.submit()

    # 县办 approves both households of 城关镇 at once (批量审批), each still its own step with its own record.
    journey.log_in(COUNTY)
    for name in (target, other):
        expect(journey.inbox_row("县办审批", name)).to_have_count(1)
    journey.main().get_by_role("link", name="按镇批量审批").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("批量审批")
    page.get_by_label("环节", exact=True).select_option(label="县办审批")
    page.get_by_label("镇", exact=True).select_option(value="610922100")
    page.get_by_role("button", name="查看").click()
    batch = journey.main().locator("form.batch")
    for name in (target, other):  # each with the town's opinion the county decides on
        expect(batch.get_by_role("row").filter(has_text=name)).to_contain_text(f"会议研究通过{name}户")
        batch.get_by_role("checkbox", name=f"选择{name}户").check()
    page.get_by_label("审批意见说明").fill("同意，组织村内公示")
    journey.shoot("county-batch-approval")
    batch.get_by_role("button", name=re.compile("批量办理所选案件")).click()
    expect(journey.status("已办理 2 户")).to_be_visible()
    journey.nav("待办")
    for name in (target, other):
        expect(journey.inbox_row("县办审批", name)).to_have_count(0)

    # 村内公示, its period, no objection.
    journey.log_in(TEAM)
    _post_notice(journey, "村内公示", target)
    _period_passes(journey, "村内公示", target)

    # 一户一套精准措施, 一户一人精准包抓: as many measures as the household needs, a row each, added with 添加一项
    # (a fourth one, due next year, among them); a fifth row added by mistake is removed again.
    journey.open_task("制定帮扶措施并确定包抓干部", target)
    deadline = (today + timedelta(days=60)).isoformat()
    next_year = (today + timedelta(days=400)).isoformat()
    plan = [("落实医疗救助，协助办理慢病卡", "健康帮扶（医疗保障）", "县医保局", deadline),
            ("安排公益岗位一个", "公益岗位", "城关镇人民政府", deadline),
            ("申请临时救助", "临时救助", "县民政局", deadline),
            ("危房改造，建新房", "住房安全保障", "县住建局", next_year)]
    contents = page.get_by_label("措施内容")
    expect(contents).to_have_count(1)  # one blank row to start with
    add = page.get_by_role("button", name="添加一项")
    for index, (content, kind, unit, due) in enumerate(plan):
        if index:
            add.click()
            expect(contents).to_have_count(index + 1)
        contents.nth(index).fill(content)
        page.get_by_label("措施类型").nth(index).select_option(label=kind)
        page.get_by_label("责任单位").nth(index).fill(unit)
        page.get_by_label("完成时限").nth(index).fill(due)
    add.click()
    expect(contents).to_have_count(5)
    expect(contents.nth(4)).to_have_value("")  # a new row is blank
    page.get_by_role("button", name="删除").nth(4).click()
    expect(contents).to_have_count(4)
    cadre = page.get_by_label("包抓干部")
    cadre.select_option(index=1)  # the village's cadres by user name: chengguan01_cadre1 first
    cadre_name = cadre.locator("option:checked").inner_text().split("（")[0]
    journey.shoot("measure-plan")
    journey.submit()

    journey.log_in(COUNTY)
    journey.open_task("县办备案", target)
    journey.choose("予以备案")
    page.get_by_label("备案意见说明").fill("予以备案")
    journey.submit()

    journey.log_in(CADRE)
    expect(page.get_by_role("banner")).to_contain_text(cadre_name)
    journey.open_task("落实帮扶措施", target)
    # Each measure with its type, 责任单位 and 完成时限; the one done today is recorded today, on its own.
    records = journey.main().locator("#measure-records")
    expect(records.get_by_role("row")).to_have_count(1 + len(plan))
    for content, kind, unit, due in plan:
        row = records.get_by_role("row").filter(has_text=content)
        for text in (kind, unit, due):
            expect(row).to_contain_text(text)
    results = {"落实医疗救助": "已办理慢病卡，报销比例提高", "安排公益岗位": "配偶已上岗护林员",
               "申请临时救助": "已发放临时救助金", "危房改造": "新房已建成入住"}
    first = records.get_by_role("row").filter(has_text="落实医疗救助")
    first.get_by_label("落实日期").fill(today.isoformat())
    first.get_by_label("落实情况（成效）").fill(results["落实医疗救助"])
    first.get_by_role("button", name="登记落实").click()
    expect(journey.status(re.compile("已登记.*落实医疗救助"))).to_be_visible()
    expect(first).to_contain_text("已落实")
    expect(first).to_contain_text(results["落实医疗救助"])
    expect(records.get_by_role("button", name="登记落实")).to_have_count(len(plan) - 1)
    journey.shoot("cadre-records-one-measure")
    journey.nav("待办")
    expect(journey.inbox_row("落实帮扶措施", target)).to_have_count(1)  # the task waits for the others
    # The others, each when it is done; then assistance is over.
    journey.open_task("落实帮扶措施", target)
    for start, result in list(results.items())[1:]:
        row = records.get_by_role("row").filter(has_text=start)
        row.get_by_label("落实日期").fill(today.isoformat())
        row.get_by_label("落实情况（成效）").fill(result)
        row.get_by_role("button", name="登记落实").click()
        expect(row).to_contain_text("已落实")
    journey.shoot("cadre-carries-out")
    journey.submit()

    # 一户一验收精准销号: applied for, accepted, re-checked, announced, period passed.
    journey.log_in(TEAM)
    journey.open_task("申报验收销号", target)
    page.get_by_label("申报日期").fill(today.isoformat())
    page.get_by_label("家庭年人均纯收入（元）").fill("8600")
    page.get_by_label("风险消除情况（两不愁三保障）").fill("两不愁三保障均已达标")
    journey.submit()

    journey.log_in(CERTIFIER)
    journey.open_task("镇初步验收", target)
    journey.choose("验收合格，报县复核")
    page.get_by_label("验收意见说明").fill("验收合格")
    journey.submit()

    journey.log_in(COUNTY)
    journey.open_task("县办复核确认", target)
    journey.choose("复核达标，组织公告销号")
    page.get_by_label("复核意见说明").fill("复核达标")
    journey.submit()

    journey.log_in(TEAM)
    _post_notice(journey, "销号公告", target)
    _period_passes(journey, "销号公告", target)

    # The case and the household file say 销号.
    journey.nav("案件")
    page.get_by_label("状态").select_option(label="已销号")
    page.get_by_role("button", name="筛选").click()
    journey.main().get_by_role("link", name=target, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("已销号")
    history = journey.main().locator("section").filter(has=page.get_by_role("heading", name="办理记录"))
    for step in ["镇认定工作组认定", "补充核实材料", "镇领导小组会议审议", "县办审批", "公示期满", "落实帮扶措施",
                 "镇初步验收", "县办复核确认", "请补充近三个月的医疗费用票据"]:
        expect(history).to_contain_text(step)
    journey.shoot("case-closed")
    page.get_by_role("link", name=re.compile("户档案")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(target)
    cases = journey.main().get_by_role("row").filter(has_text="已销号")
    expect(cases).to_have_count(1)
    expect(journey.main().get_by_role("row").filter(has_text="已落实")).to_have_count(len(plan))
    journey.shoot("household-file")
