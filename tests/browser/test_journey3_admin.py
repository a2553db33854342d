"""Journey 3: the administrator edits the household case diagram in the web modeler — a user task's time limit
in 本系统设置, a lane renamed to no known role — validation marks the lane's tasks on the diagram, the lane's
role is set back in the panel, validation passes and the new version is deployed and listed."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from tests.browser.journey import Journey

TASK, LANE, LANE_TASK = "Task_TownCertify", "Lane_TownLeadership", "Task_TownLeadershipReview"
ROLE = "镇脱贫攻坚领导小组"
UNKNOWN = "镇扶贫工作小组"
PROBLEM_STROKE = "rgb(217, 45, 32)"  # .rpm-has-problem in the modeler's stylesheet (#d92d20)


def _shape(page: Page, element_id: str) -> Locator:
    return page.locator(f'.djs-element[data-element-id="{element_id}"]')


def _select_lane(page: Page) -> None:
    """A lane is selected by its label band at its left edge (its body lets clicks through to the canvas);
    a click on a lane that is already selected would unselect it."""
    header = page.get_by_label("元素属性").locator(".bio-properties-panel-header")
    if "泳道" not in header.inner_text():
        _shape(page, LANE).locator(".djs-hit-all").click()
    expect(header).to_contain_text("泳道")


def _process_section(journey: Journey) -> Locator:
    heading = journey.page.get_by_role("heading", level=2, name=re.compile("household_case"))
    return journey.main().locator("section").filter(has=heading)


def test_administrator_edits_validates_and_deploys_a_diagram(journey: Journey) -> None:
    page = journey.page
    journey.log_in("admin")
    journey.nav("流程管理")
    section = _process_section(journey)
    expect(section.get_by_role("row").filter(has_text="第 1 版")).to_contain_text("当前")
    journey.shoot("processes")

    section.get_by_role("link", name="在线编辑当前版本").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("编辑流程")
    panel = page.get_by_label("元素属性")
    message = page.locator("[data-modeler-message]")
    problems = page.locator("[data-modeler-problems] li")

    # 本系统设置 of a user task: its time limit in working days.
    _shape(page, TASK).click()
    expect(panel.get_by_text("本系统设置")).to_be_visible()
    limit = panel.get_by_label("办理时限（工作日）")
    expect(limit).to_have_value("5")
    limit.fill("7")
    expect(page.get_by_role("status").filter(has_text="有未保存的修改")).to_be_visible()
    journey.shoot("time-limit-changed")

    # A lane renamed to no known role: the panel says so, 校验 marks the lane's task on the diagram.
    _select_lane(page)
    name = panel.get_by_label("名称", exact=True)
    if not name.is_visible():
        panel.get_by_text("常规", exact=True).click()  # the panel's 常规 group starts folded
    expect(name).to_have_value(ROLE)
    name.fill(UNKNOWN)
    expect(_shape(page, LANE)).to_contain_text(UNKNOWN)
    expect(panel.get_by_label("角色").locator("option:checked")).to_contain_text("未知角色")
    page.get_by_role("button", name="校验", exact=True).click()
    expect(message).to_contain_text("校验未通过")
    expect(problems.filter(has_text=f"所在泳道“{UNKNOWN}”不是已知角色")).not_to_have_count(0)
    marked = page.locator(f'.djs-element.rpm-has-problem[data-element-id="{LANE_TASK}"]')
    expect(marked).to_have_count(1)
    expect(marked.locator(".djs-visual > :nth-child(1)")).to_have_css("stroke", PROBLEM_STROKE)
    expect(page.locator(f'.djs-overlays[data-container-id="{LANE_TASK}"] .rpm-problem-badge')).to_be_visible()
    journey.shoot("validation-marks-the-lane-task")

    # Fixed in the panel: the lane's role again; clean validation; deploy.
    _select_lane(page)
    panel.get_by_label("角色").select_option(label=ROLE)
    expect(_shape(page, LANE)).to_contain_text(ROLE)
    page.get_by_role("button", name="校验", exact=True).click()
    expect(message).to_have_text("校验通过：可以部署。")
    expect(page.locator(".djs-element.rpm-has-problem")).to_have_count(0)
    expect(problems).to_have_count(0)
    journey.shoot("validation-passes")
    page.get_by_role("button", name="部署", exact=True).click()  # confirms the dialog (accepted)
    expect(message).to_contain_text("已部署为第 2 版")
    journey.shoot("deployed")

    # The process page lists version 2 as current, deployed by the administrator; the diff names the task.
    message.get_by_role("link", name="查看版本列表").click()
    section = _process_section(journey)
    version_2 = section.get_by_role("row").filter(has_text="第 2 版")
    expect(version_2).to_contain_text("当前")
    expect(version_2).not_to_contain_text("系统初始化")
    expect(section.get_by_role("row").filter(has_text="第 1 版")).to_contain_text("历史")
    journey.shoot("new-version-listed")
    version_2.get_by_role("link", name="与上一版比较").click()
    changed = journey.main().locator("section").filter(has=page.get_by_role("heading", name="差异"))
    expect(changed.get_by_role("listitem").filter(has_text="镇认定工作组认定")).to_contain_text("5 → 7")
    journey.shoot("diff")
